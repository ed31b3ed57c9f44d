using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain.Conferencing;
using Rendezvous.Integrations;
using Rendezvous.Server.Features.Conferencing;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>
/// Conferencing accounts (Zoom, GoTo Meeting, Webex): the tokens a meeting link is made with, one account per person
/// and service. Members see and change their own, administrators everyone's. The tokens are written, never shown.
/// Every change goes through the API's handlers (<see cref="ConferencingAccountsEndpoints"/>), with the same checks.
/// </summary>
public sealed class ConferencingModel(RendezvousDbContext db, Secrets secrets, IClock clock) : StaffPageModel
{
    public IReadOnlyList<ConferencingAccountResponse> Accounts { get; private set; } = [];

    public IReadOnlyDictionary<string, string> UserNames { get; private set; } = new Dictionary<string, string>();

    public IReadOnlyList<(string Id, string Name)> Users { get; private set; } = [];

    [BindProperty]
    public string? UserId { get; set; }

    [BindProperty]
    public string? Provider { get; set; }

    [BindProperty]
    public string? AccessToken { get; set; }

    [BindProperty]
    public string? RefreshToken { get; set; }

    [BindProperty]
    public int? ExpiresInSeconds { get; set; }

    [BindProperty]
    public string? ExternalUserId { get; set; }

    public static IEnumerable<ConferencingProvider> Providers => Enum.GetValues<ConferencingProvider>();

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var request = new ConferencingAccountRequest(string.IsNullOrEmpty(UserId) ? null : UserId, Provider, AccessToken,
            string.IsNullOrEmpty(RefreshToken) ? null : RefreshToken, ExpiresInSeconds, string.IsNullOrWhiteSpace(ExternalUserId) ? null : ExternalUserId);
        var result = (await ConferencingAccountsEndpoints.CreateAsync(request, db, secrets, clock, HttpContext, ct)).Result;
        if (EndpointReplies.ProblemOf(result) is { } problem)
        {
            Errors.AddTo(problem, fallbackField: "provider");
            await LoadAsync(ct);
            return Page();
        }

        Flash($"The {ConferencingProviders.DisplayName(Parse(Provider))} account is connected.");
        return Go("/app/conferencing");
    }

    /// <summary>New tokens for an account (a reconnect); the service and person stay.</summary>
    public async Task<IActionResult> OnPostReplaceAsync(string accountId, string? accessToken, string? refreshToken, int? expiresInSeconds, CancellationToken ct)
    {
        var request = new ConferencingAccountRequest(null, null, accessToken, string.IsNullOrEmpty(refreshToken) ? null : refreshToken, expiresInSeconds, null);
        var result = (await ConferencingAccountsEndpoints.UpdateAsync(accountId, request, db, secrets, clock, HttpContext, ct)).Result;
        if (EndpointReplies.ProblemOf(result) is { } problem)
        {
            var errors = new FieldErrors();
            errors.AddTo(problem);
            TempData["FlashError"] = string.Join(" ", errors.All.Select(e => errors.Sentence(e.Field, e.Message)));
        }
        else
        {
            Flash("The account's tokens are replaced.");
        }

        return Go("/app/conferencing");
    }

    public async Task<IActionResult> OnPostDeleteAsync(string accountId, CancellationToken ct)
    {
        var result = (await ConferencingAccountsEndpoints.DeleteAsync(accountId, db, HttpContext, ct)).Result;
        if (EndpointReplies.ProblemOf(result) is { } problem)
        {
            TempData["FlashError"] = problem.Detail;
        }
        else
        {
            Flash("The account is disconnected; its tokens are deleted.");
        }

        return Go("/app/conferencing");
    }

    private static ConferencingProvider Parse(string? text) => ConferencingProviders.TryParse(text, out var p) ? p : ConferencingProvider.Zoom;

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Conferencing";
        ViewData["Nav"] = "conferencing";
        Errors.Labels["userId"] = "The person";
        Errors.Labels["provider"] = "The service";
        Errors.Labels["accessToken"] = "The access token";
        Errors.Labels["refreshToken"] = "The refresh token";
        Errors.Labels["expiresInSeconds"] = "The lifetime";
        Errors.Labels["externalUserId"] = "The account's user";
        Accounts = (await ConferencingAccountsEndpoints.ListAsync(db, HttpContext, ct)).Value ?? [];
        var users = await db.Users.AsNoTracking().OrderBy(u => u.Name).Select(u => new { u.Id, u.Name }).ToListAsync(ct);
        UserNames = users.ToDictionary(u => u.Id.ToString(), u => u.Name);
        Users = Me.IsAdministrator ? [.. users.Select(u => (u.Id.ToString(), u.Name))] : [];
        UserId ??= Me.Id.ToString();
    }
}

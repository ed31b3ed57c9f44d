using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Integrations;
using Rendezvous.Server.Features.Payments;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>
/// The organization's PayPal REST app, which paid booking pages take payments with: its client id, and a secret that is
/// written, never shown. Goes through the API's handlers (<see cref="PaymentsEndpoints"/>), with the same checks.
/// </summary>
public sealed class PaymentsModel(RendezvousDbContext db, IntegrationSecrets secrets, IClock clock) : StaffPageModel
{
    public PayPalAccountResponse Account { get; private set; } = new(false, null, null);

    [BindProperty]
    public string? ClientId { get; set; }

    [BindProperty]
    public string? ClientSecret { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        ClientId = Account.ClientId;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var request = new PayPalAccountRequest(ClientId, string.IsNullOrEmpty(ClientSecret) ? null : ClientSecret);
        var result = (await PaymentsEndpoints.PutAccountAsync(request, db, secrets, clock, HttpContext, ct)).Result;
        if (EndpointReplies.ProblemOf(result) is { } problem)
        {
            Errors.AddTo(problem, fallbackField: "clientId");
            await LoadAsync(ct);
            return Page();
        }

        Flash("The PayPal app is saved: paid booking pages take payments with it.");
        return Go("/app/admin/payments");
    }

    public async Task<IActionResult> OnPostRemoveAsync(CancellationToken ct)
    {
        await PaymentsEndpoints.DeleteAccountAsync(db, ct);
        Flash("The PayPal app is removed: paid booking pages cannot take payments until one is saved again.");
        return Go("/app/admin/payments");
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Payments";
        ViewData["Nav"] = "payments";
        Errors.Labels["clientId"] = "The client id";
        Errors.Labels["clientSecret"] = "The secret";
        Account = (await PaymentsEndpoints.GetAccountAsync(db, ct)).Value!;
    }
}

using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.StaffAuth;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>One user: name, zone and role; a new password (which also lifts a lockout); their API keys.</summary>
public sealed class UserModel(RendezvousDbContext db, StaffAccounts accounts, TeamMembers members, IClock clock) : StaffPageModel
{
    public User Subject { get; private set; } = null!;

    public IReadOnlyList<ApiKey> Keys { get; private set; } = [];

    public bool HasPassword { get; private set; }

    public Instant? LockedUntil { get; private set; }

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    /// <summary>A key just created: shown once, never stored in clear.</summary>
    public string? NewKey { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct) =>
        await LoadAsync(id, ct) ?? Page();

    public async Task<IActionResult> OnPostProfileAsync(string id, string? name, string? timeZone, string? role, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        Errors.Labels["name"] = "The name";
        // A missing role is a form without a choice, not "keep the role".
        var updated = await members.UpdateAsync(Subject, new UserChange(name, timeZone, role ?? ""), ct);
        if (!updated.IsSuccess)
        {
            foreach (var f in updated.Error!.Fields)
            {
                Errors.Add(f.Field, f.Field switch
                {
                    "timeZone" => "Choose a time zone.",
                    "role" when f.Message == TeamMembers.UnknownRole => "Choose a role.",
                    _ => f.Message,
                });
            }

            return Page();
        }

        Flash("Saved.");
        return Go($"/app/admin/users/{Subject.Id}");
    }

    public async Task<IActionResult> OnPostPasswordAsync(string id, string? password, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        Errors.Labels["password"] = "The password";
        if (StaffAccounts.CheckPassword(password) is { } problem)
        {
            Errors.Add("password", problem);
            return Page();
        }

        await accounts.SetPasswordAsync(Subject, password!, ct);
        Flash($"{Subject.Name} can sign in with the new password; any lockout is lifted and their other sessions end.");
        return Go($"/app/admin/users/{Subject.Id}");
    }

    /// <summary>The expiry choices of the form, in days (0: never).</summary>
    public static readonly IReadOnlyList<int> ExpiryChoices = [0, 30, 90, 365];

    public async Task<IActionResult> OnPostCreateKeyAsync(string id, string? keyName, string[]? scopes, int expiresInDays, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        Errors.Labels["scopes"] = "The scopes";
        if (ApiScopes.Normalize(scopes) is not { } chosen)
        {
            Errors.Add("scopes", "Choose at least one scope.");
            return Page();
        }

        Instant? expiresAt = ExpiryChoices.Contains(expiresInDays) && expiresInDays > 0
            ? clock.GetCurrentInstant() + Duration.FromDays(expiresInDays)
            : null;
        var (_, secret) = await members.CreateApiKeyAsync(Subject, keyName, chosen, expiresAt, ct);
        NewKey = secret;
        await LoadAsync(id, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeKeyAsync(string id, Guid keyId, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.UserId == Subject.Id && k.OrganizationId == Me.OrganizationId, ct);
        if (key is { RevokedAt: null })
        {
            key.RevokedAt = clock.GetCurrentInstant();
            await db.SaveChangesAsync(ct);
            Flash($"The key {key.Name} ({key.Prefix}…) is revoked; requests with it are refused from now on.");
        }

        return Go($"/app/admin/users/{Subject.Id}");
    }

    private async Task<IActionResult?> LoadAsync(string id, CancellationToken ct)
    {
        ViewData["Nav"] = "users";
        Zone = await MyZoneAsync(db, ct);
        var user = await UsersEndpoints.FindAsync(db, id, ct);
        if (user is null)
        {
            return Missing("User not found", "There is no such user in your organization.");
        }

        Subject = user;
        ViewData["Title"] = user.Name;
        // API keys are not tenant-filtered: name the organization as well as the user.
        Keys = await db.ApiKeys.AsNoTracking().Where(k => k.UserId == user.Id && k.OrganizationId == Me.OrganizationId)
            .OrderByDescending(k => k.CreatedAt).ToListAsync(ct);
        HasPassword = await accounts.HasPasswordAsync(user.Id, ct);
        LockedUntil = (await accounts.LockedUsersAsync(Me.OrganizationId, ct)).TryGetValue(user.Id, out var until) ? until : null;
        return null;
    }
}

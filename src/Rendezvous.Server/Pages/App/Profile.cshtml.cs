using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.StaffAuth;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Pages.App;

/// <summary>The signed-in user's own name, time zone and password.</summary>
public sealed class ProfileModel(RendezvousDbContext db, StaffAccounts accounts) : StaffPageModel
{
    public User Subject { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostProfileAsync(string? name, string? timeZone, CancellationToken ct)
    {
        await LoadAsync(ct);
        Errors.Labels["name"] = "Your name";
        if (!ApiFormat.TryText(name, 200, out var clean))
        {
            Errors.Add("name", "is required (1-200 characters)");
        }

        if (TimeZones.Find(timeZone) is null)
        {
            Errors.Add("timeZone", "Choose a time zone.");
        }

        if (Errors.Any)
        {
            return Page();
        }

        var tracked = await db.Users.FirstAsync(u => u.Id == Me.Id, ct);
        tracked.Update(clean, timeZone!, tracked.Role);
        await db.SaveChangesAsync(ct);
        Flash("Saved. Times are shown in your new time zone.");
        return Go("/app/profile");
    }

    public async Task<IActionResult> OnPostPasswordAsync(string? current, string? password, string? confirm, CancellationToken ct)
    {
        await LoadAsync(ct);
        Errors.Labels["password"] = "The new password";
        if (!await accounts.VerifyAsync(Subject, current, ct))
        {
            Errors.Add("current", "The current password is not right.");
        }

        if (StaffAccounts.CheckPassword(password) is { } problem)
        {
            Errors.Add("password", problem);
        }
        else if (password != confirm)
        {
            Errors.Add("confirm", "The two new passwords are not the same.");
        }

        if (Errors.Any)
        {
            return Page();
        }

        await accounts.SetPasswordAsync(Subject, password!, ct);
        // The cookie carries a fingerprint of the password: sign in again here, so only other sessions end.
        var hash = await accounts.PasswordHashAsync(Subject.Id, ct);
        await HttpContext.SignInAsync(StaffCookie.Scheme, StaffCookie.PrincipalFor(Subject, hash));
        Flash("Your password is changed. Other sessions are signed out.");
        return Go("/app/profile");
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Your profile";
        ViewData["Nav"] = "profile";
        Subject = await MeAsync(db, ct);
    }
}

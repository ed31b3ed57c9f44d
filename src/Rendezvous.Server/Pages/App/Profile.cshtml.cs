using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.StaffAuth;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Pages.App;

/// <summary>The signed-in user's own name, time zone and password.</summary>
public sealed class ProfileModel(RendezvousDbContext db, StaffAccounts accounts, TeamMembers members) : StaffPageModel
{
    public User Subject { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostProfileAsync(string? name, string? timeZone, string? language, CancellationToken ct)
    {
        await LoadAsync(ct);
        Errors.Labels["name"] = "Your name";
        // Nobody changes their own role here: it stays as it is.
        var updated = await members.UpdateAsync(Subject, new UserChange(name, timeZone, Role: null, language), ct);
        if (!updated.IsSuccess)
        {
            foreach (var f in updated.Error!.Fields)
            {
                Errors.Add(f.Field, f.Field == "timeZone" ? "Choose a time zone." : f.Message);
            }

            return Page();
        }

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

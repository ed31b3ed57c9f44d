using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Server.Features.Security;
using Rendezvous.Server.Features.StaffAuth;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>Team members sign in with their email and password; failures in a row lock the account for this address (decision 0022).</summary>
[Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(RateLimits.SignIn)]
public sealed class SignInModel(StaffAccounts accounts, IClock clock) : WebPageModel
{
    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        ViewData["Title"] = "Team sign-in";
        var current = await HttpContext.AuthenticateAsync(StaffCookie.Scheme);
        return current.Succeeded ? Go(LocalOr(ReturnUrl, "/app/activity")) : Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Team sign-in";
        var outcome = await accounts.SignInAsync(Email, Password, SignInThrottle.AddressKey(HttpContext.Connection.RemoteIpAddress), ct);
        switch (outcome.Status)
        {
            case SignInStatus.Succeeded:
                await HttpContext.SignInAsync(StaffCookie.Scheme, StaffCookie.PrincipalFor(outcome.User!, outcome.PasswordHash));
                return Go(LocalOr(ReturnUrl, "/app/activity"));
            case SignInStatus.LockedOut:
                var minutes = Math.Max(1, (int)Math.Ceiling((outcome.LockedUntil!.Value - clock.GetCurrentInstant()).TotalMinutes));
                Problem = $"Too many failed sign-ins in a row. This account is locked; try again in {WebFormat.Plural(minutes, "minute")}, or ask an administrator to set a new password.";
                break;
            default:
                Problem = "The email or password is not right.";
                break;
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Password = null;
        return Page();
    }
}

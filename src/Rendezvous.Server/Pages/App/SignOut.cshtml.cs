using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Rendezvous.Server.Features.StaffAuth;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>Signing out is a POST from a signed-in page (with its antiforgery token), never a link another site could trigger.</summary>
public sealed class SignOutModel : WebPageModel
{
    public IActionResult OnGet() => Go("/app/activity");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(StaffCookie.Scheme);
        Flash("You are signed out.");
        return Go("/app/sign-in");
    }
}

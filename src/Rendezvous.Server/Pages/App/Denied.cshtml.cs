using Microsoft.AspNetCore.Mvc;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

public sealed class DeniedModel : WebPageModel
{
    public IActionResult OnGet()
    {
        ViewData["Title"] = "Not for your role";
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Page();
    }
}

using Microsoft.AspNetCore.Mvc;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

public sealed class IndexModel : StaffPageModel
{
    public IActionResult OnGet() => Go("/app/activity");
}

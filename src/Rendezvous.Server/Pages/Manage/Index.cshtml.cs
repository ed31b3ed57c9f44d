using Microsoft.AspNetCore.Mvc;
using Rendezvous.Data;
using Rendezvous.Server.Features.SelfService;
using static Rendezvous.Integrations.Localization.Texts;

namespace Rendezvous.Server.Pages.Manage;

/// <summary>The page the confirmation email links to: the appointment, and what the customer may do with it.</summary>
public sealed class IndexModel(RendezvousDbContext db, SelfServiceService selfService) : ManagePageModel(db, selfService)
{
    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct)
    {
        if (await OpenAsync(token, LinkPurpose.View, ct) is { } missing)
        {
            return missing;
        }

        ViewData["Title"] = IsStaff ? T("{0} with {1}", Target.Page.Title, Target.Customer.Name) : T("Your appointment");
        return Page();
    }
}

using Rendezvous.Data;
using Rendezvous.Server.Features.Routing;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>The organization's routing forms, each with its public address.</summary>
public sealed class RoutingFormsModel(RoutingFormService forms, RendezvousDbContext db) : StaffPageModel
{
    public IReadOnlyList<RoutingFormRecord> Forms { get; private set; } = [];

    public string OrganizationSlug { get; private set; } = "";

    public async Task OnGetAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Routing forms";
        ViewData["Nav"] = "routing-forms";
        Forms = await forms.ListAsync(ct);
        OrganizationSlug = (await db.Organizations.FindAsync([Me.OrganizationId], ct))?.Slug ?? "";
    }
}

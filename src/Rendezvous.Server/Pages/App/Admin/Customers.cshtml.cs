using Microsoft.AspNetCore.Mvc;
using Rendezvous.Server.Features.Portal;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>
/// Portal access (seed 003): whether the customer portal is open to every customer with an appointment or only to
/// contacts granted access; companies, which group contacts who then see each other's appointments; and each contact's
/// grant and company. Everything goes through <see cref="PortalAccessService"/>, as the API does.
/// </summary>
public sealed class CustomersModel(PortalAccessService access) : StaffPageModel
{
    public PortalMode Mode { get; private set; }

    public IReadOnlyList<CompanyResponse> Companies { get; private set; } = [];

    public IReadOnlyList<ContactResponse> Contacts { get; private set; } = [];

    [BindProperty(SupportsGet = true)]
    public string? Search { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostModeAsync([FromForm] string? mode, CancellationToken ct)
    {
        var set = await access.SetModeAsync(Me.OrganizationId, mode, ct);
        if (!set.IsSuccess)
        {
            FlashError(set.Error!);
        }
        else
        {
            Flash(mode == "open" ? "The portal is open to every customer with an appointment." : "Only contacts granted access can use the portal now.");
        }

        return Go(Here);
    }

    public async Task<IActionResult> OnPostCompanyAsync([FromForm] string? name, [FromForm] bool portalAccess, CancellationToken ct)
    {
        var created = await access.CreateCompanyAsync(Me.OrganizationId, new CompanyRequest(name, portalAccess), ct);
        if (!created.IsSuccess)
        {
            Errors.Labels["name"] = "The company name";
            Errors.Add(created.Error!);
            await LoadAsync(ct);
            return Page();
        }

        Flash($"Company {created.Value.Name} added.");
        return Go(Here);
    }

    public async Task<IActionResult> OnPostCompanyAccessAsync([FromForm] string? companyId, [FromForm] bool portalAccess, CancellationToken ct)
    {
        var updated = await access.UpdateCompanyAsync(Me.OrganizationId, companyId ?? "", new CompanyRequest(null, portalAccess), ct);
        if (updated.IsSuccess)
        {
            Flash(portalAccess ? $"{updated.Value.Name} and its contacts have portal access." : $"{updated.Value.Name} no longer grants portal access.");
        }
        else
        {
            FlashError(updated.Error!);
        }

        return Go(Here);
    }

    public async Task<IActionResult> OnPostDeleteCompanyAsync([FromForm] string? companyId, CancellationToken ct)
    {
        if (await access.DeleteCompanyAsync(Me.OrganizationId, companyId ?? "", ct))
        {
            Flash("The company is deleted; its contacts stay, without a company.");
        }

        return Go(Here);
    }

    public async Task<IActionResult> OnPostContactAsync([FromForm] string? customerId, [FromForm] bool portalAccess, [FromForm] string? companyId,
        CancellationToken ct)
    {
        var updated = await access.UpdateContactAsync(Me.OrganizationId, customerId ?? "", new ContactAccessRequest(portalAccess, companyId ?? ""), ct);
        if (updated.IsSuccess)
        {
            var c = updated.Value;
            Flash($"{c.Name}: {(c.CanUsePortal ? "can use the portal" : "cannot use the portal")}{(c.CompanyName is { } n ? $", contact of {n}" : "")}.");
        }
        else
        {
            FlashError(updated.Error!);
        }

        return Go(Here);
    }

    private string Here => WithQuery("/app/admin/customers", [new("search", Search)]);

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Customers and portal access";
        ViewData["Nav"] = "customers";
        Mode = await access.ModeAsync(Me.OrganizationId, ct);
        Companies = await access.CompaniesAsync(Me.OrganizationId, ct);
        Contacts = await access.ContactsAsync(Me.OrganizationId, Search, null, 200, ct);
    }
}

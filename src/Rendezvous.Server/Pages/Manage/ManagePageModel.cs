using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Features.Web;
using static Rendezvous.Integrations.Localization.Texts;

namespace Rendezvous.Server.Pages.Manage;

/// <summary>
/// The pages behind a self-service link. The token in the address is the credential and these pages set no cookie, so
/// there is no session for a forged cross-site request to ride on: their forms carry no antiforgery token.
/// </summary>
[IgnoreAntiforgeryToken]
public abstract class ManagePageModel(RendezvousDbContext db, SelfServiceService selfService) : WebPageModel
{
    public LinkTarget Target { get; protected set; } = null!;

    public SelfServiceView View { get; protected set; } = null!;

    public Organization Organization { get; private set; } = null!;

    public string Token { get; private set; } = "";

    /// <summary>The customer's zone (as they last booked), or the page's.</summary>
    public DateTimeZone CustomerZone { get; private set; } = DateTimeZone.Utc;

    public string PagePath => $"/{Organization.Slug}/{Target.Page.Slug}";

    /// <summary>True when a host opened their own link (from their email): the page acts as that user.</summary>
    public bool IsStaff => Target.Staff is not null;

    protected SelfServiceService SelfService => selfService;

    protected RendezvousDbContext Db => db;

    /// <summary>Opens the link for <paramref name="purpose"/>; null when it works, else the "no longer valid" page.</summary>
    protected async Task<IActionResult?> OpenAsync(string token, LinkPurpose purpose, CancellationToken ct)
    {
        var opened = await selfService.OpenAsync(token, purpose, ct);
        if (!opened.IsSuccess)
        {
            return Missing(T("This link is no longer valid"),
                T("This link is no longer valid. The appointment may have been canceled or has already taken place, or the link was changed. If you need help, reply to your confirmation email."));
        }

        Token = token;
        Refresh(opened.Value);
        Organization = await db.Organizations.AsNoTracking().FirstAsync(o => o.Id == Target.Booking.OrganizationId, ct);
        CustomerZone = TimeZones.Find(Target.Customer.TimeZoneId) ?? Target.Page.Settings.TimeZone;
        ViewData["Brand"] = Organization.Name;
        ViewData["BrandHref"] = PagePath;
        return null;
    }

    protected void Refresh(LinkTarget target)
    {
        Target = target;
        View = selfService.Describe(target);
    }
}

using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Organizations;

namespace Rendezvous.Server.Features.Web;

/// <summary>A booking page as the public sees it: the page, its organization and its hosts.</summary>
public sealed record PublicPage(BookingPage Page, Organization Organization, User Owner, IReadOnlyList<User> PanelMembers)
{
    /// <summary>"/embed" when the page is shown framed in another site, so every link and form stays in the frame.</summary>
    public string Prefix { get; init; } = "";

    public string Path => $"{Prefix}/{Organization.Slug}/{Page.Slug}";

    public bool IsEmbedded => Prefix.Length > 0;

    /// <summary>The members of a round-robin or collective page, in the page's order; empty for other pages.</summary>
    public IReadOnlyList<User> TeamMembers { get; init; } = [];

    /// <summary>"Ada Admin"; "Ada Admin, Max Member" for a panel or collective page; "Ada Admin or Max Member" for round-robin.</summary>
    public string HostNames => Page.Settings.SchedulingOption switch
    {
        SchedulingOption.RoundRobin => string.Join(" or ", TeamMembers.Select(u => u.Name)),
        SchedulingOption.Collective => string.Join(", ", TeamMembers.Select(u => u.Name)),
        _ => string.Join(", ", new[] { Owner }.Concat(PanelMembers).Select(u => u.Name)),
    };

    /// <summary>Finds a page by its organization's slug and its own; null unless both match. Sets the request's tenant.</summary>
    public static async Task<PublicPage?> FindAsync(RendezvousDbContext db, string org, string slug, CancellationToken ct)
    {
        if (!BookingPage.IsValidSlug(slug))
        {
            return null;
        }

        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(p => p.Slug == slug, ct);
        if (page is null)
        {
            return null;
        }

        var organization = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == page.OrganizationId, ct);
        if (organization is null || organization.Slug != org)
        {
            return null;
        }

        db.TenantId = organization.Id;
        var hostIds = page.Hosts.Append(page.OwnerId).ToList();
        var hosts = await db.Users.AsNoTracking().Where(u => hostIds.Contains(u.Id)).ToListAsync(ct);
        var owner = hosts.First(u => u.Id == page.OwnerId);
        return new PublicPage(page, organization, owner, [.. page.Settings.PanelMemberIds.Select(id => hosts.FirstOrDefault(u => u.Id == id)).OfType<User>()])
        {
            TeamMembers = [.. page.Settings.TeamMembers.Select(m => hosts.FirstOrDefault(u => u.Id == m.UserId)).OfType<User>()],
        };
    }
}

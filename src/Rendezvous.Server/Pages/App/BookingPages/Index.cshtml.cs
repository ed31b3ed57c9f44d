using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.BookingPages;

/// <summary>The organization's booking pages, with their public addresses; members edit their own, administrators all.</summary>
public sealed class IndexModel(RendezvousDbContext db) : StaffPageModel
{
    public IReadOnlyList<BookingPage> Pages { get; private set; } = [];

    public Dictionary<Rendezvous.Domain.UserId, User> Users { get; private set; } = [];

    public Organization Organization { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Booking pages";
        ViewData["Nav"] = "pages";
        Organization = await db.Organizations.AsNoTracking().FirstAsync(o => o.Id == Me.OrganizationId, ct);
        Pages = await db.BookingPages.AsNoTracking().OrderBy(p => p.Title).ToListAsync(ct);
        Users = await db.Users.AsNoTracking().ToDictionaryAsync(u => u.Id, ct);
        return Page();
    }

    public bool CanEdit(BookingPage page) => Me.IsAdministrator || page.OwnerId == Me.Id;

    public static string OptionName(SchedulingOption option) => option switch
    {
        SchedulingOption.GroupSession => "Group session",
        SchedulingOption.SessionPackage => "Session package",
        SchedulingOption.Panel => "Panel",
        SchedulingOption.RoundRobin => "Round-robin team",
        SchedulingOption.Collective => "Collective team",
        _ => "One-on-one",
    };
}

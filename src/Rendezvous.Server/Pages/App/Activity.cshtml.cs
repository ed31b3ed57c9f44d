using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>
/// The activity stream: bookings with their status, customer, page and time, filtered by status, user, page and dates
/// (in the user's zone). Members see the bookings they host; administrators everyone's. A booking opens in the details pane.
/// </summary>
public sealed class ActivityModel(RendezvousDbContext db, BookingDetailsLoader details, IClock clock) : StaffPageModel
{
    public const int PageSize = 200;

    public sealed record Row(Booking Booking, string Customer, string Page, string Hosts);

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserFilter { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public string? PageFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Open { get; set; }

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public IReadOnlyList<User> Users { get; private set; } = [];

    public IReadOnlyList<BookingPage> Pages { get; private set; } = [];

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    public BookingDetails? Details { get; private set; }

    public bool More { get; private set; }

    public static IReadOnlyList<(string Value, string Label)> Statuses { get; } =
    [
        ("requested", "Requested"), ("scheduled", "Scheduled"), ("rescheduled", "Rescheduled"), ("completed", "Completed"),
        ("canceled", "Canceled"), ("noShow", "No-show"), ("awaitingPayment", "Awaiting payment"),
    ];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Activity";
        ViewData["Nav"] = "activity";
        Zone = await MyZoneAsync(db, ct);
        var me = Me;
        Users = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);
        Pages = await db.BookingPages.AsNoTracking().OrderBy(p => p.Title).ToListAsync(ct);

        var query = db.Bookings.AsNoTracking().AsQueryable();
        if (Statuses.Any(s => s.Value == Status))
        {
            var wanted = Enum.GetValues<BookingStatus>().First(s => BookingLifecycle.ApiName(s) == Status);
            query = query.Where(b => b.Status == wanted);
        }
        else
        {
            Status = null;
        }

        UserId? host = me.IsAdministrator ? null : me.Id;
        if (me.IsAdministrator && Ids.TryParse(UserFilter, out var uid))
        {
            host = new UserId(uid);
        }

        if (host is { } h)
        {
            query = query.Where(b => b.Hosts.Any(x => x.UserId == h));
        }

        if (Ids.TryParse(PageFilter, out var pid))
        {
            var pageId = new BookingPageId(pid);
            query = query.Where(b => b.BookingPageId == pageId);
        }

        // With no dates given, the stream starts today; "from" and "to" are whole days in the user's zone, "to" inclusive.
        var from = ParseDate(From);
        var to = ParseDate(To);
        if (From is null && To is null)
        {
            from = SystemToday();
            From = WebFormat.Iso(from.Value);
        }

        if (from is { } f)
        {
            var bound = f.AtStartOfDayInZone(Zone).ToInstant();
            query = query.Where(b => b.End > bound);
        }

        if (to is { } t)
        {
            var bound = t.PlusDays(1).AtStartOfDayInZone(Zone).ToInstant();
            query = query.Where(b => b.Start < bound);
        }

        var bookings = await query.OrderBy(b => b.Start).ThenBy(b => b.Id).Take(PageSize + 1).ToListAsync(ct);
        More = bookings.Count > PageSize;
        bookings = [.. bookings.Take(PageSize)];
        var customerIds = bookings.Select(b => b.CustomerId).Distinct().ToList();
        var customers = await db.Customers.AsNoTracking().Where(c => customerIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var pages = Pages.ToDictionary(p => p.Id);
        var users = Users.ToDictionary(u => u.Id);
        Rows = [.. bookings.Select(b => new Row(b, customers.GetValueOrDefault(b.CustomerId)?.Name ?? "—",
            pages.GetValueOrDefault(b.BookingPageId)?.Title ?? "—",
            string.Join(", ", b.Hosts.OrderByDescending(x => x.IsPrimary).Select(x => users.GetValueOrDefault(x.UserId)?.Name ?? "?"))))];

        if (Open is not null)
        {
            var loaded = await details.LoadAsync(Open, me, Zone, ct);
            if (loaded.IsSuccess)
            {
                Details = loaded.Value;
                Details.ReturnUrl = LinkTo(Open);
            }
        }

        return Page();
    }

    /// <summary>This list with the same filters and one booking opened.</summary>
    public string LinkTo(string? open) => WithQuery("/app/activity",
        [new("status", Status), new("user", UserFilter), new("page", PageFilter), new("from", From), new("to", To), new("open", open)]);

    private LocalDate SystemToday() => clock.GetCurrentInstant().InZone(Zone).Date;
}

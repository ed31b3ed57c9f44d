using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>My calendar: a week (Monday to Sunday, in the user's zone) of the bookings they host; each opens the details pane.</summary>
public sealed class CalendarModel(RendezvousDbContext db, BookingDetailsLoader details, IClock clock) : StaffPageModel
{
    public sealed record Event(Booking Booking, string Customer, string Page, LocalDate Day, int StartMinute, int EndMinute);

    [BindProperty(SupportsGet = true)]
    public string? Week { get; set; }

    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool Canceled { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Open { get; set; }

    public LocalDate Monday { get; private set; }

    public LocalDate Today { get; private set; }

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    public IReadOnlyList<Event> Events { get; private set; } = [];

    public IReadOnlyList<User> Users { get; private set; } = [];

    public User Whose { get; private set; } = null!;

    public BookingDetails? Details { get; private set; }

    /// <summary>The hours the grid shows: 08:00 to 18:00, widened to fit the week's bookings.</summary>
    public int FirstHour { get; private set; } = 8;

    public int LastHour { get; private set; } = 18;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        ViewData["Title"] = "My calendar";
        ViewData["Nav"] = "calendar";
        Zone = await MyZoneAsync(db, ct);
        Whose = await MeAsync(db, ct);
        if (Me.IsAdministrator)
        {
            Users = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);
            if (Ids.TryParse(UserFilter, out var uid) && Users.FirstOrDefault(u => u.Id == new UserId(uid)) is { } other)
            {
                Whose = other;
            }
        }

        Today = clock.GetCurrentInstant().InZone(Zone).Date;
        var anchor = ParseDate(Week) ?? Today;
        Monday = anchor.PlusDays(-((int)anchor.DayOfWeek - 1));
        var from = Monday.AtStartOfDayInZone(Zone).ToInstant();
        var to = Monday.PlusDays(7).AtStartOfDayInZone(Zone).ToInstant();
        var host = Whose.Id;
        var query = db.Bookings.AsNoTracking().Where(b => b.Hosts.Any(h => h.UserId == host) && b.Start < to && b.End > from);
        if (!Canceled)
        {
            query = query.Where(b => b.Status != BookingStatus.Canceled);
        }

        var bookings = await query.OrderBy(b => b.Start).Take(500).ToListAsync(ct);
        var customerIds = bookings.Select(b => b.CustomerId).Distinct().ToList();
        var customers = await db.Customers.AsNoTracking().Where(c => customerIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var pageIds = bookings.Select(b => b.BookingPageId).Distinct().ToList();
        var pages = await db.BookingPages.AsNoTracking().Where(p => pageIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, ct);

        var events = new List<Event>();
        foreach (var b in bookings)
        {
            // A meeting across midnight shows on each day it touches.
            for (var day = Max(b.Start.InZone(Zone).Date, Monday); day <= Min(b.End.InZone(Zone).Date, Monday.PlusDays(6)); day = day.PlusDays(1))
            {
                var dayStart = day.AtStartOfDayInZone(Zone).ToInstant();
                var dayEnd = day.PlusDays(1).AtStartOfDayInZone(Zone).ToInstant();
                var s = b.Start > dayStart ? b.Start : dayStart;
                var e = b.End < dayEnd ? b.End : dayEnd;
                if (e <= s)
                {
                    continue;
                }

                var startMinute = MinuteOfDay(s.InZone(Zone).TimeOfDay);
                var endMinute = e == dayEnd ? 24 * 60 : MinuteOfDay(e.InZone(Zone).TimeOfDay);
                events.Add(new Event(b, customers.GetValueOrDefault(b.CustomerId)?.Name ?? "—", pages.GetValueOrDefault(b.BookingPageId)?.Title ?? "—",
                    day, startMinute, Math.Max(endMinute, startMinute + 15)));
            }
        }

        Events = events;
        if (events.Count > 0)
        {
            FirstHour = Math.Min(FirstHour, events.Min(e => e.StartMinute) / 60);
            LastHour = Math.Max(LastHour, Math.Min(24, (events.Max(e => e.EndMinute) + 59) / 60));
        }

        if (Open is not null && (await details.LoadAsync(Open, Me, Zone, ct)) is { IsSuccess: true } loaded)
        {
            Details = loaded.Value;
            Details.ReturnUrl = LinkTo(Monday, Open);
        }

        return Page();
    }

    public string LinkTo(LocalDate week, string? open) => WithQuery("/app/calendar",
        [new("week", WebFormat.Iso(week)), new("user", UserFilter), new("canceled", Canceled ? "true" : null), new("open", open)]);

    /// <summary>Where an event sits in its day column, as percentages of the shown hours.</summary>
    public string Position(Event e)
    {
        var total = (LastHour - FirstHour) * 60.0;
        var top = Math.Clamp((e.StartMinute - (FirstHour * 60)) / total * 100, 0, 100);
        var height = Math.Clamp((e.EndMinute - e.StartMinute) / total * 100, 1.5, 100 - top);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"top:{top:0.##}%;height:{height:0.##}%");
    }

    private static int MinuteOfDay(LocalTime time) => (time.Hour * 60) + time.Minute;

    private static LocalDate Max(LocalDate a, LocalDate b) => a > b ? a : b;

    private static LocalDate Min(LocalDate a, LocalDate b) => a < b ? a : b;
}

using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using NodaTime.TimeZones;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>My calendar: a week (Monday to Sunday, in the user's zone) of the bookings they host; each opens the details pane.</summary>
public sealed class CalendarModel(RendezvousDbContext db, BookingDetailsLoader details, TeamMembers members, IClock clock) : StaffPageModel
{
    public sealed record Event(Booking Booking, string Customer, string Page, LocalDate Day, int StartMinute, int EndMinute);

    /// <summary>Busy time in the week: time off entered here (manual) or read from a connected calendar.</summary>
    public sealed record Busy(Guid Id, LocalDate Day, int StartMinute, int EndMinute, string Label, bool Manual, Instant Start, Instant End);

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

    public IReadOnlyList<Busy> BusyTimes { get; private set; } = [];

    /// <summary>Time off entered here, from this week on, that can be removed.</summary>
    public IReadOnlyList<BusyBlock> TimeOff { get; private set; } = [];

    public User Whose { get; private set; } = null!;

    public BookingDetails? Details { get; private set; }

    /// <summary>The hours the grid shows: 08:00 to 18:00, widened to fit the week's bookings.</summary>
    public int FirstHour { get; private set; } = 8;

    public int LastHour { get; private set; } = 18;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    /// <summary>Adds time off (a busy block): the user's booking pages offer no times during it.</summary>
    public async Task<IActionResult> OnPostTimeOffAsync(string? fromDate, string? fromTime, string? toDate, string? toTime, string? note,
        CancellationToken ct)
    {
        await LoadAsync(ct);
        Errors.Labels["timeOff"] = "Time off";
        var from = ParseDate(fromDate);
        var to = ParseDate(toDate) ?? from;
        var startTime = ParseTime(fromTime) ?? LocalTime.Midnight;
        var endTime = ParseTime(toTime);
        if (from is null || to is null)
        {
            Errors.Add("timeOff", "needs a first day (and, for more than one day, a last day)");
            return Page();
        }

        // A time given in the user's zone; a gap or overlap resolves as a clock would (forward, earlier).
        var start = (from.Value + startTime).InZone(Zone, Resolvers.LenientResolver).ToInstant();
        var end = endTime is { } e
            ? (to.Value + e).InZone(Zone, Resolvers.LenientResolver).ToInstant()
            : to.Value.PlusDays(1).AtStartOfDayInZone(Zone).ToInstant();
        var added = await members.AddBusyBlockAsync(Me, Whose, start, end, note?.Trim(), ct);
        if (!added.IsSuccess)
        {
            Errors.Add("timeOff", added.Error!.Kind == ErrorKind.Validation ? "must end after it starts, and last at most 366 days" : added.Error.Message);
            return Page();
        }

        Flash($"Time off from {WebFormat.When(start, Zone)} to {WebFormat.When(end, Zone)} is added; no times are offered then.");
        return Go(LinkTo(from.Value, null));
    }

    public async Task<IActionResult> OnPostRemoveTimeOffAsync(Guid blockId, CancellationToken ct)
    {
        await LoadAsync(ct);
        if ((await members.RemoveBusyBlockAsync(Me, Whose, blockId, manualOnly: true, ct)).IsSuccess)
        {
            Flash("The time off is removed.");
        }

        return Go(LinkTo(Monday, null));
    }

    private async Task LoadAsync(CancellationToken ct)
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

        var blocks = await db.BusyBlocks.AsNoTracking().Where(b => b.UserId == host && b.Start < to && b.End > from).OrderBy(b => b.Start).ToListAsync(ct);
        var busy = new List<Busy>();
        foreach (var b in blocks)
        {
            foreach (var (day, startMinute, endMinute) in Days(b.Start, b.End, from, to))
            {
                busy.Add(new Busy(b.Id, day, startMinute, endMinute, b.Source == "manual" ? b.Note ?? "Time off" : "Busy in calendar", b.Source == "manual",
                    b.Start, b.End));
            }
        }

        BusyTimes = busy;
        if (busy.Count > 0)
        {
            FirstHour = Math.Min(FirstHour, busy.Min(e => e.StartMinute) / 60);
            LastHour = Math.Max(LastHour, Math.Min(24, (busy.Max(e => e.EndMinute) + 59) / 60));
        }

        TimeOff = await db.BusyBlocks.AsNoTracking().Where(b => b.UserId == host && b.Source == "manual" && b.End > from)
            .OrderBy(b => b.Start).Take(50).ToListAsync(ct);
    }

    /// <summary>The parts of [start, end) on each day of the shown week, as minutes of that day.</summary>
    private IEnumerable<(LocalDate Day, int StartMinute, int EndMinute)> Days(Instant start, Instant end, Instant weekStart, Instant weekEnd)
    {
        var s0 = start > weekStart ? start : weekStart;
        var e0 = end < weekEnd ? end : weekEnd;
        for (var day = s0.InZone(Zone).Date; day.AtStartOfDayInZone(Zone).ToInstant() < e0; day = day.PlusDays(1))
        {
            var dayStart = day.AtStartOfDayInZone(Zone).ToInstant();
            var dayEnd = day.PlusDays(1).AtStartOfDayInZone(Zone).ToInstant();
            var s = s0 > dayStart ? s0 : dayStart;
            var e = e0 < dayEnd ? e0 : dayEnd;
            if (e > s)
            {
                var endMinute = e == dayEnd ? 24 * 60 : MinuteOfDay(e.InZone(Zone).TimeOfDay);
                yield return (day, MinuteOfDay(s.InZone(Zone).TimeOfDay), endMinute);
            }
        }
    }

    private static LocalTime? ParseTime(string? text) =>
        text is null ? null : NodaTime.Text.LocalTimePattern.CreateWithInvariantCulture("HH:mm").Parse(text) is { Success: true } r ? r.Value : null;

    public string LinkTo(LocalDate week, string? open) => WithQuery("/app/calendar",
        [new("week", WebFormat.Iso(week)), new("user", UserFilter), new("canceled", Canceled ? "true" : null), new("open", open)]);

    /// <summary>Where an event sits in its day column, as percentages of the shown hours.</summary>
    public string Position(Event e) => Position(e.StartMinute, e.EndMinute);

    public string Position(Busy b) => Position(b.StartMinute, b.EndMinute);

    private string Position(int startMinute, int endMinute)
    {
        var total = (LastHour - FirstHour) * 60.0;
        var top = Math.Clamp((startMinute - (FirstHour * 60)) / total * 100, 0, 100);
        var height = Math.Clamp((endMinute - startMinute) / total * 100, 1.5, 100 - top);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"top:{top:0.##}%;height:{height:0.##}%");
    }

    private static int MinuteOfDay(LocalTime time) => (time.Hour * 60) + time.Minute;

    private static LocalDate Max(LocalDate a, LocalDate b) => a > b ? a : b;

    private static LocalDate Min(LocalDate a, LocalDate b) => a < b ? a : b;
}

using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Server.Features.Availability;

namespace Rendezvous.Server.Features.Web;

/// <summary>One day of the month grid.</summary>
public sealed record DayCell(LocalDate Date, bool InMonth, int FreeSlots, bool Selected, bool Today, string? Href);

/// <summary>One free time of the selected day.</summary>
public sealed record SlotChoice(Instant Start, Instant End, string Label, int SeatsLeft, string Href, bool Picked);

/// <summary>
/// A month of free times in one zone, with one day opened: what the booking page, the customer's reschedule page and
/// the staff reschedule page all show. Links carry the state, so it works without a script.
/// </summary>
public sealed record SlotPickerModel
{
    public required DateTimeZone Zone { get; init; }

    /// <summary>The first day of the month shown.</summary>
    public required LocalDate Month { get; init; }

    public required IReadOnlyList<IReadOnlyList<DayCell>> Weeks { get; init; }

    public LocalDate? Selected { get; init; }

    public required IReadOnlyList<SlotChoice> Slots { get; init; }

    public string? PreviousHref { get; init; }

    public string? NextHref { get; init; }

    /// <summary>Group sessions show the seats left on each time.</summary>
    public bool ShowSeats { get; init; }

    public int FreeInMonth { get; init; }

    /// <summary>Where the zone form goes, and the other query values it must keep.</summary>
    public required string ZoneAction { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> ZoneHidden { get; init; } = [];

    /// <summary>A sentence above the slots ("Pick a time", or why nothing is shown).</summary>
    public string? Lead { get; init; }

    /// <summary>How the slot buttons are introduced for screen readers, e.g. "Book" or "Move to".</summary>
    public string SlotVerb { get; init; } = "Book";
}

/// <summary>Builds a <see cref="SlotPickerModel"/> from the live availability of a page.</summary>
public sealed class SlotPickerBuilder(AvailabilityService availability, IClock clock)
{
    /// <summary>How the picker's links are made: to another month or day, and for a slot.</summary>
    public sealed record Links(Func<LocalDate, LocalDate?, string> Navigate, Func<Slot, string> Choose, Func<Slot, bool>? IsPicked = null);

    /// <summary>
    /// The month of <paramref name="date"/> (or <paramref name="month"/>, or the current one) in <paramref name="zone"/>.
    /// Without an explicit month or day, an empty month moves on to the next one that has free times (up to two).
    /// </summary>
    public async Task<SlotPickerModel> BuildAsync(BookingPage page, DateTimeZone zone, LocalDate? month, LocalDate? date, BookingId? ignore,
        Links links, string zoneAction, IReadOnlyList<KeyValuePair<string, string>> zoneHidden, CancellationToken ct, UserId? member = null)
    {
        var now = clock.GetCurrentInstant();
        var today = now.InZone(zone).Date;
        var lastBookable = (now + Duration.FromDays(page.Settings.BookingWindowDays)).InZone(zone).Date;
        var first = FirstOfMonth(date ?? month ?? today);
        if (first < FirstOfMonth(today))
        {
            first = FirstOfMonth(today);
        }

        var slots = await MonthSlotsAsync(page, first, today, zone, now, ignore, member, ct);
        for (var tries = 0; slots.Count == 0 && month is null && date is null && tries < 2; tries++)
        {
            var next = first.PlusMonths(1);
            if (next > lastBookable)
            {
                break;
            }

            var nextSlots = await MonthSlotsAsync(page, next, today, zone, now, ignore, member, ct);
            if (nextSlots.Count > 0)
            {
                first = next;
                slots = nextSlots;
            }
        }

        var byDay = slots.GroupBy(s => s.Start.InZone(zone).Date).ToDictionary(g => g.Key, g => g.ToList());
        LocalDate? selected = date is { } d && d.Year == first.Year && d.Month == first.Month ? d : null;
        selected ??= byDay.Keys.Order().Cast<LocalDate?>().FirstOrDefault();

        var weeks = new List<IReadOnlyList<DayCell>>();
        var last = first.PlusMonths(1).PlusDays(-1);
        var cursor = first.PlusDays(-((int)first.DayOfWeek - 1));
        while (cursor <= last)
        {
            var week = new List<DayCell>();
            for (var i = 0; i < 7; i++, cursor = cursor.PlusDays(1))
            {
                var inMonth = cursor.Month == first.Month;
                var count = byDay.TryGetValue(cursor, out var list) ? list.Count : 0;
                week.Add(new DayCell(cursor, inMonth, inMonth ? count : 0, inMonth && cursor == selected, cursor == today,
                    inMonth && count > 0 ? links.Navigate(first, cursor) : null));
            }

            weeks.Add(week);
        }

        var daySlots = selected is { } day && byDay.TryGetValue(day, out var chosen) ? chosen : [];
        return new SlotPickerModel
        {
            Zone = zone,
            Month = first,
            Weeks = weeks,
            Selected = selected,
            Slots = [.. daySlots.Select(s => new SlotChoice(s.Start, s.End, WebFormat.Time(s.Start, zone), s.SeatsLeft, links.Choose(s),
                links.IsPicked?.Invoke(s) ?? false))],
            PreviousHref = first > FirstOfMonth(today) ? links.Navigate(first.PlusMonths(-1), null) : null,
            NextHref = first.PlusMonths(1) <= lastBookable ? links.Navigate(first.PlusMonths(1), null) : null,
            ShowSeats = page.Settings.SchedulingOption == SchedulingOption.GroupSession,
            FreeInMonth = slots.Count,
            ZoneAction = zoneAction,
            ZoneHidden = [.. zoneHidden.Where(kv => kv.Value.Length > 0)],
        };
    }

    public static LocalDate FirstOfMonth(LocalDate date) => new(date.Year, date.Month, 1);

    private async Task<IReadOnlyList<Slot>> MonthSlotsAsync(BookingPage page, LocalDate first, LocalDate today, DateTimeZone zone, Instant now,
        BookingId? ignore, UserId? member, CancellationToken ct)
    {
        var from = first < today ? today : first;
        var to = first.PlusMonths(1).PlusDays(-1);
        return from > to ? [] : await availability.GetSlotsAsync(page, from, to, zone, now, ignore, ct, member);
    }
}

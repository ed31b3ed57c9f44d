using NodaTime;
using NodaTime.TimeZones;
using Rendezvous.Domain.BookingPages;

namespace Rendezvous.Domain.Availability;

/// <summary>A busy stretch of some host's time, start inclusive, end exclusive.</summary>
public readonly record struct BusyInterval(Instant Start, Instant End);

/// <summary>An existing session of a group-session page and how many of its seats are taken.</summary>
public readonly record struct GroupSessionOccupancy(Instant Start, int SeatsTaken);

/// <summary>A bookable slot: start inclusive, end exclusive, and seats still free (1 for non-group pages).</summary>
public readonly record struct Slot(Instant Start, Instant End, int SeatsLeft);

/// <summary>What to compute slots for, besides the page's own settings.</summary>
public sealed record AvailabilityQuery
{
    /// <summary>First day to list, as a date in <see cref="DisplayZone"/> (inclusive).</summary>
    public required LocalDate From { get; init; }

    /// <summary>Last day to list, as a date in <see cref="DisplayZone"/> (inclusive).</summary>
    public required LocalDate To { get; init; }

    /// <summary>The visitor's zone: which slots fall on the listed days is decided here.</summary>
    public required DateTimeZone DisplayZone { get; init; }

    public required Instant Now { get; init; }

    /// <summary>
    /// Busy time of every host involved (their bookings on any page and their external calendar blocks), in any
    /// order and possibly overlapping. The seats of this page's own group sessions are passed in
    /// <see cref="GroupSessions"/> instead.
    /// </summary>
    public IReadOnlyList<BusyInterval> Busy { get; init; } = [];

    /// <summary>
    /// This page's existing group sessions (group-session pages only). A session with seats taken is offered while seats
    /// remain, and its time (the page's duration from its start) is busy for every other candidate start. Entries with the
    /// same start add up; a session whose seats were all released is ignored.
    /// </summary>
    public IReadOnlyList<GroupSessionOccupancy> GroupSessions { get; init; } = [];

    /// <summary>Starts of this page's active meetings (one per session for group pages), for the daily and weekly caps.</summary>
    public IReadOnlyList<Instant> PageMeetingStarts { get; init; } = [];
}

/// <summary>
/// Computes free slots for a booking page. Pure and allocation-light: open hours are expanded per local date in the
/// page's zone into the exact stretches of time that read as open on a wall clock there, and candidate slots are swept
/// once against the merged busy intervals.
/// </summary>
/// <remarks>
/// A window's local times are mapped to instants through the zone's offsets, so a spring-forward gap shortens it and
/// an autumn overlap lengthens it (both copies of a repeated time are offered). A window that opens or closes inside a
/// repeated stretch keeps only the instants whose local time lies inside the window, which can split it in two.
/// Candidate starts step by the slot interval in elapsed time from the window's first instant; a slot is offered only
/// when it fits wholly inside one stretch.
/// </remarks>
public static partial class AvailabilityEngine
{
    /// <summary>
    /// Window starts: a local time in the spring-forward gap maps to the first instant after the gap; an ambiguous
    /// autumn time maps to its earlier occurrence. Also used to find where a day begins.
    /// </summary>
    public static readonly ZoneLocalMappingResolver WindowStartResolver =
        Resolvers.CreateMappingResolver(Resolvers.ReturnEarlier, Resolvers.ReturnStartOfIntervalAfter);

    /// <summary>
    /// Window ends: a gap time maps to the first instant after the gap; an ambiguous time maps to its later occurrence,
    /// so an autumn window keeps both copies of the repeated hour. The engine bounds each window by the instants that
    /// read inside it; this resolver gives the outer bound.
    /// </summary>
    public static readonly ZoneLocalMappingResolver WindowEndResolver =
        Resolvers.CreateMappingResolver(Resolvers.ReturnLater, Resolvers.ReturnStartOfIntervalAfter);

    /// <summary>
    /// Free slots whose start falls on a day from <see cref="AvailabilityQuery.From"/> to <see cref="AvailabilityQuery.To"/>
    /// (both inclusive) in the display zone, ordered by start, each start listed once. A display day that does not exist
    /// in the display zone (skipped by a change of date line) is empty. Throws <see cref="ArgumentException"/> when To is
    /// before From, or when the page's duration or slot interval is not positive.
    /// </summary>
    public static IReadOnlyList<Slot> ComputeSlots(BookingPageSettings settings, AvailabilityQuery query)
    {
        if (query.To < query.From)
        {
            throw new ArgumentException("To must not be before From.", nameof(query));
        }

        var duration = settings.Duration;
        var step = settings.EffectiveSlotInterval;
        if (duration <= Duration.Zero || step <= Duration.Zero)
        {
            throw new ArgumentException("The duration and the slot interval must be positive.", nameof(settings));
        }

        var rangeStart = StartOfDay(query.DisplayZone, query.From);
        var rangeEnd = StartOfDay(query.DisplayZone, query.To.PlusDays(1));

        var earliest = query.Now + settings.MinimumNotice;
        var latest = query.Now + Duration.FromDays(settings.BookingWindowDays);
        if (earliest > rangeStart)
        {
            rangeStart = earliest;
        }

        if (latest < rangeEnd)
        {
            rangeEnd = latest;
        }

        if (rangeStart >= rangeEnd)
        {
            return [];
        }

        var zone = settings.TimeZone;
        var groups = settings.SchedulingOption == SchedulingOption.GroupSession ? BuildGroupIndex(query.GroupSessions) : null;
        var hours = OpenHours.Create(settings);

        // Every candidate, buffers included, lies inside [rangeStart - before, rangeEnd + duration + after).
        var busy = BusyTimeline.Create(query.Busy, groups, duration, rangeStart - settings.BufferBefore, rangeEnd + duration + settings.BufferAfter);
        var sweep = new Sweep(settings, rangeStart, rangeEnd, groups, CapCounter.Create(settings, query.PageMeetingStarts), busy);
        try
        {
            // Page-zone dates that can hold a slot starting inside the display range (one day of slack on each side
            // covers any difference between the two zones' offsets).
            var lastDate = rangeEnd.InZone(zone).Date.PlusDays(1);
            var stretches = new Stretch[4];
            for (var date = rangeStart.InZone(zone).Date.PlusDays(-1); date <= lastDate; date = date.PlusDays(1))
            {
                foreach (var window in hours.On(date))
                {
                    var count = OpenStretches(zone, date, window, ref stretches);
                    sweep.Window(stretches.AsSpan(0, count));
                }
            }

            return sweep.Slots();
        }
        finally
        {
            sweep.Dispose();
        }
    }

    /// <summary>
    /// The slot starting exactly at <paramref name="start"/>, if the page offers it now; the booking path uses this to
    /// refuse a time that is not (or no longer) offered.
    /// </summary>
    public static Slot? FindSlot(BookingPageSettings settings, AvailabilityQuery query, Instant start)
    {
        foreach (var slot in ComputeSlots(settings, query))
        {
            if (slot.Start == start)
            {
                return slot;
            }
        }

        return null;
    }

    /// <summary>
    /// The first instant whose local date in <paramref name="zone"/> is <paramref name="date"/> or later. When the whole
    /// date was skipped (Pacific/Apia, 2011-12-30) this is where the next date begins, so the skipped day is empty.
    /// </summary>
    private static Instant StartOfDay(DateTimeZone zone, LocalDate date) =>
        zone.ResolveLocal(date.AtMidnight(), WindowStartResolver).ToInstant();

    /// <summary>
    /// Fills <paramref name="stretches"/> with the disjoint, ascending stretches of time whose local time in
    /// <paramref name="zone"/> lies in the window on <paramref name="date"/> (start inclusive, end exclusive), and returns
    /// how many there are. Each zone interval (a stretch of constant offset) contributes at most one piece; pieces that
    /// touch are joined, so only a window opening or closing inside a repeated time yields more than one.
    /// </summary>
    private static int OpenStretches(DateTimeZone zone, LocalDate date, TimeOfDayRange window, ref Stretch[] stretches)
    {
        var midnight = date.AtMidnight();
        var open = midnight.PlusMinutes(window.StartMinute);
        var close = midnight.PlusMinutes(window.EndMinute);

        // Whatever the offset, an instant that reads inside the window lies between these two.
        var scanFrom = open.WithOffset(zone.MaxOffset).ToInstant();
        var scanTo = close.WithOffset(zone.MinOffset).ToInstant();

        var count = 0;
        var interval = zone.GetZoneInterval(scanFrom);
        while (true)
        {
            var from = open.WithOffset(interval.WallOffset).ToInstant();
            var to = close.WithOffset(interval.WallOffset).ToInstant();
            if (interval.HasStart && interval.Start > from)
            {
                from = interval.Start;
            }

            if (interval.HasEnd && interval.End < to)
            {
                to = interval.End;
            }

            if (from < to)
            {
                if (count > 0 && stretches[count - 1].End == from)
                {
                    stretches[count - 1] = new Stretch(stretches[count - 1].Start, to);
                }
                else
                {
                    if (count == stretches.Length)
                    {
                        Array.Resize(ref stretches, count * 2);
                    }

                    stretches[count++] = new Stretch(from, to);
                }
            }

            if (!interval.HasEnd || interval.End >= scanTo)
            {
                return count;
            }

            interval = zone.GetZoneInterval(interval.End);
        }
    }

    /// <summary>Seats taken per existing session start; sessions whose seats were all released are left out.</summary>
    private static Dictionary<Instant, int> BuildGroupIndex(IReadOnlyList<GroupSessionOccupancy> sessions)
    {
        var index = new Dictionary<Instant, int>(sessions.Count);
        foreach (var s in sessions)
        {
            index[s.Start] = index.GetValueOrDefault(s.Start) + s.SeatsTaken;
        }

        foreach (var (start, taken) in index)
        {
            if (taken <= 0)
            {
                index.Remove(start);
            }
        }

        return index;
    }
}

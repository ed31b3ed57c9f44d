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
public static class AvailabilityEngine
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

        var slots = new List<Slot>();
        if (rangeStart >= rangeEnd)
        {
            return slots;
        }

        var zone = settings.TimeZone;
        var isGroup = settings.SchedulingOption == SchedulingOption.GroupSession;
        var groups = isGroup ? BuildGroupIndex(query.GroupSessions) : null;
        var busy = Merge(query.Busy, groups, duration, rangeStart - settings.BufferBefore, rangeEnd + duration + settings.BufferAfter);
        var caps = CapCounter.Create(settings, query.PageMeetingStarts);
        var hours = OpenHours.Create(settings);

        // Page-zone dates that can hold a slot starting inside the display range (one day of slack on each side
        // covers any difference between the two zones' offsets).
        var firstDate = rangeStart.InZone(zone).Date.PlusDays(-1);
        var lastDate = rangeEnd.InZone(zone).Date.PlusDays(1);
        var stretches = new Stretch[4];
        var busyCursor = 0;
        var ordered = true;

        for (var date = firstDate; date <= lastDate; date = date.PlusDays(1))
        {
            foreach (var window in hours.On(date))
            {
                var count = OpenStretches(zone, date, window, ref stretches);
                if (count == 0)
                {
                    continue;
                }

                var start = stretches[0].Start;
                if (start < rangeStart)
                {
                    // Jump straight to the first candidate at or after the range start.
                    var behind = (rangeStart - start).ToInt64Nanoseconds();
                    var stepNs = step.ToInt64Nanoseconds();
                    start += Duration.FromNanoseconds(((behind + stepNs - 1) / stepNs) * stepNs);
                }

                var s = 0;
                for (; start < rangeEnd; start += step)
                {
                    var end = start + duration;
                    while (s < count && stretches[s].End < end)
                    {
                        s++;
                    }

                    if (s == count)
                    {
                        break;
                    }

                    if (start < stretches[s].Start)
                    {
                        continue;
                    }

                    int seatsLeft;
                    if (groups is not null && groups.TryGetValue(start, out var taken))
                    {
                        // An existing session: offered while seats remain, whatever else its hosts do at that time.
                        seatsLeft = settings.SeatsPerSlot - taken;
                        if (seatsLeft <= 0)
                        {
                            continue;
                        }
                    }
                    else
                    {
                        if (Overlaps(busy, ref busyCursor, start - settings.BufferBefore, end + settings.BufferAfter))
                        {
                            continue;
                        }

                        if (!caps.Allows(start))
                        {
                            continue;
                        }

                        seatsLeft = isGroup ? settings.SeatsPerSlot : 1;
                    }

                    if (slots.Count > 0 && slots[^1].Start >= start)
                    {
                        ordered = false;
                    }

                    slots.Add(new Slot(start, end, seatsLeft));
                }
            }
        }

        if (!ordered)
        {
            // Stretches of one date interleave when its windows open or close inside a repeated autumn hour.
            SortAndDeduplicate(slots);
        }

        return slots;
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

    private static void SortAndDeduplicate(List<Slot> slots)
    {
        slots.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        var kept = 0;
        for (var i = 0; i < slots.Count; i++)
        {
            if (kept == 0 || slots[kept - 1].Start != slots[i].Start)
            {
                slots[kept++] = slots[i];
            }
        }

        slots.RemoveRange(kept, slots.Count - kept);
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

    /// <summary>
    /// Sorts and merges the busy intervals that can matter (those meeting [<paramref name="from"/>, <paramref name="to"/>))
    /// into a disjoint ascending array. Existing group sessions count as busy for every other candidate start.
    /// </summary>
    private static BusyInterval[] Merge(IReadOnlyList<BusyInterval> intervals, Dictionary<Instant, int>? sessions, Duration duration, Instant from, Instant to)
    {
        var total = intervals.Count + (sessions?.Count ?? 0);
        if (total == 0)
        {
            return [];
        }

        var sorted = new BusyInterval[total];
        var n = 0;
        for (var i = 0; i < intervals.Count; i++)
        {
            var interval = intervals[i];
            if (interval.Start < interval.End && interval.End > from && interval.Start < to)
            {
                sorted[n++] = interval;
            }
        }

        if (sessions is not null)
        {
            foreach (var start in sessions.Keys)
            {
                sorted[n++] = new BusyInterval(start, start + duration);
            }
        }

        var span = sorted.AsSpan(0, n);
        span.Sort(default(ByStart));
        var count = 0;
        foreach (var interval in span)
        {
            if (count > 0 && interval.Start <= sorted[count - 1].End)
            {
                if (interval.End > sorted[count - 1].End)
                {
                    sorted[count - 1] = new BusyInterval(sorted[count - 1].Start, interval.End);
                }
            }
            else
            {
                sorted[count++] = interval;
            }
        }

        Array.Resize(ref sorted, count);
        return sorted;
    }

    /// <summary>
    /// True when [start, end) meets a busy interval. Candidate starts mostly ascend, so the cursor only moves forward;
    /// when a candidate goes backwards (a new date's window) it is rewound by binary search.
    /// </summary>
    private static bool Overlaps(BusyInterval[] busy, ref int cursor, Instant start, Instant end)
    {
        if (busy.Length == 0)
        {
            return false;
        }

        if (cursor > 0 && (cursor >= busy.Length || busy[cursor - 1].End > start))
        {
            cursor = FirstEndingAfter(busy, start);
        }

        while (cursor < busy.Length && busy[cursor].End <= start)
        {
            cursor++;
        }

        return cursor < busy.Length && busy[cursor].Start < end;
    }

    private static int FirstEndingAfter(BusyInterval[] busy, Instant start)
    {
        int lo = 0, hi = busy.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (busy[mid].End <= start)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>A stretch of time, start inclusive, end exclusive.</summary>
    private readonly record struct Stretch(Instant Start, Instant End);

    private readonly struct ByStart : IComparer<BusyInterval>
    {
        public int Compare(BusyInterval x, BusyInterval y) => x.Start.CompareTo(y.Start);
    }

    /// <summary>The open windows of each date: the override when there is one, else that weekday's hours, by start.</summary>
    private readonly struct OpenHours
    {
        private readonly TimeOfDayRange[][] _weekly;
        private readonly Dictionary<LocalDate, TimeOfDayRange[]>? _overrides;

        private OpenHours(TimeOfDayRange[][] weekly, Dictionary<LocalDate, TimeOfDayRange[]>? overrides)
        {
            _weekly = weekly;
            _overrides = overrides;
        }

        public static OpenHours Create(BookingPageSettings settings)
        {
            var weekly = new TimeOfDayRange[8][];
            for (var day = 0; day < weekly.Length; day++)
            {
                weekly[day] = [];
            }

            foreach (var group in settings.WeeklyHours.GroupBy(w => w.Day))
            {
                if (group.Key is >= IsoDayOfWeek.Monday and <= IsoDayOfWeek.Sunday)
                {
                    weekly[(int)group.Key] = [.. group.Select(w => w.Hours).OrderBy(h => h.StartMinute)];
                }
            }

            Dictionary<LocalDate, TimeOfDayRange[]>? overrides = null;
            if (settings.DateOverrides.Count > 0)
            {
                overrides = new Dictionary<LocalDate, TimeOfDayRange[]>(settings.DateOverrides.Count);
                foreach (var o in settings.DateOverrides)
                {
                    overrides[o.Date] = [.. o.Hours.OrderBy(h => h.StartMinute)];
                }
            }

            return new OpenHours(weekly, overrides);
        }

        public TimeOfDayRange[] On(LocalDate date) =>
            _overrides is not null && _overrides.TryGetValue(date, out var special) ? special : _weekly[(int)date.DayOfWeek];
    }

    /// <summary>Counts the page's meetings per local date and ISO week in the page's zone.</summary>
    private readonly struct CapCounter
    {
        private readonly BookingPageSettings _settings;
        private readonly Dictionary<LocalDate, int>? _perDay;
        private readonly Dictionary<LocalDate, int>? _perWeek;

        private CapCounter(BookingPageSettings settings, Dictionary<LocalDate, int>? perDay, Dictionary<LocalDate, int>? perWeek)
        {
            _settings = settings;
            _perDay = perDay;
            _perWeek = perWeek;
        }

        public static CapCounter Create(BookingPageSettings settings, IReadOnlyList<Instant> starts)
        {
            Dictionary<LocalDate, int>? perDay = settings.MaxBookingsPerDay is null ? null : [];
            Dictionary<LocalDate, int>? perWeek = settings.MaxBookingsPerWeek is null ? null : [];
            if (perDay is null && perWeek is null)
            {
                return new CapCounter(settings, null, null);
            }

            foreach (var start in starts)
            {
                var date = start.InZone(settings.TimeZone).Date;
                if (perDay is not null)
                {
                    perDay[date] = perDay.GetValueOrDefault(date) + 1;
                }

                if (perWeek is not null)
                {
                    var monday = WeekStart(date);
                    perWeek[monday] = perWeek.GetValueOrDefault(monday) + 1;
                }
            }

            return new CapCounter(settings, perDay, perWeek);
        }

        public bool Allows(Instant start)
        {
            if (_perDay is null && _perWeek is null)
            {
                return true;
            }

            var date = start.InZone(_settings.TimeZone).Date;
            if (_perDay is not null && _perDay.GetValueOrDefault(date) >= _settings.MaxBookingsPerDay)
            {
                return false;
            }

            return _perWeek is null || _perWeek.GetValueOrDefault(WeekStart(date)) < _settings.MaxBookingsPerWeek;
        }

        private static LocalDate WeekStart(LocalDate date) => date.PlusDays(-((int)date.DayOfWeek - 1));
    }
}

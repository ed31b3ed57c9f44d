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

    /// <summary>This page's existing group sessions (group-session pages only).</summary>
    public IReadOnlyList<GroupSessionOccupancy> GroupSessions { get; init; } = [];

    /// <summary>Starts of this page's active meetings (one per session for group pages), for the daily and weekly caps.</summary>
    public IReadOnlyList<Instant> PageMeetingStarts { get; init; } = [];
}

/// <summary>
/// Computes free slots for a booking page. Pure and allocation-light: weekly hours are expanded per local date in the
/// page's zone, each window boundary is mapped to an instant with a named resolver, and candidate slots are swept once
/// against the merged busy intervals.
/// </summary>
public static class AvailabilityEngine
{
    /// <summary>
    /// Window starts: a local time in the spring-forward gap maps to the first instant after the gap; an ambiguous
    /// autumn time maps to its earlier occurrence, so a window is never shortened by the overlap.
    /// </summary>
    public static readonly ZoneLocalMappingResolver WindowStartResolver =
        Resolvers.CreateMappingResolver(Resolvers.ReturnEarlier, Resolvers.ReturnStartOfIntervalAfter);

    /// <summary>
    /// Window ends: a gap time maps to the first instant after the gap; an ambiguous time maps to its later occurrence,
    /// so an autumn window keeps both copies of the repeated hour.
    /// </summary>
    public static readonly ZoneLocalMappingResolver WindowEndResolver =
        Resolvers.CreateMappingResolver(Resolvers.ReturnLater, Resolvers.ReturnStartOfIntervalAfter);

    /// <summary>
    /// Free slots whose start falls on a day from <see cref="AvailabilityQuery.From"/> to <see cref="AvailabilityQuery.To"/>
    /// (both inclusive) in the display zone, ordered by start. Throws <see cref="ArgumentException"/> when To is before From.
    /// </summary>
    public static IReadOnlyList<Slot> ComputeSlots(BookingPageSettings settings, AvailabilityQuery query)
    {
        if (query.To < query.From)
        {
            throw new ArgumentException("To must not be before From.", nameof(query));
        }

        var zone = settings.TimeZone;
        var rangeStart = query.From.AtStartOfDayInZone(query.DisplayZone).ToInstant();
        var rangeEnd = query.To.PlusDays(1).AtStartOfDayInZone(query.DisplayZone).ToInstant();

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

        var busy = Merge(query.Busy);
        var groups = BuildGroupIndex(settings, query.GroupSessions);
        var caps = CapCounter.Create(settings, query.PageMeetingStarts);
        var duration = settings.Duration;
        var step = settings.EffectiveSlotInterval;
        var isGroup = settings.SchedulingOption == SchedulingOption.GroupSession;

        // Page-zone dates that can hold a slot starting inside the display range (one day of slack on each side
        // covers any difference between the two zones' offsets).
        var firstDate = rangeStart.InZone(zone).Date.PlusDays(-1);
        var lastDate = rangeEnd.InZone(zone).Date.PlusDays(1);
        var overrides = settings.DateOverrides.Count == 0 ? null : settings.DateOverrides.ToDictionary(o => o.Date, o => o.Hours);
        var busyCursor = 0;

        for (var date = firstDate; date <= lastDate; date = date.PlusDays(1))
        {
            foreach (var window in HoursOn(settings, overrides, date))
            {
                var windowStart = zone.ResolveLocal(date.At(LocalTime.Midnight).PlusMinutes(window.StartMinute), WindowStartResolver).ToInstant();
                var windowEnd = zone.ResolveLocal(date.At(LocalTime.Midnight).PlusMinutes(window.EndMinute), WindowEndResolver).ToInstant();

                for (var start = windowStart; start + duration <= windowEnd; start += step)
                {
                    if (start < rangeStart)
                    {
                        continue;
                    }

                    if (start >= rangeEnd)
                    {
                        break;
                    }

                    var end = start + duration;
                    var seatsLeft = 1;
                    if (isGroup && groups!.TryGetValue(start, out var taken))
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

                    slots.Add(new Slot(start, end, seatsLeft));
                }
            }
        }

        // Windows of different dates can interleave only when hours cross DST oddities; keep the contract: ordered.
        slots.Sort(static (a, b) => a.Start.CompareTo(b.Start));
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

    private static IEnumerable<TimeOfDayRange> HoursOn(BookingPageSettings settings, Dictionary<LocalDate, IReadOnlyList<TimeOfDayRange>>? overrides, LocalDate date)
    {
        if (overrides is not null && overrides.TryGetValue(date, out var special))
        {
            return special;
        }

        var day = date.DayOfWeek;
        return settings.WeeklyHours.Where(w => w.Day == day).Select(w => w.Hours).OrderBy(h => h.StartMinute);
    }

    private static Dictionary<Instant, int>? BuildGroupIndex(BookingPageSettings settings, IReadOnlyList<GroupSessionOccupancy> sessions)
    {
        if (settings.SchedulingOption != SchedulingOption.GroupSession)
        {
            return null;
        }

        var index = new Dictionary<Instant, int>(sessions.Count);
        foreach (var s in sessions)
        {
            index[s.Start] = index.TryGetValue(s.Start, out var n) ? n + s.SeatsTaken : s.SeatsTaken;
        }

        return index;
    }

    /// <summary>Sorts and merges busy intervals into a disjoint ascending array.</summary>
    private static BusyInterval[] Merge(IReadOnlyList<BusyInterval> intervals)
    {
        if (intervals.Count == 0)
        {
            return [];
        }

        var sorted = new BusyInterval[intervals.Count];
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = intervals[i];
        }

        Array.Sort(sorted, static (a, b) => a.Start.CompareTo(b.Start));
        var count = 0;
        foreach (var interval in sorted)
        {
            if (interval.End <= interval.Start)
            {
                continue;
            }

            if (count > 0 && interval.Start <= sorted[count - 1].End)
            {
                if (interval.End > sorted[count - 1].End)
                {
                    sorted[count - 1] = sorted[count - 1] with { End = interval.End };
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

using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>Limits that keep expansion of hostile or absurd rules bounded.</summary>
public sealed record RecurrenceExpansionOptions
{
    public static RecurrenceExpansionOptions Default { get; } = new();

    /// <summary>Frequency periods examined per RRULE (after skipping periods before the window).</summary>
    public int MaxIterations { get; init; } = 100_000;

    /// <summary>Instances generated per series up to the end of the window.</summary>
    public int MaxOccurrences { get; init; } = 10_000;
}

/// <summary>
/// One concrete occurrence: [<see cref="Start"/>, <see cref="End"/>). <see cref="Event"/> is the VEVENT that
/// describes it: the master, or the override that replaced this instance. <see cref="RecurrenceId"/> identifies
/// the instance within its series (null for a non-recurring event).
/// </summary>
public sealed record Occurrence(Instant Start, Instant End, CalendarEvent Event, CalendarDateTime? RecurrenceId)
{
    public bool IsAllDay => Event.IsAllDay;

    public bool IsOverride => Event.RecurrenceId is not null;

    public Interval Interval => new(Start, End);
}

/// <summary>The occurrences in a window, sorted by start; <see cref="IsTruncated"/> when a limit cut expansion short.</summary>
public sealed record OccurrenceSet(IReadOnlyList<Occurrence> Occurrences, bool IsTruncated);

/// <summary>
/// Expands events into concrete occurrences in a window, honouring RRULE, RDATE, EXDATE and RECURRENCE-ID
/// overrides. Rules are evaluated on the wall clock of the event's zone, so a 09:00 meeting stays at 09:00
/// local time across DST changes; local times are mapped to instants as RFC 5545 3.3.5 says.
/// </summary>
public static class RecurrenceExpander
{
    private static readonly Duration Margin = Duration.FromDays(2);

    /// <summary>
    /// Occurrences of <paramref name="master"/> and its <paramref name="overrides"/> that overlap [from, to).
    /// A zero-length occurrence is included when from &lt;= start &lt; to. DATE values and floating times are
    /// read in <paramref name="localZone"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="to"/> is before <paramref name="from"/>.</exception>
    public static OccurrenceSet Expand(
        CalendarEvent master,
        IEnumerable<CalendarEvent> overrides,
        Instant from,
        Instant to,
        DateTimeZone localZone,
        RecurrenceExpansionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(master);
        ArgumentNullException.ThrowIfNull(overrides);
        ArgumentNullException.ThrowIfNull(localZone);
        CheckWindow(from, to);
        options ??= RecurrenceExpansionOptions.Default;
        var results = new List<Occurrence>();
        var truncated = false;
        var overrideList = overrides.Where(o => o.RecurrenceId is not null).ToList();
        Series? series = master.Start is { } ? new Series(master, localZone) : null;

        if (series is not null)
        {
            var ranges = FutureRanges(series, overrideList, localZone);

            // A THISANDFUTURE override moves later instances; look far enough around the window for the ones it
            // moves into it (RFC 5545 3.8.4.4).
            var before = Duration.Zero;
            var after = Duration.Zero;
            foreach (var range in ranges)
            {
                before = Duration.Max(before, Duration.FromSeconds(Math.Max(0, range.ShiftSeconds)) + range.Length + Margin);
                after = Duration.Max(after, Duration.FromSeconds(Math.Max(0, -range.ShiftSeconds)) + Margin);
            }

            var instances = series.Instances(TimeMath.Plus(from, -before), TimeMath.Plus(to, after), options, ref truncated);
            var overridden = series.KeysOf(overrideList.Select(o => o.RecurrenceId!.Value));
            foreach (var instance in instances)
            {
                if (series.IsExcluded(instance.Local, instance.Start)
                    || overridden.Instants.Contains(instance.Start)
                    || overridden.Dates.Contains(instance.Local.Date))
                {
                    continue;
                }

                if (ranges.LastOrDefault(r => r.Covers(instance, series)) is { } covering)
                {
                    if (covering.Apply(instance, series) is { } moved && Overlaps(moved.Start, moved.End, from, to))
                    {
                        results.Add(new Occurrence(moved.Start, moved.End, covering.Override, series.RecurrenceIdFor(instance.Local, instance.Start)));
                    }

                    continue;
                }

                var end = instance.ExplicitEnd ?? series.EndOf(instance.Local, instance.Start);
                if (Overlaps(instance.Start, end, from, to))
                {
                    results.Add(new Occurrence(instance.Start, end, master, master.IsRecurring ? series.RecurrenceIdFor(instance.Local, instance.Start) : null));
                }
            }
        }

        foreach (var item in overrideList)
        {
            var recurrenceId = item.RecurrenceId!.Value;
            if (series is not null && series.IsExcludedId(recurrenceId))
            {
                continue;
            }

            if (SpanOf(item, series, localZone) is { } span && Overlaps(span.Start, span.End, from, to))
            {
                results.Add(new Occurrence(span.Start, span.End, item, recurrenceId));
            }
        }

        results.Sort(CompareOccurrences);
        return new OccurrenceSet(results, truncated);
    }

    /// <summary>Occurrences of a single event with no overrides.</summary>
    public static OccurrenceSet Expand(CalendarEvent calendarEvent, Instant from, Instant to, DateTimeZone localZone, RecurrenceExpansionOptions? options = null) =>
        Expand(calendarEvent, [], from, to, localZone, options);

    /// <summary>
    /// Occurrences of a set of events, grouped into series by UID: the event without RECURRENCE-ID is the
    /// master and the others override its instances. Overrides whose master is absent (an invitation to
    /// single instances) stand on their own. Events without UID are independent.
    /// </summary>
    public static OccurrenceSet ExpandAll(IEnumerable<CalendarEvent> events, Instant from, Instant to, DateTimeZone localZone, RecurrenceExpansionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(localZone);
        CheckWindow(from, to);
        var results = new List<Occurrence>();
        var truncated = false;
        foreach (var series in GroupSeries(events))
        {
            if (series.Master is { } master)
            {
                var set = Expand(master, series.Overrides, from, to, localZone, options);
                results.AddRange(set.Occurrences);
                truncated |= set.IsTruncated;
                continue;
            }

            foreach (var orphan in series.Overrides)
            {
                if (SpanOf(orphan, null, localZone) is { } span && Overlaps(span.Start, span.End, from, to))
                {
                    results.Add(new Occurrence(span.Start, span.End, orphan, orphan.RecurrenceId));
                }
            }
        }

        results.Sort(CompareOccurrences);
        return new OccurrenceSet(results, truncated);
    }

    internal static IEnumerable<(CalendarEvent? Master, List<CalendarEvent> Overrides)> GroupSeries(IEnumerable<CalendarEvent> events)
    {
        var byUid = new Dictionary<string, (List<CalendarEvent> Masters, List<CalendarEvent> Overrides)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var item in events)
        {
            if (item.Uid is null)
            {
                yield return item.RecurrenceId is null ? (item, []) : (null, [item]);
                continue;
            }

            if (!byUid.TryGetValue(item.Uid, out var group))
            {
                group = ([], []);
                byUid.Add(item.Uid, group);
                order.Add(item.Uid);
            }

            (item.RecurrenceId is null ? group.Masters : group.Overrides).Add(item);
        }

        foreach (var uid in order)
        {
            var (masters, overrides) = byUid[uid];
            if (masters.Count == 0)
            {
                yield return (null, overrides);
                continue;
            }

            yield return (masters[0], overrides);

            // Several masters with one UID is invalid; each extra one is treated as an independent event.
            foreach (var extra in masters.Skip(1))
            {
                yield return (extra, []);
            }
        }
    }

    /// <summary>
    /// The THISANDFUTURE overrides of a series, in the order of the instances they name. Each applies from its
    /// instance until the next one: RFC 5545 3.8.4.4 has later instances "rescheduled by the same time
    /// difference" and given the override's duration. The difference is taken on the series' wall clock, so a
    /// weekly 09:00 moved to 11:00 stays at 11:00 across DST.
    /// </summary>
    private static List<FutureRange> FutureRanges(Series series, List<CalendarEvent> overrides, DateTimeZone localZone)
    {
        var ranges = new List<FutureRange>();
        foreach (var item in overrides.Where(o => o.RecurrenceIdRange == RecurrenceRange.ThisAndFuture))
        {
            var recurrenceId = item.RecurrenceId!.Value;
            var byDate = recurrenceId.IsDate || series.IsDate;
            var idLocal = byDate ? recurrenceId.Date.AtMidnight() : TimeMath.ToLocal(recurrenceId.ToInstant(series.Zone), series.Zone);
            var idInstant = byDate ? TimeMath.StartOfDay(recurrenceId.Date, series.Zone) : recurrenceId.ToInstant(series.Zone);
            if (item.Start is null)
            {
                // No new DTSTART: later instances keep their times and lengths and take the other changes.
                ranges.Add(new FutureRange(item, byDate, idLocal.Date, idInstant, 0, null, series.EndOf(idLocal, idInstant) - idInstant));
                continue;
            }

            var own = new Series(item, localZone);
            var newLocal = series.IsDate ? own.StartLocal.Date.AtMidnight() : TimeMath.ToLocal(own.StartInstant, series.Zone);
            var shift = TimeMath.SecondsSinceEpoch(newLocal) - TimeMath.SecondsSinceEpoch(idLocal);
            ranges.Add(new FutureRange(item, byDate, idLocal.Date, idInstant, shift, own, own.EndOf(own.StartLocal, own.StartInstant) - own.StartInstant));
        }

        ranges.Sort((a, b) => a.IdInstant.CompareTo(b.IdInstant));
        return ranges;
    }

    private static (Instant Start, Instant End)? SpanOf(CalendarEvent item, Series? master, DateTimeZone localZone)
    {
        if (item.Start is { } start)
        {
            var own = new Series(item, localZone);
            var startInstant = own.StartInstant;
            return (startInstant, own.EndOf(own.StartLocal, startInstant));
        }

        // An override without DTSTART keeps the original instance time and the master's length.
        if (item.RecurrenceId is { } recurrenceId && master is not null)
        {
            var local = TimeMath.ToLocal(recurrenceId.ToInstant(master.Zone), master.Zone);
            var startInstant = master.IsDate ? TimeMath.StartOfDay(recurrenceId.Date, master.Zone) : recurrenceId.ToInstant(master.Zone);
            return (startInstant, master.EndOf(master.IsDate ? recurrenceId.Date.AtMidnight() : local, startInstant));
        }

        return null;
    }

    private static bool Overlaps(Instant start, Instant end, Instant from, Instant to) =>
        end <= start ? start >= from && start < to : start < to && end > from;

    private static int CompareOccurrences(Occurrence a, Occurrence b)
    {
        var byStart = a.Start.CompareTo(b.Start);
        return byStart != 0 ? byStart : a.End.CompareTo(b.End);
    }

    private static void CheckWindow(Instant from, Instant to)
    {
        if (to < from)
        {
            throw new ArgumentException("The window ends before it starts.", nameof(to));
        }
    }

    private readonly record struct Instance(LocalDateTime Local, Instant Start, Instant? ExplicitEnd);

    /// <summary>One THISANDFUTURE override: where it starts, how far it moves instances, and their new length.</summary>
    private sealed record FutureRange(CalendarEvent Override, bool ByDate, LocalDate IdDate, Instant IdInstant, long ShiftSeconds, Series? Own, Duration Length)
    {
        /// <summary>Instances are "subsequent" by their original time (their RECURRENCE-ID), not their new one.</summary>
        public bool Covers(Instance instance, Series series) =>
            ByDate ? instance.Local.Date > IdDate : instance.Start > IdInstant;

        public (Instant Start, Instant End)? Apply(Instance instance, Series series)
        {
            if (Own is null)
            {
                return (instance.Start, TimeMath.Plus(instance.Start, Length));
            }

            if (TimeMath.FromSecondsSinceEpoch(TimeMath.SecondsSinceEpoch(instance.Local) + ShiftSeconds) is not { } local)
            {
                return null;
            }

            var start = series.IsDate ? TimeMath.StartOfDay(local.Date, series.Zone) : TimeMath.ToInstant(local, series.Zone);
            return (start, Own.EndOf(local, start));
        }
    }

    /// <summary>The timing facts of one event: its zone, DTSTART, length, exclusions.</summary>
    private sealed class Series
    {
        private readonly CalendarEvent _event;
        private readonly CalendarDateTime _start;
        private readonly Func<LocalDateTime, Instant, Instant> _endOf;
        private readonly HashSet<Instant> _excludedInstants = [];
        private readonly HashSet<LocalDate> _excludedDates = [];

        public Series(CalendarEvent calendarEvent, DateTimeZone localZone)
        {
            _event = calendarEvent;
            _start = calendarEvent.Start!.Value;
            LocalZone = localZone;
            Zone = _start.EffectiveZone(localZone);
            IsDate = _start.IsDate;
            StartLocal = _start.Local;
            StartInstant = IsDate ? TimeMath.StartOfDay(_start.Date, Zone) : TimeMath.ToInstant(StartLocal, Zone);
            _endOf = BuildEnd();
            foreach (var exdate in calendarEvent.ExceptionDates)
            {
                if (exdate.IsDate || IsDate)
                {
                    _excludedDates.Add(DateOf(exdate));
                }
                else
                {
                    _excludedInstants.Add(exdate.ToInstant(Zone));
                }
            }
        }

        public DateTimeZone LocalZone { get; }

        public DateTimeZone Zone { get; }

        public bool IsDate { get; }

        public LocalDateTime StartLocal { get; }

        public Instant StartInstant { get; }

        public Instant EndOf(LocalDateTime local, Instant start) => _endOf(local, start);

        public bool IsExcluded(LocalDateTime local, Instant start) =>
            _excludedInstants.Contains(start) || _excludedDates.Contains(local.Date);

        public bool IsExcludedId(CalendarDateTime recurrenceId) =>
            recurrenceId.IsDate || IsDate
                ? _excludedDates.Contains(DateOf(recurrenceId))
                : _excludedInstants.Contains(recurrenceId.ToInstant(Zone)) || _excludedDates.Contains(DateOf(recurrenceId));

        /// <summary>
        /// How instances are matched to RECURRENCE-IDs: by instant, or by local day when either side is a DATE.
        /// </summary>
        public (HashSet<Instant> Instants, HashSet<LocalDate> Dates) KeysOf(IEnumerable<CalendarDateTime> recurrenceIds)
        {
            var instants = new HashSet<Instant>();
            var dates = new HashSet<LocalDate>();
            foreach (var recurrenceId in recurrenceIds)
            {
                if (recurrenceId.IsDate || IsDate)
                {
                    dates.Add(DateOf(recurrenceId));
                }
                else
                {
                    instants.Add(recurrenceId.ToInstant(Zone));
                }
            }

            return (instants, dates);
        }

        public CalendarDateTime RecurrenceIdFor(LocalDateTime local, Instant start) => _start.Kind switch
        {
            CalendarDateTimeKind.Date => CalendarDateTime.FromDate(local.Date),
            CalendarDateTimeKind.Utc => CalendarDateTime.FromInstant(start),
            CalendarDateTimeKind.Zoned => CalendarDateTime.InZone(local, _start.TzId!, _start.Zone),
            _ => CalendarDateTime.Floating(local),
        };

        public List<Instance> Instances(Instant from, Instant to, RecurrenceExpansionOptions options, ref bool truncated)
        {
            var instances = new List<Instance>();
            if (!_event.IsRecurring)
            {
                instances.Add(new Instance(StartLocal, StartInstant, null));
                return instances;
            }

            var length = EndOf(StartLocal, StartInstant) - StartInstant;
            var fastForward = TimeMath.ToLocal(TimeMath.Plus(from, -(length + Margin)), Zone);
            var generated = 0;
            if (_event.RecurrenceRules.Count == 0)
            {
                // With RDATEs only, DTSTART is still the first instance.
                instances.Add(new Instance(StartLocal, StartInstant, null));
            }

            foreach (var rule in _event.RecurrenceRules)
            {
                var iterator = new RecurrenceIterator(rule, StartLocal, IsDate, BeyondUntil(rule), options.MaxIterations);
                foreach (var local in iterator.Enumerate(fastForward))
                {
                    var start = IsDate ? TimeMath.StartOfDay(local.Date, Zone) : TimeMath.ToInstant(local, Zone);
                    if (start >= to)
                    {
                        break;
                    }

                    if (++generated > options.MaxOccurrences)
                    {
                        truncated = true;
                        break;
                    }

                    instances.Add(new Instance(local, start, null));
                }

                truncated |= iterator.HitIterationCap;
            }

            foreach (var rdate in _event.RecurrenceDates)
            {
                LocalDateTime local;
                Instant start;
                if (rdate.Start.IsDate)
                {
                    local = IsDate ? rdate.Start.Date.AtMidnight() : rdate.Start.Date + StartLocal.TimeOfDay;
                    start = IsDate ? TimeMath.StartOfDay(local.Date, Zone) : TimeMath.ToInstant(local, Zone);
                }
                else
                {
                    start = rdate.Start.ToInstant(Zone);
                    local = TimeMath.ToLocal(start, Zone);
                    if (IsDate)
                    {
                        local = local.Date.AtMidnight();
                        start = TimeMath.StartOfDay(local.Date, Zone);
                    }
                }

                if (start >= to)
                {
                    continue;
                }

                Instant? explicitEnd = rdate.End is { } end
                    ? Max(end.ToInstant(Zone), start)
                    : rdate.Duration is { } duration ? Max(duration.AddTo(TimeMath.ToLocal(start, Zone), Zone), start) : null;
                instances.Add(new Instance(local, start, explicitEnd));
            }

            // Stable order, so that an instance from the RRULE wins over an RDATE at the same instant.
            var distinct = new List<Instance>(instances.Count);
            foreach (var instance in instances.OrderBy(i => i.Start))
            {
                if (distinct.Count == 0 || distinct[^1].Start != instance.Start)
                {
                    distinct.Add(instance);
                }
            }

            return distinct;
        }

        private Func<LocalDateTime, bool> BeyondUntil(RecurrenceRule rule)
        {
            if (rule.Until is not { } until)
            {
                return _ => false;
            }

            switch (until.Kind)
            {
                case CalendarDateTimeKind.Date:
                    return local => local.Date > until.Date;
                case CalendarDateTimeKind.Floating:
                    return local => local > until.Local;
                default:
                {
                    var limit = until.ToInstant(Zone);
                    if (IsDate)
                    {
                        var limitLocal = TimeMath.ToLocal(limit, Zone);
                        return local => local > limitLocal;
                    }

                    var zone = Zone;
                    return local => TimeMath.ToInstant(local, zone) > limit;
                }
            }
        }

        private Func<LocalDateTime, Instant, Instant> BuildEnd()
        {
            var zone = Zone;
            if (_event.End is { } end)
            {
                if (IsDate && end.IsDate)
                {
                    var days = Math.Max(0, TimeMath.EpochDay(end.Date) - TimeMath.EpochDay(_start.Date));
                    return (local, _) => TimeMath.StartOfDay(TimeMath.PlusDays(local.Date, days), zone);
                }

                // RFC 5545 3.8.5.3: with DTEND every instance has the same exact duration.
                var exact = end.ToInstant(LocalZone) - _start.ToInstant(LocalZone);
                if (exact < Duration.Zero)
                {
                    exact = Duration.Zero;
                }

                return (_, start) => TimeMath.Plus(start, exact);
            }

            if (_event.Duration is { } duration)
            {
                if (duration.IsNegative)
                {
                    return (_, start) => start;
                }

                // With DURATION the nominal part is applied to each instance's own wall clock: the time the
                // instance really starts at, which differs from the rule's time in a DST gap (RFC 5545 3.3.5 moves
                // 02:00 to 02:30 on Lord Howe's spring day, so P1D ends at 02:30 the next day, 24 hours later).
                return IsDate
                    ? (local, start) => Max(TimeMath.Plus(TimeMath.StartOfDay(TimeMath.PlusDays(local.Date, duration.NominalDays), zone), duration.ExactPart), start)
                    : (_, start) => Max(duration.AddTo(TimeMath.ToLocal(start, zone), zone), start);
            }

            return IsDate
                ? (local, _) => TimeMath.StartOfDay(TimeMath.PlusDays(local.Date, 1), zone)
                : (_, start) => start;
        }

        /// <summary>
        /// The day a value names when it is compared by day (one side is a DATE): the date as written. All-day
        /// days float, so converting a UTC value into some zone first would only move it to a neighbouring day.
        /// </summary>
        private static LocalDate DateOf(CalendarDateTime value) => value.Date;

        private static Instant Max(Instant a, Instant b) => a > b ? a : b;
    }
}

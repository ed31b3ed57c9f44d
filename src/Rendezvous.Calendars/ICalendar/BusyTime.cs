using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// Busy time in a window: the occurrences that block time, and the same merged into disjoint intervals
/// clipped to the window. <see cref="IsTruncated"/> is true when an expansion limit was hit.
/// </summary>
public sealed record BusyTimeResult(IReadOnlyList<Occurrence> Occurrences, IReadOnlyList<Interval> Intervals, bool IsTruncated);

/// <summary>Computes busy time from calendars.</summary>
public static class BusyTime
{
    /// <summary>
    /// Busy time of one calendar in [from, to). Skipped: events with TRANSP:TRANSPARENT or STATUS:CANCELLED
    /// (per occurrence, so a cancelled override frees its instance; a cancelled master frees the whole
    /// series). All-day events block whole days and floating times are read in <paramref name="localZone"/>.
    /// </summary>
    public static BusyTimeResult Compute(CalendarDocument calendar, Instant from, Instant to, DateTimeZone localZone, RecurrenceExpansionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        return Compute([calendar], from, to, localZone, options);
    }

    /// <inheritdoc cref="Compute(CalendarDocument, Instant, Instant, DateTimeZone, RecurrenceExpansionOptions?)"/>
    public static BusyTimeResult Compute(IEnumerable<CalendarDocument> calendars, Instant from, Instant to, DateTimeZone localZone, RecurrenceExpansionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(calendars);
        var events = calendars.SelectMany(c => c.Events).ToList();
        var cancelledSeries = events
            .Where(e => e.Uid is not null && e.RecurrenceId is null && e.Status == EventStatus.Cancelled)
            .Select(e => e.Uid!)
            .ToHashSet(StringComparer.Ordinal);
        var considered = events.Where(e => e.Uid is null || !cancelledSeries.Contains(e.Uid));
        var expanded = RecurrenceExpander.ExpandAll(considered, from, to, localZone, options);
        var busy = expanded.Occurrences.Where(o => !o.Event.IsFree && o.End > o.Start).ToList();
        return new BusyTimeResult(busy, Merge(busy.Select(o => o.Interval), from, to), expanded.IsTruncated);
    }

    /// <summary>Merges overlapping or touching intervals and clips them to [from, to); empty ones are dropped.</summary>
    public static IReadOnlyList<Interval> Merge(IEnumerable<Interval> intervals, Instant from, Instant to)
    {
        ArgumentNullException.ThrowIfNull(intervals);
        var merged = new List<Interval>();
        foreach (var interval in intervals.OrderBy(i => i.Start))
        {
            var start = interval.Start < from ? from : interval.Start;
            var end = interval.End > to ? to : interval.End;
            if (end <= start)
            {
                continue;
            }

            if (merged.Count > 0 && start <= merged[^1].End)
            {
                if (end > merged[^1].End)
                {
                    merged[^1] = new Interval(merged[^1].Start, end);
                }

                continue;
            }

            merged.Add(new Interval(start, end));
        }

        return merged;
    }
}

using NodaTime;
using Rendezvous.Calendars.ICalendar;
using IcalNet = Ical.Net;

namespace Rendezvous.Calendars.Tests.ICalendar;

/// <summary>
/// Ical.Net 5.2.4, used as an independent second implementation to compare our reader and expander against.
/// It is referenced by this test project only; production code never depends on it.
/// Both sides are evaluated with UTC as the local zone: DATE values and floating times are read as UTC wall-clock
/// time on our side, and Ical.Net's floating values are converted the same way here.
/// </summary>
internal static class Oracle
{
    /// <summary>One occurrence as both implementations can describe it.</summary>
    public readonly record struct Instance(string? Uid, Instant Start, Instant End)
    {
        public override string ToString() => $"{Uid}|{Start}|{End}";
    }

    /// <summary>Our occurrences starting in [from, to), sorted.</summary>
    public static List<Instance> Ours(string text, Instant from, Instant to) =>
        [.. ICalendarReader.ParseAll(text)
            .SelectMany(d => d.GetOccurrences(from, to, DateTimeZone.Utc, Unbounded).Occurrences)
            .Where(o => o.Start >= from)
            .Select(o => new Instance(o.Event.Uid, o.Start, o.End))
            .Order(Comparer)];

    /// <summary>
    /// Ical.Net's occurrences starting in [from, to), sorted. Ical.Net enumerates lazily from <paramref name="from"/>,
    /// so the caller's window bounds the work. Exceptions propagate: callers decide which ones are known.
    /// </summary>
    public static List<Instance> Theirs(string text, Instant from, Instant to)
    {
        var result = new List<Instance>();
        var start = new IcalNet.DataTypes.CalDateTime(from.ToDateTimeUtc(), IcalNet.DataTypes.CalDateTime.UtcTzId);
        foreach (var calendar in IcalNet.CalendarCollection.Load(text))
        {
            foreach (var occurrence in calendar.GetOccurrences(start).TakeWhile(o => ToInstant(o.Period.StartTime) < to))
            {
                var begin = ToInstant(occurrence.Period.StartTime);
                if (begin >= from)
                {
                    var end = occurrence.Period.EffectiveEndTime is { } e ? ToInstant(e) : begin;
                    result.Add(new Instance((occurrence.Source as IcalNet.CalendarComponents.UniqueComponent)?.Uid, begin, end));
                }
            }
        }

        result.Sort(Comparer);
        return result;
    }

    /// <summary>Both expansions are compared in full inside the window: no expansion limit may cut ours short.</summary>
    public static RecurrenceExpansionOptions Unbounded { get; } = new() { MaxIterations = 1_000_000, MaxOccurrences = 1_000_000 };

    private static IComparer<Instance> Comparer { get; } = Comparer<Instance>.Create((a, b) =>
    {
        var byStart = a.Start.CompareTo(b.Start);
        if (byStart != 0)
        {
            return byStart;
        }

        var byEnd = a.End.CompareTo(b.End);
        return byEnd != 0 ? byEnd : string.CompareOrdinal(a.Uid, b.Uid);
    });

    /// <summary>A date or floating value is wall-clock time, which we read in UTC; anything else has an instant.</summary>
    private static Instant ToInstant(IcalNet.DataTypes.CalDateTime value) =>
        value.IsFloating || !value.HasTime
            ? Instant.FromDateTimeUtc(DateTime.SpecifyKind(value.Value, DateTimeKind.Utc))
            : Instant.FromDateTimeUtc(value.AsUtc);
}

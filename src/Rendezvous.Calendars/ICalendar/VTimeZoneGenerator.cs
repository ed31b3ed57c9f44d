using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// Writes a VTIMEZONE for any NodaTime zone, covering a range of instants: one STANDARD or DAYLIGHT
/// observance per distinct kind of transition, with its first onset as DTSTART and later ones as RDATEs.
/// Explicit onsets (rather than RRULEs) are always exact, whatever the zone's history.
/// </summary>
public static class VTimeZoneGenerator
{
    private static readonly LocalDateTime EarliestOnset = new(1601, 1, 1, 0, 0);

    /// <param name="zone">The zone to describe.</param>
    /// <param name="from">Start of the range that must be described (inclusive).</param>
    /// <param name="to">End of the range (exclusive).</param>
    /// <param name="tzId">TZID to write; the zone's id when null.</param>
    public static CalendarComponent Generate(DateTimeZone zone, Instant from, Instant to, string? tzId = null)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (to < from)
        {
            throw new ArgumentException("The range ends before it starts.", nameof(to));
        }

        var vtimezone = new CalendarComponent("VTIMEZONE").AddText("TZID", tzId ?? zone.Id);
        var groups = new Dictionary<(bool Daylight, Offset From, Offset To, string Name), CalendarComponent>();
        foreach (var interval in zone.GetZoneIntervals(from, to == from ? TimeMath.Plus(to, Duration.FromSeconds(1)) : to))
        {
            Offset previous;
            LocalDateTime onset;
            if (interval.HasStart)
            {
                previous = zone.GetZoneInterval(interval.Start - Duration.Epsilon).WallOffset;
                onset = interval.Start.WithOffset(previous).LocalDateTime;
            }
            else
            {
                previous = interval.WallOffset;
                onset = EarliestOnset;
            }

            var daylight = interval.Savings != Offset.Zero;
            var key = (daylight, previous, interval.WallOffset, interval.Name);
            if (groups.TryGetValue(key, out var observance))
            {
                observance.AddProperty(new CalendarProperty("RDATE", ICalendarValues.FormatDateTime(onset, utc: false)));
                continue;
            }

            observance = new CalendarComponent(daylight ? "DAYLIGHT" : "STANDARD")
                .AddProperty(new CalendarProperty("DTSTART", ICalendarValues.FormatDateTime(onset, utc: false)))
                .AddProperty(new CalendarProperty("TZOFFSETFROM", ICalendarValues.FormatUtcOffset(previous)))
                .AddProperty(new CalendarProperty("TZOFFSETTO", ICalendarValues.FormatUtcOffset(interval.WallOffset)));
            if (!string.IsNullOrEmpty(interval.Name))
            {
                observance.AddText("TZNAME", interval.Name);
            }

            groups.Add(key, observance);
            vtimezone.AddComponent(observance);
        }

        return vtimezone;
    }
}

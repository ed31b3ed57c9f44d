using NodaTime;
using NodaTime.TimeZones;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>How a DATE or DATE-TIME value is anchored to the time line.</summary>
public enum CalendarDateTimeKind
{
    /// <summary>A DATE value: a whole day, interpreted in whatever zone the reader chooses (all-day events).</summary>
    Date,
    /// <summary>A DATE-TIME without Z and without TZID: the same wall-clock time everywhere.</summary>
    Floating,
    /// <summary>A DATE-TIME with a Z suffix.</summary>
    Utc,
    /// <summary>A DATE-TIME with a TZID parameter.</summary>
    Zoned,
}

/// <summary>
/// A DATE or DATE-TIME value as written, with its zone when it has one. Values have one-second precision:
/// anything finer is dropped on construction, because iCalendar cannot carry it. Equality compares the kind,
/// the local value and the TZID text; the resolved <see cref="Zone"/> object is not compared.
/// </summary>
public readonly struct CalendarDateTime : IEquatable<CalendarDateTime>
{
    private CalendarDateTime(CalendarDateTimeKind kind, LocalDateTime local, string? tzId, DateTimeZone? zone)
    {
        Kind = kind;
        Local = TruncateToSecond(local);
        TzId = tzId;
        Zone = zone;
    }

    /// <summary>
    /// The mapping RFC 5545 3.3.5 prescribes for local times: a time in a gap is read with the offset before the
    /// gap (02:30 in a spring-forward gap becomes 03:30), an ambiguous time means its first occurrence.
    /// </summary>
    public static ZoneLocalMappingResolver Rfc5545Resolver => TimeMath.Rfc5545Resolver;

    public CalendarDateTimeKind Kind { get; }

    /// <summary>The value as written: wall-clock time (midnight for dates; UTC time for <see cref="CalendarDateTimeKind.Utc"/>).</summary>
    public LocalDateTime Local { get; }

    public LocalDate Date => Local.Date;

    /// <summary>The TZID as written, for <see cref="CalendarDateTimeKind.Zoned"/>; otherwise null.</summary>
    public string? TzId { get; }

    /// <summary>
    /// The zone the TZID resolved to (UTC for <see cref="CalendarDateTimeKind.Utc"/>); null for dates, floating
    /// values and TZIDs that could not be resolved.
    /// </summary>
    public DateTimeZone? Zone { get; }

    public bool IsDate => Kind == CalendarDateTimeKind.Date;

    public static CalendarDateTime FromDate(LocalDate date) => new(CalendarDateTimeKind.Date, date.AtMidnight(), null, null);

    public static CalendarDateTime FromInstant(Instant instant) =>
        new(CalendarDateTimeKind.Utc, instant.InUtc().LocalDateTime, null, DateTimeZone.Utc);

    public static CalendarDateTime Floating(LocalDateTime local) => new(CalendarDateTimeKind.Floating, local, null, null);

    /// <summary>A local date-time in a zone; the TZID written is the zone's id.</summary>
    public static CalendarDateTime InZone(LocalDateTime local, DateTimeZone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return new(CalendarDateTimeKind.Zoned, local, zone.Id, zone);
    }

    /// <summary>A local date-time with a TZID as written and the zone it resolved to (null if it did not).</summary>
    public static CalendarDateTime InZone(LocalDateTime local, string tzId, DateTimeZone? zone)
    {
        ArgumentException.ThrowIfNullOrEmpty(tzId);
        return new(CalendarDateTimeKind.Zoned, local, tzId, zone);
    }

    /// <summary>
    /// The instant this value denotes. Dates mean the start of the day and floating times (and zoned times whose
    /// TZID did not resolve) are read in <paramref name="localZone"/>. Gaps and overlaps follow RFC 5545 3.3.5.
    /// </summary>
    public Instant ToInstant(DateTimeZone localZone)
    {
        ArgumentNullException.ThrowIfNull(localZone);
        return Kind switch
        {
            CalendarDateTimeKind.Utc => TimeMath.ToInstant(Local, DateTimeZone.Utc),
            CalendarDateTimeKind.Date => TimeMath.StartOfDay(Local.Date, localZone),
            CalendarDateTimeKind.Zoned => TimeMath.ToInstant(Local, Zone ?? localZone),
            _ => TimeMath.ToInstant(Local, localZone),
        };
    }

    /// <summary>The zone in which this value's wall-clock time is meaningful.</summary>
    public DateTimeZone EffectiveZone(DateTimeZone localZone) => Kind switch
    {
        CalendarDateTimeKind.Utc => DateTimeZone.Utc,
        CalendarDateTimeKind.Zoned => Zone ?? localZone,
        _ => localZone,
    };

    public bool Equals(CalendarDateTime other) =>
        Kind == other.Kind && Local == other.Local && string.Equals(TzId, other.TzId, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is CalendarDateTime other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Kind, Local, TzId);

    public static bool operator ==(CalendarDateTime left, CalendarDateTime right) => left.Equals(right);

    public static bool operator !=(CalendarDateTime left, CalendarDateTime right) => !left.Equals(right);

    /// <summary>The value in iCalendar syntax, with the TZID in brackets when there is one.</summary>
    public override string ToString() => Kind switch
    {
        CalendarDateTimeKind.Date => ICalendarValues.FormatDate(Local.Date),
        CalendarDateTimeKind.Utc => ICalendarValues.FormatDateTime(Local, utc: true),
        CalendarDateTimeKind.Zoned => $"{ICalendarValues.FormatDateTime(Local, utc: false)} [{TzId}]",
        _ => ICalendarValues.FormatDateTime(Local, utc: false),
    };

    /// <summary>The value as it appears after the colon (no TZID).</summary>
    internal string FormatValue() => Kind switch
    {
        CalendarDateTimeKind.Date => ICalendarValues.FormatDate(Local.Date),
        CalendarDateTimeKind.Utc => ICalendarValues.FormatDateTime(Local, utc: true),
        _ => ICalendarValues.FormatDateTime(Local, utc: false),
    };

    private static LocalDateTime TruncateToSecond(LocalDateTime local) =>
        local.NanosecondOfSecond == 0 ? local : local.PlusNanoseconds(-local.NanosecondOfSecond);
}

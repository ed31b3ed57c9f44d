using NodaTime;
using NodaTime.TimeZones;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>Local-to-instant mapping and overflow-safe arithmetic shared by the typed view and expansion.</summary>
internal static class TimeMath
{
    /// <summary>
    /// RFC 5545 3.3.5: a local time in a gap is read with the offset before the gap (so it lands as far after
    /// the gap as it was into it), and an ambiguous local time means its first occurrence.
    /// </summary>
    public static readonly ZoneLocalMappingResolver Rfc5545Resolver =
        Resolvers.CreateMappingResolver(Resolvers.ReturnEarlier, Resolvers.ReturnForwardShifted);

    /// <summary>Years outside this range are not expanded: offsets near the ends of NodaTime's range overflow.</summary>
    public const int MinYear = 1;
    public const int MaxYear = 9998;

    public static Instant ToInstant(LocalDateTime local, DateTimeZone zone)
    {
        if (local.Year > MaxYear)
        {
            return Instant.MaxValue;
        }

        if (local.Year < MinYear)
        {
            return Instant.MinValue;
        }

        return local.InZone(zone, Rfc5545Resolver).ToInstant();
    }

    /// <summary>The first instant of <paramref name="date"/> in <paramref name="zone"/>; a day swallowed
    /// whole by a transition (Pacific/Apia 2011-12-30) starts, and ends, where the next day starts.</summary>
    public static Instant StartOfDay(LocalDate date, DateTimeZone zone)
    {
        if (date.Year > MaxYear)
        {
            return Instant.MaxValue;
        }

        if (date.Year < MinYear)
        {
            return Instant.MinValue;
        }

        var mapping = zone.MapLocal(date.AtMidnight());
        if (mapping.Count > 0)
        {
            return mapping.First().ToInstant();
        }

        return mapping.LateInterval.Start;
    }

    public static LocalDateTime ToLocal(Instant instant, DateTimeZone zone)
    {
        if (instant <= MinSafeInstant)
        {
            return new LocalDateTime(MinYear, 1, 1, 0, 0);
        }

        if (instant >= MaxSafeInstant)
        {
            return new LocalDateTime(MaxYear, 12, 31, 0, 0);
        }

        return instant.InZone(zone).LocalDateTime;
    }

    /// <summary>Addition that saturates at the ends of the time line instead of throwing.</summary>
    public static Instant Plus(Instant instant, Duration duration)
    {
        // Differences between instants always fit in a Duration, so these comparisons cannot overflow.
        if (duration > Duration.Zero && duration >= Instant.MaxValue - instant)
        {
            return Instant.MaxValue;
        }

        if (duration < Duration.Zero && -duration >= instant - Instant.MinValue)
        {
            return Instant.MinValue;
        }

        return instant + duration;
    }

    public static LocalDateTime PlusDays(LocalDateTime local, long days)
    {
        var seconds = SecondsSinceEpoch(local) + (days * 86_400);
        return FromSecondsSinceEpoch(seconds) ?? (days > 0 ? new LocalDateTime(MaxYear + 1, 1, 1, 0, 0) : new LocalDateTime(MinYear - 1, 1, 1, 0, 0));
    }

    public static LocalDate PlusDays(LocalDate date, long days) => PlusDays(date.AtMidnight(), days).Date;

    public static long SecondsSinceEpoch(LocalDateTime local) => local.InUtc().ToInstant().ToUnixTimeSeconds();

    public static long EpochDay(LocalDate date) => Math.DivRem(SecondsSinceEpoch(date.AtMidnight()), 86_400).Quotient;

    /// <summary>Null when the result falls outside the years this library expands.</summary>
    public static LocalDateTime? FromSecondsSinceEpoch(long seconds)
    {
        // Roughly years 1..9998; checked precisely below.
        if (seconds < -62_135_596_800L || seconds > 253_370_764_800L)
        {
            return null;
        }

        var result = Instant.FromUnixTimeSeconds(seconds).InUtc().LocalDateTime;
        return result.Year is < MinYear or > MaxYear ? null : result;
    }

    public static LocalDate? DateFromEpochDay(long epochDay) => FromSecondsSinceEpoch(epochDay * 86_400)?.Date;

    private static readonly Instant MinSafeInstant = Instant.FromUtc(MinYear, 1, 2, 0, 0);
    private static readonly Instant MaxSafeInstant = Instant.FromUtc(MaxYear, 12, 30, 0, 0);
}

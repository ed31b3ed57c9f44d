namespace Rendezvous.Domain.Tests.Support;

internal static class Zones
{
    public static DateTimeZone Get(string id) => DateTimeZoneProviders.Tzdb[id];

    public static DateTimeZone Utc => DateTimeZone.Utc;

    public static DateTimeZone NewYork => Get("America/New_York");

    public static DateTimeZone London => Get("Europe/London");

    public static DateTimeZone Berlin => Get("Europe/Berlin");

    public static DateTimeZone Kathmandu => Get("Asia/Kathmandu");

    public static DateTimeZone LordHowe => Get("Australia/Lord_Howe");

    public static DateTimeZone Apia => Get("Pacific/Apia");

    public static DateTimeZone Havana => Get("America/Havana");

    /// <summary>Every offset change of <paramref name="zone"/> whose instant falls in <paramref name="year"/> (UTC).</summary>
    public static IReadOnlyList<ZoneInterval> TransitionsIn(DateTimeZone zone, int year)
    {
        var start = Instant.FromUtc(year, 1, 1, 0, 0);
        var end = Instant.FromUtc(year + 1, 1, 1, 0, 0);
        return zone.GetZoneIntervals(start, end).Where(i => i.HasStart && i.Start >= start).ToList();
    }
}

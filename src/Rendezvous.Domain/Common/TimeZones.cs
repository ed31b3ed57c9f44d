using NodaTime;

namespace Rendezvous.Domain;

/// <summary>IANA time zone lookup (tzdb data shipped with NodaTime; no clock, no I/O).</summary>
public static class TimeZones
{
    /// <summary>Finds an IANA zone by id; returns null for an unknown id (never throws).</summary>
    public static DateTimeZone? Find(string? id) =>
        string.IsNullOrWhiteSpace(id) ? null : DateTimeZoneProviders.Tzdb.GetZoneOrNull(id);
}

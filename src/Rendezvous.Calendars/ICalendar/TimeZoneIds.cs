using System.Globalization;
using System.Text.RegularExpressions;
using NodaTime;
using NodaTime.TimeZones;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// Maps TZID texts that name a zone without needing the VTIMEZONE: IANA ids (any case), IANA ids behind a
/// vendor prefix such as <c>/mozilla.org/20050126_1/America/New_York</c>, and Windows zone names via the CLDR
/// mapping shipped with NodaTime.
/// </summary>
public static partial class TimeZoneIds
{
    private static readonly Lazy<Dictionary<string, string>> IanaIds = new(() =>
    {
        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var id in DateTimeZoneProviders.Tzdb.Ids)
        {
            ids.TryAdd(id, id);
        }

        return ids;
    });

    private static readonly Lazy<Dictionary<string, string>> WindowsIds = new(() =>
        new Dictionary<string, string>(TzdbDateTimeZoneSource.Default.WindowsMapping.PrimaryMapping, StringComparer.OrdinalIgnoreCase));

    /// <summary>
    /// The tzdb zone for an IANA id, a prefixed IANA id or a Windows zone name; null when the text is none of
    /// these. Never throws.
    /// </summary>
    public static DateTimeZone? FindWellKnown(string? tzId)
    {
        var id = Clean(tzId);
        if (id.Length == 0)
        {
            return null;
        }

        if (IanaIds.Value.TryGetValue(id, out var exact))
        {
            return DateTimeZoneProviders.Tzdb[exact];
        }

        // Vendor prefixes: try ever shorter suffixes made of whole path segments, keeping at least two
        // segments so that "Foo/Paris" does not turn into something unrelated by accident.
        var segments = id.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var skip = 0; skip <= segments.Length - 2; skip++)
        {
            var candidate = string.Join('/', segments, skip, segments.Length - skip);
            if (IanaIds.Value.TryGetValue(candidate, out var found))
            {
                return DateTimeZoneProviders.Tzdb[found];
            }
        }

        if (WindowsIds.Value.TryGetValue(id, out var mapped) && IanaIds.Value.TryGetValue(mapped, out var iana))
        {
            return DateTimeZoneProviders.Tzdb[iana];
        }

        return null;
    }

    /// <summary>
    /// A fixed-offset zone for labels such as <c>(GMT +01:00)</c> or <c>(UTC-05:00) Eastern Time</c>; null otherwise.
    /// This is a last resort: such a label says nothing about daylight saving time.
    /// </summary>
    public static DateTimeZone? FindFixedOffsetLabel(string? tzId)
    {
        var match = OffsetLabel().Match(Clean(tzId));
        if (!match.Success)
        {
            return null;
        }

        if (!match.Groups["sign"].Success)
        {
            return DateTimeZone.Utc;
        }

        var hours = int.Parse(match.Groups["h"].Value, CultureInfo.InvariantCulture);
        var minutes = match.Groups["m"].Success ? int.Parse(match.Groups["m"].Value, CultureInfo.InvariantCulture) : 0;
        if (hours > 18 || minutes > 59)
        {
            return null;
        }

        var seconds = (hours * 3600) + (minutes * 60);
        return DateTimeZone.ForOffset(Offset.FromSeconds(match.Groups["sign"].Value == "-" ? -seconds : seconds));
    }

    private static string Clean(string? tzId) => (tzId ?? string.Empty).Trim().Trim('"').Trim();

    [GeneratedRegex(@"^\(?\s*(?:GMT|UTC)\s*(?:(?<sign>[+-])\s*(?<h>\d{1,2})(?:[:.]?(?<m>\d{2}))?)?\s*\)?", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, matchTimeoutMilliseconds: 200)]
    private static partial Regex OffsetLabel();
}

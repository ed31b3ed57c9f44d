using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// Resolves the TZIDs of one calendar, in this order: an IANA id known to tzdb (also behind a vendor prefix),
/// a Windows zone name, the calendar's own VTIMEZONE definition, and finally a "(GMT+01:00)" style label as a
/// fixed offset. Results are cached; unknown ids resolve to null.
/// </summary>
public sealed class CalendarTimeZoneResolver
{
    private readonly Dictionary<string, CalendarComponent> _definitions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeZone?> _cache = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public CalendarTimeZoneResolver(IEnumerable<CalendarComponent> vtimezones)
    {
        ArgumentNullException.ThrowIfNull(vtimezones);
        foreach (var vtimezone in vtimezones)
        {
            // A VTIMEZONE without TZID cannot be referenced; it is ignored rather than rejected.
            var tzId = vtimezone.FindProperty("TZID")?.GetText().Trim();
            if (!string.IsNullOrEmpty(tzId))
            {
                _definitions.TryAdd(tzId, vtimezone);
            }
        }
    }

    /// <summary>A resolver that knows no VTIMEZONE definitions.</summary>
    public static CalendarTimeZoneResolver WellKnownOnly { get; } = new([]);

    /// <summary>The VTIMEZONE components by TZID.</summary>
    public IReadOnlyDictionary<string, CalendarComponent> Definitions => _definitions;

    /// <summary>
    /// The zone for a TZID, or null when nothing matches. Throws <see cref="ICalendarParseException"/> when the
    /// only candidate is a VTIMEZONE that is itself invalid.
    /// </summary>
    public DateTimeZone? Resolve(string tzId)
    {
        ArgumentNullException.ThrowIfNull(tzId);
        var key = tzId.Trim();
        lock (_lock)
        {
            if (_cache.TryGetValue(key, out var cached))
            {
                return cached;
            }

            var zone = TimeZoneIds.FindWellKnown(key)
                ?? (_definitions.TryGetValue(key, out var definition) ? VTimeZoneDateTimeZone.FromComponent(definition) : null)
                ?? TimeZoneIds.FindFixedOffsetLabel(key);
            _cache[key] = zone;
            return zone;
        }
    }
}

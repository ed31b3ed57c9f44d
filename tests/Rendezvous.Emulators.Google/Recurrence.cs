using System.Globalization;
using NodaTime;
using NodaTime.Text;

namespace Rendezvous.Emulators.Google;

/// <summary>
/// Just enough RRULE (RFC 5545 §3.3.10) to expand the series tests create: FREQ=DAILY or WEEKLY with INTERVAL, COUNT,
/// UNTIL and BYDAY, plus EXDATE, expanded in the series' own time zone so local times hold across daylight saving.
/// Google expands series itself when asked for singleEvents=true
/// (https://developers.google.com/calendar/api/v3/reference/events/list).
/// </summary>
internal static class Recurrence
{
    public static IReadOnlyList<ZonedDateTime> Expand(ZonedDateTime first, IEnumerable<string> lines, Instant horizon, int max)
    {
        var rule = lines.FirstOrDefault(l => l.StartsWith("RRULE:", StringComparison.OrdinalIgnoreCase));
        var excluded = lines.Where(l => l.StartsWith("EXDATE", StringComparison.OrdinalIgnoreCase))
            .SelectMany(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(','))
            .Select(v => ParseDate(v.Trim(), first.Zone)).Where(i => i is not null).Select(i => i!.Value).ToHashSet();
        var result = new List<ZonedDateTime>();
        if (rule is null)
        {
            result.Add(first);
            return result;
        }

        var parts = rule[6..].Split(';').Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].ToUpperInvariant(), p => p[1], StringComparer.Ordinal);
        var freq = parts.GetValueOrDefault("FREQ", "DAILY").ToUpperInvariant();
        var interval = int.TryParse(parts.GetValueOrDefault("INTERVAL"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i1) && i1 > 0 ? i1 : 1;
        int? count = int.TryParse(parts.GetValueOrDefault("COUNT"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) ? c : null;
        var until = parts.TryGetValue("UNTIL", out var u) ? ParseDate(u, first.Zone) : null;
        var byDay = parts.TryGetValue("BYDAY", out var d)
            ? d.Split(',').Select(DayOf).Where(x => x is not null).Select(x => x!.Value).ToHashSet()
            : [first.DayOfWeek];

        var local = first.LocalDateTime;
        var produced = 0;
        for (var step = 0; step < 5000 && result.Count < max; step++)
        {
            IEnumerable<LocalDateTime> candidates = freq switch
            {
                "WEEKLY" => WeekOf(local.Date.PlusWeeks(step * interval), first.LocalDateTime.TimeOfDay, byDay),
                _ => [local.PlusDays(step * interval)],
            };
            foreach (var candidate in candidates)
            {
                if (candidate < first.LocalDateTime)
                {
                    continue;
                }

                var at = candidate.InZoneLeniently(first.Zone);
                if ((until is { } end && at.ToInstant() > end) || at.ToInstant() > horizon || (count is { } n && produced >= n))
                {
                    return result;
                }

                produced++;
                if (!excluded.Contains(at.ToInstant()))
                {
                    result.Add(at);
                }
            }
        }

        return result;
    }

    private static IEnumerable<LocalDateTime> WeekOf(LocalDate anyDay, LocalTime time, HashSet<IsoDayOfWeek> days)
    {
        var monday = anyDay.PlusDays(-((int)anyDay.DayOfWeek - 1));
        for (var i = 0; i < 7; i++)
        {
            var day = monday.PlusDays(i);
            if (days.Contains(day.DayOfWeek))
            {
                yield return day + time;
            }
        }
    }

    private static IsoDayOfWeek? DayOf(string text) => text.Trim().ToUpperInvariant() switch
    {
        "MO" => IsoDayOfWeek.Monday,
        "TU" => IsoDayOfWeek.Tuesday,
        "WE" => IsoDayOfWeek.Wednesday,
        "TH" => IsoDayOfWeek.Thursday,
        "FR" => IsoDayOfWeek.Friday,
        "SA" => IsoDayOfWeek.Saturday,
        "SU" => IsoDayOfWeek.Sunday,
        _ => null,
    };

    private static Instant? ParseDate(string text, DateTimeZone zone)
    {
        var utc = LocalDateTimePattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss'Z'").Parse(text);
        if (utc.Success)
        {
            return utc.Value.InUtc().ToInstant();
        }

        var local = LocalDateTimePattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss").Parse(text);
        if (local.Success)
        {
            return local.Value.InZoneLeniently(zone).ToInstant();
        }

        var date = LocalDatePattern.CreateWithInvariantCulture("uuuuMMdd").Parse(text);
        return date.Success ? date.Value.AtStartOfDayInZone(zone).ToInstant() + Duration.FromDays(1) - Duration.FromSeconds(1) : null;
    }
}

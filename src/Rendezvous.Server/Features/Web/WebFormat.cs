using System.Globalization;
using NodaTime;
using NodaTime.Text;
using NodaTime.TimeZones;
using Rendezvous.Integrations.Localization;

namespace Rendezvous.Server.Features.Web;

/// <summary>
/// How the web application writes dates, times and durations: in the request's language (English on the staff pages),
/// 24-hour, always with the zone named. The patterns per language are in <see cref="DatePatterns"/>.
/// </summary>
public static class WebFormat
{
    private static CultureInfo Ui => CultureInfo.CurrentUICulture;

    /// <summary>"Monday 15 March 2027, 10:00".</summary>
    public static string When(Instant instant, DateTimeZone zone) => DatePatterns.When(instant.InZone(zone).LocalDateTime, Ui);

    /// <summary>"Monday 15 March 2027, 10:00–10:30".</summary>
    public static string Span(Instant start, Instant end, DateTimeZone zone)
    {
        var s = start.InZone(zone);
        var e = end.InZone(zone);
        return s.Date == e.Date
            ? $"{DatePatterns.When(s.LocalDateTime, Ui)}–{DatePatterns.Time(e.TimeOfDay, Ui)}"
            : $"{DatePatterns.When(s.LocalDateTime, Ui)} – {DatePatterns.When(e.LocalDateTime, Ui)}";
    }

    /// <summary>An API time ("2027-03-16T11:00:00+01:00") as "Tuesday 16 March 2027, 11:00", in the offset it was written with.</summary>
    public static string WhenIso(string text) =>
        OffsetDateTimePattern.ExtendedIso.Parse(text) is { Success: true } parsed ? DatePatterns.When(parsed.Value.LocalDateTime, Ui) : text;

    /// <summary>"Monday 15 March 2027".</summary>
    public static string Date(LocalDate date) => DatePatterns.Date(date, Ui);

    /// <summary>"Mon 15 Mar".</summary>
    public static string ShortDate(LocalDate date) => DatePatterns.ShortDate(date, Ui);

    /// <summary>"March 2027".</summary>
    public static string Month(LocalDate date) => DatePatterns.Month(date, Ui);

    /// <summary>"10:00".</summary>
    public static string Time(Instant instant, DateTimeZone zone) => DatePatterns.Time(instant.InZone(zone).TimeOfDay, Ui);

    public static string Time(LocalTime time) => DatePatterns.Time(time, Ui);

    /// <summary>"yyyy-MM-dd", as links and forms carry dates.</summary>
    public static string Iso(LocalDate date) => LocalDatePattern.Iso.Format(date);

    /// <summary>"1 hour 30 minutes", "45 minutes", "2 days" (in the request's language).</summary>
    public static string Duration(Duration duration) => Texts.Duration(Ui, (long)duration.TotalMinutes);

    public static string Minutes(int minutes) => Duration(NodaTime.Duration.FromMinutes(minutes));

    /// <summary>"3 bookings": English only, for the staff pages.</summary>
    public static string Plural(long n, string word) => n.ToString(CultureInfo.InvariantCulture) + " " + (n == 1 ? word : word + "s");

    /// <summary>"(UTC+01:00)", the zone's offset at that instant.</summary>
    public static string OffsetAt(DateTimeZone zone, Instant at)
    {
        var offset = zone.GetUtcOffset(at);
        return "UTC" + OffsetPattern.CreateWithInvariantCulture("+HH:mm").Format(offset);
    }
}

/// <summary>The time zones people choose from: every populated zone of the tz database, grouped by region.</summary>
public static class TimeZoneChoices
{
    private static readonly Lazy<IReadOnlyList<(string Region, IReadOnlyList<string> Ids)>> Groups = new(() =>
    {
        var ids = (TzdbDateTimeZoneSource.Default.ZoneLocations ?? [])
            .Select(l => l.ZoneId)
            .Append("UTC")
            .Distinct(StringComparer.Ordinal)
            .Where(id => DateTimeZoneProviders.Tzdb.GetZoneOrNull(id) is not null)
            .OrderBy(id => id, StringComparer.Ordinal)
            .ToList();
        return [.. ids
            .GroupBy(id => id.Contains('/', StringComparison.Ordinal) ? id[..id.IndexOf('/', StringComparison.Ordinal)] : "Other")
            .Select(g => (g.Key, (IReadOnlyList<string>)[.. g]))];
    });

    public static IReadOnlyList<(string Region, IReadOnlyList<string> Ids)> All => Groups.Value;

    /// <summary>True when <paramref name="id"/> is listed (a zone outside the list is still shown, as an extra option).</summary>
    public static bool IsListed(string id) => All.Any(g => g.Ids.Contains(id, StringComparer.Ordinal));

    /// <summary>"America/New_York" as "America / New York".</summary>
    public static string Label(string id) => id.Replace("_", " ", StringComparison.Ordinal).Replace("/", " / ", StringComparison.Ordinal);
}

using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;

namespace Rendezvous.Domain.Tests.Support;

internal static class Pages
{
    public static TimeOfDayRange Hours(string from, string to)
    {
        TimeOfDayRange.TryParseTime(from, out var start).ShouldBeTrue();
        TimeOfDayRange.TryParseTime(to, out var end).ShouldBeTrue();
        return new TimeOfDayRange(start, end);
    }

    public static IReadOnlyList<WeeklyHours> On(IsoDayOfWeek day, params TimeOfDayRange[] ranges) =>
        [.. ranges.Select(r => new WeeklyHours(day, r))];

    public static IReadOnlyList<WeeklyHours> EveryDay(params TimeOfDayRange[] ranges) =>
        [.. Enum.GetValues<IsoDayOfWeek>().Where(d => d != IsoDayOfWeek.None).SelectMany(d => On(d, ranges))];

    public static IReadOnlyList<WeeklyHours> Weekdays(params TimeOfDayRange[] ranges) =>
        [.. Enum.GetValues<IsoDayOfWeek>().Where(d => d is >= IsoDayOfWeek.Monday and <= IsoDayOfWeek.Friday).SelectMany(d => On(d, ranges))];

    public static BookingPageSettings Page(DateTimeZone zone, IReadOnlyList<WeeklyHours> hours, int minutes = 60) => new()
    {
        Duration = Duration.FromMinutes(minutes),
        TimeZone = zone,
        WeeklyHours = hours,
    };

    public static AvailabilityQuery Query(LocalDate from, LocalDate to, DateTimeZone display, Instant now) => new()
    {
        From = from,
        To = to,
        DisplayZone = display,
        Now = now,
    };

    public static AvailabilityQuery Day(LocalDate day, DateTimeZone display, Instant now) => Query(day, day, display, now);

    /// <summary>Slot starts as the page's local times, "yyyy-MM-dd HH:mm", for readable assertions.</summary>
    public static IReadOnlyList<string> LocalStarts(this IEnumerable<Slot> slots, DateTimeZone zone) =>
        [.. slots.Select(s => s.Start.InZone(zone).LocalDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture))];

    public static IReadOnlyList<Instant> Starts(this IEnumerable<Slot> slots) => [.. slots.Select(s => s.Start)];

    public static Instant Instant(string isoUtc) => NodaTime.Text.InstantPattern.ExtendedIso.Parse(isoUtc).Value;

    public static IReadOnlyList<Instant> Instants(params string[] isoUtc) => [.. isoUtc.Select(Instant)];
}

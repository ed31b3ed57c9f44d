using NodaTime;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

public class TimeZoneTests
{
    [Theory]
    [InlineData("America/New_York", "America/New_York")]
    [InlineData("america/new_york", "America/New_York")]
    [InlineData("/mozilla.org/20050126_1/America/New_York", "America/New_York")]
    [InlineData("/softwarestudio.org/Olson_20011030_5/Europe/Berlin", "Europe/Berlin")]
    [InlineData("\"Europe/London\"", "Europe/London")]
    [InlineData("Eastern Standard Time", "America/New_York")]
    [InlineData("W. Europe Standard Time", "Europe/Berlin")]
    [InlineData("Etc/GMT", "Etc/GMT")]
    public void Well_known_tzids_resolve_to_tzdb(string tzId, string expected) =>
        TimeZoneIds.FindWellKnown(tzId).ShouldNotBeNull().Id.ShouldBe(expected);

    [Theory]
    [InlineData("Makebelieve/Nowhere")]
    [InlineData("")]
    [InlineData("Custom Zone 1")]
    [InlineData("/a/b")]
    public void Unknown_tzids_do_not_resolve(string tzId) => TimeZoneIds.FindWellKnown(tzId).ShouldBeNull();

    [Theory]
    [InlineData("(GMT +01:00)", 60)]
    [InlineData("(UTC-05:00) Eastern Time (US & Canada)", -300)]
    [InlineData("GMT+0530", 330)]
    [InlineData("(GMT) Casablanca", 0)]
    public void Offset_labels_fall_back_to_fixed_offsets(string tzId, int minutes) =>
        CalendarTimeZoneResolver.WellKnownOnly.Resolve(tzId).ShouldNotBeNull()
            .GetUtcOffset(Instant.FromUtc(2027, 7, 1, 0, 0)).ShouldBe(Offset.FromSeconds(minutes * 60));

    [Fact]
    public void Iana_ids_win_over_a_vtimezone_with_the_same_tzid()
    {
        var calendar = ICalendarReader.Parse(
            "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Europe/Paris\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0500\nTZOFFSETTO:+0500\nEND:STANDARD\nEND:VTIMEZONE\n" +
            "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Paris:20270701T090000\nEND:VEVENT\nEND:VCALENDAR\n");

        calendar.Events.Single().Start!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2027, 7, 1, 7, 0));
    }

    [Fact]
    public void Unresolvable_tzid_is_kept_and_read_in_the_local_zone()
    {
        var calendar = ICalendarReader.Parse("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nDTSTART;TZID=Nowhere:20270701T090000\nEND:VEVENT\nEND:VCALENDAR\n");
        var start = calendar.Events.Single().Start!.Value;

        start.Kind.ShouldBe(CalendarDateTimeKind.Zoned);
        start.TzId.ShouldBe("Nowhere");
        start.Zone.ShouldBeNull();
        start.ToInstant(DateTimeZoneProviders.Tzdb["Asia/Tokyo"]).ShouldBe(Instant.FromUtc(2027, 7, 1, 0, 0));
    }

    [Fact]
    public void Broken_vtimezone_gives_a_typed_error_with_its_line()
    {
        const string text = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Mine\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n" +
            "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Mine:20270701T090000\nEND:VEVENT\nEND:VCALENDAR\n";

        var error = Should.Throw<ICalendarParseException>(() => ICalendarReader.Parse(text));

        error.Kind.ShouldBe(ICalendarErrorKind.InvalidTimeZone);
        error.LineNumber.ShouldBe(4);
    }

    [Theory]
    [InlineData("America/New_York")]
    [InlineData("Europe/London")]
    [InlineData("Asia/Kathmandu")]
    [InlineData("Australia/Lord_Howe")]
    [InlineData("Pacific/Apia")]
    [InlineData("UTC")]
    public void Generated_vtimezone_describes_the_zone_exactly_over_its_range(string id)
    {
        var zone = DateTimeZoneProviders.Tzdb[id];
        var from = Instant.FromUtc(2010, 1, 1, 0, 0);
        var to = Instant.FromUtc(2030, 1, 1, 0, 0);

        var component = VTimeZoneGenerator.Generate(zone, from, to);
        var text = ICalendarWriter.Write(component);
        var rebuilt = VTimeZoneDateTimeZone.FromComponent(ICalendarReader.ReadComponents(text).Single());

        rebuilt.Id.ShouldBe(id);
        for (var t = from; t < to; t += Duration.FromMinutes(30))
        {
            if (rebuilt.GetUtcOffset(t) != zone.GetUtcOffset(t))
            {
                throw new ShouldAssertException($"{id} differs at {t}: {rebuilt.GetUtcOffset(t)} vs {zone.GetUtcOffset(t)}");
            }
        }
    }

    [Fact]
    public void Rfc_resolver_handles_gaps_and_overlaps_of_a_vtimezone_zone()
    {
        var zone = VTimeZoneDateTimeZone.FromComponent(VTimeZoneGenerator.Generate(
            DateTimeZoneProviders.Tzdb["America/New_York"], Instant.FromUtc(2026, 1, 1, 0, 0), Instant.FromUtc(2028, 1, 1, 0, 0), "NY-copy"));

        CalendarDateTime.InZone(new LocalDateTime(2027, 3, 14, 2, 30), zone).ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2027, 3, 14, 7, 30));
        CalendarDateTime.InZone(new LocalDateTime(2027, 11, 7, 1, 30), zone).ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2027, 11, 7, 5, 30));
    }
}

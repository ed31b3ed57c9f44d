using NodaTime;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

public class BusyTimeTests
{
    private static readonly DateTimeZone NewYork = DateTimeZoneProviders.Tzdb["America/New_York"];
    private static readonly DateTimeZone Apia = DateTimeZoneProviders.Tzdb["Pacific/Apia"];

    private static CalendarDocument Calendar(string events) =>
        ICalendarReader.Parse("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n" + events + "END:VCALENDAR\r\n");

    [Fact]
    public void Skips_transparent_and_cancelled_events_and_merges_the_rest()
    {
        var calendar = Calendar(
            "BEGIN:VEVENT\nUID:a\nDTSTART:20270301T150000Z\nDTEND:20270301T160000Z\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:b\nDTSTART:20270301T153000Z\nDTEND:20270301T170000Z\nTRANSP:OPAQUE\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:c\nDTSTART:20270301T170000Z\nDTEND:20270301T173000Z\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:d\nDTSTART:20270301T190000Z\nDTEND:20270301T200000Z\nTRANSP:TRANSPARENT\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:e\nDTSTART:20270301T210000Z\nDTEND:20270301T220000Z\nSTATUS:CANCELLED\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:f\nDTSTART:20270301T230000Z\nDTEND:20270301T230000Z\nEND:VEVENT\n");

        var busy = BusyTime.Compute(calendar, Instant.FromUtc(2027, 3, 1, 0, 0), Instant.FromUtc(2027, 3, 2, 0, 0), NewYork);

        busy.Intervals.ShouldBe([new Interval(Instant.FromUtc(2027, 3, 1, 15, 0), Instant.FromUtc(2027, 3, 1, 17, 30))]);
        busy.Occurrences.Select(o => o.Event.Uid).ShouldBe(["a", "b", "c"]);
        busy.IsTruncated.ShouldBeFalse();
    }

    [Fact]
    public void Intervals_are_clipped_to_the_window()
    {
        var calendar = Calendar("BEGIN:VEVENT\nUID:a\nDTSTART:20270301T220000Z\nDTEND:20270302T020000Z\nEND:VEVENT\n");

        var busy = BusyTime.Compute(calendar, Instant.FromUtc(2027, 3, 2, 0, 0), Instant.FromUtc(2027, 3, 3, 0, 0), NewYork);

        busy.Intervals.ShouldBe([new Interval(Instant.FromUtc(2027, 3, 2, 0, 0), Instant.FromUtc(2027, 3, 2, 2, 0))]);
        busy.Occurrences.Single().Start.ShouldBe(Instant.FromUtc(2027, 3, 1, 22, 0));
    }

    [Fact]
    public void All_day_events_block_whole_local_days_in_the_given_zone_including_a_23_hour_day()
    {
        var calendar = Calendar("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20270313\nDTEND;VALUE=DATE:20270315\nEND:VEVENT\n");

        var busy = BusyTime.Compute(calendar, Instant.FromUtc(2027, 3, 1, 0, 0), Instant.FromUtc(2027, 4, 1, 0, 0), NewYork);

        busy.Intervals.ShouldBe([new Interval(Instant.FromUtc(2027, 3, 13, 5, 0), Instant.FromUtc(2027, 3, 15, 4, 0))]);
    }

    [Fact]
    public void An_all_day_event_on_a_day_that_does_not_exist_blocks_nothing()
    {
        // Samoa skipped 2011-12-30 entirely when it moved across the date line.
        var calendar = Calendar(
            "BEGIN:VEVENT\nUID:gone\nDTSTART;VALUE=DATE:20111230\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:next\nDTSTART;VALUE=DATE:20111231\nEND:VEVENT\n");

        var busy = BusyTime.Compute(calendar, Instant.FromUtc(2011, 12, 1, 0, 0), Instant.FromUtc(2012, 1, 31, 0, 0), Apia);

        busy.Occurrences.Select(o => o.Event.Uid).ShouldBe(["next"]);
        busy.Intervals.ShouldBe([new Interval(Instant.FromUtc(2011, 12, 30, 10, 0), Instant.FromUtc(2011, 12, 31, 10, 0))]);
    }

    [Fact]
    public void Floating_times_are_read_in_the_given_zone()
    {
        var calendar = Calendar("BEGIN:VEVENT\nUID:a\nDTSTART:20270601T090000\nDTEND:20270601T100000\nEND:VEVENT\n");

        var busy = BusyTime.Compute(calendar, Instant.FromUtc(2027, 6, 1, 0, 0), Instant.FromUtc(2027, 6, 2, 0, 0), NewYork);

        busy.Intervals.ShouldBe([new Interval(Instant.FromUtc(2027, 6, 1, 13, 0), Instant.FromUtc(2027, 6, 1, 14, 0))]);
    }

    [Fact]
    public void A_cancelled_override_frees_its_instance_and_a_cancelled_master_frees_the_series()
    {
        var calendar = Calendar(
            "BEGIN:VEVENT\nUID:s\nDTSTART;TZID=America/New_York:20270301T090000\nDTEND;TZID=America/New_York:20270301T100000\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:s\nRECURRENCE-ID;TZID=America/New_York:20270302T090000\nDTSTART;TZID=America/New_York:20270302T090000\nDTEND;TZID=America/New_York:20270302T100000\nSTATUS:CANCELLED\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:t\nDTSTART:20270305T090000Z\nDTEND:20270305T100000Z\nRRULE:FREQ=DAILY;COUNT=3\nSTATUS:CANCELLED\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:t\nRECURRENCE-ID:20270306T090000Z\nDTSTART:20270306T120000Z\nDTEND:20270306T130000Z\nEND:VEVENT\n");

        var busy = BusyTime.Compute(calendar, Instant.FromUtc(2027, 3, 1, 0, 0), Instant.FromUtc(2027, 3, 10, 0, 0), NewYork);

        busy.Intervals.Select(i => i.Start).ShouldBe([Instant.FromUtc(2027, 3, 1, 14, 0), Instant.FromUtc(2027, 3, 3, 14, 0)]);
    }

    [Fact]
    public void An_override_moved_into_the_window_is_busy_and_the_original_slot_is_free()
    {
        var calendar = Calendar(
            "BEGIN:VEVENT\nUID:s\nDTSTART:20270301T090000Z\nDTEND:20270301T100000Z\nRRULE:FREQ=WEEKLY\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:s\nRECURRENCE-ID:20270315T090000Z\nDTSTART:20270310T090000Z\nDTEND:20270310T100000Z\nEND:VEVENT\n");

        var busy = BusyTime.Compute(calendar, Instant.FromUtc(2027, 3, 9, 0, 0), Instant.FromUtc(2027, 3, 16, 0, 0), NewYork);

        busy.Intervals.ShouldBe([new Interval(Instant.FromUtc(2027, 3, 10, 9, 0), Instant.FromUtc(2027, 3, 10, 10, 0))]);
    }

    [Fact]
    public void Window_must_not_end_before_it_starts() =>
        Should.Throw<ArgumentException>(() => BusyTime.Compute(Calendar(string.Empty), Instant.FromUtc(2027, 1, 2, 0, 0), Instant.FromUtc(2027, 1, 1, 0, 0), NewYork));
}

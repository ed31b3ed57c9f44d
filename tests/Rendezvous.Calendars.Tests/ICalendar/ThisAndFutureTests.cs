using NodaTime;
using NodaTime.Text;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

/// <summary>RECURRENCE-ID;RANGE=THISANDFUTURE (RFC 5545 3.2.13 and 3.8.4.4).</summary>
public class ThisAndFutureTests
{
    private static readonly DateTimeZone NewYork = DateTimeZoneProviders.Tzdb["America/New_York"];
    private static readonly LocalDateTimePattern Pattern = LocalDateTimePattern.CreateWithInvariantCulture("yyyy-MM-dd HH:mm");

    // Weekly on Mondays at 09:00 for an hour, across the 2027-03-14 change to daylight time.
    private const string Master =
        "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Standup\r\n"
        + "DTSTART;TZID=America/New_York:20270301T090000\r\nDTEND;TZID=America/New_York:20270301T100000\r\n"
        + "RRULE:FREQ=WEEKLY;COUNT=6\r\nEND:VEVENT\r\n";

    private static CalendarDocument Calendar(params string[] components) =>
        ICalendarReader.Parse("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rendezvous//Tests//EN\r\n" + string.Concat(components) + "END:VCALENDAR\r\n");

    private static string Override(string recurrenceId, string? start, string? end, string summary, string range = ";RANGE=THISANDFUTURE", string extra = "") =>
        "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20270101T000000Z\r\n"
        + $"RECURRENCE-ID{range};TZID=America/New_York:{recurrenceId}\r\n"
        + (start is null ? string.Empty : $"DTSTART;TZID=America/New_York:{start}\r\n")
        + (end is null ? string.Empty : $"DTEND;TZID=America/New_York:{end}\r\n")
        + $"SUMMARY:{summary}\r\n{extra}END:VEVENT\r\n";

    private static List<string> Describe(OccurrenceSet set) =>
        [.. set.Occurrences.Select(o =>
            $"{Pattern.Format(o.Start.InZone(NewYork).LocalDateTime)} {(o.End - o.Start).TotalMinutes}m {o.Event.Summary}")];

    private static OccurrenceSet March(CalendarDocument calendar) =>
        calendar.GetOccurrences(Instant.FromUtc(2027, 2, 1, 0, 0), Instant.FromUtc(2027, 5, 1, 0, 0), NewYork);

    [Fact]
    public void Moving_an_instance_this_and_future_moves_every_later_instance_by_the_same_wall_clock_shift_and_length()
    {
        var calendar = Calendar(Master, Override("20270308T090000", "20270308T110000", "20270308T123000", "Standup (new time)"));

        Describe(March(calendar)).ShouldBe(
        [
            "2027-03-01 09:00 60m Standup",
            "2027-03-08 11:00 90m Standup (new time)",
            "2027-03-15 11:00 90m Standup (new time)", // after the change to daylight time: still 11:00 local
            "2027-03-22 11:00 90m Standup (new time)",
            "2027-03-29 11:00 90m Standup (new time)",
            "2027-04-05 11:00 90m Standup (new time)",
        ]);
        March(calendar).Occurrences.Skip(2).ShouldAllBe(o => o.IsOverride);
        March(calendar).Occurrences[3].RecurrenceId!.Value.Local.ShouldBe(new LocalDateTime(2027, 3, 22, 9, 0), "instances keep their own RECURRENCE-ID");
    }

    [Fact]
    public void A_later_single_override_still_replaces_its_instance_and_a_later_range_takes_over()
    {
        var calendar = Calendar(
            Master,
            Override("20270308T090000", "20270308T110000", "20270308T120000", "Moved"),
            Override("20270322T090000", "20270322T150000", "20270322T160000", "One-off", range: string.Empty),
            Override("20270329T090000", "20270329T080000", "20270329T083000", "Early"));

        Describe(March(calendar)).ShouldBe(
        [
            "2027-03-01 09:00 60m Standup",
            "2027-03-08 11:00 60m Moved",
            "2027-03-15 11:00 60m Moved",
            "2027-03-22 15:00 60m One-off",
            "2027-03-29 08:00 30m Early",
            "2027-04-05 08:00 30m Early",
        ]);
    }

    [Fact]
    public void Range_without_dtstart_keeps_times_and_changes_the_rest()
    {
        var calendar = Calendar(Master, Override("20270322T090000", null, null, "Renamed"));

        Describe(March(calendar)).ShouldBe(
        [
            "2027-03-01 09:00 60m Standup",
            "2027-03-08 09:00 60m Standup",
            "2027-03-15 09:00 60m Standup",
            "2027-03-22 09:00 60m Renamed",
            "2027-03-29 09:00 60m Renamed",
            "2027-04-05 09:00 60m Renamed",
        ]);
    }

    [Fact]
    public void Cancelling_this_and_future_frees_every_later_instance()
    {
        var calendar = Calendar(Master, Override("20270322T090000", null, null, "Standup", extra: "STATUS:CANCELLED\r\n"));

        var busy = BusyTime.Compute(calendar, Instant.FromUtc(2027, 2, 1, 0, 0), Instant.FromUtc(2027, 5, 1, 0, 0), NewYork);

        busy.Intervals.Select(i => Pattern.Format(i.Start.InZone(NewYork).LocalDateTime)).ShouldBe(["2027-03-01 09:00", "2027-03-08 09:00", "2027-03-15 09:00"]);
    }

    [Fact]
    public void Exdates_stay_excluded_after_a_range()
    {
        var master = Master.Replace("RRULE:FREQ=WEEKLY;COUNT=6\r\n", "RRULE:FREQ=WEEKLY;COUNT=6\r\nEXDATE;TZID=America/New_York:20270329T090000\r\n", StringComparison.Ordinal);
        var calendar = Calendar(master, Override("20270315T090000", "20270315T100000", "20270315T110000", "Later"));

        Describe(March(calendar)).ShouldBe(
        [
            "2027-03-01 09:00 60m Standup",
            "2027-03-08 09:00 60m Standup",
            "2027-03-15 10:00 60m Later",
            "2027-03-22 10:00 60m Later",
            "2027-04-05 10:00 60m Later",
        ]);
    }

    [Fact]
    public void Instances_moved_into_the_window_from_before_it_are_found()
    {
        // Moved two days later: the instance of 03-29 lands on 03-31, inside a window that starts on 03-30.
        var calendar = Calendar(Master, Override("20270308T090000", "20270310T090000", "20270310T100000", "Wednesdays"));

        var set = calendar.GetOccurrences(Instant.FromUtc(2027, 3, 30, 4, 0), Instant.FromUtc(2027, 4, 1, 4, 0), NewYork);

        Describe(set).ShouldBe(["2027-03-31 09:00 60m Wednesdays"]);
    }

    [Fact]
    public void Instances_moved_into_the_window_from_after_it_are_found()
    {
        // Moved five days earlier: the instance of 04-05 lands on 03-31.
        var calendar = Calendar(Master, Override("20270308T090000", "20270303T090000", "20270303T100000", "Earlier"));

        var set = calendar.GetOccurrences(Instant.FromUtc(2027, 3, 30, 4, 0), Instant.FromUtc(2027, 4, 1, 4, 0), NewYork);

        Describe(set).ShouldBe(["2027-03-31 09:00 60m Earlier"]);
    }

    [Fact]
    public void All_day_series_are_moved_by_whole_days()
    {
        var calendar = ICalendarReader.Parse(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
            + "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20270301\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Day\r\nEND:VEVENT\r\n"
            + "BEGIN:VEVENT\r\nUID:d\r\nRECURRENCE-ID;RANGE=THISANDFUTURE;VALUE=DATE:20270308\r\nDTSTART;VALUE=DATE:20270309\r\nDTEND;VALUE=DATE:20270311\r\nSUMMARY:Two days\r\nEND:VEVENT\r\n"
            + "END:VCALENDAR\r\n");

        var set = calendar.GetOccurrences(Instant.FromUtc(2027, 2, 1, 0, 0), Instant.FromUtc(2027, 5, 1, 0, 0), NewYork);

        set.Occurrences.Select(o => $"{o.Start.InZone(NewYork).Date:yyyy-MM-dd} {(o.End - o.Start).TotalHours}h").ShouldBe(
            ["2027-03-01 24h", "2027-03-09 48h", "2027-03-16 48h", "2027-03-23 48h"]);
    }

    [Fact]
    public void Range_is_read_and_written_back()
    {
        var calendar = Calendar(Master, Override("20270308T090000", "20270308T110000", "20270308T120000", "Moved"));
        var moved = calendar.Events[1];

        moved.RecurrenceIdRange.ShouldBe(RecurrenceRange.ThisAndFuture);
        calendar.Events[0].RecurrenceIdRange.ShouldBe(RecurrenceRange.ThisInstance);
        var written = ICalendarWriter.Write(new CalendarDocument { Events = [moved] });
        written.ShouldContain("RECURRENCE-ID;TZID=America/New_York;RANGE=THISANDFUTURE:20270308T090000");
        ICalendarReader.Parse(written).Events.Single().ShouldBe(moved);
    }

    [Theory]
    [InlineData(";RANGE=THISANDPRIOR")]
    [InlineData(";RANGE=X-SOMETHING")]
    public void Other_ranges_mean_the_single_instance(string range)
    {
        var calendar = Calendar(Master, Override("20270308T090000", "20270308T110000", "20270308T120000", "Moved", range));

        calendar.Events[1].RecurrenceIdRange.ShouldBe(RecurrenceRange.ThisInstance);
        Describe(March(calendar))[2].ShouldBe("2027-03-15 09:00 60m Standup");
    }
}

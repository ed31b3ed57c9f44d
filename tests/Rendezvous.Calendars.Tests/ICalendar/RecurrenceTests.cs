using System.Globalization;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

public class RecurrenceTests
{
    private static readonly DateTimeZone NewYork = DateTimeZoneProviders.Tzdb["America/New_York"];
    private static readonly DateTimeZone London = DateTimeZoneProviders.Tzdb["Europe/London"];
    private static readonly LocalDateTimePattern Pattern = LocalDateTimePattern.CreateWithInvariantCulture("yyyyMMdd'T'HHmm");

    private static CalendarEvent Event(string start, string rule, DateTimeZone? zone = null, params string[] exdates)
    {
        zone ??= NewYork;
        var local = Pattern.Parse(start).Value;
        return new CalendarEvent
        {
            Uid = "x",
            Start = CalendarDateTime.InZone(local, zone),
            End = CalendarDateTime.InZone(local.PlusHours(1), zone),
            RecurrenceRules = [RecurrenceRule.Parse(rule)],
            ExceptionDates = [.. exdates.Select(e => CalendarDateTime.InZone(Pattern.Parse(e).Value, zone))],
        };
    }

    private static List<string> Local(CalendarEvent evt, int take = 100, int years = 10)
    {
        var zone = evt.Start!.Value.Zone!;
        var from = evt.Start.Value.ToInstant(zone);
        var set = RecurrenceExpander.Expand(evt, from, from + Duration.FromDays(366 * years), zone);
        return [.. set.Occurrences.Take(take).Select(o => Pattern.Format(o.Start.InZone(zone).LocalDateTime))];
    }

    private static string[] Days(string yearMonth, string time, params int[] days) =>
        [.. days.Select(d => $"{yearMonth}{d:D2}T{time}")];

    // Expected values are the examples of RFC 5545 section 3.8.5.3, all in America/New_York.
    [Fact]
    public void Daily_for_ten_occurrences() =>
        Local(Event("19970902T0900", "FREQ=DAILY;COUNT=10")).ShouldBe(Days("199709", "0900", 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));

    [Fact]
    public void Every_other_day_forever() =>
        Local(Event("19970902T0900", "FREQ=DAILY;INTERVAL=2"), take: 5).ShouldBe(Days("199709", "0900", 2, 4, 6, 8, 10));

    [Fact]
    public void Weekly_stays_at_nine_local_across_the_dst_change()
    {
        var evt = Event("19970902T0900", "FREQ=WEEKLY;COUNT=10");

        Local(evt).ShouldBe([.. Days("199709", "0900", 2, 9, 16, 23, 30), .. Days("199710", "0900", 7, 14, 21, 28), "19971104T0900"]);
        var set = RecurrenceExpander.Expand(evt, Instant.FromUtc(1997, 10, 20, 0, 0), Instant.FromUtc(1997, 11, 1, 0, 0), NewYork);
        set.Occurrences.Select(o => o.Start).ShouldBe([Instant.FromUtc(1997, 10, 21, 13, 0), Instant.FromUtc(1997, 10, 28, 14, 0)]);
    }

    [Fact]
    public void Weekly_on_tuesday_and_thursday_until() =>
        Local(Event("19970902T0900", "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH"))
            .ShouldBe([.. Days("199709", "0900", 2, 4, 9, 11, 16, 18, 23, 25, 30), "19971002T0900"]);

    [Fact]
    public void Every_other_week_on_monday_wednesday_friday_until() =>
        Local(Event("19970902T0900", "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR"))
            .ShouldBe(
            [
                .. Days("199709", "0900", 2, 3, 5, 15, 17, 19, 29),
                .. Days("199710", "0900", 1, 3, 13, 15, 17, 27, 29, 31),
                .. Days("199711", "0900", 10, 12, 14, 24, 26, 28),
                .. Days("199712", "0900", 8, 10, 12, 22),
            ]);

    [Theory]
    [InlineData("MO", new[] { 5, 10, 19, 24 })]
    [InlineData("SU", new[] { 5, 17, 19, 31 })]
    public void Week_start_changes_which_days_an_every_other_week_rule_picks(string weekStart, int[] augustDays) =>
        Local(Event("19970805T0900", $"FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST={weekStart}"))
            .ShouldBe(Days("199708", "0900", augustDays));

    [Fact]
    public void Monthly_on_the_first_friday() =>
        Local(Event("19970905T0900", "FREQ=MONTHLY;COUNT=10;BYDAY=1FR")).ShouldBe(
        [
            "19970905T0900", "19971003T0900", "19971107T0900", "19971205T0900", "19980102T0900",
            "19980206T0900", "19980306T0900", "19980403T0900", "19980501T0900", "19980605T0900",
        ]);

    [Fact]
    public void Monthly_on_the_second_to_last_monday() =>
        Local(Event("19970922T0900", "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO")).ShouldBe(
            ["19970922T0900", "19971020T0900", "19971117T0900", "19971222T0900", "19980119T0900", "19980216T0900"]);

    [Fact]
    public void Last_work_day_of_the_month_with_bysetpos() =>
        Local(Event("19970930T0900", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"), take: 7).ShouldBe(
            ["19970930T0900", "19971031T0900", "19971128T0900", "19971231T0900", "19980130T0900", "19980227T0900", "19980331T0900"]);

    [Fact]
    public void Third_tuesday_wednesday_or_thursday_with_bysetpos() =>
        Local(Event("19970904T0900", "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3"))
            .ShouldBe(["19970904T0900", "19971007T0900", "19971106T0900"]);

    [Fact]
    public void Last_friday_of_every_month() =>
        Local(Event("20270129T1000", "FREQ=MONTHLY;BYDAY=-1FR;COUNT=4"))
            .ShouldBe(["20270129T1000", "20270226T1000", "20270326T1000", "20270430T1000"]);

    [Fact]
    public void Monthly_on_the_second_and_fifteenth() =>
        Local(Event("19970902T0900", "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15")).ShouldBe(
        [
            "19970902T0900", "19970915T0900", "19971002T0900", "19971015T0900", "19971102T0900",
            "19971115T0900", "19971202T0900", "19971215T0900", "19980102T0900", "19980115T0900",
        ]);

    [Fact]
    public void Third_to_last_day_of_the_month() =>
        Local(Event("19970928T0900", "FREQ=MONTHLY;BYMONTHDAY=-3"), take: 6).ShouldBe(
            ["19970928T0900", "19971029T0900", "19971128T0900", "19971229T0900", "19980129T0900", "19980226T0900"]);

    [Fact]
    public void Invalid_dates_are_skipped_not_moved() =>
        Local(Event("20070115T0900", "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5"))
            .ShouldBe(["20070115T0900", "20070130T0900", "20070215T0900", "20070315T0900", "20070330T0900"]);

    [Fact]
    public void Yearly_in_june_and_july() =>
        Local(Event("19970610T0900", "FREQ=YEARLY;COUNT=10;BYMONTH=6,7")).ShouldBe(
            [.. Enumerable.Range(1997, 5).SelectMany(y => new[] { $"{y}0610T0900", $"{y}0710T0900" })]);

    [Fact]
    public void Every_thursday_in_march() =>
        Local(Event("19970313T0900", "FREQ=YEARLY;BYMONTH=3;BYDAY=TH"), take: 11).ShouldBe(
        [
            .. Days("199703", "0900", 13, 20, 27), .. Days("199803", "0900", 5, 12, 19, 26), .. Days("199903", "0900", 4, 11, 18, 25),
        ]);

    [Fact]
    public void Monday_of_week_twenty() =>
        Local(Event("19970512T0900", "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO"), take: 3).ShouldBe(["19970512T0900", "19980511T0900", "19990517T0900"]);

    [Fact]
    public void Twentieth_monday_of_the_year() =>
        Local(Event("19970519T0900", "FREQ=YEARLY;BYDAY=20MO"), take: 3).ShouldBe(["19970519T0900", "19980518T0900", "19990517T0900"]);

    [Fact]
    public void Every_third_year_on_days_of_the_year() =>
        Local(Event("19970101T0900", "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200"), years: 12).ShouldBe(
        [
            "19970101T0900", "19970410T0900", "19970719T0900", "20000101T0900", "20000409T0900",
            "20000718T0900", "20030101T0900", "20030410T0900", "20030719T0900", "20060101T0900",
        ]);

    [Fact]
    public void Friday_the_thirteenth_with_dtstart_excluded() =>
        Local(Event("19970902T0900", "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", null, "19970902T0900"), take: 5)
            .ShouldBe(["19980213T0900", "19980313T0900", "19981113T0900", "19990813T0900", "20001013T0900"]);

    [Fact]
    public void Us_presidential_election_day() =>
        Local(Event("19961105T0900", "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8"), take: 3)
            .ShouldBe(["19961105T0900", "20001107T0900", "20041102T0900"]);

    [Fact]
    public void Every_fifteen_minutes_six_times() =>
        Local(Event("19970902T0900", "FREQ=MINUTELY;INTERVAL=15;COUNT=6"))
            .ShouldBe(["19970902T0900", "19970902T0915", "19970902T0930", "19970902T0945", "19970902T1000", "19970902T1015"]);

    [Fact]
    public void Every_twenty_minutes_during_office_hours()
    {
        var first = Local(Event("19970902T0900", "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40"), take: 25);

        first.Take(3).ShouldBe(["19970902T0900", "19970902T0920", "19970902T0940"]);
        first[23].ShouldBe("19970902T1640");
        first[24].ShouldBe("19970903T0900");
    }

    [Fact]
    public void Weekly_meeting_in_london_keeps_its_local_time_across_both_2027_changes()
    {
        var evt = Event("20270322T0900", "FREQ=WEEKLY;BYDAY=MO", London);

        var set = RecurrenceExpander.Expand(evt, Instant.FromUtc(2027, 3, 20, 0, 0), Instant.FromUtc(2027, 11, 10, 0, 0), London);

        set.Occurrences.ShouldAllBe(o => o.Start.InZone(London).TimeOfDay == new LocalTime(9, 0));
        set.Occurrences.First(o => o.Start.InZone(London).Date == new LocalDate(2027, 3, 22)).Start.ShouldBe(Instant.FromUtc(2027, 3, 22, 9, 0));
        set.Occurrences.First(o => o.Start.InZone(London).Date == new LocalDate(2027, 3, 29)).Start.ShouldBe(Instant.FromUtc(2027, 3, 29, 8, 0));
        set.Occurrences.First(o => o.Start.InZone(London).Date == new LocalDate(2027, 11, 1)).Start.ShouldBe(Instant.FromUtc(2027, 11, 1, 9, 0));
        set.Occurrences.ShouldAllBe(o => o.End - o.Start == Duration.FromHours(1));
    }

    [Fact]
    public void Local_times_in_the_spring_gap_move_forward_and_in_the_autumn_overlap_take_the_first()
    {
        var gap = Event("20270313T0230", "FREQ=DAILY;COUNT=3");
        var overlap = Event("20271106T0130", "FREQ=DAILY;COUNT=3");

        var gapStarts = RecurrenceExpander.Expand(gap, Instant.FromUtc(2027, 3, 1, 0, 0), Instant.FromUtc(2027, 4, 1, 0, 0), NewYork)
            .Occurrences.Select(o => o.Start).ToList();
        var overlapStarts = RecurrenceExpander.Expand(overlap, Instant.FromUtc(2027, 11, 1, 0, 0), Instant.FromUtc(2027, 12, 1, 0, 0), NewYork)
            .Occurrences.Select(o => o.Start).ToList();

        // 02:30 does not exist on 2027-03-14: read with the offset before the gap (-05:00), i.e. 03:30 EDT.
        gapStarts.ShouldBe([Instant.FromUtc(2027, 3, 13, 7, 30), Instant.FromUtc(2027, 3, 14, 7, 30), Instant.FromUtc(2027, 3, 15, 6, 30)]);

        // 01:30 happens twice on 2027-11-07: the first (EDT, -04:00) is meant.
        overlapStarts.ShouldBe([Instant.FromUtc(2027, 11, 6, 5, 30), Instant.FromUtc(2027, 11, 7, 5, 30), Instant.FromUtc(2027, 11, 8, 6, 30)]);
    }

    [Fact]
    public void Kathmandu_and_lord_howe_offsets_are_honoured()
    {
        var kathmandu = DateTimeZoneProviders.Tzdb["Asia/Kathmandu"];
        var lordHowe = DateTimeZoneProviders.Tzdb["Australia/Lord_Howe"];

        var k = RecurrenceExpander.Expand(Event("20270101T0900", "FREQ=DAILY;COUNT=2", kathmandu), Instant.FromUtc(2026, 12, 1, 0, 0), Instant.FromUtc(2027, 2, 1, 0, 0), kathmandu);
        var lh = RecurrenceExpander.Expand(Event("20270403T0900", "FREQ=DAILY;COUNT=2", lordHowe), Instant.FromUtc(2027, 3, 1, 0, 0), Instant.FromUtc(2027, 5, 1, 0, 0), lordHowe);

        k.Occurrences[0].Start.ShouldBe(Instant.FromUtc(2027, 1, 1, 3, 15));

        // Lord Howe leaves its 30-minute DST on the first Sunday of April 2027 (+11:00 -> +10:30).
        lh.Occurrences.Select(o => o.Start).ShouldBe([Instant.FromUtc(2027, 4, 2, 22, 0), Instant.FromUtc(2027, 4, 3, 22, 30)]);
    }

    [Fact]
    public void Window_far_after_dtstart_gives_the_same_occurrences_as_walking_from_the_start()
    {
        var evt = Event("19900105T0800", "FREQ=WEEKLY;INTERVAL=3;BYDAY=FR,MO");
        var from = Instant.FromUtc(2027, 6, 1, 0, 0);
        var to = Instant.FromUtc(2027, 8, 1, 0, 0);

        var fast = RecurrenceExpander.Expand(evt, from, to, NewYork).Occurrences.Select(o => o.Start).ToList();
        var slow = RecurrenceExpander.Expand(evt, evt.Start!.Value.ToInstant(NewYork), to, NewYork).Occurrences
            .Select(o => o.Start).Where(s => s >= from).ToList();

        fast.ShouldNotBeEmpty();
        fast.ShouldBe(slow);
    }

    [Fact]
    public void Unbounded_high_frequency_rules_are_capped_and_reported()
    {
        var evt = Event("20000101T0000", "FREQ=SECONDLY");

        var set = RecurrenceExpander.Expand(evt, Instant.FromUtc(2000, 1, 1, 0, 0), Instant.FromUtc(2100, 1, 1, 0, 0), NewYork);

        set.IsTruncated.ShouldBeTrue();
        set.Occurrences.Count.ShouldBeLessThanOrEqualTo(RecurrenceExpansionOptions.Default.MaxOccurrences);
    }

    [Fact]
    public void A_rule_that_never_matches_ends_without_looping_forever()
    {
        var set = RecurrenceExpander.Expand(Event("20000101T0000", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"), Instant.FromUtc(2000, 1, 2, 0, 0), Instant.MaxValue, NewYork);

        set.Occurrences.ShouldBeEmpty();
    }

    [Fact]
    public void Caps_are_configurable()
    {
        var set = RecurrenceExpander.Expand(
            Event("20000101T0900", "FREQ=DAILY"),
            Instant.FromUtc(2000, 1, 1, 0, 0),
            Instant.FromUtc(2001, 1, 1, 0, 0),
            NewYork,
            new RecurrenceExpansionOptions { MaxOccurrences = 10 });

        set.IsTruncated.ShouldBeTrue();
        set.Occurrences.Count.ShouldBe(10);
    }

    [Fact]
    public void Rdate_exdate_and_overrides_combine()
    {
        var master = Event("20270301T0900", "FREQ=WEEKLY;COUNT=4") with
        {
            RecurrenceDates = [new RecurrenceDate(CalendarDateTime.FromInstant(Instant.FromUtc(2027, 3, 20, 15, 0)))],
            ExceptionDates = [CalendarDateTime.InZone(new LocalDateTime(2027, 3, 8, 9, 0), NewYork)],
        };
        var moved = master with
        {
            RecurrenceRules = [],
            RecurrenceDates = [],
            ExceptionDates = [],
            RecurrenceId = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 15, 9, 0), NewYork),
            Start = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 16, 14, 0), NewYork),
            End = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 16, 15, 0), NewYork),
        };
        var cancelled = moved with
        {
            RecurrenceId = CalendarDateTime.FromInstant(Instant.FromUtc(2027, 3, 22, 13, 0)),
            Start = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 22, 9, 0), NewYork),
            End = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 22, 10, 0), NewYork),
            Status = EventStatus.Cancelled,
        };

        var set = RecurrenceExpander.Expand(master, [moved, cancelled], Instant.FromUtc(2027, 1, 1, 0, 0), Instant.FromUtc(2028, 1, 1, 0, 0), NewYork);

        set.Occurrences.Select(o => (Pattern.Format(o.Start.InZone(NewYork).LocalDateTime), o.IsOverride)).ShouldBe(
        [
            ("20270301T0900", false),
            ("20270316T1400", true),
            ("20270320T1100", false),
            ("20270322T0900", true),
        ]);
        set.Occurrences[1].RecurrenceId.ShouldBe(moved.RecurrenceId);
        set.Occurrences[3].Event.Status.ShouldBe(EventStatus.Cancelled);
        set.Occurrences[0].RecurrenceId.ShouldBe(CalendarDateTime.InZone(new LocalDateTime(2027, 3, 1, 9, 0), NewYork));
    }

    [Fact]
    public void All_day_series_overrides_and_exdates_match_by_day()
    {
        var calendar = ICalendarReader.Parse(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nDTSTART;VALUE=DATE:20270301\nRRULE:FREQ=DAILY;COUNT=5\nEXDATE:20270302T000000Z\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:d\nRECURRENCE-ID;VALUE=DATE:20270304\nDTSTART;VALUE=DATE:20270310\nEND:VEVENT\nEND:VCALENDAR\n");

        var days = calendar.GetOccurrences(Instant.FromUtc(2027, 2, 1, 0, 0), Instant.FromUtc(2027, 4, 1, 0, 0), NewYork).Occurrences
            .Select(o => o.Start.InZone(NewYork).Day);

        days.ShouldBe([1, 3, 5, 10]);
    }

    [Fact]
    public void Override_without_dtstart_keeps_the_original_slot_and_length()
    {
        var master = Event("20270301T0900", "FREQ=DAILY;COUNT=3");
        var renamed = new CalendarEvent
        {
            Uid = "x",
            RecurrenceId = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 2, 9, 0), NewYork),
            Summary = "Renamed",
        };

        var set = RecurrenceExpander.Expand(master, [renamed], Instant.FromUtc(2027, 3, 1, 0, 0), Instant.FromUtc(2027, 3, 5, 0, 0), NewYork);

        set.Occurrences.Count.ShouldBe(3);
        set.Occurrences[1].Event.Summary.ShouldBe("Renamed");
        set.Occurrences[1].Interval.ShouldBe(new Interval(Instant.FromUtc(2027, 3, 2, 14, 0), Instant.FromUtc(2027, 3, 2, 15, 0)));
    }

    [Fact]
    public void An_instance_that_is_both_excluded_and_overridden_stays_excluded()
    {
        var master = Event("20270301T0900", "FREQ=DAILY;COUNT=3", null, "20270302T0900");
        var moved = master with
        {
            RecurrenceRules = [],
            ExceptionDates = [],
            RecurrenceId = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 2, 9, 0), NewYork),
            Start = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 2, 12, 0), NewYork),
            End = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 2, 13, 0), NewYork),
        };

        RecurrenceExpander.Expand(master, [moved], Instant.FromUtc(2027, 3, 1, 0, 0), Instant.FromUtc(2027, 3, 5, 0, 0), NewYork)
            .Occurrences.Select(o => o.Start.InZone(NewYork).Day).ShouldBe([1, 3]);
    }

    [Fact]
    public void Duration_is_nominal_per_instance_but_dtend_is_exact()
    {
        var withDuration = new CalendarEvent
        {
            Start = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 13, 12, 0), NewYork),
            Duration = CalendarDuration.FromDays(1),
            RecurrenceRules = [RecurrenceRule.Parse("FREQ=DAILY;COUNT=2")],
        };
        var withEnd = withDuration with { Duration = null, End = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 14, 12, 0), NewYork) };

        var nominal = RecurrenceExpander.Expand(withDuration, Instant.FromUtc(2027, 3, 1, 0, 0), Instant.FromUtc(2027, 4, 1, 0, 0), NewYork).Occurrences;
        var exact = RecurrenceExpander.Expand(withEnd, Instant.FromUtc(2027, 3, 1, 0, 0), Instant.FromUtc(2027, 4, 1, 0, 0), NewYork).Occurrences;

        // The first instance spans the spring-forward night: one local day is 23 hours long.
        nominal[0].Interval.Duration.ShouldBe(Duration.FromHours(23));
        nominal[1].Interval.Duration.ShouldBe(Duration.FromHours(24));
        exact.ShouldAllBe(o => o.Interval.Duration == Duration.FromHours(23));
    }

    [Theory]
    [InlineData("FREQ=WEEKLY;COUNT=2;UNTIL=20270101T000000Z")]
    [InlineData("COUNT=2")]
    [InlineData("FREQ=FORTNIGHTLY")]
    [InlineData("FREQ=DAILY;BYMONTH=13")]
    [InlineData("FREQ=DAILY;BYDAY=XX")]
    [InlineData("FREQ=MONTHLY;BYDAY=0MO")]
    [InlineData("FREQ=DAILY;INTERVAL=0")]
    [InlineData("FREQ=DAILY;UNTIL=2027")]
    [InlineData("FREQ=DAILY;FREQ=WEEKLY")]
    [InlineData("FREQ=DAILY;garbage")]
    public void Invalid_rules_are_rejected(string rule)
    {
        RecurrenceRule.TryParse(rule, out _).ShouldBeFalse();
        Should.Throw<ICalendarParseException>(() => RecurrenceRule.Parse(rule)).Kind.ShouldBe(ICalendarErrorKind.InvalidRecurrenceRule);
    }

    [Theory]
    [InlineData("FREQ=MONTHLY;BYMONTH=1,3")]
    [InlineData("FREQ=DAILY;UNTIL=20121011")]
    [InlineData("FREQ=DAILY;UNTIL=20121011T121314")]
    [InlineData("FREQ=DAILY;UNTIL=20121011T121314Z")]
    [InlineData("FREQ=YEARLY;INTERVAL=2;BYMONTH=1;BYDAY=SU;BYHOUR=8,9;BYMINUTE=30")]
    [InlineData("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;WKST=SU")]
    [InlineData("FREQ=YEARLY;BYWEEKNO=-1;BYYEARDAY=-1,100;BYMONTHDAY=-31;BYSECOND=0,60;X-NAME=kept")]
    public void Valid_rules_round_trip_through_text(string rule)
    {
        var parsed = RecurrenceRule.Parse(rule);

        RecurrenceRule.Parse(parsed.ToString()).ToString().ShouldBe(parsed.ToString());
        parsed.ToString().ShouldStartWith("FREQ=");
    }

    [Fact]
    public void Rule_parts_are_read_as_written()
    {
        var rule = RecurrenceRule.Parse("freq=monthly;byday=1mo,-1fr,TU;wkst=su;until=20121011T121314Z");

        rule.Frequency.ShouldBe(RecurrenceFrequency.Monthly);
        rule.ByDay.ShouldBe([new WeekdayOccurrence(IsoDayOfWeek.Monday, 1), new WeekdayOccurrence(IsoDayOfWeek.Friday, -1), new WeekdayOccurrence(IsoDayOfWeek.Tuesday)]);
        rule.WeekStart.ShouldBe(IsoDayOfWeek.Sunday);
        rule.Until.ShouldBe(CalendarDateTime.FromInstant(Instant.FromUtc(2012, 10, 11, 12, 13, 14)));
        rule.ToString().ShouldBe("FREQ=MONTHLY;UNTIL=20121011T121314Z;BYDAY=1MO,-1FR,TU;WKST=SU");
        string.Create(CultureInfo.InvariantCulture, $"{rule.Interval}").ShouldBe("1");
    }
}

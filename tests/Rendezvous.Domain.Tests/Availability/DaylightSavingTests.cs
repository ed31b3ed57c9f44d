using NodaTime.Testing.TimeZones;
using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Tests.Support;
using static Rendezvous.Domain.Tests.Support.Pages;

namespace Rendezvous.Domain.Tests.Availability;

/// <summary>
/// Exact slot instants on the days that break naive code. Windows are local times in the page's zone: a spring gap
/// shortens a window, an autumn overlap lengthens one that covers it (both copies of the repeated time are offered),
/// and a slot is offered only when every instant of it reads as a time inside the window.
/// </summary>
public class DaylightSavingTests
{
    private static IReadOnlyList<Slot> Slots(DateTimeZone zone, LocalDate day, IReadOnlyList<WeeklyHours> hours, int minutes, Instant? now = null) =>
        AvailabilityEngine.ComputeSlots(Page(zone, hours, minutes), Day(day, zone, now ?? day.PlusDays(-10).AtStartOfDayInZone(zone).ToInstant()));

    // America/New_York, Sunday 2027-03-14: 02:00 EST becomes 03:00 EDT (07:00Z).

    [Fact]
    public void New_york_spring_forward_night_has_three_hourly_slots_between_midnight_and_four()
    {
        var slots = Slots(Zones.NewYork, new LocalDate(2027, 3, 14), EveryDay(Hours("00:00", "04:00")), 60);

        slots.Starts().ShouldBe(Instants("2027-03-14T05:00:00Z", "2027-03-14T06:00:00Z", "2027-03-14T07:00:00Z"));
        slots.LocalStarts(Zones.NewYork).ShouldBe(["2027-03-14 00:00", "2027-03-14 01:00", "2027-03-14 03:00"]);
    }

    [Fact]
    public void New_york_spring_forward_night_has_six_half_hour_slots_between_midnight_and_four()
    {
        var slots = Slots(Zones.NewYork, new LocalDate(2027, 3, 14), EveryDay(Hours("00:00", "04:00")), 30);

        slots.Starts().ShouldBe(Instants(
            "2027-03-14T05:00:00Z", "2027-03-14T05:30:00Z", "2027-03-14T06:00:00Z",
            "2027-03-14T06:30:00Z", "2027-03-14T07:00:00Z", "2027-03-14T07:30:00Z"));
    }

    [Fact]
    public void New_york_window_opening_inside_the_gap_opens_when_the_clock_reaches_three()
    {
        var slots = Slots(Zones.NewYork, new LocalDate(2027, 3, 14), EveryDay(Hours("02:30", "04:00")), 30);

        slots.Starts().ShouldBe(Instants("2027-03-14T07:00:00Z", "2027-03-14T07:30:00Z"));
    }

    [Fact]
    public void New_york_slot_may_run_across_the_gap()
    {
        var slots = Slots(Zones.NewYork, new LocalDate(2027, 3, 14), EveryDay(Hours("01:00", "03:00")), 60);

        slots.ShouldBe([new Slot(Instant("2027-03-14T06:00:00Z"), Instant("2027-03-14T07:00:00Z"), 1)]);
    }

    [Fact]
    public void New_york_office_hours_move_one_hour_earlier_in_utc_across_the_change()
    {
        var page = Page(Zones.NewYork, EveryDay(Hours("09:00", "10:00")));
        var query = Query(new LocalDate(2027, 3, 13), new LocalDate(2027, 3, 14), Zones.NewYork, Utc.At(2027, 3, 1, 0));

        AvailabilityEngine.ComputeSlots(page, query).Starts().ShouldBe(Instants("2027-03-13T14:00:00Z", "2027-03-14T13:00:00Z"));
    }

    // America/New_York, Sunday 2027-11-07: 02:00 EDT becomes 01:00 EST (06:00Z); 01:00-02:00 happens twice.

    [Fact]
    public void New_york_fall_back_night_keeps_both_copies_of_the_repeated_hour()
    {
        var slots = Slots(Zones.NewYork, new LocalDate(2027, 11, 7), EveryDay(Hours("00:00", "04:00")), 60);

        slots.Starts().ShouldBe(Instants(
            "2027-11-07T04:00:00Z", "2027-11-07T05:00:00Z", "2027-11-07T06:00:00Z", "2027-11-07T07:00:00Z", "2027-11-07T08:00:00Z"));
        slots.LocalStarts(Zones.NewYork).ShouldBe(["2027-11-07 00:00", "2027-11-07 01:00", "2027-11-07 01:00", "2027-11-07 02:00", "2027-11-07 03:00"]);
    }

    [Fact]
    public void New_york_window_that_is_exactly_the_repeated_hour_holds_two_slots()
    {
        var slots = Slots(Zones.NewYork, new LocalDate(2027, 11, 7), EveryDay(Hours("01:00", "02:00")), 60);

        slots.Starts().ShouldBe(Instants("2027-11-07T05:00:00Z", "2027-11-07T06:00:00Z"));
        slots.Select(s => s.Start.InZone(Zones.NewYork).Offset).ShouldBe([Offset.FromHours(-4), Offset.FromHours(-5)]);
    }

    [Fact]
    public void New_york_window_opening_inside_the_repeated_hour_never_offers_a_time_before_its_opening()
    {
        var slots = Slots(Zones.NewYork, new LocalDate(2027, 11, 7), EveryDay(Hours("01:30", "04:00")), 30);

        // 01:30 EDT, then 01:30 EST onwards; 01:00-01:29 EST reads as before the opening and is not offered.
        slots.Starts().ShouldBe(Instants(
            "2027-11-07T05:30:00Z", "2027-11-07T06:30:00Z", "2027-11-07T07:00:00Z",
            "2027-11-07T07:30:00Z", "2027-11-07T08:00:00Z", "2027-11-07T08:30:00Z"));
    }

    [Fact]
    public void New_york_window_closing_inside_the_repeated_hour_keeps_the_part_before_closing_from_both_copies()
    {
        var slots = Slots(Zones.NewYork, new LocalDate(2027, 11, 7), EveryDay(Hours("00:00", "01:30")), 30);

        slots.Starts().ShouldBe(Instants("2027-11-07T04:00:00Z", "2027-11-07T04:30:00Z", "2027-11-07T05:00:00Z", "2027-11-07T06:00:00Z"));
        slots.LocalStarts(Zones.NewYork).ShouldBe(["2027-11-07 00:00", "2027-11-07 00:30", "2027-11-07 01:00", "2027-11-07 01:00"]);
    }

    [Fact]
    public void New_york_touching_windows_across_the_repeated_hour_offer_each_instant_once()
    {
        var hours = EveryDay(Hours("00:00", "01:30"), Hours("01:30", "03:00"));

        var slots = Slots(Zones.NewYork, new LocalDate(2027, 11, 7), hours, 30);

        slots.Starts().ShouldBe([.. Enumerable.Range(0, 8).Select(i => Instant("2027-11-07T04:00:00Z") + Duration.FromMinutes(30 * i))]);
    }

    // Europe/London, Sunday 2027-03-28: 01:00 GMT becomes 02:00 BST.

    [Fact]
    public void London_spring_forward_night_skips_the_missing_hour()
    {
        var slots = Slots(Zones.London, new LocalDate(2027, 3, 28), EveryDay(Hours("00:00", "03:00")), 60);

        slots.Starts().ShouldBe(Instants("2027-03-28T00:00:00Z", "2027-03-28T01:00:00Z"));
        slots.LocalStarts(Zones.London).ShouldBe(["2027-03-28 00:00", "2027-03-28 02:00"]);
    }

    [Fact]
    public void London_office_hours_are_in_summer_time_on_the_day_of_the_change()
    {
        Slots(Zones.London, new LocalDate(2027, 3, 28), EveryDay(Hours("09:00", "12:00")), 60)
            .Starts().ShouldBe(Instants("2027-03-28T08:00:00Z", "2027-03-28T09:00:00Z", "2027-03-28T10:00:00Z"));
    }

    // Europe/London, Sunday 2027-10-31: 02:00 BST becomes 01:00 GMT.

    [Fact]
    public void London_fall_back_night_has_four_hourly_slots_between_midnight_and_three()
    {
        var slots = Slots(Zones.London, new LocalDate(2027, 10, 31), EveryDay(Hours("00:00", "03:00")), 60);

        slots.Starts().ShouldBe(Instants("2027-10-30T23:00:00Z", "2027-10-31T00:00:00Z", "2027-10-31T01:00:00Z", "2027-10-31T02:00:00Z"));
        slots.LocalStarts(Zones.London).ShouldBe(["2027-10-31 00:00", "2027-10-31 01:00", "2027-10-31 01:00", "2027-10-31 02:00"]);
    }

    [Fact]
    public void London_fall_back_midnight_slot_is_listed_on_the_previous_utc_day()
    {
        var page = Page(Zones.London, On(IsoDayOfWeek.Sunday, Hours("00:00", "03:00")));
        var now = Utc.At(2027, 10, 1, 0);

        AvailabilityEngine.ComputeSlots(page, Day(new LocalDate(2027, 10, 30), DateTimeZone.Utc, now)).Starts()
            .ShouldBe(Instants("2027-10-30T23:00:00Z"));
        AvailabilityEngine.ComputeSlots(page, Day(new LocalDate(2027, 10, 31), DateTimeZone.Utc, now)).Starts()
            .ShouldBe(Instants("2027-10-31T00:00:00Z", "2027-10-31T01:00:00Z", "2027-10-31T02:00:00Z"));
    }

    // Asia/Kathmandu is UTC+05:45 all year.

    [Fact]
    public void Kathmandu_slots_sit_on_quarter_past_utc()
    {
        var slots = Slots(Zones.Kathmandu, new LocalDate(2027, 3, 15), Weekdays(Hours("09:00", "12:00")), 60);

        slots.Starts().ShouldBe(Instants("2027-03-15T03:15:00Z", "2027-03-15T04:15:00Z", "2027-03-15T05:15:00Z"));
    }

    [Fact]
    public void Kathmandu_midnight_slot_falls_on_the_previous_day_for_utc_and_india_visitors()
    {
        var page = Page(Zones.Kathmandu, On(IsoDayOfWeek.Monday, Hours("00:00", "01:00")), 30);
        var now = Utc.At(2027, 3, 1, 0);
        var kolkata = Zones.Get("Asia/Kolkata");

        var sundayUtc = AvailabilityEngine.ComputeSlots(page, Day(new LocalDate(2027, 3, 14), DateTimeZone.Utc, now));
        var mondayUtc = AvailabilityEngine.ComputeSlots(page, Day(new LocalDate(2027, 3, 15), DateTimeZone.Utc, now));
        var sundayIndia = AvailabilityEngine.ComputeSlots(page, Day(new LocalDate(2027, 3, 14), kolkata, now));
        var mondayIndia = AvailabilityEngine.ComputeSlots(page, Day(new LocalDate(2027, 3, 15), kolkata, now));

        sundayUtc.Starts().ShouldBe(Instants("2027-03-14T18:15:00Z", "2027-03-14T18:45:00Z"));
        mondayUtc.ShouldBeEmpty();
        sundayIndia.LocalStarts(kolkata).ShouldBe(["2027-03-14 23:45"]);
        mondayIndia.LocalStarts(kolkata).ShouldBe(["2027-03-15 00:15"]);
    }

    // Australia/Lord_Howe moves its clocks by 30 minutes: +10:30 in winter, +11:00 in summer.

    private static (ZoneInterval WinterStarts, ZoneInterval SummerStarts) LordHoweChanges2027()
    {
        var changes = Zones.TransitionsIn(Zones.LordHowe, 2027);
        changes.Count.ShouldBe(2);
        var winter = changes.Single(c => c.WallOffset == Offset.FromHoursAndMinutes(10, 30));
        var summer = changes.Single(c => c.WallOffset == Offset.FromHours(11));
        return (winter, summer);
    }

    [Fact]
    public void Lord_howe_changes_clocks_on_the_first_sundays_of_april_and_october_2027()
    {
        var (winter, summer) = LordHoweChanges2027();

        winter.Start.InZone(Zones.LordHowe).LocalDateTime.ShouldBe(new LocalDateTime(2027, 4, 4, 1, 30));
        summer.Start.InZone(Zones.LordHowe).LocalDateTime.ShouldBe(new LocalDateTime(2027, 10, 3, 2, 30));
    }

    [Fact]
    public void Lord_howe_spring_night_loses_half_an_hour()
    {
        var (_, summer) = LordHoweChanges2027();
        var change = summer.Start;
        var day = change.InZone(Zones.LordHowe).Date;

        var slots = Slots(Zones.LordHowe, day, EveryDay(Hours("00:00", "04:00")), 30);

        slots.Starts().ShouldBe([.. new[] { -120, -90, -60, -30, 0, 30, 60 }.Select(m => change + Duration.FromMinutes(m))]);
        slots.LocalStarts(Zones.LordHowe).Select(s => s[11..]).ShouldBe(["00:00", "00:30", "01:00", "01:30", "02:30", "03:00", "03:30"]);
    }

    [Fact]
    public void Lord_howe_autumn_night_repeats_half_an_hour()
    {
        var (winter, _) = LordHoweChanges2027();
        var change = winter.Start;
        var day = change.InZone(Zones.LordHowe).Date;

        var halfHours = Slots(Zones.LordHowe, day, EveryDay(Hours("00:00", "04:00")), 30);
        var hours = Slots(Zones.LordHowe, day, EveryDay(Hours("00:00", "04:00")), 60);

        halfHours.Starts().ShouldBe([.. Enumerable.Range(-4, 9).Select(i => change + Duration.FromMinutes(30 * i))]);
        halfHours.LocalStarts(Zones.LordHowe).Select(s => s[11..])
            .ShouldBe(["00:00", "00:30", "01:00", "01:30", "01:30", "02:00", "02:30", "03:00", "03:30"]);
        hours.Starts().ShouldBe([.. new[] { -120, -60, 0, 60 }.Select(m => change + Duration.FromMinutes(m))]);
    }

    // Pacific/Apia skipped Friday 2011-12-30 entirely: Thursday 29th at -10:00 was followed by Saturday 31st at +14:00.

    private static readonly Instant BeforeApiaJump = Utc.At(2011, 12, 1, 0);

    private static BookingPageSettings ApiaNineToFive() => Page(Zones.Apia, EveryDay(Hours("09:00", "17:00")));

    [Fact]
    public void Apia_has_no_slots_on_the_day_that_does_not_exist()
    {
        var slots = AvailabilityEngine.ComputeSlots(ApiaNineToFive(), Day(new LocalDate(2011, 12, 30), Zones.Apia, BeforeApiaJump));

        slots.ShouldBeEmpty();
    }

    [Fact]
    public void Apia_days_around_the_missing_day_have_their_usual_slots()
    {
        var slots = AvailabilityEngine.ComputeSlots(ApiaNineToFive(), Query(new LocalDate(2011, 12, 29), new LocalDate(2011, 12, 31), Zones.Apia, BeforeApiaJump));

        slots.Count.ShouldBe(16);
        slots.Take(8).Starts().ShouldBe([.. Enumerable.Range(0, 8).Select(h => Instant("2011-12-29T19:00:00Z") + Duration.FromHours(h))]);
        slots.Skip(8).Starts().ShouldBe([.. Enumerable.Range(0, 8).Select(h => Instant("2011-12-30T19:00:00Z") + Duration.FromHours(h))]);
        slots.LocalStarts(Zones.Apia).Select(s => s[..10]).Distinct().ShouldBe(["2011-12-29", "2011-12-31"]);
    }

    [Fact]
    public void Apia_thursday_alone_can_be_listed()
    {
        var slots = AvailabilityEngine.ComputeSlots(ApiaNineToFive(), Day(new LocalDate(2011, 12, 29), Zones.Apia, BeforeApiaJump));

        slots.Count.ShouldBe(8);
        slots[^1].Start.ShouldBe(Instant("2011-12-30T02:00:00Z"));
    }

    [Fact]
    public void Apia_thursday_evening_runs_straight_into_saturday()
    {
        var page = Page(Zones.Apia, EveryDay(Hours("20:00", "24:00"), Hours("00:00", "02:00")));

        var slots = AvailabilityEngine.ComputeSlots(page, Query(new LocalDate(2011, 12, 29), new LocalDate(2011, 12, 31), Zones.Apia, BeforeApiaJump));

        slots.LocalStarts(Zones.Apia).ShouldBe([
            "2011-12-29 00:00", "2011-12-29 01:00", "2011-12-29 20:00", "2011-12-29 21:00", "2011-12-29 22:00", "2011-12-29 23:00",
            "2011-12-31 00:00", "2011-12-31 01:00", "2011-12-31 20:00", "2011-12-31 21:00", "2011-12-31 22:00", "2011-12-31 23:00",
        ]);
        slots[5].End.ShouldBe(slots[6].Start);
    }

    [Fact]
    public void Apia_days_seen_from_utc_follow_one_another_without_a_hole()
    {
        var slots = AvailabilityEngine.ComputeSlots(ApiaNineToFive(), Query(new LocalDate(2011, 12, 29), new LocalDate(2011, 12, 31), DateTimeZone.Utc, BeforeApiaJump));

        // Each UTC day holds the end of one Apia day and the start of the next; the 30th joins Thursday to Saturday.
        slots.GroupBy(s => (Utc: s.Start.InUtc().Date, Apia: s.Start.InZone(Zones.Apia).Date)).Select(g => (g.Key.Utc, g.Key.Apia, g.Count())).ShouldBe(
        [
            (new LocalDate(2011, 12, 29), new LocalDate(2011, 12, 28), 3),
            (new LocalDate(2011, 12, 29), new LocalDate(2011, 12, 29), 5),
            (new LocalDate(2011, 12, 30), new LocalDate(2011, 12, 29), 3),
            (new LocalDate(2011, 12, 30), new LocalDate(2011, 12, 31), 5),
            (new LocalDate(2011, 12, 31), new LocalDate(2011, 12, 31), 3),
            (new LocalDate(2011, 12, 31), new LocalDate(2012, 1, 1), 5),
        ]);
    }

    // America/Havana changes clocks at midnight: on 2027-11-07 01:00 CDT becomes 00:00 CST, so Sunday's first hour
    // happens twice, and on 2026-03-08 Sunday started at 01:00 (tzdb 2026f has no spring change in 2027).

    [Fact]
    public void Havana_changes_its_clocks_at_midnight()
    {
        Zones.Havana.MapLocal(new LocalDateTime(2027, 11, 7, 0, 30)).Count.ShouldBe(2);
        Zones.Havana.MapLocal(new LocalDateTime(2026, 3, 8, 0, 30)).Count.ShouldBe(0);
    }

    [Fact]
    public void Havana_saturday_evening_does_not_spill_into_the_repeated_sunday_hour()
    {
        var page = Page(Zones.Havana, On(IsoDayOfWeek.Saturday, Hours("22:00", "24:00")));

        var slots = AvailabilityEngine.ComputeSlots(page, Query(new LocalDate(2027, 11, 6), new LocalDate(2027, 11, 7), Zones.Havana, Utc.At(2027, 11, 1, 0)));

        slots.LocalStarts(Zones.Havana).ShouldBe(["2027-11-06 22:00", "2027-11-06 23:00"]);
        slots.Starts().ShouldBe(Instants("2027-11-07T02:00:00Z", "2027-11-07T03:00:00Z"));
    }

    [Fact]
    public void Havana_saturday_evening_and_sunday_night_offer_each_instant_once()
    {
        var page = Page(Zones.Havana, [.. On(IsoDayOfWeek.Saturday, Hours("22:00", "24:00")), .. On(IsoDayOfWeek.Sunday, Hours("00:00", "02:00"))]);

        var slots = AvailabilityEngine.ComputeSlots(page, Query(new LocalDate(2027, 11, 6), new LocalDate(2027, 11, 7), Zones.Havana, Utc.At(2027, 11, 1, 0)));

        slots.Starts().ShouldBe([.. Enumerable.Range(2, 5).Select(h => Utc.At(2027, 11, 7, h))]);
        slots.LocalStarts(Zones.Havana).ShouldBe(["2027-11-06 22:00", "2027-11-06 23:00", "2027-11-07 00:00", "2027-11-07 00:00", "2027-11-07 01:00"]);
    }

    [Fact]
    public void Havana_sunday_that_starts_at_one_is_listed_from_one()
    {
        var page = Page(Zones.Havana, EveryDay(Hours("00:00", "02:00")), 30);

        var slots = AvailabilityEngine.ComputeSlots(page, Day(new LocalDate(2026, 3, 8), Zones.Havana, Utc.At(2026, 3, 1, 0)));

        slots.LocalStarts(Zones.Havana).ShouldBe(["2026-03-08 01:00", "2026-03-08 01:30"]);
        slots[0].Start.ShouldBe(Instant("2026-03-08T05:00:00Z"));
    }

    // Made-up zones with one two-hour change at 01:00Z on 2027-06-06: no real zone moves by two hours, and these do not
    // depend on the time zone database the tests run with.

    [Fact]
    public void Two_hour_spring_gap_shortens_the_window_to_the_hours_that_exist()
    {
        var zone = new SingleTransitionDateTimeZone(Utc.At(2027, 6, 6, 1), 0, 2);

        var slots = Slots(zone, new LocalDate(2027, 6, 6), EveryDay(Hours("00:00", "04:00")), 60);

        slots.Starts().ShouldBe([Utc.At(2027, 6, 6, 0), Utc.At(2027, 6, 6, 1)]);
        slots.LocalStarts(zone).ShouldBe(["2027-06-06 00:00", "2027-06-06 03:00"]);
    }

    [Fact]
    public void Two_hour_autumn_overlap_offers_the_window_once_in_each_copy()
    {
        var zone = new SingleTransitionDateTimeZone(Utc.At(2027, 6, 6, 1), 2, 0);

        var slots = Slots(zone, new LocalDate(2027, 6, 6), EveryDay(Hours("01:00", "02:00")), 60);

        slots.Starts().ShouldBe([Utc.At(2027, 6, 5, 23), Utc.At(2027, 6, 6, 1)]);
        slots.LocalStarts(zone).ShouldBe(["2027-06-06 01:00", "2027-06-06 01:00"]);
    }
}

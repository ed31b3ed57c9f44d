using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Tests.Support;
using static Rendezvous.Domain.Tests.Support.Pages;

namespace Rendezvous.Domain.Tests.Availability;

/// <summary>The engine's rules on ordinary days: a Berlin page in June (UTC+2), looked at from Berlin unless said otherwise.</summary>
public class AvailabilityRulesTests
{
    private static readonly DateTimeZone Berlin = Zones.Berlin;
    private static readonly LocalDate Monday = new(2027, 6, 7);
    private static readonly LocalDate Tuesday = Monday.PlusDays(1);
    private static readonly Instant LastWeek = Utc.At(2027, 6, 1, 0);

    private static BookingPageSettings NineToFive(int minutes = 60) => Page(Berlin, Weekdays(Hours("09:00", "17:00")), minutes);

    private static Instant BerlinTime(LocalDate date, int hour, int minute = 0) =>
        date.At(new LocalTime(hour, minute)).InZoneStrictly(Berlin).ToInstant();

    private static IReadOnlyList<string> Times(IEnumerable<Slot> slots) =>
        [.. slots.Select(s => s.Start.InZone(Berlin).TimeOfDay.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture))];

    [Fact]
    public void Weekly_hours_are_expanded_in_the_page_zone()
    {
        var page = Page(Berlin, Weekdays(Hours("09:00", "12:00")));

        var slots = AvailabilityEngine.ComputeSlots(page, Day(Monday, Berlin, LastWeek));

        slots.Starts().ShouldBe(Instants("2027-06-07T07:00:00Z", "2027-06-07T08:00:00Z", "2027-06-07T09:00:00Z"));
        slots.ShouldAllBe(s => s.End - s.Start == Duration.FromHours(1) && s.SeatsLeft == 1);
    }

    [Fact]
    public void Days_without_weekly_hours_have_no_slots()
    {
        var slots = AvailabilityEngine.ComputeSlots(NineToFive(), Query(new LocalDate(2027, 6, 12), new LocalDate(2027, 6, 13), Berlin, LastWeek));

        slots.ShouldBeEmpty();
    }

    [Fact]
    public void Several_ranges_on_one_day_each_give_slots()
    {
        var page = Page(Berlin, On(IsoDayOfWeek.Monday, Hours("14:00", "16:00"), Hours("09:00", "11:00")));

        Times(AvailabilityEngine.ComputeSlots(page, Day(Monday, Berlin, LastWeek))).ShouldBe(["09:00", "10:00", "14:00", "15:00"]);
    }

    [Fact]
    public void Date_override_replaces_the_weekly_hours_of_that_date_only()
    {
        var page = NineToFive() with { DateOverrides = [new DateOverride(Monday, [Hours("13:00", "15:00")])] };

        var slots = AvailabilityEngine.ComputeSlots(page, Query(Monday, Tuesday, Berlin, LastWeek));

        slots.LocalStarts(Berlin).Take(2).ShouldBe(["2027-06-07 13:00", "2027-06-07 14:00"]);
        slots.Count.ShouldBe(2 + 8);
    }

    [Fact]
    public void Empty_date_override_is_a_day_off()
    {
        var page = NineToFive() with { DateOverrides = [new DateOverride(Monday, [])] };

        var slots = AvailabilityEngine.ComputeSlots(page, Query(Monday, Tuesday, Berlin, LastWeek));

        slots.Count.ShouldBe(8);
        slots.ShouldAllBe(s => s.Start.InZone(Berlin).Date == Tuesday);
    }

    [Fact]
    public void Date_override_can_open_a_day_without_weekly_hours()
    {
        var saturday = new LocalDate(2027, 6, 12);
        var page = NineToFive() with { DateOverrides = [new DateOverride(saturday, [Hours("10:00", "12:00")])] };

        AvailabilityEngine.ComputeSlots(page, Day(saturday, Berlin, LastWeek)).LocalStarts(Berlin)
            .ShouldBe(["2027-06-12 10:00", "2027-06-12 11:00"]);
    }

    [Theory]
    [InlineData(0, 0, new[] { "09:00", "10:00", "12:00", "13:00", "14:00", "15:00", "16:00" })]
    [InlineData(15, 0, new[] { "09:00", "10:00", "13:00", "14:00", "15:00", "16:00" })]
    [InlineData(0, 15, new[] { "09:00", "12:00", "13:00", "14:00", "15:00", "16:00" })]
    [InlineData(15, 15, new[] { "09:00", "13:00", "14:00", "15:00", "16:00" })]
    [InlineData(0, 60, new[] { "09:00", "12:00", "13:00", "14:00", "15:00", "16:00" })]
    [InlineData(120, 0, new[] { "09:00", "10:00", "14:00", "15:00", "16:00" })]
    public void Buffers_keep_slots_clear_of_busy_time(int before, int after, string[] expected)
    {
        var page = NineToFive() with { BufferBefore = Duration.FromMinutes(before), BufferAfter = Duration.FromMinutes(after) };
        var query = Day(Monday, Berlin, LastWeek) with { Busy = [new BusyInterval(BerlinTime(Monday, 11), BerlinTime(Monday, 12))] };

        Times(AvailabilityEngine.ComputeSlots(page, query)).ShouldBe(expected);
    }

    [Fact]
    public void Busy_time_that_only_touches_a_slot_does_not_block_it()
    {
        var query = Day(Monday, Berlin, LastWeek) with
        {
            Busy = [new BusyInterval(BerlinTime(Monday, 8), BerlinTime(Monday, 9)), new BusyInterval(BerlinTime(Monday, 10), BerlinTime(Monday, 10, 1))],
        };

        Times(AvailabilityEngine.ComputeSlots(NineToFive(), query)).ShouldBe(["09:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]);
    }

    [Theory]
    [InlineData(0, "10:00")]
    [InlineData(30, "10:00")]
    [InlineData(31, "11:00")]
    [InlineData(120, "12:00")]
    public void Minimum_notice_hides_slots_that_start_too_soon(int noticeMinutes, string first)
    {
        var page = NineToFive() with { MinimumNotice = Duration.FromMinutes(noticeMinutes) };
        var now = BerlinTime(Monday, 9, 30);

        var slots = AvailabilityEngine.ComputeSlots(page, Day(Monday, Berlin, now));

        Times(slots)[0].ShouldBe(first);
        slots[^1].Start.ShouldBe(BerlinTime(Monday, 16));
    }

    [Fact]
    public void Booking_window_rolls_with_now()
    {
        var page = NineToFive() with { BookingWindowDays = 2 };
        var now = BerlinTime(Monday, 10);

        var slots = AvailabilityEngine.ComputeSlots(page, Query(Monday, Monday.PlusDays(4), Berlin, now));

        slots.Count.ShouldBe(7 + 8 + 1);
        slots[0].Start.ShouldBe(now);
        slots[^1].Start.ShouldBe(BerlinTime(Monday.PlusDays(2), 9));
    }

    [Fact]
    public void Nothing_is_offered_when_the_range_lies_wholly_in_the_past()
    {
        AvailabilityEngine.ComputeSlots(NineToFive(), Day(Monday, Berlin, BerlinTime(Tuesday, 0))).ShouldBeEmpty();
    }

    [Fact]
    public void Daily_cap_closes_a_day_that_already_has_enough_meetings()
    {
        var page = NineToFive() with { MaxBookingsPerDay = 2 };
        var one = Query(Monday, Tuesday, Berlin, LastWeek) with { PageMeetingStarts = [BerlinTime(Monday, 9)] };
        var two = one with { PageMeetingStarts = [BerlinTime(Monday, 9), BerlinTime(Monday, 15)] };

        AvailabilityEngine.ComputeSlots(page, one).Count.ShouldBe(16);
        var slots = AvailabilityEngine.ComputeSlots(page, two);
        slots.Count.ShouldBe(8);
        slots.ShouldAllBe(s => s.Start.InZone(Berlin).Date == Tuesday);
    }

    [Fact]
    public void Daily_cap_counts_days_in_the_page_zone()
    {
        var newYork = Zones.NewYork;
        var page = Page(newYork, Weekdays(Hours("09:00", "17:00"))) with { MaxBookingsPerDay = 1 };
        // 23:30 on Monday in New York is already Tuesday in UTC.
        var lateMonday = Monday.At(new LocalTime(23, 30)).InZoneStrictly(newYork).ToInstant();
        lateMonday.InUtc().Date.ShouldBe(Tuesday);

        var slots = AvailabilityEngine.ComputeSlots(page, Query(Monday, Tuesday, newYork, LastWeek) with { PageMeetingStarts = [lateMonday] });

        slots.Count.ShouldBe(8);
        slots.ShouldAllBe(s => s.Start.InZone(newYork).Date == Tuesday);
    }

    [Fact]
    public void Weekly_cap_closes_the_iso_week_in_the_page_zone()
    {
        var auckland = Zones.Get("Pacific/Auckland");
        var page = Page(auckland, EveryDay(Hours("09:00", "10:00"))) with { MaxBookingsPerWeek = 1 };
        var nextMonday = Monday.PlusDays(7);
        // Monday 08:00 in Auckland is still Sunday (of the week before) in UTC.
        var meeting = nextMonday.At(new LocalTime(8, 0)).InZoneStrictly(auckland).ToInstant();
        meeting.InUtc().Date.DayOfWeek.ShouldBe(IsoDayOfWeek.Sunday);

        var slots = AvailabilityEngine.ComputeSlots(page, Query(Monday, Monday.PlusDays(20), auckland, LastWeek) with { PageMeetingStarts = [meeting] });

        slots.Select(s => s.Start.InZone(auckland).Date).ShouldBe(
            [.. Enumerable.Range(0, 7).Select(Monday.PlusDays), .. Enumerable.Range(14, 7).Select(Monday.PlusDays)]);
    }

    [Fact]
    public void Weekly_cap_counts_meetings_from_monday_to_sunday()
    {
        var page = Page(Berlin, EveryDay(Hours("09:00", "10:00"))) with { MaxBookingsPerWeek = 2 };
        var sunday = Monday.PlusDays(6);
        var query = Query(Monday, Monday.PlusDays(7), Berlin, LastWeek) with { PageMeetingStarts = [BerlinTime(Monday, 9), BerlinTime(sunday, 9)] };

        AvailabilityEngine.ComputeSlots(page, query).LocalStarts(Berlin).ShouldBe(["2027-06-14 09:00"]);
    }

    [Theory]
    [InlineData(60, 30, new[] { "09:00", "09:30", "10:00" })]
    [InlineData(30, 45, new[] { "09:00", "09:45", "10:30" })]
    [InlineData(45, 60, new[] { "09:00", "10:00" })]
    [InlineData(60, 60, new[] { "09:00", "10:00" })]
    public void Slot_interval_sets_the_step_between_starts(int duration, int interval, string[] expected)
    {
        var page = Page(Berlin, Weekdays(Hours("09:00", "11:00")), duration) with { SlotInterval = Duration.FromMinutes(interval) };

        var slots = AvailabilityEngine.ComputeSlots(page, Day(Monday, Berlin, LastWeek));

        Times(slots).ShouldBe(expected);
        slots.ShouldAllBe(s => s.End - s.Start == Duration.FromMinutes(duration));
    }

    private static BookingPageSettings Group(int seats = 5) =>
        Page(Berlin, On(IsoDayOfWeek.Monday, Hours("09:00", "12:00"))) with { SchedulingOption = SchedulingOption.GroupSession, SeatsPerSlot = seats };

    [Fact]
    public void Group_session_with_seats_left_is_offered_although_its_host_is_busy_with_it()
    {
        var query = Day(Monday, Berlin, LastWeek) with
        {
            Busy = [new BusyInterval(BerlinTime(Monday, 10), BerlinTime(Monday, 11))],
            GroupSessions = [new GroupSessionOccupancy(BerlinTime(Monday, 10), 2), new GroupSessionOccupancy(BerlinTime(Monday, 10), 1)],
        };

        var slots = AvailabilityEngine.ComputeSlots(Group(), query);

        slots.Select(s => (Times([s])[0], s.SeatsLeft)).ShouldBe([("09:00", 5), ("10:00", 2), ("11:00", 5)]);
    }

    [Fact]
    public void Full_group_session_is_not_offered()
    {
        var query = Day(Monday, Berlin, LastWeek) with
        {
            Busy = [new BusyInterval(BerlinTime(Monday, 10), BerlinTime(Monday, 11))],
            GroupSessions = [new GroupSessionOccupancy(BerlinTime(Monday, 10), 5)],
        };

        Times(AvailabilityEngine.ComputeSlots(Group(), query)).ShouldBe(["09:00", "11:00"]);
    }

    [Fact]
    public void One_on_one_page_ignores_group_sessions_and_respects_busy_time()
    {
        var page = Page(Berlin, On(IsoDayOfWeek.Monday, Hours("09:00", "12:00")));
        var query = Day(Monday, Berlin, LastWeek) with
        {
            Busy = [new BusyInterval(BerlinTime(Monday, 10), BerlinTime(Monday, 11))],
            GroupSessions = [new GroupSessionOccupancy(BerlinTime(Monday, 10), 1)],
        };

        Times(AvailabilityEngine.ComputeSlots(page, query)).ShouldBe(["09:00", "11:00"]);
    }

    [Theory]
    [InlineData(0, "09:00 10:00 11:00")]
    [InlineData(15, "09:00 10:00")]
    public void New_group_session_does_not_overlap_an_existing_one(int bufferBefore, string expected)
    {
        var page = Group() with { SlotInterval = Duration.FromMinutes(30), BufferBefore = Duration.FromMinutes(bufferBefore) };
        var query = Day(Monday, Berlin, LastWeek) with { GroupSessions = [new GroupSessionOccupancy(BerlinTime(Monday, 10), 2)] };

        var slots = AvailabilityEngine.ComputeSlots(page, query);

        Times(slots).ShouldBe(expected.Split(' '));
        slots.Single(s => s.Start == BerlinTime(Monday, 10)).SeatsLeft.ShouldBe(3);
    }

    [Fact]
    public void Group_session_whose_seats_were_all_released_is_offered_only_if_the_host_is_free()
    {
        var query = Day(Monday, Berlin, LastWeek) with
        {
            Busy = [new BusyInterval(BerlinTime(Monday, 10), BerlinTime(Monday, 10, 30))],
            GroupSessions = [new GroupSessionOccupancy(BerlinTime(Monday, 10), 0)],
        };

        Times(AvailabilityEngine.ComputeSlots(Group(), query)).ShouldBe(["09:00", "11:00"]);
    }

    [Fact]
    public void Panel_slot_needs_every_host_free()
    {
        var page = NineToFive() with { SchedulingOption = SchedulingOption.Panel, PanelMemberIds = [UserId.New(), UserId.New()] };
        var owner = new BusyInterval(BerlinTime(Monday, 9), BerlinTime(Monday, 10));
        var first = new BusyInterval(BerlinTime(Monday, 10, 30), BerlinTime(Monday, 11, 30));
        var second = new BusyInterval(BerlinTime(Monday, 13), BerlinTime(Monday, 13, 15));
        var secondAgain = new BusyInterval(BerlinTime(Monday, 10, 45), BerlinTime(Monday, 11, 15));
        var query = Day(Monday, Berlin, LastWeek) with { Busy = [second, owner, secondAgain, first] };

        Times(AvailabilityEngine.ComputeSlots(page, query)).ShouldBe(["12:00", "14:00", "15:00", "16:00"]);
    }

    [Fact]
    public void Busy_intervals_that_are_empty_or_backwards_block_nothing()
    {
        var query = Day(Monday, Berlin, LastWeek) with
        {
            Busy = [new BusyInterval(BerlinTime(Monday, 10), BerlinTime(Monday, 10)), new BusyInterval(BerlinTime(Monday, 12), BerlinTime(Monday, 11))],
        };

        AvailabilityEngine.ComputeSlots(NineToFive(), query).Count.ShouldBe(8);
    }

    [Fact]
    public void Days_are_decided_in_the_display_zone_and_to_is_inclusive()
    {
        var tokyo = Zones.Get("Asia/Tokyo");
        var page = Page(Berlin, On(IsoDayOfWeek.Monday, Hours("09:00", "18:00")));

        var mondayInTokyo = AvailabilityEngine.ComputeSlots(page, Day(Monday, tokyo, LastWeek));
        var tuesdayInTokyo = AvailabilityEngine.ComputeSlots(page, Day(Tuesday, tokyo, LastWeek));
        var both = AvailabilityEngine.ComputeSlots(page, Query(Monday, Tuesday, tokyo, LastWeek));

        mondayInTokyo.LocalStarts(tokyo).ShouldBe([.. Enumerable.Range(16, 8).Select(h => $"2027-06-07 {h}:00")]);
        tuesdayInTokyo.LocalStarts(tokyo).ShouldBe(["2027-06-08 00:00"]);
        tuesdayInTokyo.LocalStarts(Berlin).ShouldBe(["2027-06-07 17:00"]);
        both.Count.ShouldBe(9);
    }

    [Fact]
    public void Slots_before_the_display_midnight_belong_to_the_previous_display_day()
    {
        var losAngeles = Zones.Get("America/Los_Angeles");
        var page = Page(Berlin, On(IsoDayOfWeek.Monday, Hours("08:00", "10:00")));

        AvailabilityEngine.ComputeSlots(page, Day(Monday.PlusDays(-1), losAngeles, LastWeek)).LocalStarts(losAngeles).ShouldBe(["2027-06-06 23:00"]);
        AvailabilityEngine.ComputeSlots(page, Day(Monday, losAngeles, LastWeek)).LocalStarts(losAngeles).ShouldBe(["2027-06-07 00:00"]);
    }

    [Fact]
    public void To_before_from_is_refused()
    {
        Should.Throw<ArgumentException>(() => AvailabilityEngine.ComputeSlots(NineToFive(), Query(Tuesday, Monday, Berlin, LastWeek)));
    }

    [Fact]
    public void Page_without_a_positive_duration_or_step_is_refused_instead_of_looping()
    {
        var query = Day(Monday, Berlin, LastWeek);

        Should.Throw<ArgumentException>(() => AvailabilityEngine.ComputeSlots(NineToFive() with { Duration = Duration.Zero }, query));
        Should.Throw<ArgumentException>(() => AvailabilityEngine.ComputeSlots(NineToFive() with { SlotInterval = Duration.Zero }, query));
    }

    [Fact]
    public void Find_slot_returns_the_offered_slot_or_nothing()
    {
        var query = Day(Monday, Berlin, LastWeek) with { Busy = [new BusyInterval(BerlinTime(Monday, 10), BerlinTime(Monday, 11))] };

        AvailabilityEngine.FindSlot(NineToFive(), query, BerlinTime(Monday, 9)).ShouldBe(new Slot(BerlinTime(Monday, 9), BerlinTime(Monday, 10), 1));
        AvailabilityEngine.FindSlot(NineToFive(), query, BerlinTime(Monday, 10)).ShouldBeNull();
        AvailabilityEngine.FindSlot(NineToFive(), query, BerlinTime(Monday, 9, 30)).ShouldBeNull();
    }
}

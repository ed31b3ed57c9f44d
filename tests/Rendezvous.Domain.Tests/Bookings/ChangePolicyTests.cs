using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Tests.Support;
using Fixture = Rendezvous.Domain.Tests.Support.Bookings;

namespace Rendezvous.Domain.Tests.Bookings;

public class ChangePolicyTests
{
    private static readonly ChangePolicy UpToADay = ChangePolicy.UpTo(Duration.FromHours(24));
    private readonly Fixture _f = new();

    private static Instant Before(Duration d) => Fixture.Start - d;

    [Fact]
    public void Any_time_policy_allows_right_up_to_the_start()
    {
        ChangePolicy.AnyTime.Allows(Fixture.Start - Duration.FromTicks(1), Fixture.Start).ShouldBeTrue();
        ChangePolicy.AnyTime.MinimumNotice.ShouldBeNull();
    }

    [Fact]
    public void Up_to_policy_allows_until_exactly_the_notice_before_the_start()
    {
        UpToADay.Allows(Before(Duration.FromHours(24)), Fixture.Start).ShouldBeTrue();
        UpToADay.Allows(Before(Duration.FromHours(24)) + Duration.FromTicks(1), Fixture.Start).ShouldBeFalse();
    }

    [Fact]
    public void Customer_can_cancel_outside_the_policy_window()
    {
        var booking = _f.Create(cancellation: UpToADay);

        booking.Cancel(_f.Customer, null, Before(Duration.FromHours(25))).IsSuccess.ShouldBeTrue();
    }

    [Fact]
    public void Customer_cannot_cancel_inside_the_policy_window()
    {
        var booking = _f.Create(cancellation: UpToADay);
        var before = BookingSnapshot.Of(booking);

        var result = booking.Cancel(_f.Customer, null, Before(Duration.FromHours(23)));

        result.Error!.Kind.ShouldBe(ErrorKind.PolicyViolation);
        result.Error.Code.ShouldBe("cancellation_policy");
        result.Error.Message.ShouldContain("24 hours");
        BookingSnapshot.Of(booking).ShouldBe(before);
    }

    [Fact]
    public void Customer_cannot_reschedule_inside_the_policy_window()
    {
        var booking = _f.Create(reschedule: ChangePolicy.UpTo(Duration.FromMinutes(90)));
        var before = BookingSnapshot.Of(booking);

        var result = booking.Reschedule(Fixture.Start + Duration.FromDays(1), _f.Customer, null, Before(Duration.FromMinutes(89)));

        result.Error!.Code.ShouldBe("reschedule_policy");
        result.Error.Kind.ShouldBe(ErrorKind.PolicyViolation);
        result.Error.Message.ShouldContain("90 minutes");
        BookingSnapshot.Of(booking).ShouldBe(before);
    }

    [Fact]
    public void Customer_can_reschedule_at_the_edge_of_the_policy_window()
    {
        var booking = _f.Create(reschedule: ChangePolicy.UpTo(Duration.FromMinutes(90)));

        booking.Reschedule(Fixture.Start + Duration.FromDays(1), _f.Customer, null, Before(Duration.FromMinutes(90)))
            .IsSuccess.ShouldBeTrue();
    }

    [Fact]
    public void Users_and_calendar_sync_may_cancel_inside_the_policy_window()
    {
        var byUser = _f.Create(cancellation: UpToADay);
        var byCalendar = _f.Create(cancellation: UpToADay);

        byUser.Cancel(_f.User, null, Before(Duration.FromMinutes(5))).IsSuccess.ShouldBeTrue();
        byCalendar.Cancel(_f.Calendar, null, Before(Duration.FromMinutes(5))).IsSuccess.ShouldBeTrue();
    }

    [Fact]
    public void Users_and_calendar_sync_may_reschedule_inside_the_policy_window()
    {
        var policy = ChangePolicy.UpTo(Duration.FromDays(3));
        var byUser = _f.Create(reschedule: policy);
        var byCalendar = _f.Create(reschedule: policy);
        var now = Before(Duration.FromHours(1));

        byUser.Reschedule(Fixture.Start + Duration.FromDays(1), _f.User, null, now).IsSuccess.ShouldBeTrue();
        byCalendar.Reschedule(Fixture.Start + Duration.FromDays(1), _f.Calendar, null, now).IsSuccess.ShouldBeTrue();
    }

    [Fact]
    public void Users_may_cancel_even_after_the_start()
    {
        var booking = _f.Create(cancellation: UpToADay);

        booking.Cancel(_f.User, null, Fixture.Start + Duration.FromMinutes(10)).IsSuccess.ShouldBeTrue();
    }

    [Fact]
    public void Customer_cannot_cancel_once_the_meeting_has_started_even_with_an_any_time_policy()
    {
        var booking = _f.Create();
        var before = BookingSnapshot.Of(booking);

        var result = booking.Cancel(_f.Customer, null, Fixture.Start);

        result.Error!.Code.ShouldBe("meeting_started");
        result.Error.Kind.ShouldBe(ErrorKind.PolicyViolation);
        BookingSnapshot.Of(booking).ShouldBe(before);
    }

    [Fact]
    public void Customer_cannot_reschedule_once_the_meeting_has_started()
    {
        var booking = _f.Create();
        var before = BookingSnapshot.Of(booking);

        var result = booking.Reschedule(Fixture.Start + Duration.FromDays(2), _f.Customer, null, Fixture.Start + Duration.FromMinutes(1));

        result.Error!.Code.ShouldBe("meeting_started");
        BookingSnapshot.Of(booking).ShouldBe(before);
    }

    [Fact]
    public void Policy_captured_at_booking_time_applies_after_the_page_relaxes_it()
    {
        var settings = new BookingPageSettings
        {
            Duration = Fixture.Length,
            TimeZone = Zones.Utc,
            CancellationPolicy = UpToADay,
            ReschedulePolicy = UpToADay,
        };
        var page = new BookingPage(_f.PageId, _f.OrganizationId, _f.OwnerId, "intro", "Intro", null, null, settings, Fixture.Now);
        var booking = _f.Create(cancellation: page.Settings.CancellationPolicy, reschedule: page.Settings.ReschedulePolicy);

        page.Update(page.OwnerId, page.Slug, page.Title, null, null,
            page.Settings with { CancellationPolicy = ChangePolicy.AnyTime, ReschedulePolicy = ChangePolicy.AnyTime });

        booking.CancellationPolicy.ShouldBe(UpToADay);
        booking.Cancel(_f.Customer, null, Before(Duration.FromHours(2))).Error!.Code.ShouldBe("cancellation_policy");
        booking.Reschedule(Fixture.Start + Duration.FromDays(1), _f.Customer, null, Before(Duration.FromHours(2)))
            .Error!.Code.ShouldBe("reschedule_policy");
    }

    [Fact]
    public void Policy_captured_at_booking_time_applies_after_the_page_tightens_it()
    {
        var settings = new BookingPageSettings { Duration = Fixture.Length, TimeZone = Zones.Utc };
        var page = new BookingPage(_f.PageId, _f.OrganizationId, _f.OwnerId, "intro", "Intro", null, null, settings, Fixture.Now);
        var booking = _f.Create(cancellation: page.Settings.CancellationPolicy);

        page.Update(page.OwnerId, page.Slug, page.Title, null, null, page.Settings with { CancellationPolicy = ChangePolicy.UpTo(Duration.FromDays(7)) });

        booking.Cancel(_f.Customer, null, Before(Duration.FromHours(2))).IsSuccess.ShouldBeTrue();
    }
}

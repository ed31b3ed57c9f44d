using Rendezvous.Domain.Bookings;

namespace Rendezvous.Domain.Tests.Reassignment;

/// <summary>What <see cref="Booking.Reassign"/> changes, and what it leaves alone.</summary>
public class BookingReassignTests
{
    private static readonly Instant At = Support.Bookings.Now + Duration.FromHours(3);

    [Fact]
    public void Reassigning_a_scheduled_booking_moves_page_owner_and_hold_and_keeps_time_and_status()
    {
        var bookings = new Support.Bookings();
        var booking = bookings.Create();
        booking.ClearPendingEvents();
        var newPage = BookingPageId.New();
        var newOwner = UserId.New();
        var holdKey = booking.Hosts.Single().HoldKey;

        booking.Reassign(newPage, newOwner, withholdLocation: false, bookings.User, "Ada is on leave", At).IsSuccess.ShouldBeTrue();

        booking.BookingPageId.ShouldBe(newPage);
        booking.OwnerId.ShouldBe(newOwner);
        booking.Status.ShouldBe(BookingStatus.Scheduled);
        booking.DetailedStatus.ShouldBe("Scheduled (Reassigned by User)");
        booking.Start.ShouldBe(Support.Bookings.Start);
        var host = booking.Hosts.ShouldHaveSingleItem();
        (host.UserId, host.IsPrimary, host.Start, host.End, host.HoldKey, host.Active).ShouldBe((newOwner, true, booking.Start, booking.End, holdKey, true));
        booking.LocationWithheld.ShouldBeFalse();
        booking.LastReason.ShouldBe("Ada is on leave");

        var entry = booking.History[^1];
        (entry.Action, entry.FromStatus, entry.ToStatus, entry.DetailedStatus).ShouldBe(
            (BookingAction.Reassign, BookingStatus.Scheduled, BookingStatus.Scheduled, "Scheduled (Reassigned by User)"));
        entry.PreviousOwnerId.ShouldBe(bookings.OwnerId);
        entry.PreviousBookingPageId.ShouldBe(bookings.PageId);

        var e = booking.PendingEvents.ShouldHaveSingleItem();
        e.Type.ShouldBe("booking.reassigned");
        (e.BookingPageId, e.OwnerId, e.PreviousOwnerId, e.PreviousBookingPageId).ShouldBe((newPage, newOwner, bookings.OwnerId, bookings.PageId));
        (e.Start, e.End, e.PreviousStart, e.Quiet).ShouldBe((booking.Start, booking.End, null, false));
    }

    [Fact]
    public void A_rescheduled_booking_reads_rescheduled_reassigned_and_the_withheld_location_stays_withheld()
    {
        var bookings = new Support.Bookings();
        var (booking, _) = bookings.InStatus(BookingStatus.Rescheduled);

        booking.Reassign(BookingPageId.New(), UserId.New(), withholdLocation: true, bookings.User, null, At).IsSuccess.ShouldBeTrue();
        booking.Status.ShouldBe(BookingStatus.Rescheduled);
        booking.DetailedStatus.ShouldBe("Rescheduled (Reassigned by User)");
        booking.LocationWithheld.ShouldBeTrue();

        booking.Reassign(BookingPageId.New(), UserId.New(), withholdLocation: false, bookings.User, null, At + Duration.FromMinutes(1)).IsSuccess.ShouldBeTrue();
        booking.LocationWithheld.ShouldBeTrue();
    }

    [Fact]
    public void Customers_group_sessions_panels_and_the_same_page_are_refused_and_nothing_changes()
    {
        var bookings = new Support.Bookings();
        var booking = bookings.Create();
        var before = Support.BookingSnapshot.Of(booking);

        booking.Reassign(BookingPageId.New(), UserId.New(), false, bookings.Customer, null, At).Error!.Code.ShouldBe("staff_only");
        booking.Reassign(bookings.PageId, UserId.New(), false, bookings.User, null, At).Error!.Field.ShouldBe("bookingPageId");
        Support.BookingSnapshot.Of(booking).ShouldBe(before);

        var seat = bookings.Create(groupKey: "group");
        seat.Reassign(BookingPageId.New(), UserId.New(), false, bookings.User, null, At).Error!.Code.ShouldBe("not_one_on_one");
        var panel = bookings.Create(additionalHosts: [UserId.New()]);
        panel.Reassign(BookingPageId.New(), UserId.New(), false, bookings.User, null, At).Error!.Code.ShouldBe("not_one_on_one");
    }

    [Fact]
    public void Another_page_of_the_same_owner_keeps_the_host()
    {
        var bookings = new Support.Bookings();
        var booking = bookings.Create();
        booking.Reassign(BookingPageId.New(), bookings.OwnerId, false, bookings.User, null, At).IsSuccess.ShouldBeTrue();
        booking.Hosts.ShouldHaveSingleItem().UserId.ShouldBe(bookings.OwnerId);
    }
}

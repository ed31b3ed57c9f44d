using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Tests.Support;
using Fixture = Rendezvous.Domain.Tests.Support.Bookings;

namespace Rendezvous.Domain.Tests.Bookings;

public class BookingLifecycleTests
{
    private readonly Fixture _f = new();
    private readonly FakeClock _clock = new(Fixture.Now);

    [Fact]
    public void New_booking_is_scheduled_by_the_customer_with_one_history_entry_and_a_created_event()
    {
        var booking = _f.Create();

        booking.Status.ShouldBe(BookingStatus.Scheduled);
        booking.DetailedStatus.ShouldBe("Scheduled by Customer");
        booking.Start.ShouldBe(Fixture.Start);
        booking.End.ShouldBe(Fixture.Start + Fixture.Length);
        booking.CreatedAt.ShouldBe(Fixture.Now);
        booking.History.Count.ShouldBe(1);
        booking.History[0].Action.ShouldBeNull();
        booking.History[0].FromStatus.ShouldBeNull();
        booking.History[0].ToStatus.ShouldBe(BookingStatus.Scheduled);
        booking.History[0].ActorKind.ShouldBe(ActorKind.Customer);
        booking.History[0].ActorId.ShouldBe(_f.CustomerId.ToString());
        booking.PendingEvents.Single().Type.ShouldBe(BookingEvent.Created);
        booking.Hosts.Single().IsPrimary.ShouldBeTrue();
        booking.Hosts.Single().Active.ShouldBeTrue();
    }

    [Fact]
    public void Booking_on_an_approval_page_waits_as_a_request()
    {
        var booking = _f.Create(requiresApproval: true);

        booking.Status.ShouldBe(BookingStatus.Requested);
        booking.DetailedStatus.ShouldBe("Requested by Customer");
        booking.PendingEvents.Single().Type.ShouldBe(BookingEvent.Requested);
        booking.Hosts.Single().Active.ShouldBeTrue();
    }

    [Fact]
    public void Booking_refuses_a_start_in_the_past_a_nonpositive_duration_and_a_session_out_of_range()
    {
        Booking.Create(_f.Spec(start: Fixture.Now - Duration.FromMinutes(1)), Fixture.Now).Error!.Field.ShouldBe("start");
        Booking.Create(_f.Spec() with { Duration = Duration.Zero }, Fixture.Now).Error!.Field.ShouldBe("durationMinutes");
        Booking.Create(_f.Spec() with { SessionNumber = 3, SessionCount = 2 }, Fixture.Now).Error!.Field.ShouldBe("starts");
        Booking.Create(_f.Spec() with { SessionNumber = 0 }, Fixture.Now).Error!.Kind.ShouldBe(ErrorKind.Validation);
    }

    [Fact]
    public void Panel_booking_holds_every_host_once_with_the_owner_as_primary()
    {
        var a = UserId.New();
        var b = UserId.New();
        var booking = _f.Create(additionalHosts: [a, b, a, _f.OwnerId]);

        booking.Hosts.Select(h => h.UserId).ShouldBe([_f.OwnerId, a, b]);
        booking.Hosts.Count(h => h.IsPrimary).ShouldBe(1);
        booking.Hosts.Select(h => h.HoldKey).Distinct().Count().ShouldBe(1);
        booking.Hosts.ShouldAllBe(h => h.Start == booking.Start && h.End == booking.End && h.Active);
    }

    [Fact]
    public void Customer_cancel_reads_Canceled_by_Customer_and_releases_every_host()
    {
        var booking = _f.Create(additionalHosts: [UserId.New()]);
        booking.ClearPendingEvents();
        _clock.Advance(Duration.FromDays(1));

        var result = booking.Cancel(_f.Customer, "cannot make it", _clock.GetCurrentInstant());

        result.IsSuccess.ShouldBeTrue();
        booking.Status.ShouldBe(BookingStatus.Canceled);
        booking.DetailedStatus.ShouldBe("Canceled by Customer");
        booking.LastReason.ShouldBe("cannot make it");
        booking.Hosts.ShouldAllBe(h => !h.Active);
        var entry = booking.History[^1];
        (entry.Action, entry.FromStatus, entry.ToStatus, entry.ActorKind, entry.Reason)
            .ShouldBe((BookingAction.Cancel, BookingStatus.Scheduled, BookingStatus.Canceled, ActorKind.Customer, "cannot make it"));
        var raised = booking.PendingEvents.Single();
        raised.Type.ShouldBe(BookingEvent.Canceled);
        raised.DetailedStatus.ShouldBe("Canceled by Customer");
        raised.Actor.ShouldBe(_f.Customer);
        raised.Reason.ShouldBe("cannot make it");
        raised.OccurredAt.ShouldBe(_clock.GetCurrentInstant());
    }

    [Fact]
    public void Cancel_in_the_calendar_reads_Canceled_by_User_in_calendar()
    {
        var booking = _f.Create();

        booking.Cancel(_f.Calendar, null, Fixture.Now).IsSuccess.ShouldBeTrue();

        booking.DetailedStatus.ShouldBe("Canceled by User (in calendar)");
        booking.History[^1].ActorKind.ShouldBe(ActorKind.CalendarSync);
        booking.LastReason.ShouldBeNull();
    }

    [Fact]
    public void User_reschedule_moves_every_hold_keeps_the_duration_and_reports_the_previous_time()
    {
        var booking = _f.Create(additionalHosts: [UserId.New()]);
        booking.ClearPendingEvents();
        var oldKey = booking.Hosts[0].HoldKey;
        var newStart = Fixture.Start + Duration.FromHours(26);

        booking.Reschedule(newStart, _f.User, "clash", Fixture.Now).IsSuccess.ShouldBeTrue();

        booking.Status.ShouldBe(BookingStatus.Rescheduled);
        booking.DetailedStatus.ShouldBe("Rescheduled by User");
        booking.Start.ShouldBe(newStart);
        booking.End.ShouldBe(newStart + Fixture.Length);
        booking.Hosts.ShouldAllBe(h => h.Start == newStart && h.End == newStart + Fixture.Length && h.Active);
        booking.Hosts[0].HoldKey.ShouldBe(oldKey);
        booking.History[^1].Start.ShouldBe(newStart);
        var raised = booking.PendingEvents.Single();
        raised.Type.ShouldBe(BookingEvent.Rescheduled);
        raised.Start.ShouldBe(newStart);
        raised.PreviousStart.ShouldBe(Fixture.Start);
        raised.PreviousEnd.ShouldBe(Fixture.Start + Fixture.Length);
    }

    [Fact]
    public void Customer_reschedule_reads_Rescheduled_by_Customer_and_a_second_move_stays_rescheduled()
    {
        var booking = _f.Create();

        booking.Reschedule(Fixture.Start + Duration.FromHours(1), _f.Customer, null, Fixture.Now).IsSuccess.ShouldBeTrue();
        booking.Reschedule(Fixture.Start + Duration.FromHours(2), _f.Customer, null, Fixture.Now).IsSuccess.ShouldBeTrue();

        booking.Status.ShouldBe(BookingStatus.Rescheduled);
        booking.DetailedStatus.ShouldBe("Rescheduled by Customer");
        booking.PendingEvents.Select(e => e.PreviousStart)
            .ShouldBe([null, Fixture.Start, Fixture.Start + Duration.FromHours(1)]);
    }

    [Fact]
    public void Group_seat_hold_key_is_shared_per_session_and_follows_a_move()
    {
        var first = _f.Create(groupKey: "yoga");
        var second = _f.Create(groupKey: "yoga", customer: CustomerId.New());
        first.Hosts[0].HoldKey.ShouldBe(second.Hosts[0].HoldKey);

        first.Reschedule(Fixture.Start + Duration.FromDays(7), _f.User, null, Fixture.Now).IsSuccess.ShouldBeTrue();

        first.Hosts[0].HoldKey.ShouldNotBe(second.Hosts[0].HoldKey);
        first.Hosts[0].HoldKey.ShouldStartWith("yoga@");
    }

    [Fact]
    public void Reschedule_to_the_current_start_is_refused()
    {
        var booking = _f.Create();
        var before = BookingSnapshot.Of(booking);

        var result = booking.Reschedule(Fixture.Start, _f.User, null, Fixture.Now);

        result.Error!.Field.ShouldBe("start");
        BookingSnapshot.Of(booking).ShouldBe(before);
    }

    [Fact]
    public void Users_cannot_move_a_booking_into_the_past_but_a_calendar_change_may()
    {
        var booking = _f.Create();
        var now = Fixture.Now + Duration.FromDays(2);
        var past = now - Duration.FromHours(3);

        booking.Reschedule(past, _f.User, null, now).Error!.Field.ShouldBe("start");
        booking.Status.ShouldBe(BookingStatus.Scheduled);

        booking.Reschedule(past, _f.Calendar, null, now).IsSuccess.ShouldBeTrue();
        booking.Start.ShouldBe(past);
        booking.DetailedStatus.ShouldBe("Rescheduled by User (in calendar)");
    }

    [Fact]
    public void Approve_reads_Scheduled_approved_by_User_and_raises_approved()
    {
        var booking = _f.Create(requiresApproval: true);
        booking.ClearPendingEvents();

        booking.Approve(_f.User, null, Fixture.Now).IsSuccess.ShouldBeTrue();

        booking.Status.ShouldBe(BookingStatus.Scheduled);
        booking.DetailedStatus.ShouldBe("Scheduled (Approved by User)");
        booking.PendingEvents.Single().Type.ShouldBe(BookingEvent.Approved);
        booking.Hosts.ShouldAllBe(h => h.Active);
    }

    [Fact]
    public void Decline_reads_Declined_by_User_cancels_and_releases_the_hosts()
    {
        var booking = _f.Create(requiresApproval: true, additionalHosts: [UserId.New()]);
        booking.ClearPendingEvents();

        booking.Decline(_f.User, "fully booked", Fixture.Now).IsSuccess.ShouldBeTrue();

        booking.Status.ShouldBe(BookingStatus.Canceled);
        booking.DetailedStatus.ShouldBe("Declined by User");
        booking.LastReason.ShouldBe("fully booked");
        booking.Hosts.ShouldAllBe(h => !h.Active);
        booking.PendingEvents.Single().Type.ShouldBe(BookingEvent.Declined);
        booking.History[^1].Action.ShouldBe(BookingAction.Decline);
    }

    [Fact]
    public void Customer_can_withdraw_a_request_but_cannot_approve_or_decline_it()
    {
        var booking = _f.Create(requiresApproval: true);
        var before = BookingSnapshot.Of(booking);

        var approve = booking.Approve(_f.Customer, null, Fixture.Now);
        var decline = booking.Decline(_f.Customer, null, Fixture.Now);

        approve.Error!.Kind.ShouldBe(ErrorKind.Forbidden);
        approve.Error.Code.ShouldBe("staff_only");
        decline.Error!.Code.ShouldBe("staff_only");
        BookingSnapshot.Of(booking).ShouldBe(before);

        booking.Cancel(_f.Customer, null, Fixture.Now).IsSuccess.ShouldBeTrue();
        booking.DetailedStatus.ShouldBe("Canceled by Customer");
    }

    [Fact]
    public void Request_moved_by_the_customer_is_still_a_request()
    {
        var booking = _f.Create(requiresApproval: true);

        booking.Reschedule(Fixture.Start + Duration.FromHours(3), _f.Customer, null, Fixture.Now).IsSuccess.ShouldBeTrue();

        booking.Status.ShouldBe(BookingStatus.Requested);
        booking.PendingEvents[^1].Type.ShouldBe(BookingEvent.Rescheduled);
        booking.Hosts.ShouldAllBe(h => h.Active);
    }

    [Fact]
    public void Booking_completes_only_once_its_end_has_passed()
    {
        var booking = _f.Create();
        var before = BookingSnapshot.Of(booking);

        var early = booking.Complete(booking.End - Duration.FromTicks(1));
        early.Error!.Code.ShouldBe("not_ended");
        early.Error.Kind.ShouldBe(ErrorKind.Conflict);
        BookingSnapshot.Of(booking).ShouldBe(before);

        booking.Complete(booking.End).IsSuccess.ShouldBeTrue();
        booking.Status.ShouldBe(BookingStatus.Completed);
        booking.DetailedStatus.ShouldBe("Completed");
        booking.History[^1].ActorKind.ShouldBe(ActorKind.System);
        booking.PendingEvents[^1].Type.ShouldBe(BookingEvent.Completed);
        booking.Hosts.ShouldAllBe(h => h.Active);
    }

    [Fact]
    public void No_show_is_recorded_only_after_the_start()
    {
        var booking = _f.Create();
        var before = BookingSnapshot.Of(booking);

        var early = booking.MarkNoShow(_f.User, null, booking.Start - Duration.FromTicks(1));
        early.Error!.Code.ShouldBe("not_started");
        BookingSnapshot.Of(booking).ShouldBe(before);

        booking.MarkNoShow(_f.User, "never joined", booking.Start).IsSuccess.ShouldBeTrue();
        booking.Status.ShouldBe(BookingStatus.NoShow);
        booking.DetailedStatus.ShouldBe("No-show by User");
        booking.PendingEvents[^1].Type.ShouldBe(BookingEvent.NoShow);
    }

    [Fact]
    public void Customer_cannot_mark_their_own_no_show()
    {
        var booking = _f.Create();
        var before = BookingSnapshot.Of(booking);

        var result = booking.MarkNoShow(_f.Customer, null, booking.Start + Duration.FromMinutes(5));

        result.Error!.Kind.ShouldBe(ErrorKind.Forbidden);
        result.Error.Code.ShouldBe("staff_only");
        BookingSnapshot.Of(booking).ShouldBe(before);
    }

    [Fact]
    public void Completed_meeting_can_still_be_marked_as_a_no_show()
    {
        var booking = _f.Create();
        booking.Complete(booking.End + Duration.FromHours(1)).IsSuccess.ShouldBeTrue();

        booking.MarkNoShow(_f.User, null, booking.End + Duration.FromHours(2)).IsSuccess.ShouldBeTrue();

        booking.Status.ShouldBe(BookingStatus.NoShow);
        booking.History.Select(h => h.ToStatus).ShouldBe([BookingStatus.Scheduled, BookingStatus.Completed, BookingStatus.NoShow]);
    }

    [Fact]
    public void Illegal_transition_message_names_the_status_and_the_action()
    {
        var (booking, at) = _f.InStatus(BookingStatus.Canceled);

        var result = booking.Reschedule(at + Duration.FromDays(3), _f.User, null, at);

        result.Error!.Code.ShouldBe("illegal_transition");
        result.Error.Message.ShouldBe("A booking that is Canceled cannot be rescheduled.");
    }

    [Fact]
    public void History_records_every_step_in_order_with_its_actor_and_time()
    {
        var booking = _f.Create(requiresApproval: true);
        var t1 = Fixture.Now + Duration.FromHours(1);
        var t2 = Fixture.Now + Duration.FromHours(2);
        var t3 = Fixture.Now + Duration.FromHours(3);
        booking.Approve(_f.User, null, t1).IsSuccess.ShouldBeTrue();
        booking.Reschedule(Fixture.Start + Duration.FromDays(1), _f.Customer, "earlier train", t2).IsSuccess.ShouldBeTrue();
        booking.Cancel(_f.Calendar, null, t3).IsSuccess.ShouldBeTrue();

        booking.History.Select(h => (h.At, h.Action, h.ToStatus, h.ActorKind, h.DetailedStatus)).ShouldBe(
        [
            (Fixture.Now, null, BookingStatus.Requested, ActorKind.Customer, "Requested by Customer"),
            (t1, BookingAction.Approve, BookingStatus.Scheduled, ActorKind.User, "Scheduled (Approved by User)"),
            (t2, BookingAction.Reschedule, BookingStatus.Rescheduled, ActorKind.Customer, "Rescheduled by Customer"),
            (t3, BookingAction.Cancel, BookingStatus.Canceled, ActorKind.CalendarSync, "Canceled by User (in calendar)"),
        ]);
        booking.PendingEvents.Select(e => e.Type).ShouldBe(
            [BookingEvent.Requested, BookingEvent.Approved, BookingEvent.Rescheduled, BookingEvent.Canceled]);
        booking.LastReason.ShouldBe("earlier train");
        booking.UpdatedAt.ShouldBe(t3);
    }

    [Fact]
    public void Clearing_pending_events_keeps_the_history()
    {
        var booking = _f.Create();
        booking.ClearPendingEvents();

        booking.PendingEvents.ShouldBeEmpty();
        booking.History.Count.ShouldBe(1);
    }

    [Theory]
    [InlineData(BookingStatus.Scheduled, null, ActorKind.Customer, "Scheduled by Customer")]
    [InlineData(BookingStatus.Requested, null, ActorKind.Customer, "Requested by Customer")]
    [InlineData(BookingStatus.Canceled, BookingAction.Cancel, ActorKind.Customer, "Canceled by Customer")]
    [InlineData(BookingStatus.Canceled, BookingAction.Cancel, ActorKind.User, "Canceled by User")]
    [InlineData(BookingStatus.Canceled, BookingAction.Cancel, ActorKind.CalendarSync, "Canceled by User (in calendar)")]
    [InlineData(BookingStatus.Canceled, BookingAction.Cancel, ActorKind.System, "Canceled by System")]
    [InlineData(BookingStatus.Canceled, BookingAction.Decline, ActorKind.User, "Declined by User")]
    [InlineData(BookingStatus.Scheduled, BookingAction.Approve, ActorKind.User, "Scheduled (Approved by User)")]
    [InlineData(BookingStatus.Rescheduled, BookingAction.Reschedule, ActorKind.User, "Rescheduled by User")]
    [InlineData(BookingStatus.Rescheduled, BookingAction.Reschedule, ActorKind.CalendarSync, "Rescheduled by User (in calendar)")]
    [InlineData(BookingStatus.Completed, BookingAction.Complete, ActorKind.System, "Completed")]
    [InlineData(BookingStatus.NoShow, BookingAction.MarkNoShow, ActorKind.User, "No-show by User")]
    public void Detailed_status_names_who_brought_it_about(BookingStatus status, BookingAction? action, ActorKind actor, string expected)
    {
        BookingLifecycle.DetailedStatus(status, action, new Actor(actor)).ShouldBe(expected);
    }
}

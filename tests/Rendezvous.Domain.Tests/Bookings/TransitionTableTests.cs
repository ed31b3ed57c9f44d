using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Tests.Support;

namespace Rendezvous.Domain.Tests.Bookings;

/// <summary>
/// The whole lifecycle as a grid: every status against every action, with the outcome written out by hand so that a
/// change to the table in the domain has to be made here too.
/// </summary>
public class TransitionTableTests
{
    private static readonly BookingStatus? Refused = null;

    private static readonly Dictionary<(BookingStatus, BookingAction), BookingStatus?> Expected = new()
    {
        [(BookingStatus.Requested, BookingAction.Approve)] = BookingStatus.Scheduled,
        [(BookingStatus.Requested, BookingAction.Decline)] = BookingStatus.Canceled,
        [(BookingStatus.Requested, BookingAction.Cancel)] = BookingStatus.Canceled,
        [(BookingStatus.Requested, BookingAction.Reschedule)] = BookingStatus.Requested,
        [(BookingStatus.Requested, BookingAction.MarkNoShow)] = Refused,
        [(BookingStatus.Requested, BookingAction.Reassign)] = Refused,
        [(BookingStatus.Requested, BookingAction.Complete)] = Refused,
        [(BookingStatus.Requested, BookingAction.ConfirmPayment)] = Refused,
        [(BookingStatus.Requested, BookingAction.ExpirePayment)] = Refused,

        [(BookingStatus.Scheduled, BookingAction.Approve)] = Refused,
        [(BookingStatus.Scheduled, BookingAction.Decline)] = Refused,
        [(BookingStatus.Scheduled, BookingAction.Cancel)] = BookingStatus.Canceled,
        [(BookingStatus.Scheduled, BookingAction.Reschedule)] = BookingStatus.Rescheduled,
        [(BookingStatus.Scheduled, BookingAction.MarkNoShow)] = BookingStatus.NoShow,
        [(BookingStatus.Scheduled, BookingAction.Complete)] = BookingStatus.Completed,
        [(BookingStatus.Scheduled, BookingAction.ConfirmPayment)] = Refused,
        [(BookingStatus.Scheduled, BookingAction.ExpirePayment)] = Refused,
        [(BookingStatus.Scheduled, BookingAction.Reassign)] = BookingStatus.Scheduled,

        [(BookingStatus.Rescheduled, BookingAction.Approve)] = Refused,
        [(BookingStatus.Rescheduled, BookingAction.Decline)] = Refused,
        [(BookingStatus.Rescheduled, BookingAction.Cancel)] = BookingStatus.Canceled,
        [(BookingStatus.Rescheduled, BookingAction.Reschedule)] = BookingStatus.Rescheduled,
        [(BookingStatus.Rescheduled, BookingAction.MarkNoShow)] = BookingStatus.NoShow,
        [(BookingStatus.Rescheduled, BookingAction.Complete)] = BookingStatus.Completed,
        [(BookingStatus.Rescheduled, BookingAction.ConfirmPayment)] = Refused,
        [(BookingStatus.Rescheduled, BookingAction.ExpirePayment)] = Refused,
        [(BookingStatus.Rescheduled, BookingAction.Reassign)] = BookingStatus.Rescheduled,

        [(BookingStatus.Completed, BookingAction.Approve)] = Refused,
        [(BookingStatus.Completed, BookingAction.Decline)] = Refused,
        [(BookingStatus.Completed, BookingAction.Cancel)] = Refused,
        [(BookingStatus.Completed, BookingAction.Reschedule)] = Refused,
        [(BookingStatus.Completed, BookingAction.MarkNoShow)] = BookingStatus.NoShow,
        [(BookingStatus.Completed, BookingAction.Reassign)] = Refused,
        [(BookingStatus.Completed, BookingAction.Complete)] = Refused,
        [(BookingStatus.Completed, BookingAction.ConfirmPayment)] = Refused,
        [(BookingStatus.Completed, BookingAction.ExpirePayment)] = Refused,

        [(BookingStatus.Canceled, BookingAction.Approve)] = Refused,
        [(BookingStatus.Canceled, BookingAction.Decline)] = Refused,
        [(BookingStatus.Canceled, BookingAction.Cancel)] = Refused,
        [(BookingStatus.Canceled, BookingAction.Reschedule)] = Refused,
        [(BookingStatus.Canceled, BookingAction.MarkNoShow)] = Refused,
        [(BookingStatus.Canceled, BookingAction.Reassign)] = Refused,
        [(BookingStatus.Canceled, BookingAction.Complete)] = Refused,
        [(BookingStatus.Canceled, BookingAction.ConfirmPayment)] = Refused,
        [(BookingStatus.Canceled, BookingAction.ExpirePayment)] = Refused,

        [(BookingStatus.NoShow, BookingAction.Approve)] = Refused,
        [(BookingStatus.NoShow, BookingAction.Decline)] = Refused,
        [(BookingStatus.NoShow, BookingAction.Cancel)] = Refused,
        [(BookingStatus.NoShow, BookingAction.Reschedule)] = Refused,
        [(BookingStatus.NoShow, BookingAction.MarkNoShow)] = Refused,
        [(BookingStatus.NoShow, BookingAction.Reassign)] = Refused,
        [(BookingStatus.NoShow, BookingAction.Complete)] = Refused,
        [(BookingStatus.NoShow, BookingAction.ConfirmPayment)] = Refused,
        [(BookingStatus.NoShow, BookingAction.ExpirePayment)] = Refused,

        [(BookingStatus.AwaitingPayment, BookingAction.Approve)] = Refused,
        [(BookingStatus.AwaitingPayment, BookingAction.Decline)] = Refused,
        [(BookingStatus.AwaitingPayment, BookingAction.Cancel)] = BookingStatus.Canceled,
        [(BookingStatus.AwaitingPayment, BookingAction.Reschedule)] = BookingStatus.AwaitingPayment,
        [(BookingStatus.AwaitingPayment, BookingAction.MarkNoShow)] = Refused,
        [(BookingStatus.AwaitingPayment, BookingAction.Complete)] = Refused,
        [(BookingStatus.AwaitingPayment, BookingAction.ConfirmPayment)] = BookingStatus.Scheduled,
        [(BookingStatus.AwaitingPayment, BookingAction.ExpirePayment)] = BookingStatus.Canceled,
        [(BookingStatus.AwaitingPayment, BookingAction.Reassign)] = Refused,
    };

    public static TheoryData<BookingStatus, BookingAction> EveryPair()
    {
        var data = new TheoryData<BookingStatus, BookingAction>();
        foreach (var status in Enum.GetValues<BookingStatus>())
        {
            foreach (var action in Enum.GetValues<BookingAction>())
            {
                data.Add(status, action);
            }
        }

        return data;
    }

    [Fact]
    public void Expected_outcomes_cover_every_status_and_action()
    {
        var pairs = Enum.GetValues<BookingStatus>().Length * Enum.GetValues<BookingAction>().Length;
        Expected.Count.ShouldBe(pairs);
        pairs.ShouldBe(63);
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Lifecycle_table_gives_the_expected_next_status(BookingStatus from, BookingAction action)
    {
        BookingLifecycle.Next(from, action).ShouldBe(Expected[(from, action)]);
    }

    [Fact]
    public void Listed_transitions_are_exactly_the_legal_pairs()
    {
        var listed = BookingLifecycle.Transitions.Select(t => (t.From, t.Action, (BookingStatus?)t.To)).OrderBy(t => t.ToString()).ToList();
        var legal = Expected.Where(kv => kv.Value is not null).Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value)).OrderBy(t => t.ToString()).ToList();
        listed.ShouldBe(legal);
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Booking_follows_the_table_for_every_status_and_action(BookingStatus from, BookingAction action)
    {
        var bookings = new Support.Bookings();
        var (booking, reachedAt) = bookings.InStatus(from);
        var before = BookingSnapshot.Of(booking);
        var previousStart = booking.Start;

        var (result, at) = Perform(bookings, booking, action, reachedAt);

        var expected = Expected[(from, action)];
        if (expected is null)
        {
            result.IsSuccess.ShouldBeFalse();
            result.Error!.Code.ShouldBe("illegal_transition");
            result.Error.Kind.ShouldBe(ErrorKind.Conflict);
            BookingSnapshot.Of(booking).ShouldBe(before);
            return;
        }

        result.IsSuccess.ShouldBeTrue(result.Error?.Message);
        booking.Status.ShouldBe(expected.Value);
        booking.UpdatedAt.ShouldBe(at);
        booking.History.Count.ShouldBe(before.HistoryCount + 1);
        var entry = booking.History[^1];
        entry.Action.ShouldBe(action);
        entry.FromStatus.ShouldBe(from);
        entry.ToStatus.ShouldBe(expected.Value);
        entry.At.ShouldBe(at);
        entry.DetailedStatus.ShouldBe(booking.DetailedStatus);
        booking.PendingEvents.Count.ShouldBe(1);
        var raised = booking.PendingEvents[0];
        raised.Type.ShouldBe(BookingEvent.TypeOf(action));
        raised.Status.ShouldBe(expected.Value);
        if (action == BookingAction.Reschedule)
        {
            raised.PreviousStart.ShouldBe(previousStart);
            booking.Start.ShouldNotBe(previousStart);
        }
        else
        {
            raised.PreviousStart.ShouldBeNull();
            booking.Start.ShouldBe(previousStart);
        }

        booking.Hosts.All(h => h.Active == BookingLifecycle.HoldsTime(expected.Value)).ShouldBeTrue();
    }

    /// <summary>
    /// Performs <paramref name="action"/> as a user (the system for Complete) at a moment where nothing but the table
    /// can refuse it: no-shows after the start, completion after the end, moves to a future time.
    /// </summary>
    private static (Result Result, Instant At) Perform(Support.Bookings bookings, Booking booking, BookingAction action, Instant reachedAt)
    {
        var user = bookings.User;
        Instant Later(Instant candidate) => candidate > reachedAt ? candidate : reachedAt + Duration.FromMinutes(1);
        switch (action)
        {
            case BookingAction.Approve:
            {
                var at = Later(Support.Bookings.Now + Duration.FromHours(2));
                return (booking.Approve(user, null, at), at);
            }

            case BookingAction.Decline:
            {
                var at = Later(Support.Bookings.Now + Duration.FromHours(2));
                return (booking.Decline(user, "no room", at), at);
            }

            case BookingAction.Cancel:
            {
                var at = Later(Support.Bookings.Now + Duration.FromHours(2));
                return (booking.Cancel(user, "conflict", at), at);
            }

            case BookingAction.Reschedule:
            {
                var at = Later(Support.Bookings.Now + Duration.FromHours(2));
                return (booking.Reschedule(at + Duration.FromDays(10), user, "later", at), at);
            }

            case BookingAction.MarkNoShow:
            {
                var at = Later(booking.Start + Duration.FromMinutes(5));
                return (booking.MarkNoShow(user, "absent", at), at);
            }

            case BookingAction.Complete:
            {
                var at = Later(booking.End + Duration.FromMinutes(1));
                return (booking.Complete(at), at);
            }

            case BookingAction.ConfirmPayment:
            {
                var at = Later(Support.Bookings.Now + Duration.FromMinutes(10));
                return (booking.ConfirmPayment("CAPTURE-1", bookings.Customer, at), at);
            }

            case BookingAction.ExpirePayment:
            {
                var at = Later(booking.Payment?.DueAt ?? Support.Bookings.Now + Duration.FromHours(1));
                return (booking.ExpirePayment(at), at);
            }

            case BookingAction.Reassign:
            {
                var at = Later(Support.Bookings.Now + Duration.FromHours(2));
                return (booking.Reassign(BookingPageId.New(), UserId.New(), false, user, "holiday", at), at);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(action));
        }
    }

    [Theory]
    [InlineData(BookingStatus.Requested, true, false)]
    [InlineData(BookingStatus.Scheduled, true, false)]
    [InlineData(BookingStatus.Rescheduled, true, false)]
    [InlineData(BookingStatus.Completed, true, false)]
    [InlineData(BookingStatus.Canceled, false, true)]
    [InlineData(BookingStatus.NoShow, true, true)]
    [InlineData(BookingStatus.AwaitingPayment, true, false)]
    public void Only_canceled_bookings_release_time_and_final_statuses_have_no_way_out(BookingStatus status, bool holdsTime, bool final)
    {
        BookingLifecycle.HoldsTime(status).ShouldBe(holdsTime);
        BookingLifecycle.IsFinal(status).ShouldBe(final);
        var exits = Enum.GetValues<BookingAction>().Count(a => BookingLifecycle.Next(status, a) is not null);
        (exits == 0).ShouldBe(final);
    }

    [Theory]
    [InlineData(BookingStatus.Requested, "requested", "Requested")]
    [InlineData(BookingStatus.Scheduled, "scheduled", "Scheduled")]
    [InlineData(BookingStatus.Rescheduled, "rescheduled", "Rescheduled")]
    [InlineData(BookingStatus.Completed, "completed", "Completed")]
    [InlineData(BookingStatus.Canceled, "canceled", "Canceled")]
    [InlineData(BookingStatus.NoShow, "noShow", "No-show")]
    [InlineData(BookingStatus.AwaitingPayment, "awaitingPayment", "Awaiting payment")]
    public void Status_has_an_api_name_and_a_display_name(BookingStatus status, string apiName, string displayName)
    {
        BookingLifecycle.ApiName(status).ShouldBe(apiName);
        BookingLifecycle.DisplayName(status).ShouldBe(displayName);
    }
}

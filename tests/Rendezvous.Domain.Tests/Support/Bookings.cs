using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Payments;

namespace Rendezvous.Domain.Tests.Support;

/// <summary>Builds bookings at fixed instants; the meeting starts a week after <see cref="Now"/>.</summary>
internal sealed class Bookings
{
    public static readonly Instant Now = Instant.FromUtc(2027, 6, 1, 9, 0);
    public static readonly Instant Start = Instant.FromUtc(2027, 6, 8, 14, 0);
    public static readonly Duration Length = Duration.FromMinutes(30);

    public OrganizationId OrganizationId { get; } = OrganizationId.New();

    public BookingPageId PageId { get; } = BookingPageId.New();

    public UserId OwnerId { get; } = UserId.New();

    public CustomerId CustomerId { get; } = CustomerId.New();

    public Actor Customer => Actor.ForCustomer(CustomerId);

    public Actor User => Actor.ForUser(OwnerId);

    public Actor Calendar => Actor.FromCalendar(OwnerId);

    /// <summary>25.00 USD within 30 minutes.</summary>
    public static PaymentRequirement Price { get; } = new(new Money(25m, "USD"), Duration.FromMinutes(30));

    public NewBooking Spec(
        bool requiresApproval = false,
        ChangePolicy? cancellation = null,
        ChangePolicy? reschedule = null,
        IReadOnlyList<UserId>? additionalHosts = null,
        string? groupKey = null,
        Instant? start = null,
        CustomerId? customer = null,
        PaymentRequirement? payment = null) =>
        new(
            OrganizationId,
            PageId,
            OwnerId,
            additionalHosts ?? [],
            customer ?? CustomerId,
            start ?? Start,
            Length,
            requiresApproval,
            cancellation ?? ChangePolicy.AnyTime,
            reschedule ?? ChangePolicy.AnyTime,
            new Dictionary<string, string>(),
            Actor.ForCustomer(customer ?? CustomerId),
            groupKey,
            Payment: payment);

    public Booking Create(
        bool requiresApproval = false,
        ChangePolicy? cancellation = null,
        ChangePolicy? reschedule = null,
        IReadOnlyList<UserId>? additionalHosts = null,
        string? groupKey = null,
        CustomerId? customer = null,
        PaymentRequirement? payment = null)
    {
        var result = Booking.Create(Spec(requiresApproval, cancellation, reschedule, additionalHosts, groupKey, customer: customer, payment: payment), Now);
        result.IsSuccess.ShouldBeTrue(result.Error?.Message);
        return result.Value;
    }

    /// <summary>A booking brought into <paramref name="status"/> the ordinary way, and the instant it got there.</summary>
    public (Booking Booking, Instant At) InStatus(BookingStatus status)
    {
        var booking = Create(requiresApproval: status == BookingStatus.Requested, payment: status == BookingStatus.AwaitingPayment ? Price : null);
        var at = Now;
        var result = Result.Success;
        switch (status)
        {
            case BookingStatus.Requested:
            case BookingStatus.Scheduled:
            case BookingStatus.AwaitingPayment:
                break;
            case BookingStatus.Rescheduled:
                at = Now + Duration.FromHours(1);
                result = booking.Reschedule(Start + Duration.FromDays(1), User, "moved", at);
                break;
            case BookingStatus.Completed:
                at = booking.End + Duration.FromMinutes(1);
                result = booking.Complete(at);
                break;
            case BookingStatus.Canceled:
                at = Now + Duration.FromHours(1);
                result = booking.Cancel(User, "ill", at);
                break;
            case BookingStatus.NoShow:
                at = booking.Start + Duration.FromMinutes(10);
                result = booking.MarkNoShow(User, "did not come", at);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(status));
        }

        result.IsSuccess.ShouldBeTrue(result.Error?.Message);
        booking.Status.ShouldBe(status);
        booking.ClearPendingEvents();
        return (booking, at);
    }
}

/// <summary>Everything about a booking that a refused command must leave alone.</summary>
internal sealed record BookingSnapshot(
    BookingStatus Status,
    string DetailedStatus,
    Instant Start,
    Instant End,
    string? LastReason,
    Instant UpdatedAt,
    int HistoryCount,
    int EventCount,
    string Holds,
    BookingId? ReplacedBy,
    BookingId? Replaces)
{
    public static BookingSnapshot Of(Booking b) => new(
        b.Status,
        b.DetailedStatus,
        b.Start,
        b.End,
        b.LastReason,
        b.UpdatedAt,
        b.History.Count,
        b.PendingEvents.Count,
        string.Join(";", b.Hosts.Select(h => $"{h.UserId}|{h.Start}|{h.End}|{h.HoldKey}|{h.Active}")),
        b.ReplacedByBookingId,
        b.ReplacesBookingId);
}

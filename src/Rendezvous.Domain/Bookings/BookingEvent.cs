using NodaTime;

namespace Rendezvous.Domain.Bookings;

/// <summary>
/// Something that happened to a booking. Saved to the outbox in the same transaction as the change, then
/// delivered to notifications, calendars, CRM and webhooks. <see cref="Type"/> is the stable public name
/// (e.g. <c>booking.canceled</c>). <c>Quiet</c> marks a change applied silently (a move made in the host's calendar
/// while "changing the time updates the booking" is off, applied when a reminder comes due): integrations (CRM,
/// webhooks) and notifications ignore it. A reassignment (<c>booking.reassigned</c>) also carries the new
/// <c>OwnerId</c> and the <c>PreviousOwnerId</c> and <c>PreviousBookingPageId</c>; they are null on every other event (and
/// in events written before they existed).
/// </summary>
public sealed record BookingEvent(
    string Type,
    BookingId BookingId,
    OrganizationId OrganizationId,
    BookingPageId BookingPageId,
    BookingStatus Status,
    string DetailedStatus,
    Actor Actor,
    string? Reason,
    Instant Start,
    Instant End,
    Instant? PreviousStart,
    Instant? PreviousEnd,
    Instant OccurredAt,
    bool Quiet = false,
    UserId? OwnerId = null,
    UserId? PreviousOwnerId = null,
    BookingPageId? PreviousBookingPageId = null)
{
    public const string Created = "booking.created";
    public const string Requested = "booking.requested";
    public const string Approved = "booking.approved";
    public const string Declined = "booking.declined";
    public const string Rescheduled = "booking.rescheduled";
    public const string Canceled = "booking.canceled";
    public const string Completed = "booking.completed";
    public const string NoShow = "booking.noShow";
    public const string Reassigned = "booking.reassigned";

    /// <summary>A booking was made on a page that requires payment; it holds its time until paid or expired.</summary>
    public const string AwaitingPayment = "booking.awaitingPayment";

    /// <summary>An unpaid booking's payment window closed: the system canceled it and its time is free again.</summary>
    public const string PaymentExpired = "booking.paymentExpired";

    /// <summary>Every event type, in lifecycle order.</summary>
    public static IReadOnlyList<string> AllTypes { get; } =
        [AwaitingPayment, Created, Requested, Approved, Declined, Rescheduled, Canceled, Completed, NoShow, PaymentExpired, Reassigned];

    public static string TypeOf(BookingAction action) => action switch
    {
        BookingAction.Approve => Approved,
        BookingAction.Decline => Declined,
        BookingAction.Cancel => Canceled,
        BookingAction.Reschedule => Rescheduled,
        BookingAction.MarkNoShow => NoShow,
        BookingAction.Complete => Completed,
        // Paying is what makes the booking: everything that reacts to a new booking (confirmation email, calendars,
        // CRM, reminders, webhooks) reacts to it once the payment is in, and not before.
        BookingAction.ConfirmPayment => Created,
        BookingAction.ExpirePayment => PaymentExpired,
        BookingAction.Reassign => Reassigned,
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };
}

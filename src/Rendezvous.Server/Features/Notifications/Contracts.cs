using Rendezvous.Domain;

namespace Rendezvous.Server.Features.Notifications;

/// <summary>The messages Rendezvous sends about a booking. Each has a default template and may be customised per organization.</summary>
public enum NotificationKind
{
    Confirmation,
    RequestReceived,
    RequestApproved,
    RequestDeclined,
    Rescheduled,
    Canceled,
    Reminder,
    FollowUp,
    Reassigned,
}

/// <summary>Who receives a notification.</summary>
[Flags]
public enum NotificationRecipients
{
    Customer = 1,
    Hosts = 2,
    Both = Customer | Hosts,
}

/// <summary>
/// Sends one kind of notification about a booking, as its organization's templates say, with the booking's calendar
/// attachment. The deduplication key makes a repeat (an outbox or reminder retry) send nothing the second time.
/// </summary>
public interface IBookingNotifier
{
    Task SendAsync(BookingId bookingId, NotificationKind kind, NotificationRecipients recipients, string deduplicationKey,
        CancellationToken cancellationToken);
}

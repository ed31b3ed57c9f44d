using Rendezvous.Domain;

namespace Rendezvous.Integrations.Notifications;

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

    /// <summary>Sends a request with its options (own wording, a fixed address); the default ignores them.</summary>
    Task SendAsync(NotificationRequest request, CancellationToken cancellationToken) =>
        SendAsync(request.BookingId, request.Kind, request.Recipients, request.DeduplicationKey, cancellationToken);

    /// <summary>
    /// Sends many notifications (a round of reminders). Returns, in order, null for each one that is done (sent, or already
    /// sent before) and the error for each one to try again later. The default sends them one by one.
    /// </summary>
    async Task<IReadOnlyList<string?>> SendManyAsync(IReadOnlyList<NotificationRequest> requests, CancellationToken cancellationToken)
    {
        var results = new string?[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            try
            {
                var r = requests[i];
                await SendAsync(r.BookingId, r.Kind, r.Recipients, r.DeduplicationKey, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                results[i] = ex.Message;
            }
        }

        return results;
    }
}

using Rendezvous.Domain;

namespace Rendezvous.Server.Features.Notifications;

/// <summary>Stand-in until email delivery is wired: logs what would be sent.</summary>
public sealed partial class LoggingBookingNotifier(ILogger<LoggingBookingNotifier> logger) : IBookingNotifier
{
    public Task SendAsync(BookingId bookingId, NotificationKind kind, NotificationRecipients recipients, string deduplicationKey, CancellationToken cancellationToken)
    {
        LogNotification(logger, kind, bookingId.ToString(), recipients);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {Kind} for booking {BookingId} to {Recipients}")]
    private static partial void LogNotification(ILogger logger, NotificationKind kind, string bookingId, NotificationRecipients recipients);
}

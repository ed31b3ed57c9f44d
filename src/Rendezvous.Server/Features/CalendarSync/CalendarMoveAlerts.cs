using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Integrations.Notifications.Email;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.CalendarSync;

/// <summary>
/// Tells a host that a move they made in their calendar could not be applied to the booking (seed 000, with "changing
/// the time updates the booking" off: the move waits for the next reminder; if that time is taken by then, the event is
/// put back at the booking's time). Only the host hears of it: the customer's meeting did not change.
/// </summary>
public sealed partial class CalendarMoveAlerts(IMailTransport transport, IOptions<SmtpOptions> smtp, IClock clock, ILogger<CalendarMoveAlerts> logger)
{
    /// <summary>Sends the email; answers false (and logs) when email is off or the server refused it.</summary>
    public async Task<bool> SendMoveNotAppliedAsync(User host, Booking booking, string title, string customerName, Instant shownStart,
        CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(smtp.Value.Host) || !EmailAddresses.TryParse(smtp.Value.From, out var from))
        {
            LogNoEmail(logger, booking.Id.ToString());
            return false;
        }

        var zone = Domain.TimeZones.Find(host.TimeZoneId) ?? DateTimeZone.Utc;
        var kept = BookingNotifier.Range(booking.Start, booking.End, zone);
        var wanted = BookingNotifier.At(shownStart, zone);
        var text = $"Hello {host.Name},\n\nYou moved {title} with {customerName} to {wanted} in your calendar. The booking could not take that "
            + $"time when its reminder came due: another booking holds it now.\n\nThe booking keeps its time, {kept}, and the event in "
            + "your calendar is put back there. Reschedule it in Rendezvous if you still want to move it; the customer is told then.\n";
        var message = new EmailMessage
        {
            From = new MimeKit.MailboxAddress(from.Name ?? "Rendezvous", from.Address),
            To = [new MimeKit.MailboxAddress(host.Name, host.Email)],
            Subject = $"Not moved: {title} with {customerName} stays at {BookingNotifier.At(booking.Start, zone)}",
            Date = clock.GetCurrentInstant(),
            MessageId = $"move-{Guid.NewGuid():N}@{EmailAddresses.DomainOf(from.Address)}",
            TextBody = text,
            HtmlBody = string.Join("", text.Split("\n\n").Select(p => $"<p>{Html.E(p.Trim())}</p>")),
            Headers =
            [
                new("Auto-Submitted", "auto-generated"),
                new("X-Rendezvous-Booking", booking.Id.ToString()),
                new("X-Rendezvous-Kind", "calendarMoveNotApplied"),
            ],
        };
        try
        {
            await transport.SendAsync(message, ct);
            return true;
        }
        catch (Exception ex) when (ex is MailDeliveryException or IOException)
        {
            LogSendFailed(logger, ex, booking.Id.ToString());
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Email is off: the host of booking {BookingId} is not told that their calendar move was not applied")]
    private static partial void LogNoEmail(ILogger logger, string bookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling the host of booking {BookingId} that their calendar move was not applied failed")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string bookingId);
}

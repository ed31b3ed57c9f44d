using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using MimeKit;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Integrations.Notifications.Email;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>
/// Emails the organizer of a space request when Rendezvous, not their calendar, owes them the news (seed 004's
/// "integration email"): a hold or tentative on a Rendezvous-managed space (the calendar invitation stays pending), and
/// for requests made in Rendezvous every confirmation, decline and cancel. Requests that came from a calendar hear of
/// acceptance and declines through the calendar's own reply, sent by the transports. Each email is claimed in
/// <c>email_log</c> under the outbox message id first, so a retry never sends it twice.
/// </summary>
public sealed class SpaceNotificationsHandler(IMailTransport transport, EmailLog log, IOptions<SmtpOptions> options, IClock clock) : IOutboxHandler
{
    private static readonly LocalDateTimePattern When = LocalDateTimePattern.CreateWithInvariantCulture("dddd d MMMM yyyy HH:mm");

    public string Name => "space-notifications";

    public bool Handles(string type) => type.StartsWith("space.request.", StringComparison.Ordinal) && type != SpaceRequestAnswered.Type;

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.IsNullOrWhiteSpace(options.Value.Host))
        {
            return;
        }

        var e = JsonSerializer.Deserialize<SpaceEvent>(message.Payload, JsonDefaults.Options)!;
        if (!e.NotifyOrganizer || e.OrganizerEmail is null || !EmailAddresses.TryParse(e.OrganizerEmail, out var to))
        {
            return;
        }

        if (!EmailAddresses.TryParse(options.Value.From, out var from))
        {
            throw new InvalidOperationException("Rendezvous__Smtp__From must be an email address, e.g. \"Spaces <no-reply@example.com>\".");
        }

        var now = clock.GetCurrentInstant();
        var key = $"outbox:{message.Id}:space";
        var (claim, messageId) = await log.ClaimAsync(new EmailLog.Entry(key, e.OrganizationId, null, e.Type, e.OrganizerEmail,
            $"{Guid.CreateVersion7():N}@{EmailAddresses.DomainOf(from.Address)}"), now, cancellationToken);
        if (claim != EmailClaim.Claimed)
        {
            if (claim == EmailClaim.Busy)
            {
                throw new InvalidOperationException("Another process is sending this email; trying again later.");
            }

            return;
        }

        var (subject, text) = Compose(e);
        try
        {
            await transport.SendAsync(new EmailMessage
            {
                From = from,
                To = [new MailboxAddress(e.OrganizerName, to.Address)],
                Subject = subject,
                Date = now,
                MessageId = messageId,
                TextBody = text,
                Headers = [new("Auto-Submitted", "auto-generated"), new("X-Rendezvous-Space-Request", e.RequestId?.ToString() ?? "")],
            }, cancellationToken);
        }
        catch (MailDeliveryException ex) when (!ex.IsTransient && ex.IsMessageSpecific)
        {
            await log.MarkFailedAsync(key, permanent: true, ex.Message, clock.GetCurrentInstant(), CancellationToken.None);
            return;
        }
        catch (Exception ex)
        {
            await log.MarkFailedAsync(key, permanent: false, ex.Message, clock.GetCurrentInstant(), CancellationToken.None);
            throw;
        }

        await log.MarkSentAsync(key, clock.GetCurrentInstant(), CancellationToken.None);
    }

    /// <summary>The subject and text of the email for an event; times in the space's own zone, as its calendar shows them.</summary>
    public static (string Subject, string Text) Compose(SpaceEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var zone = TimeZones.Find(e.SpaceTimeZone) ?? DateTimeZone.Utc;
        var (subject, lead) = e.Type switch
        {
            SpaceEvent.RequestHeld => ($"On hold: {e.SpaceName} for \"{e.Summary}\"",
                $"{e.SpaceName} is on hold for your event. It is not confirmed yet: the invitation stays pending until the events team confirms it."),
            SpaceEvent.RequestTentative => ($"Tentative: {e.SpaceName} for \"{e.Summary}\"",
                $"{e.SpaceName} is marked tentative for your event. It is not confirmed: the invitation stays pending until the events team confirms it."),
            SpaceEvent.RequestConfirmed => ($"Accepted: {e.SpaceName} for \"{e.Summary}\"", $"{e.SpaceName} is booked for your event."),
            SpaceEvent.RequestDeclined => ($"Declined: {e.SpaceName} for \"{e.Summary}\"",
                $"{e.SpaceName} cannot be booked for your event; please choose a different space or time."),
            SpaceEvent.RequestCanceled => ($"Canceled: {e.SpaceName} for \"{e.Summary}\"", $"The booking of {e.SpaceName} for your event was canceled."),
            _ => ($"{e.SpaceName}: \"{e.Summary}\"", $"The request for {e.SpaceName} is now {e.State}."),
        };
        var text = new StringBuilder();
        text.AppendLine(lead).AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"Event: {e.Summary}").AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"Space: {e.SpaceName}").AppendLine();
        if (e.Start is { } start && e.End is { } end)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"When: {When.Format(start.InZone(zone).LocalDateTime)} - {When.Format(end.InZone(zone).LocalDateTime)} ({zone.Id})").AppendLine();
        }

        if (e.Reason is { } reason)
        {
            text.Append(CultureInfo.InvariantCulture, $"Reason: {reason}").AppendLine();
        }

        return (subject, text.ToString());
    }
}

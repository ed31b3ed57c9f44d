using System.Text.Json;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Notifications.Templates;

namespace Rendezvous.Integrations.Notifications;

/// <summary>
/// Turns booking events from the outbox into emails:
/// <list type="bullet">
/// <item>created: Confirmation to the customer and each host; requested: RequestReceived to the customer and each host;</item>
/// <item>approved: RequestApproved to the customer; declined: RequestDeclined (with the reason) to the customer;</item>
/// <item>rescheduled: Rescheduled to the customer and each host, except when the host moved the event in their own calendar
/// (seed 000: no email to anyone), and with the staff member's own wording or none for the customer when one was given;</item>
/// <item>canceled: Canceled (with the reason) to the customer, and to the hosts except the one who canceled (also when
/// they deleted the event in their calendar: that cancels "as if the user canceled", seed 000);</item>
/// <item>reassigned: Reassigned to the customer and the new host (seed 001); with a withheld location the customer's email leaves
/// location details out;</item>
/// <item>completed, no-show: nothing.</item>
/// </list>
/// The deduplication key is the outbox message id, so a retried message skips every email already sent; a failure to send
/// throws, and the outbox retries with backoff.
/// </summary>
public sealed class NotificationsHandler(BookingNotifier notifier) : IOutboxHandler
{
    public string Name => "notifications";

    /// <summary>The emails carry the meeting link, so the meeting is made first.</summary>
    public IReadOnlyCollection<string> RunsAfter => ["conferencing"];

    /// <summary>Outbox attempts during which an email waits for its booking's conferencing link before going out without it.</summary>
    public const int MeetingWaitAttempts = 5;

    public bool Handles(string type) => type is BookingEvent.Created or BookingEvent.Requested or BookingEvent.Approved
        or BookingEvent.Declined or BookingEvent.Rescheduled or BookingEvent.Canceled or BookingEvent.Reassigned;

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        if (!notifier.IsEnabled)
        {
            return;
        }

        var e = JsonSerializer.Deserialize<BookingEvent>(message.Payload, JsonDefaults.Options)!;
        if (Plan(e) is not { } plan)
        {
            return;
        }

        await notifier.SendAsync(new NotificationRequest(e.BookingId, plan.Kind, plan.Recipients, $"outbox:{message.Id}:{NotificationNames.Of(plan.Kind)}")
        {
            Event = e,
            SkipHost = plan.SkipHost,
            // The conferencing handler runs first; if its meeting is not there yet, wait a few rounds for the link.
            WaitForMeeting = message.Attempt <= MeetingWaitAttempts,
        }, cancellationToken);
    }

    /// <summary>Which notification an event calls for, or null for none.</summary>
    public static (NotificationKind Kind, NotificationRecipients Recipients, UserId? SkipHost)? Plan(BookingEvent e) => e.Type switch
    {
        _ when e.Quiet => null,
        BookingEvent.Created => (NotificationKind.Confirmation, NotificationRecipients.Both, null),
        BookingEvent.Requested => (NotificationKind.RequestReceived, NotificationRecipients.Both, null),
        BookingEvent.Approved => (NotificationKind.RequestApproved, NotificationRecipients.Customer, null),
        BookingEvent.Declined => (NotificationKind.RequestDeclined, NotificationRecipients.Customer, null),
        BookingEvent.Rescheduled when e.Actor.Kind == ActorKind.CalendarSync => null,
        BookingEvent.Rescheduled => (NotificationKind.Rescheduled, NotificationRecipients.Both, null),
        BookingEvent.Canceled => (NotificationKind.Canceled, NotificationRecipients.Both, ActingUser(e.Actor)),
        BookingEvent.Reassigned => (NotificationKind.Reassigned, NotificationRecipients.Both, null),
        _ => null,
    };

    private static UserId? ActingUser(Actor actor) =>
        actor.Kind is ActorKind.User or ActorKind.CalendarSync && Guid.TryParse(actor.Id, out var id) ? new UserId(id) : null;
}

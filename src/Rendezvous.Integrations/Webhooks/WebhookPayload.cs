using System.Globalization;
using System.Text.Json;
using NodaTime;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Integrations.Webhooks;

/// <summary>The body of a webhook request (see docs/WEBHOOKS.md). Every field is always present; absent values are null.</summary>
public sealed record WebhookEventBody(string Id, string Type, string CreatedAt, string OrganizationId, WebhookBookingData Data);

/// <summary>The booking as the event left it.</summary>
public sealed record WebhookBookingData(
    string Id,
    string Status,
    string DetailedStatus,
    string Start,
    string End,
    string? PreviousStart,
    string? PreviousEnd,
    string BookingPageId,
    string? OwnerId,
    WebhookCustomer? Customer,
    string? Reason,
    WebhookActor Actor,
    string? PreviousOwnerId,
    string? PreviousBookingPageId);

public sealed record WebhookCustomer(string Name, string Email, string TimeZone);

/// <summary><c>kind</c> is customer, user, system or calendarSync; <c>id</c> the user's or customer's id.</summary>
public sealed record WebhookActor(string Kind, string? Id);

/// <summary>The body of a space webhook: the same envelope, with the space or space request as data.</summary>
public sealed record WebhookSpaceEventBody(string Id, string Type, string CreatedAt, string OrganizationId, WebhookSpaceData Data);

/// <summary>A space, or a request for it, as the event left it; request fields are null for space.created/updated/deleted.</summary>
public sealed record WebhookSpaceData(
    string SpaceId,
    string SpaceName,
    string SpaceTimeZone,
    string? RequestId,
    string? Uid,
    int? Sequence,
    string? State,
    string? PreviousState,
    string? Summary,
    string? Start,
    string? End,
    string? StartInSpaceZone,
    string? EndInSpaceZone,
    string? OrganizerEmail,
    string? OrganizerName,
    string? Channel,
    string? Reason,
    WebhookActor Actor);

/// <summary>
/// The outbox message written when an automation run ends (type <c>automation.succeeded</c>, <c>automation.failed</c> or
/// <c>automation.skipped</c>): everything its webhook event says, captured when the run ended.
/// </summary>
public sealed record AutomationOutcome(
    Guid OrganizationId, Instant OccurredAt, Guid RunId, WebhookAutomationRule Automation, WebhookBookingData Booking, string Outcome, string Result);

/// <summary>The rule a run belongs to: <c>action</c> is its action's kind (email, webhook, keapTag, ...).</summary>
public sealed record WebhookAutomationRule(string Id, string Name, string Trigger, int OffsetMinutes, string Action);

/// <summary>An automation run that ended: <c>outcome</c> is succeeded, failed or skipped; <c>result</c> the run's one-line result.</summary>
public sealed record WebhookAutomationRunData(string RunId, WebhookAutomationRule Automation, WebhookBookingData Booking, string Outcome, string Result);

/// <summary>The body of an automation outcome webhook: the same envelope, with the run as data.</summary>
public sealed record WebhookAutomationEventBody(string Id, string Type, string CreatedAt, string OrganizationId, WebhookAutomationRunData Data);

public static class WebhookPayload
{
    /// <summary>Builds the body of an automation run's outcome.</summary>
    public static string Build(string eventId, string type, AutomationOutcome e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var data = new WebhookAutomationRunData(e.RunId.ToString(), e.Automation, e.Booking, e.Outcome, e.Result);
        return JsonSerializer.Serialize(
            new WebhookAutomationEventBody(eventId, type, ApiFormat.Format(e.OccurredAt), e.OrganizationId.ToString(), data), Options);
    }

    /// <summary>Builds the body of a space event.</summary>
    public static string Build(string eventId, SpaceEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var zone = Rendezvous.Domain.TimeZones.Find(e.SpaceTimeZone) ?? NodaTime.DateTimeZone.Utc;
        var data = new WebhookSpaceData(
            e.SpaceId.ToString(), e.SpaceName, e.SpaceTimeZone, e.RequestId?.ToString(), e.Uid, e.Sequence, e.State, e.PreviousState, e.Summary,
            e.Start is { } s ? ApiFormat.Format(s) : null, e.End is { } en ? ApiFormat.Format(en) : null,
            e.Start is { } s2 ? ApiFormat.Format(s2, zone) : null, e.End is { } en2 ? ApiFormat.Format(en2, zone) : null,
            e.OrganizerEmail, e.OrganizerName, e.Channel, e.Reason, new WebhookActor(e.ActorKind, e.ActorId));
        return JsonSerializer.Serialize(new WebhookSpaceEventBody(eventId, e.Type, ApiFormat.Format(e.OccurredAt), e.OrganizationId.ToString(), data), Options);
    }

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>The event id: the same for every subscription, retry and replay of one outbox message.</summary>
    public static string EventId(long outboxMessageId) => "evt_" + outboxMessageId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Builds the body from the event (the booking's state when it happened) and the booking's owner and customer.</summary>
    public static string Build(string eventId, BookingEvent e, string? ownerId, WebhookCustomer? customer)
    {
        var data = new WebhookBookingData(
            e.BookingId.ToString(),
            BookingLifecycle.ApiName(e.Status),
            e.DetailedStatus,
            ApiFormat.Format(e.Start),
            ApiFormat.Format(e.End),
            e.PreviousStart is { } ps ? ApiFormat.Format(ps) : null,
            e.PreviousEnd is { } pe ? ApiFormat.Format(pe) : null,
            e.BookingPageId.ToString(),
            ownerId,
            customer,
            e.Reason,
            new WebhookActor(ApiFormat.ActorName(e.Actor.Kind), e.Actor.Id),
            e.PreviousOwnerId?.ToString(),
            e.PreviousBookingPageId?.ToString());
        var body = new WebhookEventBody(eventId, e.Type, ApiFormat.Format(e.OccurredAt), e.OrganizationId.ToString(), data);
        return JsonSerializer.Serialize(body, Options);
    }
}

using System.Globalization;
using System.Text.Json;
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

public static class WebhookPayload
{
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

using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Integrations.Webhooks;

/// <summary>
/// Turns each booking event (and space event, and automation run outcome) into one delivery per active subscription that wants its type. Sending happens later, in
/// <see cref="WebhookDispatcher"/>, so a slow receiver never holds up the outbox. Running twice for one message inserts
/// nothing new: deliveries are unique on (subscription, event id) and the event id comes from the outbox message id.
/// </summary>
public sealed class WebhookOutboxHandler(IServiceScopeFactory scopes, WebhookSignal signal, IClock clock) : IOutboxHandler
{
    public string Name => "webhooks";

    public bool Handles(string type) =>
        WebhookEventTypes.IsBookingEvent(type) || WebhookEventTypes.IsSpaceEvent(type) || WebhookEventTypes.IsAutomationEvent(type);

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        if (WebhookEventTypes.IsAutomationEvent(message.Type))
        {
            // One message per run that ended (written with the run's final status), so one event per outcome.
            var outcome = JsonSerializer.Deserialize<AutomationOutcome>(message.Payload, JsonDefaults.Options)
                ?? throw new JsonException($"Outbox message {message.Id} holds no automation outcome.");
            var runEventId = WebhookPayload.EventId(message.Id);
            await InsertAsync(message.Id, new OrganizationId(outcome.OrganizationId), message.Type, runEventId,
                WebhookPayload.Build(runEventId, message.Type, outcome), cancellationToken);
            return;
        }

        if (WebhookEventTypes.IsSpaceEvent(message.Type))
        {
            var change = JsonSerializer.Deserialize<SpaceEvent>(message.Payload, JsonDefaults.Options)
                ?? throw new JsonException($"Outbox message {message.Id} holds no space event.");
            var spaceEventId = WebhookPayload.EventId(message.Id);
            await InsertAsync(message.Id, change.OrganizationId, change.Type, spaceEventId, WebhookPayload.Build(spaceEventId, change), cancellationToken);
            return;
        }

        var e = JsonSerializer.Deserialize<BookingEvent>(message.Payload, JsonDefaults.Options)
            ?? throw new JsonException($"Outbox message {message.Id} holds no booking event.");
        if (e.Quiet)
        {
            // A calendar move applied at its reminder with "changing the time updates the booking" off: integrations are not told (seed 000).
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var subscriptions = await SubscriptionsAsync(db, e.OrganizationId, e.Type, cancellationToken);
        if (subscriptions.Count == 0)
        {
            return;
        }

        var booking = await db.Bookings.AcrossTenants().AsNoTracking()
            .Where(b => b.Id == e.BookingId)
            .Select(b => new { b.OwnerId, b.CustomerId })
            .FirstOrDefaultAsync(cancellationToken);
        WebhookCustomer? customer = null;
        if (booking is not null)
        {
            customer = await db.Customers.AcrossTenants().AsNoTracking()
                .Where(c => c.Id == booking.CustomerId)
                .Select(c => new WebhookCustomer(c.Name, c.Email, c.TimeZoneId))
                .FirstOrDefaultAsync(cancellationToken);
        }

        var eventId = WebhookPayload.EventId(message.Id);
        var payload = WebhookPayload.Build(eventId, e, booking?.OwnerId.ToString(), customer);
        await InsertAsync(message.Id, e.OrganizationId, e.Type, eventId, payload, cancellationToken, subscriptions);
    }

    /// <summary>
    /// The active subscriptions of the organization that want the type. Within an outbox batch the organization's
    /// subscriptions are read once for all its messages.
    /// </summary>
    private static async Task<List<Guid>> SubscriptionsAsync(RendezvousDbContext db, OrganizationId org, string type, CancellationToken ct)
    {
        if (OutboxBatch.Current is not { } batch)
        {
            return await db.WebhookSubscriptions.AcrossTenants().AsNoTracking()
                .Where(s => s.OrganizationId == org && s.Active && (s.Events.Contains(type) || s.Events.Contains(WebhookEventTypes.All)))
                .Select(s => s.Id)
                .ToListAsync(ct);
        }

        var all = await batch.GetOrAddAsync($"webhooks:{org}", async () => await db.WebhookSubscriptions.AcrossTenants().AsNoTracking()
            .Where(s => s.OrganizationId == org && s.Active)
            .Select(s => new { s.Id, s.Events })
            .ToListAsync(CancellationToken.None));
        return [.. all.Where(s => s.Events.Contains(type) || s.Events.Contains(WebhookEventTypes.All)).Select(s => s.Id)];
    }

    /// <summary>One delivery per subscription that wants the type (those given, or looked up).</summary>
    private async Task InsertAsync(long messageId, OrganizationId org, string type, string eventId, string payload, CancellationToken cancellationToken,
        List<Guid>? subscriptions = null)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        subscriptions ??= await db.WebhookSubscriptions.AcrossTenants().AsNoTracking()
            .Where(s => s.OrganizationId == org && s.Active && (s.Events.Contains(type) || s.Events.Contains(WebhookEventTypes.All)))
            .Select(s => s.Id)
            .ToListAsync(cancellationToken);
        var now = clock.GetCurrentInstant();
        var inserted = 0;
        foreach (var subscriptionId in subscriptions)
        {
            inserted += await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO webhook_deliveries (id, organization_id, subscription_id, outbox_message_id, event_id, event_type, payload,
                    status, next_attempt_at, created_at)
                VALUES ({Guid.CreateVersion7()}, {org.Value}, {subscriptionId}, {messageId}, {eventId}, {type}, {payload},
                    'Pending', {now}, {now})
                ON CONFLICT (subscription_id, event_id) DO NOTHING
                """, cancellationToken);
        }

        if (inserted > 0)
        {
            signal.Notify();
        }
    }
}

using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Integrations.Webhooks;

/// <summary>
/// Turns each booking event into one delivery per active subscription that wants its type. Sending happens later, in
/// <see cref="WebhookDispatcher"/>, so a slow receiver never holds up the outbox. Running twice for one message inserts
/// nothing new: deliveries are unique on (subscription, event id) and the event id comes from the outbox message id.
/// </summary>
public sealed class WebhookOutboxHandler(IServiceScopeFactory scopes, WebhookSignal signal, IClock clock) : IOutboxHandler
{
    public string Name => "webhooks";

    public bool Handles(string type) => WebhookEventTypes.IsBookingEvent(type);

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        var e = JsonSerializer.Deserialize<BookingEvent>(message.Payload, JsonDefaults.Options)
            ?? throw new JsonException($"Outbox message {message.Id} holds no booking event.");
        if (e.Quiet)
        {
            // A calendar move applied at its reminder with "changing the time updates the booking" off: integrations are not told (seed 000).
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var subscriptions = await db.WebhookSubscriptions.IgnoreQueryFilters().AsNoTracking()
            .Where(s => s.OrganizationId == e.OrganizationId && s.Active
                && (s.Events.Contains(e.Type) || s.Events.Contains(WebhookEventTypes.All)))
            .Select(s => s.Id)
            .ToListAsync(cancellationToken);
        if (subscriptions.Count == 0)
        {
            return;
        }

        var booking = await db.Bookings.IgnoreQueryFilters().AsNoTracking()
            .Where(b => b.Id == e.BookingId)
            .Select(b => new { b.OwnerId, b.CustomerId })
            .FirstOrDefaultAsync(cancellationToken);
        WebhookCustomer? customer = null;
        if (booking is not null)
        {
            customer = await db.Customers.IgnoreQueryFilters().AsNoTracking()
                .Where(c => c.Id == booking.CustomerId)
                .Select(c => new WebhookCustomer(c.Name, c.Email, c.TimeZoneId))
                .FirstOrDefaultAsync(cancellationToken);
        }

        var eventId = WebhookPayload.EventId(message.Id);
        var payload = WebhookPayload.Build(eventId, e, booking?.OwnerId.ToString(), customer);
        var now = clock.GetCurrentInstant();
        var inserted = 0;
        foreach (var subscriptionId in subscriptions)
        {
            inserted += await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO webhook_deliveries (id, organization_id, subscription_id, outbox_message_id, event_id, event_type, payload,
                    status, next_attempt_at, created_at)
                VALUES ({Guid.CreateVersion7()}, {e.OrganizationId.Value}, {subscriptionId}, {message.Id}, {eventId}, {e.Type}, {payload},
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

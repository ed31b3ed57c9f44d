using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Data;

/// <summary>
/// An administrator's subscription of a URL to booking events. The signing secret is stored encrypted (Data Protection)
/// because it is needed in clear to sign each request; only a short hint of it is ever shown again.
/// </summary>
public sealed class WebhookSubscription
{
    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required string Url { get; set; }

    public string? Description { get; set; }

    /// <summary>Event types (<c>booking.created</c>, ...) or the single entry <c>*</c> for every type.</summary>
    public required List<string> Events { get; set; }

    public required string ProtectedSecret { get; set; }

    /// <summary>The first characters of the secret, so people can tell which one a receiver holds.</summary>
    public required string SecretHint { get; set; }

    /// <summary>False when paused by a person or disabled by the receiver answering 410 Gone.</summary>
    public bool Active { get; set; } = true;

    /// <summary>Why the server disabled the subscription on its own; null when active or paused by a person.</summary>
    public string? DisabledReason { get; set; }

    public required Instant CreatedAt { get; init; }

    public required Instant UpdatedAt { get; set; }
}

/// <summary>Where a delivery stands.</summary>
public enum WebhookDeliveryStatus
{
    /// <summary>Not yet accepted by the receiver; the next attempt is due at <see cref="WebhookDelivery.NextAttemptAt"/>.</summary>
    Pending,
    /// <summary>The receiver answered 2xx at least once.</summary>
    Delivered,
    /// <summary>Every scheduled attempt failed (or the receiver answered 410 Gone); only a replay sends it again.</summary>
    Failed,
}

/// <summary>One event for one subscription. Unique on (subscription, event id), so an outbox repeat adds nothing.</summary>
public sealed class WebhookDelivery
{
    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required Guid SubscriptionId { get; init; }

    /// <summary>The outbox message the event came from; orders deliveries of one subscription.</summary>
    public required long OutboxMessageId { get; init; }

    /// <summary>Stable across retries and replays (<c>evt_</c> and the outbox message id).</summary>
    public required string EventId { get; init; }

    public required string EventType { get; init; }

    /// <summary>The exact request body, built once, so every attempt sends (and signs) the same bytes.</summary>
    public required string Payload { get; init; }

    public WebhookDeliveryStatus Status { get; set; }

    /// <summary>Every attempt, including replays.</summary>
    public int Attempts { get; set; }

    /// <summary>Attempts made by the retry schedule (replays excluded); picks the next wait.</summary>
    public int AutomaticAttempts { get; set; }

    public Instant? NextAttemptAt { get; set; }

    public required Instant CreatedAt { get; init; }

    public Instant? DeliveredAt { get; set; }

    public int? LastStatusCode { get; set; }

    public string? LastError { get; set; }
}

/// <summary>One HTTP request made for a delivery, as the delivery log shows it.</summary>
public sealed class WebhookAttempt
{
    public long Id { get; init; }

    public required Guid DeliveryId { get; init; }

    /// <summary>1-based, per delivery.</summary>
    public required int Number { get; init; }

    public required Instant At { get; init; }

    /// <summary>True when an administrator asked for it; false for the retry schedule's attempts.</summary>
    public required bool Replay { get; init; }

    /// <summary>Null when no HTTP answer came (connection refused, timeout, TLS failure).</summary>
    public int? StatusCode { get; init; }

    /// <summary>The start of the answer's body, at most a few hundred characters.</summary>
    public string? ResponseExcerpt { get; init; }

    public string? Error { get; init; }

    public required int DurationMs { get; init; }
}

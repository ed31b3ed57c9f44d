using Rendezvous.Integrations.Webhooks;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rendezvous.Server.Features.Webhooks;

/// <summary>
/// Creates or changes a subscription. On update every field is optional and a missing one keeps its value;
/// <c>description: ""</c> clears the description.
/// </summary>
public sealed record WebhookRequest(string? Url, IReadOnlyList<string?>? Events, string? Description, bool? Active);

/// <summary>A subscription. <c>secret</c> appears only in the answers to creating it and rotating its secret.</summary>
public sealed record WebhookResponse(
    string Id,
    string Url,
    string[] Events,
    string? Description,
    bool Active,
    string? DisabledReason,
    string SecretHint,
    string CreatedAt,
    string UpdatedAt)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }
}

/// <summary>One event for one subscription, with every attempt made to send it (oldest first).</summary>
public sealed record WebhookDeliveryResponse(
    string Id,
    string WebhookId,
    string EventId,
    string EventType,
    string Status,
    int AttemptCount,
    string? NextAttemptAt,
    string? DeliveredAt,
    int? LastStatusCode,
    string? LastError,
    string CreatedAt,
    JsonElement Payload,
    WebhookAttemptResponse[] Attempts);

public sealed record WebhookAttemptResponse(
    int Number,
    string At,
    bool Replay,
    int? StatusCode,
    string? ResponseExcerpt,
    string? Error,
    int DurationMs);

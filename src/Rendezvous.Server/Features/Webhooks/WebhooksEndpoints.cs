using Rendezvous.Integrations.Webhooks;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Webhooks;

/// <summary>
/// Webhook subscriptions and their delivery log, for administrators. Everything is scoped to the caller's organization
/// by the tenant filter: another organization's subscription or delivery is simply not found.
/// </summary>
public static class WebhooksEndpoints
{
    public const int MaxUrlLength = 2000;
    public const int MaxDescriptionLength = 500;
    public const int DefaultDeliveryPage = 50;
    public const int MaxDeliveryPage = 200;

    public static void MapWebhooks(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/webhooks").WithTags("Webhooks").RequireAuthorization(ApiKeys.AdministratorPolicy);
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPut("/{id}", UpdateAsync);
        group.MapDelete("/{id}", DeleteAsync);
        group.MapPost("/{id}/rotate-secret", RotateSecretAsync);
        group.MapGet("/{id}/deliveries", ListDeliveriesAsync);
        group.MapPost("/deliveries/{deliveryId}/replay", ReplayAsync);
    }

    public static WebhookResponse ToResponse(WebhookSubscription s, string? secret = null) => new(
        s.Id.ToString(), s.Url, [.. s.Events], s.Description, s.Active, s.DisabledReason, s.SecretHint,
        ApiFormat.Format(s.CreatedAt), ApiFormat.Format(s.UpdatedAt))
    {
        Secret = secret,
    };

    private static async Task<Results<Created<WebhookResponse>, ProblemHttpResult>> CreateAsync(
        WebhookRequest request, WebhookSubscriptions subscriptions, HttpContext http, CancellationToken ct)
    {
        var created = await subscriptions.CreateAsync(CurrentUser.From(http.User).OrganizationId, request, ct);
        if (!created.IsSuccess)
        {
            return Problems.From(created.Error!);
        }

        var (subscription, secret) = created.Value;
        return TypedResults.Created($"/api/v1/webhooks/{subscription.Id}", ToResponse(subscription, secret));
    }

    private static async Task<Ok<WebhookResponse[]>> ListAsync(RendezvousDbContext db, CancellationToken ct)
    {
        var all = await db.WebhookSubscriptions.AsNoTracking().OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToListAsync(ct);
        return TypedResults.Ok(all.Select(s => ToResponse(s)).ToArray());
    }

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> GetAsync(string id, RendezvousDbContext db, CancellationToken ct)
    {
        var subscription = await FindAsync(db, id, ct);
        return subscription is null ? Problems.NotFound("Webhook") : TypedResults.Ok(ToResponse(subscription));
    }

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> UpdateAsync(
        string id, WebhookRequest request, RendezvousDbContext db, WebhookSubscriptions subscriptions, CancellationToken ct)
    {
        var subscription = await FindAsync(db, id, ct);
        if (subscription is null)
        {
            return Problems.NotFound("Webhook");
        }

        var updated = await subscriptions.UpdateAsync(subscription, request, complete: false, ct);
        return updated.IsSuccess ? TypedResults.Ok(ToResponse(updated.Value)) : Problems.From(updated.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, RendezvousDbContext db, WebhookSubscriptions subscriptions, CancellationToken ct)
    {
        var subscription = await FindAsync(db, id, ct);
        if (subscription is null)
        {
            return Problems.NotFound("Webhook");
        }

        await subscriptions.DeleteAsync(subscription, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> RotateSecretAsync(
        string id, RendezvousDbContext db, WebhookSubscriptions subscriptions, CancellationToken ct)
    {
        var subscription = await FindAsync(db, id, ct);
        if (subscription is null)
        {
            return Problems.NotFound("Webhook");
        }

        var secret = await subscriptions.RotateSecretAsync(subscription, ct);
        return TypedResults.Ok(ToResponse(subscription, secret));
    }

    /// <summary>The delivery log, newest event first, optionally only pending, delivered or failed deliveries.</summary>
    private static async Task<Results<Ok<WebhookDeliveryResponse[]>, ProblemHttpResult>> ListDeliveriesAsync(
        string id, string? status, int? limit, RendezvousDbContext db, CancellationToken ct)
    {
        var subscription = await FindAsync(db, id, ct);
        if (subscription is null)
        {
            return Problems.NotFound("Webhook");
        }

        var errors = new List<FieldError>();
        WebhookDeliveryStatus? wanted = null;
        if (status is not null)
        {
            if (ParseStatus(status) is { } parsed)
            {
                wanted = parsed;
            }
            else
            {
                errors.Add(new("status", "must be pending, delivered or failed"));
            }
        }

        if (limit is < 1 or > MaxDeliveryPage)
        {
            errors.Add(new("limit", $"must be between 1 and {MaxDeliveryPage}"));
        }

        if (errors.Count > 0)
        {
            return Problems.From(DomainError.Validation(errors));
        }

        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == subscription.Id);
        if (wanted is { } w)
        {
            query = query.Where(d => d.Status == w);
        }

        var deliveries = await query
            .OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.OutboxMessageId)
            .Take(limit ?? DefaultDeliveryPage)
            .ToListAsync(ct);
        return TypedResults.Ok(await ToResponsesAsync(db, deliveries, ct));
    }

    /// <summary>Sends a delivery again now (a new attempt with the same event id) and answers with the delivery as it then is.</summary>
    private static async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> ReplayAsync(
        string deliveryId, RendezvousDbContext db, WebhookDispatcher dispatcher, CancellationToken ct)
    {
        if (!Ids.TryParse(deliveryId, out var guid) || !await db.WebhookDeliveries.AnyAsync(d => d.Id == guid, ct))
        {
            return Problems.NotFound("Webhook delivery");
        }

        if (!await dispatcher.ReplayAsync(guid, ct))
        {
            return Problems.NotFound("Webhook delivery");
        }

        var delivery = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == guid, ct);
        return delivery is null
            ? Problems.NotFound("Webhook delivery")
            : TypedResults.Ok((await ToResponsesAsync(db, [delivery], ct))[0]);
    }

    internal static async Task<WebhookDeliveryResponse[]> ToResponsesAsync(RendezvousDbContext db, List<WebhookDelivery> deliveries, CancellationToken ct)
    {
        var ids = deliveries.Select(d => d.Id).ToList();
        var attempts = (await db.WebhookAttempts.AsNoTracking().Where(a => ids.Contains(a.DeliveryId)).ToListAsync(ct))
            .ToLookup(a => a.DeliveryId);
        return [.. deliveries.Select(d => new WebhookDeliveryResponse(
            d.Id.ToString(), d.SubscriptionId.ToString(), d.EventId, d.EventType, StatusName(d.Status), d.Attempts,
            d.NextAttemptAt is { } next && d.Status == WebhookDeliveryStatus.Pending ? ApiFormat.Format(next) : null,
            d.DeliveredAt is { } delivered ? ApiFormat.Format(delivered) : null,
            d.LastStatusCode, d.LastError, ApiFormat.Format(d.CreatedAt), ParsePayload(d.Payload),
            [.. attempts[d.Id].OrderBy(a => a.Number).Select(a => new WebhookAttemptResponse(
                a.Number, ApiFormat.Format(a.At), a.Replay, a.StatusCode, a.ResponseExcerpt, a.Error, a.DurationMs))]))];
    }

    private static JsonElement ParsePayload(string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        return doc.RootElement.Clone();
    }

    public static string StatusName(WebhookDeliveryStatus status) => status switch
    {
        WebhookDeliveryStatus.Pending => "pending",
        WebhookDeliveryStatus.Delivered => "delivered",
        WebhookDeliveryStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    private static WebhookDeliveryStatus? ParseStatus(string text) => text.Trim().ToLowerInvariant() switch
    {
        "pending" => WebhookDeliveryStatus.Pending,
        "delivered" => WebhookDeliveryStatus.Delivered,
        "failed" => WebhookDeliveryStatus.Failed,
        _ => null,
    };

    private static async Task<WebhookSubscription?> FindAsync(RendezvousDbContext db, string id, CancellationToken ct) =>
        Ids.TryParse(id, out var guid) ? await db.WebhookSubscriptions.FirstOrDefaultAsync(s => s.Id == guid, ct) : null;

    internal sealed record Valid(string? Url, List<string>? Events, string? Description);

    /// <summary>Checks every given field (all of them when creating) and reports every bad one at once.</summary>
    internal static Result<Valid> Validate(WebhookRequest r, bool creating)
    {
        var errors = new List<FieldError>();

        string? url = null;
        if (creating || r.Url is not null)
        {
            url = ValidUrl(r.Url, out var problem);
            if (url is null)
            {
                errors.Add(new("url", problem));
            }
        }

        List<string>? events = null;
        if (creating || r.Events is not null)
        {
            events = ValidEvents(r.Events, errors);
        }

        string? description = null;
        if (!string.IsNullOrWhiteSpace(r.Description))
        {
            if (ApiFormat.TryText(r.Description, MaxDescriptionLength, out var clean))
            {
                description = clean;
            }
            else
            {
                errors.Add(new("description", $"must be at most {MaxDescriptionLength} characters without control characters"));
            }
        }

        return errors.Count > 0 ? DomainError.Validation(errors) : new Valid(url, events, description);
    }

    private static string? ValidUrl(string? text, out string problem)
    {
        problem = "must be an absolute http or https URL";
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            problem = "is required: the absolute http or https URL to send events to";
            return null;
        }

        if (trimmed.Length > MaxUrlLength)
        {
            problem = $"must be at most {MaxUrlLength} characters";
            return null;
        }

        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            return null;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            problem = "must not contain a user name or password (they would not be sent); put a token in the path or query instead";
            return null;
        }

        return uri.AbsoluteUri;
    }

    /// <summary>Known types, or <c>*</c>; duplicates are dropped and <c>*</c> stands alone.</summary>
    private static List<string>? ValidEvents(IReadOnlyList<string?>? events, List<FieldError> errors)
    {
        if (events is null || events.Count == 0)
        {
            errors.Add(new("events", $"must list at least one event type ({string.Join(", ", WebhookEventTypes.Known)}) or \"*\" for all"));
            return null;
        }

        if (events.Count > 50)
        {
            errors.Add(new("events", "must list at most 50 event types"));
            return null;
        }

        var ok = true;
        for (var i = 0; i < events.Count; i++)
        {
            var type = events[i]?.Trim();
            if (type is null || (type != WebhookEventTypes.All && !WebhookEventTypes.IsKnown(type)))
            {
                errors.Add(new($"events[{i}]", $"is not an event type; use one of {string.Join(", ", WebhookEventTypes.Known)}, or \"*\" for all"));
                ok = false;
            }
        }

        if (!ok)
        {
            return null;
        }

        var given = events.Select(e => e!.Trim()).ToHashSet(StringComparer.Ordinal);
        return given.Contains(WebhookEventTypes.All)
            ? [WebhookEventTypes.All]
            : [.. WebhookEventTypes.Known.Where(given.Contains)];
    }
}

using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Integrations.Webhooks;

namespace Rendezvous.Server.Features.Webhooks;

/// <summary>
/// Creating, changing, re-keying and deleting a subscription: the one implementation the API endpoints and the
/// administrator's pages both call, so the two can never disagree on the rules.
/// </summary>
public sealed class WebhookSubscriptions(RendezvousDbContext db, WebhookSecrets secrets, IClock clock)
{
    /// <summary>A new subscription and its signing secret in clear (shown once, never stored).</summary>
    public async Task<Result<(WebhookSubscription Subscription, string Secret)>> CreateAsync(
        OrganizationId organizationId, WebhookRequest request, CancellationToken ct)
    {
        var input = WebhooksEndpoints.Validate(request, creating: true);
        if (!input.IsSuccess)
        {
            return input.Error!;
        }

        var now = clock.GetCurrentInstant();
        var secret = WebhookSecrets.Generate();
        var subscription = new WebhookSubscription
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organizationId,
            Url = input.Value.Url!,
            Events = input.Value.Events!,
            Description = input.Value.Description,
            ProtectedSecret = secrets.Protect(secret),
            SecretHint = WebhookSecrets.HintOf(secret),
            Active = request.Active ?? true,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync(ct);
        return (subscription, secret);
    }

    /// <summary>
    /// Changes what the request names (a null field is left as it is). <paramref name="complete"/> requires the URL and
    /// events, for a form that always sends the whole subscription.
    /// </summary>
    public async Task<Result<WebhookSubscription>> UpdateAsync(
        WebhookSubscription subscription, WebhookRequest request, bool complete, CancellationToken ct)
    {
        var input = WebhooksEndpoints.Validate(request, creating: complete);
        if (!input.IsSuccess)
        {
            return input.Error!;
        }

        var v = input.Value;
        subscription.Url = v.Url ?? subscription.Url;
        subscription.Events = v.Events ?? subscription.Events;
        if (request.Description is not null)
        {
            subscription.Description = v.Description;
        }

        if (request.Active is { } active)
        {
            subscription.Active = active;
            // Resuming (or pausing) is a person's decision; the server's reason for disabling no longer applies.
            subscription.DisabledReason = null;
        }

        subscription.UpdatedAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
        return subscription;
    }

    /// <summary>A new signing secret in clear (shown once); the old one stops working at once.</summary>
    public async Task<string> RotateSecretAsync(WebhookSubscription subscription, CancellationToken ct)
    {
        var secret = WebhookSecrets.Generate();
        subscription.ProtectedSecret = secrets.Protect(secret);
        subscription.SecretHint = WebhookSecrets.HintOf(secret);
        subscription.UpdatedAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
        return secret;
    }

    public async Task DeleteAsync(WebhookSubscription subscription, CancellationToken ct)
    {
        // Its deliveries and their attempts go with it (ON DELETE CASCADE).
        db.WebhookSubscriptions.Remove(subscription);
        await db.SaveChangesAsync(ct);
    }
}

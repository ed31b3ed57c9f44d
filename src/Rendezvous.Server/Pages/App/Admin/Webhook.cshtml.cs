using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Integrations.Webhooks;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Features.Webhooks;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>One subscription: edit, pause or resume, rotate the secret, delete; and its delivery log with every attempt and a replay.</summary>
public sealed class WebhookModel(RendezvousDbContext db, WebhookSubscriptions subscriptions, WebhookDispatcher dispatcher) : StaffPageModel
{
    public const int LogSize = 50;

    public WebhookSubscription Subscription { get; private set; } = null!;

    public IReadOnlyList<WebhookDeliveryResponse> Deliveries { get; private set; } = [];

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    /// <summary>A secret just made (on creation or rotation): shown once.</summary>
    public string? NewSecret { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(Name = "Url")]
    public string? EndpointUrl { get; set; }

    [BindProperty]
    public List<string> Events { get; set; } = [];

    [BindProperty]
    public string? Description { get; set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        NewSecret = TempData["WebhookSecret"] as string;
        EndpointUrl = Subscription.Url;
        Events = [.. Subscription.Events];
        Description = Subscription.Description;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        var tracked = await db.WebhookSubscriptions.FirstAsync(s => s.Id == Subscription.Id, ct);
        var updated = await subscriptions.UpdateAsync(tracked, new WebhookRequest(EndpointUrl, Events, Description ?? "", null), complete: true, ct);
        if (!updated.IsSuccess)
        {
            Errors.Add(updated.Error!, f => f.StartsWith("events", StringComparison.Ordinal) ? "events" : f);
            return Page();
        }

        Flash("Saved.");
        return Go($"/app/admin/webhooks/{id}");
    }

    public async Task<IActionResult> OnPostActiveAsync(string id, bool active, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        var tracked = await db.WebhookSubscriptions.FirstAsync(s => s.Id == Subscription.Id, ct);
        await subscriptions.UpdateAsync(tracked, new WebhookRequest(null, null, null, active), complete: false, ct);
        Flash(active ? "Resumed: new events are sent again." : "Paused: events are not sent until you resume.");
        return Go($"/app/admin/webhooks/{id}");
    }

    public async Task<IActionResult> OnPostRotateAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        var tracked = await db.WebhookSubscriptions.FirstAsync(s => s.Id == Subscription.Id, ct);
        var secret = await subscriptions.RotateSecretAsync(tracked, ct);
        TempData["WebhookSecret"] = secret;
        return Go($"/app/admin/webhooks/{id}");
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        await subscriptions.DeleteAsync(await db.WebhookSubscriptions.FirstAsync(s => s.Id == Subscription.Id, ct), ct);
        Flash("The subscription and its delivery log are deleted.");
        return Go("/app/admin/webhooks");
    }

    public async Task<IActionResult> OnPostReplayAsync(string id, Guid deliveryId, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        if (Deliveries.Any(d => d.Id == deliveryId.ToString()) && await dispatcher.ReplayAsync(deliveryId, ct))
        {
            Flash("Sent again; the attempt is in the log below.");
        }

        return Go($"/app/admin/webhooks/{id}");
    }

    private async Task<IActionResult?> LoadAsync(string id, CancellationToken ct)
    {
        ViewData["Nav"] = "webhooks";
        Errors.Labels["url"] = "The URL";
        Errors.Labels["events"] = "Events";
        Errors.Labels["description"] = "The description";
        Zone = await MyZoneAsync(db, ct);
        var subscription = Guid.TryParse(id, out var guid)
            ? await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == guid, ct)
            : null;
        if (subscription is null)
        {
            return Missing("Webhook not found", "There is no such webhook subscription in your organization.");
        }

        Subscription = subscription;
        ViewData["Title"] = "Webhook " + subscription.Url;
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == subscription.Id);
        var wanted = Status switch
        {
            "pending" => WebhookDeliveryStatus.Pending,
            "delivered" => WebhookDeliveryStatus.Delivered,
            "failed" => WebhookDeliveryStatus.Failed,
            _ => (WebhookDeliveryStatus?)null,
        };
        if (wanted is { } w)
        {
            query = query.Where(d => d.Status == w);
        }

        var deliveries = await query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.OutboxMessageId).Take(LogSize).ToListAsync(ct);
        Deliveries = await WebhooksEndpoints.ToResponsesAsync(db, deliveries, ct);
        return null;
    }
}

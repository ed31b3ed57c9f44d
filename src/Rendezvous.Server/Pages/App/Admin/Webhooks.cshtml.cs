using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Integrations.Webhooks;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Features.Webhooks;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>Webhook subscriptions: the list, and a new one (its signing secret is shown once).</summary>
public sealed class WebhooksModel(RendezvousDbContext db, WebhookSecrets secrets, IClock clock) : StaffPageModel
{
    public IReadOnlyList<WebhookSubscription> Subscriptions { get; private set; } = [];

    public Dictionary<Guid, (int Failed, int Pending)> Counts { get; private set; } = [];

    [BindProperty(Name = "Url")]
    public string? EndpointUrl { get; set; }

    [BindProperty]
    public List<string> Events { get; set; } = [];

    [BindProperty]
    public string? Description { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var input = WebhooksEndpoints.Validate(new WebhookRequest(EndpointUrl, Events, Description, true), creating: true);
        if (!input.IsSuccess)
        {
            Errors.Add(input.Error!, f => f.StartsWith("events", StringComparison.Ordinal) ? "events" : f);
            return Page();
        }

        var now = clock.GetCurrentInstant();
        var secret = WebhookSecrets.Generate();
        var subscription = new WebhookSubscription
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = Me.OrganizationId,
            Url = input.Value.Url!,
            Events = input.Value.Events!,
            Description = input.Value.Description,
            ProtectedSecret = secrets.Protect(secret),
            SecretHint = WebhookSecrets.HintOf(secret),
            Active = true,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync(ct);
        TempData["WebhookSecret"] = secret;
        return Go($"/app/admin/webhooks/{subscription.Id}");
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Webhooks";
        ViewData["Nav"] = "webhooks";
        Errors.Labels["url"] = "The URL";
        Errors.Labels["events"] = "Events";
        Errors.Labels["description"] = "The description";
        Subscriptions = await db.WebhookSubscriptions.AsNoTracking().OrderBy(s => s.CreatedAt).ToListAsync(ct);
        var counts = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.Status != WebhookDeliveryStatus.Delivered)
            .GroupBy(d => new { d.SubscriptionId, d.Status })
            .Select(g => new { g.Key.SubscriptionId, g.Key.Status, Count = g.Count() })
            .ToListAsync(ct);
        Counts = counts.GroupBy(c => c.SubscriptionId).ToDictionary(g => g.Key,
            g => (g.Where(x => x.Status == WebhookDeliveryStatus.Failed).Sum(x => x.Count), g.Where(x => x.Status == WebhookDeliveryStatus.Pending).Sum(x => x.Count)));
    }
}

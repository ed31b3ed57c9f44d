using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Integrations.Webhooks;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Features.Webhooks;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>Webhook subscriptions: the list, and a new one (its signing secret is shown once).</summary>
public sealed class WebhooksModel(RendezvousDbContext db, WebhookSubscriptions subscriptions) : StaffPageModel
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
        var created = await subscriptions.CreateAsync(Me.OrganizationId, new WebhookRequest(EndpointUrl, Events, Description, true), ct);
        if (!created.IsSuccess)
        {
            Errors.Add(created.Error!, f => f.StartsWith("events", StringComparison.Ordinal) ? "events" : f);
            return Page();
        }

        var (subscription, secret) = created.Value;
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

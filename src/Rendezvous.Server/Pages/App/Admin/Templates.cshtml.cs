using Microsoft.AspNetCore.Mvc;
using Rendezvous.Integrations.Notifications.Templates;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Features.Notifications.Templates;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>The organization's email templates: every kind, for the customer and for the hosts, customised or default.</summary>
public sealed class TemplatesModel(EmailTemplateStore store) : StaffPageModel
{
    public IReadOnlyList<EffectiveTemplate> Templates { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Email templates";
        ViewData["Nav"] = "templates";
        Templates = await store.ListAsync(Me.OrganizationId, ct);
        return Page();
    }

    public static string KindLabel(NotificationKind kind) => kind switch
    {
        NotificationKind.Confirmation => "Confirmation",
        NotificationKind.RequestReceived => "Request received",
        NotificationKind.RequestApproved => "Request approved",
        NotificationKind.RequestDeclined => "Request declined",
        NotificationKind.Rescheduled => "Rescheduled",
        NotificationKind.Canceled => "Canceled",
        NotificationKind.Reminder => "Reminder",
        NotificationKind.FollowUp => "Follow-up",
        NotificationKind.Reassigned => "Reassigned",
        _ => kind.ToString(),
    };

    public static string AudienceLabel(TemplateAudience audience) => audience == TemplateAudience.Customer ? "Customer" : "Hosts";
}

using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Integrations.Notifications.Templates;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Features.Notifications.Templates;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>Edit one template (subject, text, optional HTML) with its placeholders checked on save, or go back to the default.</summary>
public sealed class TemplateModel(EmailTemplateStore store, EmailTemplates templates) : StaffPageModel
{
    public NotificationKind Kind { get; private set; }

    public TemplateAudience Audience { get; private set; }

    public bool Customised { get; private set; }

    [BindProperty]
    public string? Subject { get; set; }

    [BindProperty]
    public string? Text { get; set; }

    [BindProperty]
    public string? Html { get; set; }

    public IReadOnlyDictionary<string, string> Placeholders => Rendezvous.Integrations.Notifications.Templates.Placeholders.Descriptions;

    public async Task<IActionResult> OnGetAsync(string kind, string audience, CancellationToken ct)
    {
        if (Load(kind, audience) is { } missing)
        {
            return missing;
        }

        var t = await store.GetAsync(Me.OrganizationId, Kind, Audience, ct);
        Customised = t.Customised;
        Subject = t.Source.Subject;
        Text = t.Source.Text;
        Html = t.HtmlFromText || !t.Customised ? null : t.Source.Html;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string kind, string audience, CancellationToken ct)
    {
        if (Load(kind, audience) is { } missing)
        {
            return missing;
        }

        // An empty HTML field means "made from the text".
        var html = string.IsNullOrWhiteSpace(Html) ? null : Html;
        var saved = await templates.SaveAsync(Me, Kind, Audience, new EmailTemplateRequest(Subject, Text, html), ct);
        if (!saved.IsSuccess)
        {
            Errors.Add(saved.Error!);
            Customised = (await store.GetAsync(Me.OrganizationId, Kind, Audience, ct)).Customised;
            return Page();
        }

        Flash("The template is saved; the next emails of this kind use it.");
        return Go($"/app/admin/templates/{NotificationNames.Of(Kind)}/{NotificationNames.Of(Audience)}");
    }

    public async Task<IActionResult> OnPostResetAsync(string kind, string audience, CancellationToken ct)
    {
        if (Load(kind, audience) is { } missing)
        {
            return missing;
        }

        await store.ResetAsync(Me.OrganizationId, Kind, Audience, ct);
        Flash("Back to the default template.");
        return Go($"/app/admin/templates/{NotificationNames.Of(Kind)}/{NotificationNames.Of(Audience)}");
    }

    private IActionResult? Load(string kind, string audience)
    {
        ViewData["Nav"] = "templates";
        if (!NotificationNames.TryParseKind(kind, out var k) || !NotificationNames.TryParseAudience(audience, out var a))
        {
            return Missing("Template not found", "There is no such email template.");
        }

        Kind = k;
        Audience = a;
        ViewData["Title"] = $"{TemplatesModel.KindLabel(k)} email to {TemplatesModel.AudienceLabel(a).ToLowerInvariant()}";
        Errors.Labels["subject"] = "The subject";
        Errors.Labels["text"] = "The text";
        Errors.Labels["html"] = "The HTML";
        return null;
    }
}

using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Server.Features.Automations;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>What the "new automation" form posts; the units and the action's fields become an <see cref="AutomationRequest"/>.</summary>
public sealed class AutomationForm
{
    public string? Name { get; set; }

    /// <summary>Empty for the whole organization (administrators), otherwise a booking page id.</summary>
    public string? Scope { get; set; }

    public string? Trigger { get; set; } = AutomationTriggers.Booked;

    public int? Offset { get; set; }

    /// <summary>minutes, hours or days.</summary>
    public string? Unit { get; set; } = "hours";

    public List<string> Statuses { get; set; } = [];

    public string? HostId { get; set; }

    public string? Question { get; set; }

    public string? Answer { get; set; }

    public string? ActionKind { get; set; } = AutomationActionKinds.Email;

    public string? To { get; set; } = "customer";

    public string? Address { get; set; }

    public string? Template { get; set; } = "reminder";

    public string? Subject { get; set; }

    public string? Message { get; set; }

    public string? WebhookId { get; set; }

    public string? Tag { get; set; }

    public string? Field { get; set; }

    public string? Value { get; set; }

    public AutomationRequest ToRequest()
    {
        var factor = Unit switch { "days" => 1440, "hours" => 60, _ => 1 };
        var own = !string.IsNullOrWhiteSpace(Subject) || !string.IsNullOrWhiteSpace(Message);
        return new AutomationRequest(
            Name, string.IsNullOrEmpty(Scope) ? null : Scope, true, Trigger, Offset is { } o ? o * factor : null,
            new AutomationFilters
            {
                Statuses = Statuses,
                HostIds = string.IsNullOrEmpty(HostId) ? [] : [HostId],
                Answers = string.IsNullOrWhiteSpace(Question) ? [] : [new AutomationAnswerFilter(Question.Trim(), Answer ?? "")],
            },
            new AutomationAction
            {
                Kind = ActionKind ?? "",
                To = To,
                Address = Address,
                Template = Template,
                Subject = own ? Subject ?? "" : null,
                Message = own ? Message ?? "" : null,
                WebhookId = WebhookId,
                Tag = Tag,
                Field = Field,
                Value = Value,
            });
    }
}

/// <summary>
/// No-code automations: administrators see and build the organization's rules and every page's, other users their own
/// pages' rules. Each rule can be switched on and off, sampled to oneself, deleted, and shows its recent runs.
/// </summary>
public sealed class AutomationsModel(RendezvousDbContext db, AutomationService automations) : StaffPageModel
{
    public const int RunsShown = 5;

    public IReadOnlyList<AutomationRule> Rules { get; private set; } = [];

    public Dictionary<Guid, List<AutomationRun>> Runs { get; private set; } = [];

    /// <summary>The pages the signed-in user may attach rules to.</summary>
    public IReadOnlyList<BookingPage> Pages { get; private set; } = [];

    public IReadOnlyList<(Guid Id, string Url)> Webhooks { get; private set; } = [];

    public IReadOnlyList<(string Id, string Name)> Hosts { get; private set; } = [];

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    [BindProperty]
    public AutomationForm Form { get; set; } = new();

    public string PageTitle(BookingPageId? id) =>
        id is null ? "Whole organization" : Pages.FirstOrDefault(p => p.Id == id)?.Title ?? "A booking page";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var created = await automations.CreateAsync(Me, Form.ToRequest(), ct);
        if (!created.IsSuccess)
        {
            await LoadAsync(ct);
            Errors.Add(created.Error!, Map);
            return Page();
        }

        Flash($"Automation \"{created.Value.Name}\" created and switched on.");
        return Go("/app/automations");
    }

    public async Task<IActionResult> OnPostToggleAsync(string id, bool enabled, CancellationToken ct)
    {
        var done = await automations.SetEnabledAsync(Me, id, enabled, ct);
        if (done.IsSuccess)
        {
            Flash($"\"{done.Value.Name}\" is {(enabled ? "on" : "off")}.");
        }
        else
        {
            FlashError(done.Error!);
        }

        return Go("/app/automations");
    }

    public async Task<IActionResult> OnPostSampleAsync(string id, CancellationToken ct)
    {
        var sent = await automations.SampleAsync(Me, id, null, ct);
        if (sent.IsSuccess)
        {
            Flash($"Sample sent: {sent.Value}.");
        }
        else
        {
            FlashError(sent.Error!);
        }

        return Go("/app/automations");
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken ct)
    {
        var deleted = await automations.DeleteAsync(Me, id, ct);
        if (deleted.IsSuccess)
        {
            Flash("Automation deleted.");
        }
        else
        {
            FlashError(deleted.Error!);
        }

        return Go("/app/automations");
    }

    /// <summary>API field names onto the form's.</summary>
    private static string Map(string field) => field switch
    {
        "bookingPageId" => "scope",
        "offsetMinutes" => "offset",
        "filters.statuses" => "statuses",
        "filters.hostIds" => "hostId",
        "filters.answers" => "question",
        "action.kind" => "actionKind",
        _ when field.StartsWith("action.", StringComparison.Ordinal) => field["action.".Length..],
        _ => field,
    };

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Automations";
        ViewData["Nav"] = "automations";
        Errors.Labels["name"] = "The name";
        Errors.Labels["scope"] = "Applies to";
        Errors.Labels["trigger"] = "When";
        Errors.Labels["offset"] = "How long";
        Errors.Labels["actionKind"] = "The action";
        Errors.Labels["to"] = "Send to";
        Errors.Labels["address"] = "The address";
        Errors.Labels["subject"] = "The subject";
        Errors.Labels["message"] = "The message";
        Errors.Labels["webhookId"] = "The webhook";
        Errors.Labels["tag"] = "The tag";
        Errors.Labels["field"] = "The field";
        Errors.Labels["value"] = "The value";
        Zone = await MyZoneAsync(db, ct);
        Rules = await automations.ListAsync(Me, ct);
        var pages = db.BookingPages.AsNoTracking();
        Pages = await (Me.IsAdministrator ? pages : pages.Where(p => p.OwnerId == Me.Id)).OrderBy(p => p.Title).ToListAsync(ct);
        Webhooks = Me.IsAdministrator
            ? [.. (await db.WebhookSubscriptions.AsNoTracking().OrderBy(s => s.CreatedAt).Select(s => new { s.Id, s.Url }).ToListAsync(ct)).Select(s => (s.Id, s.Url))]
            : [];
        Hosts = [.. (await db.Users.AsNoTracking().OrderBy(u => u.Name).Select(u => new { u.Id, u.Name }).ToListAsync(ct)).Select(u => (u.Id.ToString(), u.Name))];
        foreach (var rule in Rules)
        {
            Runs[rule.Id] = await AutomationStore.RunsAsync(db, rule.Id, RunsShown, ct);
        }

        if (!Me.IsAdministrator && string.IsNullOrEmpty(Form.Scope) && Pages.Count > 0 && Request.Method == "GET")
        {
            Form.Scope = Pages[0].Id.ToString();
        }
    }
}

using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Organizations;
using Rendezvous.Domain.Routing;
using Rendezvous.Server.Features.Routing;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>One routing form: its questions (rows), its rules in order (rows) and the fallback message; "new" makes one.</summary>
public sealed class RoutingFormModel(RoutingFormService forms, RendezvousDbContext db) : StaffPageModel
{
    public const int QuestionRows = 5;

    public const int RuleRows = 8;

    public sealed class QuestionRow
    {
        public string? Id { get; set; }

        public string? Label { get; set; }

        public string Kind { get; set; } = "text";

        /// <summary>The choices of a choice question, one per line.</summary>
        public string? Options { get; set; }

        public bool Required { get; set; }
    }

    public sealed class RuleRow
    {
        public string? QuestionId { get; set; }

        public string Match { get; set; } = "equals";

        public string? Value { get; set; }

        public string Target { get; set; } = "page";

        public string? BookingPageId { get; set; }

        public string? UserId { get; set; }

        public string? Message { get; set; }
    }

    public RoutingFormRecord? Existing { get; private set; }

    public IReadOnlyList<BookingPage> Pages { get; private set; } = [];

    public IReadOnlyList<User> Users { get; private set; } = [];

    [BindProperty]
    public string? Slug { get; set; }

    [BindProperty]
    public string? FormTitle { get; set; }

    [BindProperty]
    public string? Description { get; set; }

    [BindProperty]
    public string? FallbackMessage { get; set; }

    [BindProperty]
    public List<QuestionRow> Questions { get; set; } = [];

    [BindProperty]
    public List<RuleRow> Rules { get; set; } = [];

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        if (Existing is { } form)
        {
            var d = RoutingFormDefinitionSpec.From(RoutingFormService.DefinitionOf(form));
            Slug = form.Slug;
            FormTitle = form.Title;
            Description = form.Description;
            FallbackMessage = d.FallbackMessage;
            Questions = [.. d.Questions!.Select(q => new QuestionRow
            {
                Id = q.Id, Label = q.Label, Kind = q.Kind ?? "text", Options = string.Join("\n", q.Options ?? []), Required = q.Required ?? false,
            })];
            Rules = [.. d.Rules!.Select(r => new RuleRow
            {
                QuestionId = r.QuestionId, Match = r.Match ?? "equals", Value = r.Value, Target = r.Target ?? "page",
                BookingPageId = r.BookingPageId, UserId = r.UserId, Message = r.Message,
            })];
        }

        Pad();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, string? delete, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        if (delete is not null && Existing is { } gone)
        {
            await forms.DeleteAsync(gone, ct);
            return Go("/app/admin/routing-forms");
        }

        var questions = Questions.Where(q => !string.IsNullOrWhiteSpace(q.Id) || !string.IsNullOrWhiteSpace(q.Label)).ToList();
        var rules = Rules.Where(r => !string.IsNullOrWhiteSpace(r.QuestionId) || !string.IsNullOrWhiteSpace(r.Value)).ToList();
        var request = new RoutingFormRequest(Slug, FormTitle, Description,
            [.. questions.Select(q => new RoutingQuestionSpec(q.Id, q.Label, q.Kind,
                q.Kind == "choice" ? [.. (q.Options ?? "").Split('\n').Select(o => o.Trim()).Where(o => o.Length > 0)] : [], q.Required))],
            [.. rules.Select(r => new RoutingRuleSpec(r.QuestionId, r.Match, r.Value, r.Target,
                r.Target == "message" || string.IsNullOrEmpty(r.BookingPageId) ? null : r.BookingPageId,
                r.Target == "member" && !string.IsNullOrEmpty(r.UserId) ? r.UserId : null,
                r.Target == "message" ? r.Message : null))],
            FallbackMessage);
        var saved = await forms.SaveAsync(Me.OrganizationId, Existing, request, ct);
        if (!saved.IsSuccess)
        {
            Questions = questions;
            Rules = rules;
            Errors.Add(saved.Error!, f => f);
            Pad();
            return Page();
        }

        return Go($"/app/admin/routing-forms/{saved.Value.Id}");
    }

    private async Task<IActionResult?> LoadAsync(string id, CancellationToken ct)
    {
        ViewData["Nav"] = "routing-forms";
        if (id != "new")
        {
            Existing = await forms.FindAsync(id, ct);
            if (Existing is null)
            {
                return Missing("Routing form not found", "There is no routing form at this address.");
            }
        }

        ViewData["Title"] = Existing is null ? "New routing form" : Existing.Title;
        Errors.Labels["slug"] = "The address";
        Errors.Labels["title"] = "The title";
        Errors.Labels["fallbackMessage"] = "The fallback message";
        Pages = await db.BookingPages.AsNoTracking().OrderBy(p => p.Title).ToListAsync(ct);
        Users = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);
        return null;
    }

    private void Pad()
    {
        while (Questions.Count < QuestionRows)
        {
            Questions.Add(new QuestionRow());
        }

        while (Rules.Count < RuleRows)
        {
            Rules.Add(new RuleRow());
        }
    }
}

using Microsoft.AspNetCore.Mvc;
using Rendezvous.Domain;
using Rendezvous.Domain.Routing;
using Rendezvous.Server.Features.Routing;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.Route;

/// <summary>The public routing form at /route/{organization}/{form}: the visitor answers and is sent to a booking page or reads a message.</summary>
public sealed class IndexModel(RoutingFormService forms) : WebPageModel
{
    public RoutingFormService.Loaded Form { get; private set; } = null!;

    [BindProperty]
    public Dictionary<string, string?> Answers { get; set; } = [];

    /// <summary>The message a rule (or the fallback) showed.</summary>
    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(string org, string slug, CancellationToken ct) =>
        await LoadAsync(org, slug, ct) ?? Page();

    public async Task<IActionResult> OnPostAsync(string org, string slug, CancellationToken ct)
    {
        if (await LoadAsync(org, slug, ct) is { } missing)
        {
            return missing;
        }

        var routed = await forms.RouteAsync(Form, Answers, ct);
        if (!routed.IsSuccess)
        {
            Errors.Add(routed.Error!, f => f.StartsWith("answers.", StringComparison.Ordinal) ? "answers-" + f["answers.".Length..] : f);
            return Page();
        }

        if (routed.Value.Url is { } url)
        {
            return Go(url);
        }

        Message = routed.Value.Message;
        return Page();
    }

    private async Task<IActionResult?> LoadAsync(string org, string slug, CancellationToken ct)
    {
        var form = await forms.FindPublicAsync(slug, ct);
        if (form is null || form.Organization.Slug != org)
        {
            return Missing("Form not found", "There is no form at this address. Please check the link you were given.");
        }

        Form = form;
        ViewData["Title"] = form.Record.Title;
        ViewData["Brand"] = form.Organization.Name;
        foreach (var q in form.Definition.Questions)
        {
            Errors.Labels["answers-" + q.Id] = q.Label;
        }

        return null;
    }

    public static bool IsChoice(RoutingQuestion q) => q.Kind == RoutingQuestionKind.Choice;
}

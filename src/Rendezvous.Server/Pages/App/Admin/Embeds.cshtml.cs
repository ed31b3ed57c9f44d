using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rendezvous.Data;
using Rendezvous.Integrations;
using Rendezvous.Server.Features.Embeds;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>
/// Embeds: which sites may show the organization's booking pages in a frame, and the snippet each page is embedded
/// with (inline or as a pop-up button). The list goes through <see cref="EmbedSettingsService"/>, as the API does.
/// </summary>
public sealed class EmbedsModel(RendezvousDbContext db, EmbedSettingsService settings, IOptions<PublicUrlOptions> urls) : StaffPageModel
{
    public IReadOnlyList<string> Origins { get; private set; } = [];

    public IReadOnlyList<(string Title, string Slug)> Pages { get; private set; } = [];

    public string OrganizationSlug { get; private set; } = "";

    /// <summary>One origin a line, as typed (kept when the list is refused).</summary>
    [BindProperty]
    public string? AllowedOrigins { get; set; }

    public string ScriptUrl => urls.Value.PublicBaseUrl.TrimEnd('/') + "/embed.js";

    public string InlineSnippet(string slug) =>
        $"<div data-rendezvous-page=\"{OrganizationSlug}/{slug}\"></div>\n<script src=\"{ScriptUrl}\" async></script>";

    public string PopupSnippet(string slug) =>
        $"<div data-rendezvous-page=\"{OrganizationSlug}/{slug}\" data-rendezvous-mode=\"popup\" data-rendezvous-label=\"Book a time\"></div>\n<script src=\"{ScriptUrl}\" async></script>";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        AllowedOrigins = string.Join('\n', Origins);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var lines = (AllowedOrigins ?? "").Split(['\n', '\r', ' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var set = await settings.SetOriginsAsync(Me.OrganizationId, lines, ct);
        if (!set.IsSuccess)
        {
            // The form has one field for the whole list; each refused line is named in its message.
            foreach (var field in set.Error!.Fields)
            {
                var at = field.Field.StartsWith("allowedOrigins[", StringComparison.Ordinal)
                    && int.TryParse(field.Field["allowedOrigins[".Length..^1], System.Globalization.CultureInfo.InvariantCulture, out var i) && i < lines.Length
                    ? $"\"{lines[i]}\" " : "";
                Errors.Add("allowedOrigins", at + field.Message);
            }

            await LoadAsync(ct);
            return Page();
        }

        Flash(set.Value.Count == 0 ? "No site may embed the booking pages now." : $"Saved: {WebFormat.Plural(set.Value.Count, "site")} may embed the booking pages.");
        return Go("/app/admin/embeds");
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Embeds";
        ViewData["Nav"] = "embeds";
        Errors.Labels["allowedOrigins"] = "Allowed sites";
        Origins = await settings.OriginsAsync(Me.OrganizationId, ct);
        OrganizationSlug = await db.Organizations.Where(o => o.Id == Me.OrganizationId).Select(o => o.Slug).FirstAsync(ct);
        var pages = await db.BookingPages.AsNoTracking().OrderBy(p => p.Title).Select(p => new { p.Title, p.Slug }).ToListAsync(ct);
        Pages = [.. pages.Select(p => (p.Title, p.Slug))];
    }
}

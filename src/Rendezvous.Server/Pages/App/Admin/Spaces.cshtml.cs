using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Spaces;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>Spaces administration: every space with its mode, and a new one.</summary>
public sealed class SpacesModel(RendezvousDbContext db, SpaceAdministrationService spaces) : StaffPageModel
{
    public IReadOnlyList<Space> Spaces { get; private set; } = [];

    public IReadOnlyList<User> Users { get; private set; } = [];

    [BindProperty]
    public string? Name { get; set; }

    [BindProperty]
    public string Kind { get; set; } = "room";

    [BindProperty]
    public int? Capacity { get; set; }

    [BindProperty]
    public string? Features { get; set; }

    [BindProperty]
    public string? TimeZone { get; set; }

    [BindProperty]
    public string Administration { get; set; } = "autoAccept";

    [BindProperty]
    public string? ModeratorId { get; set; }

    [BindProperty]
    public string? ResourceCalendarKind { get; set; }

    [BindProperty]
    public string? ResourceCalendarAddress { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        TimeZone ??= (await MeAsync(db, ct)).TimeZoneId;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var features = (Features ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var made = await spaces.CreateAsync(new SpaceBody(Name, Kind, Capacity ?? 0, features, TimeZone, Administration,
            string.IsNullOrEmpty(ModeratorId) ? null : ModeratorId,
            string.IsNullOrEmpty(ResourceCalendarKind) ? null : ResourceCalendarKind,
            string.IsNullOrWhiteSpace(ResourceCalendarAddress) ? null : ResourceCalendarAddress, null, null), Me, ct);
        if (!made.IsSuccess)
        {
            Errors.Add(made.Error!, f => f.StartsWith("features", StringComparison.Ordinal) ? "features" : f);
            return Page();
        }

        Flash($"{made.Value.Name} is added.");
        return Go("/app/admin/spaces");
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Spaces administration";
        ViewData["Nav"] = "admin-spaces";
        Errors.Labels["name"] = "The name";
        Errors.Labels["kind"] = "The kind";
        Errors.Labels["capacity"] = "The capacity";
        Errors.Labels["features"] = "The features";
        Errors.Labels["timeZone"] = "The time zone";
        Errors.Labels["administration"] = "The administration";
        Errors.Labels["moderatorId"] = "The moderator";
        Errors.Labels["resourceCalendarKind"] = "The resource calendar";
        Errors.Labels["resourceCalendarAddress"] = "The resource calendar address";
        Spaces = await db.Spaces.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
        Users = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);
    }
}

using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Server.Features.Spaces;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>Spaces administration: every space with its mode, and a new one.</summary>
public sealed class SpacesModel(RendezvousDbContext db, SpaceAdministrationService spaces) : SpaceFormModel
{
    public IReadOnlyList<Space> Spaces { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        TimeZone ??= (await MeAsync(db, ct)).TimeZoneId;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var made = await spaces.CreateAsync(Body(complete: false), Me, ct);
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
        Labels();
        Spaces = await db.Spaces.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
        await LoadUsersAsync(db, ct);
    }
}

using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.Spaces;
using Rendezvous.Server.Features.Spaces;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>
/// One space: every field editable (as <c>PUT /api/v1/spaces/{id}</c>), and deleting it. Deleting is refused, not
/// merely warned about, while the space has confirmed or open requests to come (as the API refuses it): the page lists
/// them so the events team can cancel or decline them first, and nobody's event silently loses its room.
/// </summary>
public sealed class SpaceModel(RendezvousDbContext db, SpaceAdministrationService spaces, IClock clock) : SpaceFormModel
{
    public Space Space { get; private set; } = null!;

    public IReadOnlyList<SpaceRequest> Upcoming { get; private set; } = [];

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    public override bool Editing => true;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        Fill(Space);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        var updated = await spaces.UpdateAsync(id, Body(complete: true), Me, ct);
        if (!updated.IsSuccess)
        {
            Errors.Add(updated.Error!, f => f.StartsWith("features", StringComparison.Ordinal) ? "features" : f);
            return Page();
        }

        Flash($"{updated.Value.Name} is saved.");
        return Go("/app/admin/spaces");
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        var name = Space.Name;
        var deleted = await spaces.DeleteAsync(id, Me, ct);
        if (!deleted.IsSuccess)
        {
            FlashError(deleted.Error!);
            return Go($"/app/admin/spaces/{id}");
        }

        Flash($"{name} is deleted.");
        return Go("/app/admin/spaces");
    }

    private async Task<bool> LoadAsync(string id, CancellationToken ct)
    {
        ViewData["Nav"] = "admin-spaces";
        Labels();
        if (await SpacesEndpoints.FindSpaceAsync(db, id, ct) is not { } space)
        {
            return false;
        }

        // Read without tracking: the service loads its own copy to change.
        db.Entry(space).State = EntityState.Detached;
        Space = space;
        ViewData["Title"] = space.Name;
        Zone = await MyZoneAsync(db, ct);
        var now = clock.GetCurrentInstant();
        Upcoming = await db.SpaceRequests.AsNoTracking()
            .Where(r => r.SpaceId == space.Id && r.End > now && r.State != SpaceRequestState.Declined && r.State != SpaceRequestState.Canceled)
            .OrderBy(r => r.Start).ToListAsync(ct);
        await LoadUsersAsync(db, ct);
        return true;
    }
}

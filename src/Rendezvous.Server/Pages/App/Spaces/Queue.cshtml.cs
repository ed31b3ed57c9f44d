using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.Spaces;
using Rendezvous.Server.Features.Spaces;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Spaces;

/// <summary>
/// The events team's queue: every request still waiting for a decision (prospect, pending, tentative, hold), soonest
/// first, with what confirming it would run into (a confirmed event in the way, open requests it would decline) and the
/// actions its space's mode allows. With <c>?moderating=true</c> it is a moderator's own screen: only the requests of the
/// moderated spaces the signed-in user moderates, to accept or decline.
/// </summary>
public sealed class QueueModel(RendezvousDbContext db, SpaceService spaces, IClock clock) : StaffPageModel
{
    public sealed record Item(SpaceRequest Request, Space Space, IReadOnlyList<SpaceRequest> Blocking, IReadOnlyList<SpaceRequest> WouldBeDeclined,
        IReadOnlyList<SpaceAction> Actions);

    public IReadOnlyList<Item> Items { get; private set; } = [];

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    /// <summary>Only the requests of the spaces the signed-in user moderates.</summary>
    [BindProperty(SupportsGet = true)]
    public bool Moderating { get; set; }

    /// <summary>How many spaces the signed-in user moderates (the link to their screen shows when there are any).</summary>
    public int ModeratedSpaces { get; private set; }

    private string Here => Moderating ? "/app/spaces/queue?moderating=true" : "/app/spaces/queue";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostActAsync(Guid id, string? action, string? reason, CancellationToken ct)
    {
        if (!SpaceRules.TryParseAction(action, out var a))
        {
            FlashError(DomainError.Validation("action", "is not an action"));
            return Go(Here);
        }

        var organizer = await db.SpaceRequests.AsNoTracking().Where(r => r.Id == id).Select(r => r.OrganizerUserId).FirstOrDefaultAsync(ct);
        var done = await spaces.ActAsync(id, a, SpaceActor.User(Me.Id), string.IsNullOrWhiteSpace(reason) ? null : reason.Trim(),
            space => SpacesEndpoints.Authorize(space, a, Me, organizer), ct);
        if (!done.IsSuccess)
        {
            FlashError(done.Error!);
        }
        else
        {
            Flash($"\"{done.Value.Summary}\" is now {SpaceRules.Name(done.Value.State)}.");
        }

        return Go(Here);
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = Moderating ? "Requests you moderate" : "Events team's queue";
        ViewData["Nav"] = "spaces";
        Zone = await MyZoneAsync(db, ct);
        var now = clock.GetCurrentInstant();
        var open = await db.SpaceRequests.AsNoTracking()
            .Where(r => r.End > now && (r.State == SpaceRequestState.Prospect || r.State == SpaceRequestState.Pending
                || r.State == SpaceRequestState.Tentative || r.State == SpaceRequestState.Hold))
            .OrderBy(r => r.Start).ThenBy(r => r.CreatedAt).Take(200).ToListAsync(ct);
        var byId = await db.Spaces.AsNoTracking().ToDictionaryAsync(s => s.Id, ct);
        var mine = byId.Values.Where(s => s.Administration == SpaceAdministration.Moderated && s.ModeratorId == Me.Id).Select(s => s.Id).ToHashSet();
        ModeratedSpaces = mine.Count;
        var items = new List<Item>();
        foreach (var r in open)
        {
            if (Moderating && !mine.Contains(r.SpaceId))
            {
                continue;
            }

            var space = byId[r.SpaceId];
            var overlapping = await spaces.OverlappingAsync(r.SpaceId, r.Start, r.End, r.Id, ct);
            var actions = Enum.GetValues<SpaceAction>()
                // Accept is the moderator's word and confirm the events team's; each mode shows one of the two synonyms.
                .Where(a => a != SpaceAction.Accept || space.Administration == SpaceAdministration.Moderated)
                .Where(a => a != SpaceAction.Confirm || space.Administration != SpaceAdministration.Moderated)
                .Where(a => !Moderating || a is SpaceAction.Accept or SpaceAction.Decline)
                .Where(a => SpaceRules.Apply(space.Administration, r.State, a).IsSuccess
                    && SpacesEndpoints.Authorize(space, a, Me, r.OrganizerUserId).IsSuccess)
                .ToList();
            items.Add(new Item(r, space, [.. overlapping.Where(o => o.State == SpaceRequestState.Confirmed)],
                [.. overlapping.Where(o => SpaceRules.IsOpen(o.State))], actions));
        }

        Items = items;
    }

    public static string Label(SpaceAction action) => action switch
    {
        SpaceAction.Accept => "Accept",
        SpaceAction.Decline => "Decline",
        SpaceAction.Hold => "Hold",
        SpaceAction.Tentative => "Tentative",
        SpaceAction.Confirm => "Confirm",
        _ => "Cancel",
    };
}

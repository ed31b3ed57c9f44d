using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.Spaces;
using Rendezvous.Integrations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>Creates, changes and deletes spaces, checking every field, and tells webhooks.</summary>
public sealed class SpaceAdministrationService(RendezvousDbContext db, SpaceService lifecycle, IClock clock)
{
    public static IReadOnlyList<string> CalendarKinds { get; } = ["caldav", "graph", "google", "imip"];

    public async Task<Result<Space>> CreateAsync(SpaceBody body, CurrentUser me, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var space = new Space
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = me.OrganizationId,
            Name = "",
            Kind = SpaceKind.Room,
            TimeZoneId = "",
            Administration = SpaceAdministration.AutoAccept,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var applied = await ApplyAsync(space, body, creating: true, ct);
        if (!applied.IsSuccess)
        {
            return applied.Error!;
        }

        db.Spaces.Add(space);
        lifecycle.EmitSpaceChange(space, SpaceEvent.SpaceCreated, SpaceActor.User(me.Id), now);
        await db.SaveChangesAsync(ct);
        return space;
    }

    public async Task<Result<Space>> UpdateAsync(string id, SpaceBody body, CurrentUser me, CancellationToken ct)
    {
        var space = await SpacesEndpoints.FindSpaceAsync(db, id, ct);
        if (space is null)
        {
            return DomainError.NotFound("Space");
        }

        var applied = await ApplyAsync(space, body, creating: false, ct);
        if (!applied.IsSuccess)
        {
            return applied.Error!;
        }

        var now = clock.GetCurrentInstant();
        space.UpdatedAt = now;
        lifecycle.EmitSpaceChange(space, SpaceEvent.SpaceUpdated, SpaceActor.User(me.Id), now);
        await db.SaveChangesAsync(ct);
        return space;
    }

    /// <summary>Deletes a space and its requests; refused while it has confirmed or open requests still to come.</summary>
    public async Task<Result> DeleteAsync(string id, CurrentUser me, CancellationToken ct)
    {
        var space = await SpacesEndpoints.FindSpaceAsync(db, id, ct);
        if (space is null)
        {
            return Result.Failure(DomainError.NotFound("Space"));
        }

        var now = clock.GetCurrentInstant();
        if (await db.SpaceRequests.AnyAsync(r => r.SpaceId == space.Id && r.End > now
            && r.State != SpaceRequestState.Declined && r.State != SpaceRequestState.Canceled, ct))
        {
            return Result.Failure(DomainError.Conflict("space_in_use", "The space has confirmed or open requests to come; cancel or decline them first."));
        }

        db.Spaces.Remove(space);
        lifecycle.EmitSpaceChange(space, SpaceEvent.SpaceDeleted, SpaceActor.User(me.Id), now);
        await db.SaveChangesAsync(ct);
        return Result.Success;
    }

    private async Task<Result> ApplyAsync(Space space, SpaceBody b, bool creating, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (b.Name is not null || creating)
        {
            if (!ApiFormat.TryText(b.Name, 200, out var name))
            {
                errors.Add(new("name", "is required (1-200 characters)"));
            }
            else if (await db.Spaces.AnyAsync(s => s.Name == name && s.Id != space.Id, ct))
            {
                errors.Add(new("name", "is already the name of another space"));
            }
            else
            {
                space.Name = name;
            }
        }

        if (b.Kind is not null || creating)
        {
            if (!SpaceRules.TryParseKind(b.Kind ?? "room", out var kind) || b.Kind is { } k && k != k.ToLowerInvariant())
            {
                errors.Add(new("kind", "must be room, equipment or other"));
            }
            else
            {
                space.Kind = kind;
            }
        }

        if (b.Capacity is { } capacity)
        {
            if (capacity is < 0 or > 100_000)
            {
                errors.Add(new("capacity", "must be between 0 and 100000"));
            }
            else
            {
                space.Capacity = capacity;
            }
        }

        if (b.Features is not null)
        {
            var features = new List<string>();
            for (var i = 0; i < b.Features.Count; i++)
            {
                if (!ApiFormat.TryText(b.Features[i], 100, out var f))
                {
                    errors.Add(new($"features[{i}]", "must be 1-100 characters"));
                }
                else if (!features.Contains(f.ToLowerInvariant()))
                {
                    features.Add(f.ToLowerInvariant());
                }
            }

            space.Features = features;
        }

        if (b.TimeZone is not null || creating)
        {
            if (TimeZones.Find(b.TimeZone) is null)
            {
                errors.Add(new("timeZone", "must be an IANA time zone, e.g. Europe/London"));
            }
            else
            {
                space.TimeZoneId = b.TimeZone!;
            }
        }

        if (b.Administration is not null || creating)
        {
            if (!SpaceRules.TryParseMode(b.Administration ?? "autoAccept", out var mode))
            {
                errors.Add(new("administration", "must be autoAccept, moderated or rendezvousManaged"));
            }
            else
            {
                space.Administration = mode;
            }
        }

        if (b.ModeratorId is not null)
        {
            if (b.ModeratorId.Length == 0)
            {
                space.ModeratorId = null;
            }
            else if (await FindUserAsync(b.ModeratorId, ct) is { } moderator)
            {
                space.ModeratorId = moderator;
            }
            else
            {
                errors.Add(new("moderatorId", "is not a user of this organization"));
            }
        }

        if (space.Administration == SpaceAdministration.Moderated && space.ModeratorId is null && !errors.Any(e => e.Field == "moderatorId"))
        {
            errors.Add(new("moderatorId", "is required for a moderated space"));
        }

        if (b.ResourceCalendarKind is not null)
        {
            if (b.ResourceCalendarKind.Length == 0)
            {
                space.ResourceCalendarKind = null;
                space.ResourceCalendarAddress = null;
            }
            else if (!CalendarKinds.Contains(b.ResourceCalendarKind))
            {
                errors.Add(new("resourceCalendarKind", "must be caldav, graph, google or imip"));
            }
            else
            {
                space.ResourceCalendarKind = b.ResourceCalendarKind;
            }
        }

        if (b.ResourceCalendarAddress is not null && space.ResourceCalendarKind is not null)
        {
            if (!ApiFormat.TryText(b.ResourceCalendarAddress, 2000, out var address))
            {
                errors.Add(new("resourceCalendarAddress", "must be 1-2000 characters"));
            }
            else
            {
                space.ResourceCalendarAddress = address;
            }
        }

        if (space.ResourceCalendarKind is not null && space.ResourceCalendarAddress is null && !errors.Any(e => e.Field.StartsWith("resourceCalendar", StringComparison.Ordinal)))
        {
            errors.Add(new("resourceCalendarAddress", "is required with a resource calendar (calendar-user address, room mailbox or calendar URL)"));
        }

        if (b.WriteToOrganizerCalendar is { } write)
        {
            space.WriteToOrganizerCalendar = write;
        }

        if (b.FallbackCalendarUserId is not null)
        {
            if (b.FallbackCalendarUserId.Length == 0)
            {
                space.FallbackCalendarUserId = null;
            }
            else if (await FindUserAsync(b.FallbackCalendarUserId, ct) is { } fallback)
            {
                space.FallbackCalendarUserId = fallback;
            }
            else
            {
                errors.Add(new("fallbackCalendarUserId", "is not a user of this organization"));
            }
        }

        return errors.Count > 0 ? Result.Failure(DomainError.Validation(errors)) : Result.Success;
    }

    private async Task<UserId?> FindUserAsync(string id, CancellationToken ct) =>
        Ids.TryParse(id, out var guid) && await db.Users.AnyAsync(u => u.Id == new UserId(guid), ct) ? new UserId(guid) : null;
}

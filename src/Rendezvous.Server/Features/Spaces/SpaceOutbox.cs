using System.Text.Json;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.Spaces;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>Adds the spaces' outbox messages to the unit of work, so they commit with the change they describe.</summary>
public static class SpaceOutbox
{
    /// <summary>The answer owed to the organizer changed (the seam's <see cref="SpaceRequestAnswered"/> message).</summary>
    public static void Answer(RendezvousDbContext db, SpaceRequest request, string partstat, bool write, bool remove, Instant now)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(request);
        Add(db, request.OrganizationId, SpaceRequestAnswered.Type, JsonSerializer.Serialize(new SpaceRequestAnswered(
            request.Id, request.SpaceId, request.Uid, request.Sequence, partstat, request.Channel, request.ChannelReference, write, remove),
            JsonDefaults.Options), now);
    }

    /// <summary>A change to a request, for webhooks and the organizer's email.</summary>
    public static void Emit(RendezvousDbContext db, Space space, SpaceRequest request, string type, SpaceRequestState? from, SpaceActor actor,
        string? reason, bool notify, Instant now)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(actor);
        Add(db, request.OrganizationId, type, JsonSerializer.Serialize(new SpaceEvent
        {
            Type = type,
            OrganizationId = request.OrganizationId,
            SpaceId = space.Id,
            SpaceName = space.Name,
            SpaceTimeZone = space.TimeZoneId,
            RequestId = request.Id,
            Uid = request.Uid,
            Sequence = request.Sequence,
            State = SpaceRules.Name(request.State),
            PreviousState = from is { } f ? SpaceRules.Name(f) : null,
            Summary = request.Summary,
            Start = request.Start,
            End = request.End,
            OrganizerEmail = request.OrganizerEmail,
            OrganizerName = request.OrganizerName,
            Channel = request.Channel,
            ActorKind = actor.Kind,
            ActorId = actor.Id,
            Reason = reason,
            NotifyOrganizer = notify,
            OccurredAt = now,
        }, JsonDefaults.Options), now);
    }

    /// <summary>A space was created, changed or deleted.</summary>
    public static void SpaceChange(RendezvousDbContext db, Space space, string type, SpaceActor actor, Instant now)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(actor);
        Add(db, space.OrganizationId, type, JsonSerializer.Serialize(new SpaceEvent
        {
            Type = type,
            OrganizationId = space.OrganizationId,
            SpaceId = space.Id,
            SpaceName = space.Name,
            SpaceTimeZone = space.TimeZoneId,
            ActorKind = actor.Kind,
            ActorId = actor.Id,
            OccurredAt = now,
        }, JsonDefaults.Options), now);
    }

    private static void Add(RendezvousDbContext db, OrganizationId org, string type, string payload, Instant now) =>
        db.OutboxMessages.Add(new OutboxMessage
        {
            OrganizationId = org,
            Type = type,
            Payload = payload,
            CreatedAt = now,
            AvailableAt = now,
        });
}

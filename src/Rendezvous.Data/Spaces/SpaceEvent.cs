using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Data.Spaces;

/// <summary>
/// A change to a space or a space request, written to the outbox in the transaction that made it. Webhooks carry it
/// (docs/WEBHOOKS.md) and the spaces email handler tells the organizer when <see cref="NotifyOrganizer"/> is set.
/// </summary>
public sealed record SpaceEvent
{
    public const string SpaceCreated = "space.created";
    public const string SpaceUpdated = "space.updated";
    public const string SpaceDeleted = "space.deleted";
    public const string RequestReceived = "space.request.received";
    public const string RequestUpdated = "space.request.updated";
    public const string RequestHeld = "space.request.held";
    public const string RequestTentative = "space.request.tentative";
    public const string RequestConfirmed = "space.request.confirmed";
    public const string RequestDeclined = "space.request.declined";
    public const string RequestCanceled = "space.request.canceled";

    /// <summary>Every type webhooks may subscribe to, in lifecycle order.</summary>
    public static IReadOnlyList<string> AllTypes { get; } =
    [
        SpaceCreated, SpaceUpdated, SpaceDeleted, RequestReceived, RequestUpdated, RequestHeld, RequestTentative,
        RequestConfirmed, RequestDeclined, RequestCanceled,
    ];

    public required string Type { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required Guid SpaceId { get; init; }

    public required string SpaceName { get; init; }

    public required string SpaceTimeZone { get; init; }

    public Guid? RequestId { get; init; }

    public string? Uid { get; init; }

    public int? Sequence { get; init; }

    public string? State { get; init; }

    public string? PreviousState { get; init; }

    public string? Summary { get; init; }

    public Instant? Start { get; init; }

    public Instant? End { get; init; }

    public string? OrganizerEmail { get; init; }

    public string? OrganizerName { get; init; }

    public string? Channel { get; init; }

    /// <summary>"user", "organizer", "system" or "calendar".</summary>
    public required string ActorKind { get; init; }

    public string? ActorId { get; init; }

    public string? Reason { get; init; }

    /// <summary>Whether Rendezvous itself emails the organizer about this change (the calendar does not tell them).</summary>
    public bool NotifyOrganizer { get; init; }

    public required Instant OccurredAt { get; init; }
}

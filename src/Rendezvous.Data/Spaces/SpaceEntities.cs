using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Domain.Spaces;

namespace Rendezvous.Data.Spaces;

/// <summary>A room, a piece of equipment or another bookable space, with its own time zone and administration mode.</summary>
public sealed class Space
{
    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required string Name { get; set; }

    public required SpaceKind Kind { get; set; }

    /// <summary>How many people it holds (0 for equipment that holds nobody).</summary>
    public int Capacity { get; set; }

    /// <summary>What it offers ("projector", "whiteboard", "wheelchair-access"), lower case.</summary>
    public List<string> Features { get; set; } = [];

    /// <summary>The IANA zone the space lives in: its timeline and emails show times there.</summary>
    public required string TimeZoneId { get; set; }

    public required SpaceAdministration Administration { get; set; }

    /// <summary>For moderated spaces: the user who accepts or declines requests.</summary>
    public UserId? ModeratorId { get; set; }

    /// <summary>The calendar mapped to the space: "caldav", "graph", "google" or "imip"; null when none.</summary>
    public string? ResourceCalendarKind { get; set; }

    /// <summary>Its calendar-user address, room mailbox email or calendar URL.</summary>
    public string? ResourceCalendarAddress { get; set; }

    /// <summary>On confirmation, also put the event on the organizer's calendar when they are a user with a calendar.</summary>
    public bool WriteToOrganizerCalendar { get; set; } = true;

    /// <summary>The user whose calendar receives the event when the organizer has none; null = the resource calendar alone.</summary>
    public UserId? FallbackCalendarUserId { get; set; }

    public required Instant CreatedAt { get; init; }

    public required Instant UpdatedAt { get; set; }
}

/// <summary>
/// One event's request for one space, keyed by the space and the event's iCalendar UID. Several spaces on one event
/// are several requests sharing the UID. Only confirmed requests occupy the space; PostgreSQL refuses two overlapping
/// confirmed requests for one space.
/// </summary>
public sealed class SpaceRequest
{
    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required Guid SpaceId { get; init; }

    public required string Uid { get; init; }

    public int Sequence { get; set; }

    /// <summary>
    /// The DTSTAMP of the version taken (Graph: its lastModifiedDateTime). Within one SEQUENCE a newer stamp with another
    /// time or title is an organizer's change; an older one is a late duplicate.
    /// </summary>
    public Instant? Stamp { get; set; }

    public required string OrganizerEmail { get; set; }

    public string? OrganizerName { get; set; }

    /// <summary>The organizer when they are a user of the organization (matched by email, or who made it in Rendezvous).</summary>
    public UserId? OrganizerUserId { get; set; }

    public required string Summary { get; set; }

    public required Instant Start { get; set; }

    public required Instant End { get; set; }

    public required SpaceRequestState State { get; set; }

    /// <summary>Where it came from and where answers go: "api", "caldav", "graph", "imip".</summary>
    public required string Channel { get; init; }

    public string? ChannelReference { get; set; }

    /// <summary>The booking this space is held for, when a booking page needs a space.</summary>
    public BookingId? BookingId { get; set; }

    /// <summary>Whether the event has been (asked to be) written to the space's resource calendar.</summary>
    public bool OnResourceCalendar { get; set; }

    /// <summary>Whether the event has been (asked to be) written to the organizer's (or the fallback) calendar.</summary>
    public bool OnOrganizerCalendar { get; set; }

    /// <summary>The calendar connection the event was written to (the organizer's, or the fallback user's).</summary>
    public Guid? OrganizerCalendarConnectionId { get; set; }

    /// <summary>The written event's item id there, to update or delete it later.</summary>
    public string? OrganizerCalendarHref { get; set; }

    /// <summary>The version that write stored (ETag); null when unknown.</summary>
    public string? OrganizerCalendarETag { get; set; }

    /// <summary>Who acted last: "user", "organizer", "system" (auto-accept, another request confirmed), "calendar".</summary>
    public string? LastActorKind { get; set; }

    public string? LastActorId { get; set; }

    public string? LastReason { get; set; }

    public required Instant CreatedAt { get; init; }

    public required Instant UpdatedAt { get; set; }
}

/// <summary>One change of a space request, oldest first: what was done, by whom, why, and the time it concerned.</summary>
public sealed class SpaceRequestActivity
{
    public long Id { get; init; }

    public required Guid RequestId { get; init; }

    public required Instant At { get; init; }

    /// <summary>"received", "updated", "accept", "decline", "hold", "tentative", "confirm", "cancel", "canceledInCalendar".</summary>
    public required string Action { get; init; }

    public SpaceRequestState? FromState { get; init; }

    public required SpaceRequestState ToState { get; init; }

    public required string ActorKind { get; init; }

    public string? ActorId { get; init; }

    public string? Reason { get; init; }

    public required int Sequence { get; init; }

    public required Instant Start { get; init; }

    public required Instant End { get; init; }
}

/// <summary>A booking page that needs a space: each booking also holds one free space of this pool.</summary>
public sealed class BookingPageSpacePool
{
    public required BookingPageId BookingPageId { get; init; }

    public List<Guid> SpaceIds { get; set; } = [];

    public int MinimumCapacity { get; set; }

    public List<string> RequiredFeatures { get; set; } = [];
}

namespace Rendezvous.Server.Features.Spaces;

/// <summary>
/// Creates or changes a space. On update a missing field keeps its value; <c>resourceCalendarKind: ""</c> unmaps the
/// resource calendar, <c>moderatorId: ""</c> and <c>fallbackCalendarUserId: ""</c> clear them.
/// </summary>
public sealed record SpaceBody(
    string? Name,
    string? Kind,
    int? Capacity,
    IReadOnlyList<string?>? Features,
    string? TimeZone,
    string? Administration,
    string? ModeratorId,
    string? ResourceCalendarKind,
    string? ResourceCalendarAddress,
    bool? WriteToOrganizerCalendar,
    string? FallbackCalendarUserId);

public sealed record SpaceResponse(
    string Id,
    string Name,
    string Kind,
    int Capacity,
    string[] Features,
    string TimeZone,
    string Administration,
    string? ModeratorId,
    string? ResourceCalendarKind,
    string? ResourceCalendarAddress,
    bool WriteToOrganizerCalendar,
    string? FallbackCalendarUserId,
    string CreatedAt,
    string UpdatedAt);

/// <summary>
/// Asks for one or several spaces for one event, all or nothing. Missing fields take the event defaults: the caller as
/// organizer, the summary "Event", a fresh UID.
/// </summary>
public sealed record SpaceRequestBody(
    IReadOnlyList<string?>? SpaceIds,
    string? Summary,
    string? Start,
    string? End,
    string? OrganizerEmail,
    string? OrganizerName,
    string? Uid);

/// <summary>An optional reason given with an action.</summary>
public sealed record SpaceActionBody(string? Reason);

/// <summary>A time in UTC, in the space's zone and in the viewer's zone.</summary>
public sealed record SpaceTimes(string Utc, string InSpaceZone, string InViewerZone);

public sealed record SpaceActorResponse(string Kind, string? Id);

public sealed record SpaceRequestResponse(
    string Id,
    string SpaceId,
    string SpaceName,
    string SpaceTimeZone,
    string ViewerTimeZone,
    string Uid,
    int Sequence,
    string Summary,
    string OrganizerEmail,
    string? OrganizerName,
    string? OrganizerUserId,
    string Start,
    string End,
    SpaceTimes StartTimes,
    SpaceTimes EndTimes,
    string State,
    string Channel,
    string? BookingId,
    bool OnResourceCalendar,
    SpaceActorResponse? LastActor,
    string? LastReason,
    string CreatedAt,
    string UpdatedAt,
    SpaceActivityResponse[]? History);

public sealed record SpaceActivityResponse(
    string At,
    string Action,
    string? FromState,
    string ToState,
    SpaceActorResponse Actor,
    string? Reason,
    int Sequence,
    string Start,
    string End);

/// <summary>Before confirming: the confirmed requests in the way, and the open ones a confirmation declines.</summary>
public sealed record SpaceConflictsResponse(SpaceRequestResponse Request, SpaceRequestResponse[] Blocking, SpaceRequestResponse[] WouldBeDeclined);

/// <summary>One day of every space: rows are spaces, each with its open and confirmed requests of that day.</summary>
public sealed record SpaceTimelineResponse(string Date, string TimeZone, string From, string To, SpaceTimelineRow[] Spaces);

public sealed record SpaceTimelineRow(SpaceResponse Space, SpaceRequestResponse[] Requests);

/// <summary>A booking page's need for a space: any of <c>spaceIds</c> (empty = every space) with enough capacity and the features.</summary>
public sealed record SpacePoolBody(IReadOnlyList<string?>? SpaceIds, int? MinimumCapacity, IReadOnlyList<string?>? RequiredFeatures);

public sealed record SpacePoolResponse(string BookingPageId, string[] SpaceIds, int MinimumCapacity, string[] RequiredFeatures);

using NodaTime;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>
/// An invitation for a space, whatever brought it: a request made in Rendezvous ("api"), an iTIP REQUEST found in the
/// space's CalDAV scheduling inbox ("caldav"), an event in a Microsoft 365 room mailbox ("graph") or an iMIP email to
/// the space's address ("imip"). <paramref name="ChannelReference"/> is what the channel needs to answer later: the
/// inbox item href, the Graph event id, the Message-ID. <paramref name="Stamp"/> is the version's DTSTAMP (Graph: its
/// lastModifiedDateTime): within one <paramref name="Sequence"/>, a newer stamp that changes the time or title is an
/// organizer's change, an older one a late duplicate.
/// </summary>
public sealed record SpaceInvitation(
    Guid OrganizationId, Guid SpaceId, string Uid, int Sequence,
    string OrganizerEmail, string? OrganizerName, string Summary,
    Instant Start, Instant End,
    string Channel,
    string? ChannelReference,
    Instant? Stamp = null);

/// <summary>The request an invitation created or updated, and its state (<see cref="SpaceRequestStates"/>).</summary>
public sealed record SpaceRequestResult(Guid RequestId, string State);

/// <summary>Where invitations arriving through a calendar channel enter the spaces lifecycle.</summary>
public interface ISpaceInvitations
{
    /// <summary>
    /// Creates the request (keyed by space + UID) or updates it when <see cref="SpaceInvitation.Sequence"/> is higher (or
    /// the same with a newer <see cref="SpaceInvitation.Stamp"/> and another time or title),
    /// and applies the space's administration mode: auto-accept decides at once (confirmed when free, declined on a
    /// conflict), moderated waits for the moderator (pending), Rendezvous-managed starts as prospect.
    /// </summary>
    Task<SpaceRequestResult> ReceiveAsync(SpaceInvitation invitation, CancellationToken cancellationToken);

    /// <summary>The organizer canceled (iTIP CANCEL, event deleted in the calendar): the request becomes canceled.</summary>
    Task CancelFromCalendarAsync(Guid spaceId, string uid, CancellationToken cancellationToken);
}

/// <summary>The channels a request can come from; the answer goes back through the same one.</summary>
public static class SpaceChannels
{
    public const string Api = "api";
    public const string CalDav = "caldav";
    public const string Graph = "graph";
    public const string Imip = "imip";

    public static IReadOnlyList<string> All { get; } = [Api, CalDav, Graph, Imip];
}

/// <summary>The state names used on the API, in the seam and in the database.</summary>
public static class SpaceRequestStates
{
    public const string Prospect = "prospect";
    public const string Pending = "pending";
    public const string Tentative = "tentative";
    public const string Hold = "hold";
    public const string Confirmed = "confirmed";
    public const string Declined = "declined";
    public const string Canceled = "canceled";
}

/// <summary>
/// The payload of the outbox message <see cref="Type"/>, written in the same transaction each time the answer owed to
/// an organizer changes. The transports send it back through <see cref="Channel"/>; for requests made in Rendezvous
/// on a space with a resource calendar they write the event there (<see cref="WriteToResourceCalendar"/>) or remove
/// it (<see cref="RemoveFromResourceCalendar"/>).
/// </summary>
public sealed record SpaceRequestAnswered(
    Guid RequestId,
    Guid SpaceId,
    string Uid,
    int Sequence,
    string Partstat,
    string Channel,
    string? ChannelReference,
    bool WriteToResourceCalendar,
    bool RemoveFromResourceCalendar)
{
    public const string Type = "space.request.answered";

    public const string Accepted = "ACCEPTED";
    public const string Declined = "DECLINED";
    public const string Tentative = "TENTATIVE";
}

using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Data;

/// <summary>
/// An API key. Only a SHA-256 hash of the secret is stored; the secret is shown once, at creation. It acts for its user
/// within its scopes ("bookings:read", "pages:write", ...) until it expires or is revoked.
/// </summary>
public sealed class ApiKey
{
    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required UserId UserId { get; init; }

    public required string Name { get; init; }

    /// <summary>The first characters of the key, shown so people can tell keys apart.</summary>
    public required string Prefix { get; init; }

    public required byte[] KeyHash { get; init; }

    /// <summary>What the key may do, as "area:read" / "area:write" scopes. Keys made before scopes existed hold all of them.</summary>
    public required string[] Scopes { get; set; }

    public required Instant CreatedAt { get; init; }

    /// <summary>Null: the key does not expire.</summary>
    public Instant? ExpiresAt { get; init; }

    /// <summary>When a request last used the key, to the minute (written at most once a minute per key).</summary>
    public Instant? LastUsedAt { get; set; }

    public Instant? RevokedAt { get; set; }
}

/// <summary>A domain event waiting for (or done with) delivery to in-process handlers.</summary>
public sealed class OutboxMessage
{
    public long Id { get; init; }

    public OrganizationId? OrganizationId { get; init; }

    public required string Type { get; init; }

    /// <summary>The event as JSON.</summary>
    public required string Payload { get; init; }

    public required Instant CreatedAt { get; init; }

    public required Instant AvailableAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>Handlers that have already succeeded; a retry skips them.</summary>
    public List<string> HandledBy { get; set; } = [];

    public Instant? ProcessedAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>The process holding the message while it runs (null when nobody does).</summary>
    public string? ClaimedBy { get; set; }

    /// <summary>Until when <see cref="ClaimedBy"/> holds it; after that another process may claim it (the holder died).</summary>
    public Instant? LeaseUntil { get; set; }

    /// <summary>Set when the message used up its attempts: nothing retries it until an administrator replays it.</summary>
    public Instant? DeadAt { get; set; }

    /// <summary>
    /// Messages with the same key (the booking, space request or space the payload names) never run at the same time and
    /// are claimed in id order. Computed by the database from the payload, so every writer gets it.
    /// </summary>
    public string? OrderingKey { get; init; }
}

/// <summary>The stored answer to a request made with an Idempotency-Key, replayed on a repeat.</summary>
public sealed class IdempotencyRecord
{
    public required string Scope { get; init; }

    public required string Key { get; init; }

    public required byte[] RequestHash { get; init; }

    public required int StatusCode { get; init; }

    public required string Response { get; init; }

    public required Instant CreatedAt { get; init; }
}

/// <summary>
/// Time a user is busy outside Rendezvous: entered by hand (time off) or, later, read from a connected calendar.
/// </summary>
public sealed class BusyBlock
{
    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required UserId UserId { get; init; }

    public required Instant Start { get; init; }

    public required Instant End { get; init; }

    /// <summary>"manual" for blocks entered through the API, "calendar" for busy time read from a connected calendar.</summary>
    public required string Source { get; init; }

    public string? Note { get; init; }

    /// <summary>For calendar busy time: the connection and the calendar object it was read from.</summary>
    public Guid? ConnectionId { get; init; }

    public string? ItemHref { get; init; }
}

/// <summary>Where one calendar of a connection stands in its incremental sync, whatever the provider.</summary>
public sealed class CalendarSyncState
{
    public required Guid ConnectionId { get; init; }

    /// <summary>The calendar: its absolute URL for CalDAV, the provider's calendar id otherwise.</summary>
    public required string CalendarUrl { get; init; }

    /// <summary>The provider's cursor: RFC 6578 sync token, Graph delta link, Google sync token.</summary>
    public string? SyncToken { get; set; }

    /// <summary>The provider's own JSON about this calendar.</summary>
    public string? ProviderState { get; set; }

    /// <summary>The push subscription in place (Graph subscription id, Google channel id); null without push.</summary>
    public string? PushChannelId { get; set; }

    /// <summary>The secret notifications for <see cref="PushChannelId"/> must carry.</summary>
    public string? PushToken { get; set; }

    public Instant? PushExpiresAt { get; set; }

    public string? CTag { get; set; }

    public Instant? LastSyncedAt { get; set; }
}

/// <summary>An object seen in a connected calendar, with the version (ETag) it had.</summary>
public sealed class CalendarItem
{
    public required Guid ConnectionId { get; init; }

    /// <summary>The provider's item id (the object's href for CalDAV).</summary>
    public required string Href { get; init; }

    public required string CalendarUrl { get; set; }

    public string? ETag { get; set; }

    public string? Uid { get; set; }

    /// <summary>Set when the object is one of our booking events.</summary>
    public BookingId? BookingId { get; set; }
}

/// <summary>What we wrote for one host of a booking into that host's booking calendar.</summary>
public sealed class BookingEventLink
{
    public required BookingId BookingId { get; init; }

    public required UserId UserId { get; init; }

    public required Guid ConnectionId { get; set; }

    /// <summary>The calendar written to: its URL for CalDAV, the provider's calendar id otherwise.</summary>
    public required string CalendarUrl { get; set; }

    /// <summary>The provider's item id of the event (the object's href for CalDAV).</summary>
    public required string Href { get; set; }

    /// <summary>The version our last write left (ETag); the sync recognises it as our own write.</summary>
    public string? ETag { get; set; }

    /// <summary>SEQUENCE of the last write; increases with every change of time or status.</summary>
    public int Sequence { get; set; }

    public Instant WrittenStart { get; set; }

    public Instant WrittenEnd { get; set; }

    public bool Deleted { get; set; }

    /// <summary>A move made in the calendar while "changing the time updates the booking" is off: applied when the next reminder is due.</summary>
    public Instant? PendingStart { get; set; }

    public Instant UpdatedAt { get; set; }
}


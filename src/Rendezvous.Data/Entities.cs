using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Data;

/// <summary>An API key. Only a SHA-256 hash of the secret is stored; the secret is shown once, at creation.</summary>
public sealed class ApiKey
{
    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required UserId UserId { get; init; }

    public required string Name { get; init; }

    /// <summary>The first characters of the key, shown so people can tell keys apart.</summary>
    public required string Prefix { get; init; }

    public required byte[] KeyHash { get; init; }

    public required Instant CreatedAt { get; init; }

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

    /// <summary>"manual" for blocks entered through the API.</summary>
    public required string Source { get; init; }

    public string? Note { get; init; }
}

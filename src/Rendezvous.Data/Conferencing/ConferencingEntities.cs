using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Domain.Conferencing;

namespace Rendezvous.Data.Conferencing;

/// <summary>
/// A user's account with a conferencing service: OAuth tokens, encrypted at rest with Data Protection and never returned
/// by the API. The refresh token is replaced whenever the service rotates it.
/// </summary>
public sealed class ConferencingAccount
{
    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required UserId UserId { get; init; }

    public required ConferencingProvider Provider { get; init; }

    /// <summary>The user's id (or email) in the service, when known: the target of a Zoom host change.</summary>
    public string? ExternalUserId { get; set; }

    public required string ProtectedAccessToken { get; set; }

    public string? ProtectedRefreshToken { get; set; }

    /// <summary>When the access token stops working; null when unknown (then only a 401 tells).</summary>
    public Instant? AccessTokenExpiresAt { get; set; }

    /// <summary>Why the last use failed for good (a refresh token the service no longer accepts), until it works again.</summary>
    public string? LastError { get; set; }

    public required Instant CreatedAt { get; init; }

    public required Instant UpdatedAt { get; set; }
}

/// <summary>
/// The meeting one booking has in a conferencing service, kept by the conferencing outbox handler. A row exists from the
/// moment a meeting is first asked for; <see cref="MeetingId"/> is set once the service has answered, and
/// <see cref="CreateAttempts"/> counts the asks, so a retry after an answer that was lost looks for the meeting before
/// making another. <see cref="PreviousMeetingId"/> is a meeting still to be removed from <see cref="PreviousHostUserId"/>'s
/// account after ownership moved by re-creating it.
/// </summary>
public sealed class BookingConferencing
{
    public required BookingId BookingId { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required ConferencingProvider Provider { get; set; }

    /// <summary>Whose account holds the meeting.</summary>
    public required UserId HostUserId { get; set; }

    public string? MeetingId { get; set; }

    public string? JoinUrl { get; set; }

    public int CreateAttempts { get; set; }

    /// <summary>The time the meeting has in the service.</summary>
    public Instant? WrittenStart { get; set; }

    public Instant? WrittenEnd { get; set; }

    /// <summary>The meeting was removed (the booking was canceled).</summary>
    public bool Deleted { get; set; }

    public string? PreviousMeetingId { get; set; }

    public UserId? PreviousHostUserId { get; set; }

    public string? LastError { get; set; }

    public required Instant UpdatedAt { get; set; }
}

using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Data;

/// <summary>
/// How invitations reach one space and how its answers leave (docs/SPACES.md): a CalDAV calendar user on an RFC 6638
/// server, an IMAP mailbox that receives iMIP email, or a Microsoft 365 room mailbox through Graph. The secret
/// (password) is encrypted with Data Protection and never returned by the API. Polling state and a lease let any
/// number of server processes share the channels, each polled by one process at a time.
/// </summary>
public sealed class SpaceChannel
{
    public const string CalDav = "caldav";
    public const string Imip = "imip";
    public const string Graph = "graph";

    public required Guid SpaceId { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    /// <summary><see cref="CalDav"/>, <see cref="Imip"/> or <see cref="Graph"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The space's own address: its calendar-user address (without mailto:), its email, its room mailbox.</summary>
    public required string Address { get; set; }

    /// <summary>CalDAV: the server's base URL. Graph: the Graph endpoint (tests point it at the emulator).</summary>
    public string? ServerUrl { get; set; }

    /// <summary>iMIP: the IMAP server's host and port, and None, StartTls or SslOnConnect.</summary>
    public string? ImapHost { get; set; }

    public int? ImapPort { get; set; }

    public string? ImapSecurity { get; set; }

    /// <summary>The account Rendezvous signs in with (CalDAV and IMAP user; Graph: the application's client id).</summary>
    public required string UserName { get; set; }

    /// <summary>The password or client secret, encrypted.</summary>
    public required string ProtectedSecret { get; set; }

    /// <summary>Graph: the tenant of the application's client-credentials grant.</summary>
    public string? Tenant { get; set; }

    /// <summary>CalDAV: the space's calendar the server files invitations into, found on the first poll.</summary>
    public string? CalendarHref { get; set; }

    /// <summary>CalDAV: the RFC 6578 token; Graph: the delta link.</summary>
    public string? SyncToken { get; set; }

    /// <summary>iMIP: the INBOX's UIDVALIDITY and the highest UID read; a new UIDVALIDITY means read from the start.</summary>
    public long? ImapUidValidity { get; set; }

    public long ImapLastUid { get; set; }

    public required Instant NextPollAt { get; set; }

    public Instant? LeaseUntil { get; set; }

    public Instant? LastPolledAt { get; set; }

    public string? LastError { get; set; }

    public int ConsecutiveFailures { get; set; }

    public required Instant CreatedAt { get; init; }

    public required Instant UpdatedAt { get; set; }
}

/// <summary>
/// An invitation a channel brought for a space, as the channel needs it to answer later: the organizer, the UID and
/// SEQUENCE to reply to, the reference (CalDAV href, Graph event id, Message-ID), and the last answer sent.
/// </summary>
public sealed class SpaceChannelItem
{
    public required Guid SpaceId { get; init; }

    public required string Uid { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required string Channel { get; set; }

    public string? Reference { get; set; }

    public required string OrganizerEmail { get; set; }

    public string? OrganizerName { get; set; }

    public required int Sequence { get; set; }

    /// <summary>The DTSTAMP of the version read (Graph: lastModifiedDateTime); orders versions that share a SEQUENCE.</summary>
    public Instant? Stamp { get; set; }

    public required string Summary { get; set; }

    public required Instant StartAt { get; set; }

    public required Instant EndAt { get; set; }

    public bool Cancelled { get; set; }

    public string? AnsweredPartstat { get; set; }

    public int? AnsweredSequence { get; set; }

    public Instant? AnsweredAt { get; set; }

    public required Instant ReceivedAt { get; set; }
}

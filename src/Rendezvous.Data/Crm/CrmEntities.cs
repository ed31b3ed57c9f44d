using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Data;

/// <summary>
/// One booking page's link to a CRM (Salesforce or Keap/Infusionsoft): its settings, and once an administrator authorized
/// it, the OAuth tokens (encrypted with Data Protection, never returned by the API) and who they belong to.
/// </summary>
public sealed class CrmConnection
{
    public const string Salesforce = "salesforce";
    public const string Infusionsoft = "infusionsoft";

    public required Guid Id { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    public required BookingPageId BookingPageId { get; init; }

    /// <summary><see cref="Salesforce"/> or <see cref="Infusionsoft"/>.</summary>
    public required string Provider { get; init; }

    /// <summary>The provider's settings as JSON (what to create, tag ids, ...).</summary>
    public required string Settings { get; set; }

    /// <summary>The CRM account the tokens belong to: the Salesforce organization id, or the Keap application name.</summary>
    public string? AccountId { get; set; }

    /// <summary>The Salesforce user who authorized; Activity Events are owned by them.</summary>
    public string? AccountUserId { get; set; }

    /// <summary>Where API calls go (Salesforce's instance URL).</summary>
    public string? InstanceUrl { get; set; }

    public string? ProtectedAccessToken { get; set; }

    public string? ProtectedRefreshToken { get; set; }

    /// <summary>When the access token expires, when the provider says so; null means "until refused".</summary>
    public Instant? AccessTokenExpiresAt { get; set; }

    /// <summary>The single-use value inside the latest authorize URL's state; cleared once a callback used it.</summary>
    public string? PendingStateNonce { get; set; }

    public Instant? ConnectedAt { get; set; }

    /// <summary>The refresh token was refused: an administrator must authorize again. Work waits in the outbox meanwhile.</summary>
    public bool NeedsReauthorization { get; set; }

    public Instant? LastSyncAt { get; set; }

    public string? LastError { get; set; }

    public Instant? LastErrorAt { get; set; }

    /// <summary>
    /// Salesforce: the Rendezvous custom fields the org's Event object lacks, as last described; null until the fields were
    /// looked at. Events are written without the missing ones (and found by the Event id we keep when the booking id field is
    /// missing).
    /// </summary>
    public List<string>? MissingFields { get; set; }

    /// <summary>When <see cref="MissingFields"/> was last read from the org.</summary>
    public Instant? FieldsCheckedAt { get; set; }

    public required Instant CreatedAt { get; init; }

    public required Instant UpdatedAt { get; set; }

    public bool IsConnected => ProtectedRefreshToken is not null || ProtectedAccessToken is not null;
}

/// <summary>What was written to a CRM for one booking: the record's ids there and the outcome of the latest sync.</summary>
public sealed class CrmRecord
{
    public required BookingId BookingId { get; init; }

    public required string Provider { get; init; }

    public required OrganizationId OrganizationId { get; init; }

    /// <summary>Salesforce: the Event's id. Keap: the contact's id.</summary>
    public string? ExternalId { get; set; }

    /// <summary>Salesforce: the Lead or Contact the Event is related to.</summary>
    public string? WhoId { get; set; }

    /// <summary>Salesforce: the Case the Event is related to.</summary>
    public string? WhatId { get; set; }

    /// <summary>What the customer was matched to: Contact, Lead, Case, NewLead or None.</summary>
    public string? RelatedTo { get; set; }

    /// <summary>The booking was reassigned between two pages connected to the same CRM account.</summary>
    public bool Reassigned { get; set; }

    /// <summary>Salesforce: the Event status last written. Keap: the last tag applied.</summary>
    public string? LastStatus { get; set; }

    public List<string> AppliedTags { get; set; } = [];

    public Instant? LastSyncedAt { get; set; }

    /// <summary>Why the record could not be written, when the CRM refused it for good.</summary>
    public string? LastError { get; set; }

    /// <summary>
    /// Salesforce, without the booking id field: how many times an Event was created for this booking without the answer being
    /// kept. A retry after a lost answer first looks for the Event it may have made instead of making a second one.
    /// </summary>
    public int CreateAttempts { get; set; }

    public required Instant UpdatedAt { get; set; }
}

/// <summary>
/// Which CRM user stands for a Rendezvous user in one CRM account (a Salesforce org, a Keap application): the owner of the
/// Events and contacts of their bookings. Either set by an administrator (<see cref="Manual"/>) or found by the user's
/// email (<see cref="ByEmail"/>); a lookup that matched nobody is kept with a null <see cref="ExternalUserId"/> so the
/// connection's health can say so.
/// </summary>
public sealed class CrmUserLink
{
    public const string Manual = "manual";
    public const string ByEmail = "email";

    public required OrganizationId OrganizationId { get; init; }

    public required UserId UserId { get; init; }

    /// <summary><see cref="CrmConnection.Salesforce"/> or <see cref="CrmConnection.Infusionsoft"/>.</summary>
    public required string Provider { get; init; }

    /// <summary>The CRM account, as <see cref="CrmConnection.AccountId"/> names it.</summary>
    public required string AccountId { get; init; }

    /// <summary>The CRM user's id; null when a lookup by email matched nobody.</summary>
    public string? ExternalUserId { get; set; }

    /// <summary><see cref="Manual"/> or <see cref="ByEmail"/>.</summary>
    public required string Source { get; set; }

    /// <summary>The email that was looked up (a changed email is looked up again).</summary>
    public string? Email { get; set; }

    public required Instant CheckedAt { get; set; }
}

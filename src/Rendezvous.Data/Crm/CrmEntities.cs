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

    public required Instant UpdatedAt { get; set; }
}

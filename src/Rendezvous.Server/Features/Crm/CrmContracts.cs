using Rendezvous.Integrations.Crm;
namespace Rendezvous.Server.Features.Crm;

/// <summary><c>PUT /booking-pages/{id}/salesforce</c>: every field optional; missing ones keep their value (defaults on first save).</summary>
public sealed record SalesforceSettingsRequest(bool? CreateActivityEvents, bool? CreateLeads, string? LeadSource);

/// <summary>
/// <c>PUT /booking-pages/{id}/infusionsoft</c>: <c>tagIds</c> maps stages (scheduled, rescheduled, canceled, completed, noShow,
/// reassigned) to Keap tag ids; a stage given <c>null</c> goes back to the tag found (or created) by its default name.
/// Stages not named keep their value.
/// </summary>
public sealed record InfusionsoftSettingsRequest(Dictionary<string, long?>? TagIds);

/// <summary>The CRM account a page is connected to. Tokens are never returned.</summary>
public sealed record CrmAccountResponse(string? Id, string? UserId, string? InstanceUrl);

/// <summary>
/// A page's Salesforce connection. <c>status</c>: <c>notConnected</c> (settings only, or authorization not finished),
/// <c>connected</c>, or <c>reauthorizationRequired</c> (Salesforce refused the refresh token; work waits until an
/// administrator authorizes again).
/// </summary>
public sealed record SalesforceConnectionResponse(
    string BookingPageId,
    string Status,
    CrmAccountResponse? Account,
    string? ConnectedAt,
    bool CreateActivityEvents,
    bool CreateLeads,
    string LeadSource,
    IReadOnlyDictionary<string, string> Fields,
    string? LastSyncAt,
    string? LastError,
    string? LastErrorAt)
{
    /// <summary>What the connection needs from someone: missing custom fields, an owner no Salesforce user stands for.</summary>
    public CrmHealthResponse? Health { get; init; }
}

/// <summary>The tag a stage applies: the configured id, or the default name (and the id found for it, once known).</summary>
public sealed record KeapTagResponse(long? Id, string? Name, string Source);

/// <summary>A page's Keap (Infusionsoft) connection; <c>status</c> as for Salesforce.</summary>
public sealed record InfusionsoftConnectionResponse(
    string BookingPageId,
    string Status,
    CrmAccountResponse? Account,
    string? ConnectedAt,
    IReadOnlyDictionary<string, KeapTagResponse> Tags,
    string? LastSyncAt,
    string? LastError,
    string? LastErrorAt)
{
    /// <summary>What the connection needs from someone: an owner no Keap user stands for.</summary>
    public CrmHealthResponse? Health { get; init; }
}

/// <summary>
/// A connection's health: <c>missingFields</c> (Salesforce: the Rendezvous custom fields the org's Event lacks, null until
/// looked at), who owns the page owner's records there (<c>owner</c>), and a sentence per thing to fix (<c>problems</c>).
/// </summary>
public sealed record CrmHealthResponse(IReadOnlyList<string>? MissingFields, string? FieldsCheckedAt, CrmOwnerResponse? Owner, IReadOnlyList<string> Problems);

/// <summary>
/// Which CRM user stands for a Rendezvous user in one CRM account: <c>source</c> is <c>manual</c> (set by an administrator),
/// <c>email</c> (found by their email; <c>externalUserId</c> null when nobody matched) or null (not looked up yet).
/// </summary>
public sealed record CrmOwnerResponse(string UserId, string Provider, string? AccountId, string? ExternalUserId, string? Source, string? Email,
    string? CheckedAt);

/// <summary><c>PUT /users/{id}/crm-owners/{provider}</c>: the CRM user who owns this user's records in one account.</summary>
public sealed record CrmOwnerRequest(string? AccountId, string? ExternalUserId);

/// <summary>The answer to an authorize request: send the administrator's browser to <c>url</c> before <c>expiresAt</c>.</summary>
public sealed record AuthorizeResponse(string Url, string ExpiresAt);

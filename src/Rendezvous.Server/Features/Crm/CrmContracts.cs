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
    string? LastErrorAt);

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
    string? LastErrorAt);

/// <summary>The answer to an authorize request: send the administrator's browser to <c>url</c> before <c>expiresAt</c>.</summary>
public sealed record AuthorizeResponse(string Url, string ExpiresAt);

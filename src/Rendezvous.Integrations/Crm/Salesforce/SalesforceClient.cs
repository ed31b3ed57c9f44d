using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Rendezvous.Integrations;

namespace Rendezvous.Integrations.Crm.Salesforce;

/// <summary>What an Event upsert did.</summary>
public sealed record UpsertResult(string? Id, bool Created);

/// <summary>
/// Salesforce over its documented REST API: the OAuth 2.0 web server flow (authorize URL, code exchange, refresh token
/// flow), SOQL queries, sObject create, and upsert by external ID. Calls made with a connection's token renew it once on
/// 401 (INVALID_SESSION_ID) and try again. Failures are thrown as <see cref="IntegrationException"/>:
/// 403 REQUEST_LIMIT_EXCEEDED and 429 are throttling, 5xx transient, 404 and errors about fields or objects the org lacks
/// are configuration, other 4xx reject the one record.
/// </summary>
public sealed class SalesforceClient(OutboundHttp http, CrmTokens tokens, IOptions<SalesforceOptions> options, IOptions<PublicUrlOptions> urls)
{
    public const string Provider = "Salesforce";

    private static readonly HashSet<string> ConfigurationErrors = new(StringComparer.Ordinal)
    {
        "NOT_FOUND", "INVALID_FIELD", "INVALID_TYPE", "INVALID_FIELD_FOR_INSERT_UPDATE", "INSUFFICIENT_ACCESS",
        "INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED",
        "FUNCTIONALITY_NOT_ENABLED", "INVALID_OPERATION_WITH_EXPIRED_PASSWORD", "NO_SUCH_COLUMN",
    };

    private SalesforceOptions O => options.Value;

    public bool IsConfigured => O.IsConfigured;

    public string RedirectUri => O.RedirectUri ?? urls.Value.PublicBaseUrl.TrimEnd('/') + "/api/v1/salesforce/callback";

    /// <summary>Where to send the administrator to authorize an org: the web server flow's authorization endpoint.</summary>
    public string AuthorizeUrl(string state) =>
        $"{O.LoginUrl.TrimEnd('/')}/services/oauth2/authorize?response_type=code" +
        $"&client_id={Uri.EscapeDataString(O.ClientId ?? "")}&redirect_uri={Uri.EscapeDataString(RedirectUri)}" +
        $"&scope={Uri.EscapeDataString("api refresh_token")}&state={Uri.EscapeDataString(state)}";

    /// <summary>Trades the authorization code for tokens (grant_type=authorization_code).</summary>
    public Task<TokenGrant> ExchangeCodeAsync(string code, CancellationToken ct) => TokenRequestAsync(new Dictionary<string, string>
    {
        ["grant_type"] = "authorization_code",
        ["code"] = code,
        ["client_id"] = O.ClientId ?? "",
        ["client_secret"] = O.ClientSecret ?? "",
        ["redirect_uri"] = RedirectUri,
    }, ct);

    /// <summary>Gets a new access token with the refresh token (grant_type=refresh_token).</summary>
    public Task<TokenGrant> RefreshAsync(string refreshToken, CancellationToken ct) => TokenRequestAsync(new Dictionary<string, string>
    {
        ["grant_type"] = "refresh_token",
        ["refresh_token"] = refreshToken,
        ["client_id"] = O.ClientId ?? "",
        ["client_secret"] = O.ClientSecret ?? "",
    }, ct);

    /// <summary>Runs a SOQL query and returns the Ids of the records found (first batch).</summary>
    public async Task<IReadOnlyList<string>> QueryIdsAsync(Guid connectionId, string soql, CancellationToken ct)
    {
        var answer = await CallAsync(connectionId, HttpMethod.Get, $"/query?q={Uri.EscapeDataString(soql)}", null, idempotent: true, ct);
        var records = JsonNode.Parse(answer.Body)?["records"]?.AsArray() ?? [];
        return [.. records.Select(r => r?["Id"]?.GetValue<string>()).OfType<string>()];
    }

    /// <summary>Creates a record (POST /sobjects/{type}) and returns its id. Not retried in-process: a POST is not idempotent.</summary>
    public async Task<string> CreateAsync(Guid connectionId, string sobject, JsonObject fields, CancellationToken ct)
    {
        var answer = await CallAsync(connectionId, HttpMethod.Post, $"/sobjects/{sobject}", fields, idempotent: false, ct);
        return JsonNode.Parse(answer.Body)?["id"]?.GetValue<string>()
            ?? throw new IntegrationException(Provider, IntegrationFailureKind.Transient, $"Salesforce created a {sobject} but returned no id.");
    }

    /// <summary>
    /// Upserts a record by an external ID (PATCH /sobjects/{type}/{field}/{value}): created when the value is unknown,
    /// updated when it matches one record. Safe to repeat.
    /// </summary>
    public async Task<UpsertResult> UpsertAsync(Guid connectionId, string sobject, string externalIdField, string externalId, JsonObject fields,
        CancellationToken ct)
    {
        var answer = await CallAsync(connectionId, HttpMethod.Patch,
            $"/sobjects/{sobject}/{externalIdField}/{Uri.EscapeDataString(externalId)}", fields, idempotent: true, ct);
        if (answer.Code == 204 || string.IsNullOrWhiteSpace(answer.Body))
        {
            return new UpsertResult(null, false);
        }

        var body = JsonNode.Parse(answer.Body);
        return new UpsertResult(body?["id"]?.GetValue<string>(), answer.Code == 201 || body?["created"]?.GetValue<bool>() == true);
    }

    /// <summary>Updates a record by its Salesforce id (PATCH /sobjects/{type}/{id}, answered 204). Safe to repeat.</summary>
    public Task UpdateAsync(Guid connectionId, string sobject, string id, JsonObject fields, CancellationToken ct) =>
        CallAsync(connectionId, HttpMethod.Patch, $"/sobjects/{sobject}/{Uri.EscapeDataString(id)}", fields, idempotent: true, ct);

    /// <summary>The names of an object's fields the connected user can see (GET /sobjects/{type}/describe).</summary>
    public async Task<IReadOnlySet<string>> FieldNamesAsync(Guid connectionId, string sobject, CancellationToken ct)
    {
        var answer = await CallAsync(connectionId, HttpMethod.Get, $"/sobjects/{sobject}/describe", null, idempotent: true, ct);
        var fields = JsonNode.Parse(answer.Body)?["fields"]?.AsArray() ?? [];
        return fields.Select(f => f?["name"]?.GetValue<string>()).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Creates a custom field with the Tooling API (POST /tooling/sobjects/CustomField with FullName and Metadata); answers
    /// its id. Not retried in-process: a second create of the same name is refused as a duplicate, which the caller reads
    /// as "already there".
    /// </summary>
    public async Task<string?> CreateCustomFieldAsync(Guid connectionId, JsonObject definition, CancellationToken ct)
    {
        var answer = await CallAsync(connectionId, HttpMethod.Post, "/tooling/sobjects/CustomField", definition, idempotent: false, ct);
        return JsonNode.Parse(answer.Body)?["id"]?.GetValue<string>();
    }

    private async Task<HttpAnswer> CallAsync(Guid connectionId, HttpMethod method, string path, JsonObject? body, bool idempotent, CancellationToken ct)
    {
        var access = await tokens.GetAsync(connectionId, Provider, ct);
        var answer = await SendAsync(access, method, path, body, idempotent, ct);
        if (answer.Code == 401)
        {
            // Session expired or invalid: renew with the refresh token and try once more.
            access = await tokens.RefreshAsync(connectionId, Provider, access.AccessToken, RefreshAsync, ct);
            answer = await SendAsync(access, method, path, body, idempotent, ct);
        }

        return answer.IsSuccess ? answer : throw ErrorFor(answer);
    }

    private Task<HttpAnswer> SendAsync(CrmAccess access, HttpMethod method, string path, JsonObject? body, bool idempotent, CancellationToken ct)
    {
        var instance = access.InstanceUrl?.TrimEnd('/')
            ?? throw new IntegrationException(Provider, IntegrationFailureKind.AuthorizationRequired, "Salesforce gave no instance URL; authorize again.");
        var url = $"{instance}/services/data/{O.ApiVersion}{path}";
        var json = body?.ToJsonString();
        return http.SendAsync(Provider, () =>
        {
            var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", access.AccessToken);
            request.Headers.Accept.ParseAdd("application/json");
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            return request;
        }, idempotent, O, ct);
    }

    private async Task<TokenGrant> TokenRequestAsync(Dictionary<string, string> form, CancellationToken ct)
    {
        var url = $"{O.LoginUrl.TrimEnd('/')}/services/oauth2/token";
        var answer = await http.SendAsync(Provider, () => new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(form),
            Headers = { Accept = { new MediaTypeWithQualityHeaderValue("application/json") } },
        }, idempotent: form["grant_type"] == "refresh_token", O, ct);
        if (!answer.IsSuccess)
        {
            // The token endpoint answers {"error": "invalid_grant", "error_description": "..."}.
            var error = TryParse(answer.Body);
            var code = error?["error"]?.GetValue<string>();
            var description = error?["error_description"]?.GetValue<string>() ?? $"HTTP {answer.Code}";
            var kind = answer.Code >= 500 || answer.Code == 429 ? IntegrationFailureKind.Transient
                : code is "invalid_grant" or "invalid_client" or "unauthorized_client" or "invalid_client_id" or "inactive_user" or "inactive_org"
                    ? IntegrationFailureKind.AuthorizationRequired
                    : IntegrationFailureKind.Configuration;
            throw new IntegrationException(Provider, kind, $"Salesforce refused the token request: {code} ({description})", answer.Code, code);
        }

        var grant = JsonNode.Parse(answer.Body)!;
        var id = grant["id"]?.GetValue<string>();
        var (org, user) = ParseIdentity(id);
        return new TokenGrant(grant["access_token"]!.GetValue<string>(), grant["refresh_token"]?.GetValue<string>(), null,
            grant["instance_url"]?.GetValue<string>(), org, user);
    }

    /// <summary>The org and user ids from the identity URL (<c>https://login.salesforce.com/id/{orgId}/{userId}</c>).</summary>
    public static (string? OrgId, string? UserId) ParseIdentity(string? identityUrl)
    {
        if (identityUrl is null || !Uri.TryCreate(identityUrl, UriKind.Absolute, out var uri))
        {
            return (null, null);
        }

        var segments = uri.AbsolutePath.Trim('/').Split('/');
        return segments.Length >= 3 && segments[^3] == "id" ? (segments[^2], segments[^1]) : (null, null);
    }

    /// <summary>Turns a failed answer into a typed failure, following the REST API's status codes and error responses.</summary>
    public static IntegrationException ErrorFor(HttpAnswer answer)
    {
        // Errors come as [{"message": "...", "errorCode": "...", "fields": [...]}].
        var first = TryParse(answer.Body) is JsonArray { Count: > 0 } list ? list[0] : null;
        var code = first?["errorCode"]?.GetValue<string>();
        var message = first?["message"]?.GetValue<string>() ?? (answer.Body.Length > 300 ? answer.Body[..300] : answer.Body);
        var text = $"Salesforce answered {answer.Code}{(code is null ? "" : " " + code)}: {message}";
        var kind = answer.Code switch
        {
            429 => IntegrationFailureKind.Throttled,
            403 when code == "REQUEST_LIMIT_EXCEEDED" => IntegrationFailureKind.Throttled,
            401 => IntegrationFailureKind.AuthorizationRequired,
            >= 500 or 408 => IntegrationFailureKind.Transient,
            404 => IntegrationFailureKind.Configuration,
            403 => IntegrationFailureKind.Configuration,
            _ when code is not null && ConfigurationErrors.Contains(code) => IntegrationFailureKind.Configuration,
            _ => IntegrationFailureKind.Rejected,
        };
        return new IntegrationException(Provider, kind, text, answer.Code, code, answer.RetryAfter);
    }

    private static JsonNode? TryParse(string body)
    {
        try
        {
            return string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

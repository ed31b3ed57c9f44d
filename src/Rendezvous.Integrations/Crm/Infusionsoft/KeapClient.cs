using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Integrations;

namespace Rendezvous.Integrations.Crm.Infusionsoft;

/// <summary>
/// Keap (Infusionsoft) over its documented REST API v1: OAuth2 authorization code and refresh token grants against
/// <c>/token</c> (refresh tokens rotate: each refresh returns a new one), create-or-update contact by email, list and
/// create tags, and apply tags to a contact. An access token that is about to expire (or is refused with 401) is renewed
/// once before the call is tried again. 429 is throttling, 5xx transient, 403 configuration, other 4xx reject the record.
/// </summary>
public sealed class KeapClient(OutboundHttp http, CrmTokens tokens, IOptions<KeapOptions> options, IOptions<PublicUrlOptions> urls, IClock clock)
{
    public const string Provider = "Keap";

    private KeapOptions O => options.Value;

    private string Api => O.BaseUrl.TrimEnd('/') + "/crm/rest/v1";

    public bool IsConfigured => O.IsConfigured;

    public string RedirectUri => O.RedirectUri ?? urls.Value.PublicBaseUrl.TrimEnd('/') + "/api/v1/infusionsoft/callback";

    public string AuthorizeUrl(string state) =>
        $"{O.AuthorizeUrl}?client_id={Uri.EscapeDataString(O.ClientId ?? "")}&redirect_uri={Uri.EscapeDataString(RedirectUri)}" +
        $"&response_type=code&scope=full&state={Uri.EscapeDataString(state)}";

    public Task<TokenGrant> ExchangeCodeAsync(string code, CancellationToken ct) => TokenRequestAsync(new Dictionary<string, string>
    {
        ["client_id"] = O.ClientId ?? "",
        ["client_secret"] = O.ClientSecret ?? "",
        ["code"] = code,
        ["grant_type"] = "authorization_code",
        ["redirect_uri"] = RedirectUri,
    }, basicAuth: false, ct);

    public Task<TokenGrant> RefreshAsync(string refreshToken, CancellationToken ct) => TokenRequestAsync(new Dictionary<string, string>
    {
        ["grant_type"] = "refresh_token",
        ["refresh_token"] = refreshToken,
    }, basicAuth: true, ct);

    /// <summary>Creates the contact, or updates the one with this email (duplicate_option Email), and returns its id.</summary>
    public async Task<long> UpsertContactAsync(Guid connectionId, string email, string? givenName, string? familyName, string? phone,
        CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["duplicate_option"] = "Email",
            ["email_addresses"] = new JsonArray(new JsonObject { ["email"] = email, ["field"] = "EMAIL1" }),
            ["given_name"] = givenName,
            ["family_name"] = familyName,
        };
        if (phone is not null)
        {
            body["phone_numbers"] = new JsonArray(new JsonObject { ["number"] = phone, ["field"] = "PHONE1" });
        }

        var answer = await CallAsync(connectionId, HttpMethod.Put, "/contacts", body, idempotent: true, ct);
        return JsonNode.Parse(answer.Body)?["id"]?.GetValue<long>()
            ?? throw new IntegrationException(Provider, IntegrationFailureKind.Transient, "Keap saved the contact but returned no id.");
    }

    /// <summary>The id of the tag with exactly this name, or null.</summary>
    public async Task<long?> FindTagAsync(Guid connectionId, string name, CancellationToken ct)
    {
        var answer = await CallAsync(connectionId, HttpMethod.Get, $"/tags?name={Uri.EscapeDataString(name)}", null, idempotent: true, ct);
        var tags = JsonNode.Parse(answer.Body)?["tags"]?.AsArray() ?? [];
        return tags.FirstOrDefault(t => string.Equals(t?["name"]?.GetValue<string>(), name, StringComparison.Ordinal))?["id"]?.GetValue<long>();
    }

    public async Task<long> CreateTagAsync(Guid connectionId, string name, string description, CancellationToken ct)
    {
        var answer = await CallAsync(connectionId, HttpMethod.Post, "/tags",
            new JsonObject { ["name"] = name, ["description"] = description }, idempotent: false, ct);
        return JsonNode.Parse(answer.Body)?["id"]?.GetValue<long>()
            ?? throw new IntegrationException(Provider, IntegrationFailureKind.Transient, "Keap created the tag but returned no id.");
    }

    /// <summary>Applies tags to a contact. Applying a tag the contact already has changes nothing, so this is safe to repeat.</summary>
    public async Task ApplyTagsAsync(Guid connectionId, long contactId, IReadOnlyList<long> tagIds, CancellationToken ct)
    {
        var ids = new JsonArray([.. tagIds.Select(id => (JsonNode?)JsonValue.Create(id))]);
        await CallAsync(connectionId, HttpMethod.Post, $"/contacts/{contactId.ToString(CultureInfo.InvariantCulture)}/tags",
            new JsonObject { ["tagIds"] = ids }, idempotent: true, ct);
    }

    /// <summary>
    /// The id of the active Keap user with this email, or null: REST v1 "List Users" (<c>GET /crm/rest/v1/users</c>, paged
    /// with <c>limit</c> and <c>offset</c>; <c>include_inactive=false</c> leaves out users who left, whom the reference says
    /// are listed by default). The answer is <c>{"count", "next", "previous", "users": [...]}</c>, each user with
    /// <c>id</c>, <c>email_address</c> and <c>status</c> (Active, Invited or Inactive).
    /// </summary>
    public async Task<string?> FindUserAsync(Guid connectionId, string email, CancellationToken ct)
    {
        const int page = 200;
        for (var offset = 0; offset < 5000; offset += page)
        {
            var answer = await CallAsync(connectionId, HttpMethod.Get,
                $"/users?limit={page.ToString(CultureInfo.InvariantCulture)}&offset={offset.ToString(CultureInfo.InvariantCulture)}&include_inactive=false",
                null, idempotent: true, ct);
            var users = JsonNode.Parse(answer.Body)?["users"]?.AsArray() ?? [];
            var match = users.FirstOrDefault(u => string.Equals(u?["email_address"]?.GetValue<string>(), email, StringComparison.OrdinalIgnoreCase)
                && !string.Equals(u?["status"]?.GetValue<string>(), "Inactive", StringComparison.OrdinalIgnoreCase));
            if (match?["id"] is { } id)
            {
                return id.GetValueKind() == JsonValueKind.Number ? id.GetValue<long>().ToString(CultureInfo.InvariantCulture) : id.GetValue<string>();
            }

            if (users.Count < page)
            {
                break;
            }
        }

        return null;
    }

    /// <summary>
    /// Makes a Keap user the contact's owner: REST v1 "Update a Contact" (<c>PATCH /crm/rest/v1/contacts/{contactId}</c> with
    /// <c>owner_id</c>, answered 200 with the contact). <c>update_mask=owner_id</c> limits the change to the owner. Safe to repeat.
    /// </summary>
    public async Task SetContactOwnerAsync(Guid connectionId, long contactId, long ownerId, CancellationToken ct) =>
        await CallAsync(connectionId, HttpMethod.Patch, $"/contacts/{contactId.ToString(CultureInfo.InvariantCulture)}?update_mask=owner_id",
            new JsonObject { ["owner_id"] = ownerId }, idempotent: true, ct);

    private async Task<HttpAnswer> CallAsync(Guid connectionId, HttpMethod method, string path, JsonObject? body, bool idempotent, CancellationToken ct)
    {
        var access = await tokens.GetAsync(connectionId, Provider, ct);
        if (access.ExpiresAt is { } expires && expires - Duration.FromMinutes(1) <= clock.GetCurrentInstant())
        {
            access = await tokens.RefreshAsync(connectionId, Provider, access.AccessToken, RefreshAsync, ct);
        }

        var answer = await SendAsync(access, method, path, body, idempotent, ct);
        if (answer.Code == 401)
        {
            access = await tokens.RefreshAsync(connectionId, Provider, access.AccessToken, RefreshAsync, ct);
            answer = await SendAsync(access, method, path, body, idempotent, ct);
        }

        return answer.IsSuccess ? answer : throw ErrorFor(answer);
    }

    private Task<HttpAnswer> SendAsync(CrmAccess access, HttpMethod method, string path, JsonObject? body, bool idempotent, CancellationToken ct)
    {
        var url = Api + path;
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

    private async Task<TokenGrant> TokenRequestAsync(Dictionary<string, string> form, bool basicAuth, CancellationToken ct)
    {
        var url = O.BaseUrl.TrimEnd('/') + "/token";
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{O.ClientId}:{O.ClientSecret}"));
        var answer = await http.SendAsync(Provider, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Accept.ParseAdd("application/json");
            if (basicAuth)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credentials);
            }

            return request;
        }, idempotent: false, O, ct);
        if (!answer.IsSuccess)
        {
            var error = TryParse(answer.Body);
            var code = error?["error"]?.GetValue<string>();
            var description = error?["error_description"]?.GetValue<string>() ?? $"HTTP {answer.Code}";
            var kind = answer.Code >= 500 || answer.Code == 429 ? IntegrationFailureKind.Transient
                : code is "invalid_grant" or "invalid_request" or "unauthorized_client" or "invalid_client"
                    ? IntegrationFailureKind.AuthorizationRequired
                    : IntegrationFailureKind.Configuration;
            throw new IntegrationException(Provider, kind, $"Keap refused the token request: {code} ({description})", answer.Code, code);
        }

        var grant = JsonNode.Parse(answer.Body)!;
        var scope = grant["scope"]?.GetValue<string>();
        var account = scope?.Split('|') is { Length: 2 } parts ? parts[1] : null;
        var expiresIn = grant["expires_in"]?.GetValue<long>() is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        return new TokenGrant(grant["access_token"]!.GetValue<string>(), grant["refresh_token"]?.GetValue<string>(), expiresIn, null, account);
    }

    /// <summary>Classifies a failed answer. Keap's gateway answers faults as {"fault": {"faultstring": "...", "detail": {"errorcode": "..."}}}.</summary>
    public static IntegrationException ErrorFor(HttpAnswer answer)
    {
        var body = TryParse(answer.Body);
        var fault = body?["fault"];
        var code = fault?["detail"]?["errorcode"]?.GetValue<string>();
        var message = fault?["faultstring"]?.GetValue<string>() ?? body?["message"]?.GetValue<string>()
            ?? (answer.Body.Length > 300 ? answer.Body[..300] : answer.Body);
        var kind = answer.Code switch
        {
            429 => IntegrationFailureKind.Throttled,
            401 => IntegrationFailureKind.AuthorizationRequired,
            >= 500 or 408 => IntegrationFailureKind.Transient,
            403 => IntegrationFailureKind.Configuration,
            _ => IntegrationFailureKind.Rejected,
        };
        return new IntegrationException(Provider, kind, $"Keap answered {answer.Code}: {message}", answer.Code,
            code ?? (answer.Code == 404 ? "NOT_FOUND" : null), answer.RetryAfter);
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

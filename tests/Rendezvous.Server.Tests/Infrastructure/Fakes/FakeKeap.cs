using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Rendezvous.Server.Tests.Infrastructure.Fakes;

/// <summary>
/// Keap (Infusionsoft) as its developer documentation describes it, in memory:
/// <list type="bullet">
/// <item>OAuth2 at <c>/token</c>: the authorization code grant (client id and secret in the form) and the refresh token grant
/// (client credentials as HTTP Basic); every refresh returns a new refresh token and the old one stops working; answers carry
/// expires_in and a scope of <c>full|{app}.infusionsoft.com</c>;</item>
/// <item>REST v1 under <c>/crm/rest/v1</c>: <c>PUT /contacts</c> with duplicate_option Email (create or update), <c>GET /tags?name=</c>,
/// <c>POST /tags</c>, <c>POST /contacts/{id}/tags</c> with tagIds (a tag already applied is reported, not duplicated);</item>
/// <item><c>PATCH /contacts/{contactId}</c> ("Update a Contact", here its <c>owner_id</c>; with <c>update_mask</c> only the
/// properties it names change; 200 with the contact) and <c>GET /users</c> ("List Users": <c>limit</c>, <c>offset</c>,
/// <c>include_inactive</c> and <c>include_partners</c>, both true unless given; the answer has count, next, previous and
/// users, each with <c>id</c>, <c>email_address</c>, <c>given_name</c>, <c>status</c> and <c>partner</c>);</item>
/// <item>gateway faults as <c>{"fault": {"faultstring", "detail": {"errorcode"}}}</c>: 401 for an invalid access token.</item>
/// </list>
/// </summary>
public sealed class FakeKeap : FakeService
{
    public const string ClientId = "keap-client-id";
    public const string ClientSecret = "keap-client-secret";
    public const string Rest = "/crm/rest/v1";

    private readonly HashSet<string> _accessTokens = [];
    private readonly Dictionary<string, string> _refreshTokens = [];
    private readonly Dictionary<string, string> _codes = [];
    private long _next = 100;

    /// <summary>Contacts by email: id and applied tag ids.</summary>
    public Dictionary<string, (long Id, HashSet<long> Tags)> Contacts { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, long> Tags { get; } = new(StringComparer.Ordinal);

    /// <summary>Keap users by email (email_address to id).</summary>
    public Dictionary<string, long> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Users (by id) whose status is Inactive: "List Users" leaves them out when include_inactive is false.</summary>
    public HashSet<long> InactiveUsers { get; } = [];

    /// <summary>Each contact's owner_id, once one was set.</summary>
    public Dictionary<long, long> Owners { get; } = [];

    public long? OwnerOf(string email)
    {
        lock (Gate)
        {
            return Contacts.TryGetValue(email, out var c) && Owners.TryGetValue(c.Id, out var owner) ? owner : null;
        }
    }

    public string IssueCode(string app = "ab123.infusionsoft.com")
    {
        lock (Gate)
        {
            var code = "kc" + Guid.NewGuid().ToString("N");
            _codes[code] = app;
            return code;
        }
    }

    public void ExpireAccessTokens()
    {
        lock (Gate)
        {
            _accessTokens.Clear();
        }
    }

    public long AddTag(string name)
    {
        lock (Gate)
        {
            var id = _next++;
            Tags[name] = id;
            return id;
        }
    }

    public IReadOnlyCollection<long> TagsOf(string email)
    {
        lock (Gate)
        {
            return Contacts.TryGetValue(email, out var c) ? [.. c.Tags] : [];
        }
    }

    protected override FakeAnswer Answer(FakeRequest request)
    {
        if (request.Method == "POST" && request.Path == "/token")
        {
            return Token(request);
        }

        var bearer = request.Header("Authorization");
        if (!bearer.StartsWith("Bearer ", StringComparison.Ordinal) || !_accessTokens.Contains(bearer["Bearer ".Length..]))
        {
            return Json(401, """{"fault":{"faultstring":"Invalid Access Token","detail":{"errorcode":"keymanagement.service.invalid_access_token"}}}""");
        }

        var path = request.Path.StartsWith(Rest, StringComparison.Ordinal) ? request.Path[Rest.Length..] : request.Path;
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return (request.Method, parts) switch
        {
            ("PUT", ["contacts"]) => UpsertContact(request),
            ("GET", ["tags"]) => ListTags(request.QueryValue("name")),
            ("POST", ["tags"]) => CreateTag(request),
            ("POST", ["contacts", var id, "tags"]) => ApplyTags(id, request),
            ("PATCH", ["contacts", var id]) => UpdateContact(id, request),
            ("GET", ["users"]) => ListUsers(request),
            _ => Json(404, """{"message":"Resource not found"}"""),
        };
    }

    private FakeAnswer Token(FakeRequest request)
    {
        string? app;
        switch (request.Form("grant_type"))
        {
            case "authorization_code":
                if (request.Form("client_id") != ClientId || request.Form("client_secret") != ClientSecret)
                {
                    return Json(401, """{"error":"invalid_client","error_description":"Invalid client credentials"}""");
                }

                if (request.Form("code") is not { } code || !_codes.Remove(code, out app) || string.IsNullOrEmpty(request.Form("redirect_uri")))
                {
                    return Json(400, """{"error":"invalid_grant","error_description":"Invalid authorization code"}""");
                }

                break;
            case "refresh_token":
                var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));
                if (request.Header("Authorization") != expected)
                {
                    return Json(401, """{"error":"invalid_client","error_description":"Invalid client credentials"}""");
                }

                // Refresh tokens are single-use: the one presented is spent whatever happens next.
                if (request.Form("refresh_token") is not { } token || !_refreshTokens.Remove(token, out app))
                {
                    return Json(400, """{"error":"invalid_grant","error_description":"Invalid refresh token"}""");
                }

                break;
            default:
                return Json(400, """{"error":"invalid_request","error_description":"response_type or grant_type is required"}""");
        }

        var access = "ka" + Guid.NewGuid().ToString("N");
        var refresh = "kr" + Guid.NewGuid().ToString("N");
        _accessTokens.Add(access);
        _refreshTokens[refresh] = app!;
        return Json(200, new JsonObject
        {
            ["access_token"] = access,
            ["token_type"] = "bearer",
            ["expires_in"] = 86400,
            ["refresh_token"] = refresh,
            ["scope"] = $"full|{app}",
        }.ToJsonString());
    }

    private FakeAnswer UpsertContact(FakeRequest request)
    {
        var body = JsonNode.Parse(request.Body)!;
        if (body["duplicate_option"]?.GetValue<string>() is not ("Email" or "EmailAndName"))
        {
            return Json(400, """{"message":"duplicate_option is required"}""");
        }

        var email = body["email_addresses"]?[0]?["email"]?.GetValue<string>();
        if (email is null)
        {
            return Json(400, """{"message":"Input could not be converted to a valid request"}""");
        }

        var created = !Contacts.TryGetValue(email, out var contact);
        if (created)
        {
            contact = (_next++, []);
            Contacts[email] = contact;
        }

        return Json(created ? 201 : 200, new JsonObject
        {
            ["id"] = contact.Id,
            ["given_name"] = body["given_name"]?.GetValue<string>(),
            ["family_name"] = body["family_name"]?.GetValue<string>(),
            ["email_addresses"] = new JsonArray(new JsonObject { ["email"] = email, ["field"] = "EMAIL1" }),
        }.ToJsonString());
    }

    private FakeAnswer ListTags(string? name)
    {
        var tags = new JsonArray([.. Tags.Where(t => name is null || t.Key == name)
            .Select(t => (JsonNode?)new JsonObject { ["id"] = t.Value, ["name"] = t.Key, ["description"] = "", ["category"] = null })]);
        return Json(200, new JsonObject { ["tags"] = tags, ["count"] = tags.Count }.ToJsonString());
    }

    private FakeAnswer CreateTag(FakeRequest request)
    {
        var name = JsonNode.Parse(request.Body)?["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name))
        {
            return Json(400, """{"message":"name is required"}""");
        }

        var id = _next++;
        Tags[name] = id;
        return Json(201, new JsonObject { ["id"] = id, ["name"] = name, ["description"] = "" }.ToJsonString());
    }

    /// <summary>
    /// "Update a Contact": PATCH with the properties to change (all of them in the body, or only those <c>update_mask</c>
    /// names); owner_id must name a user of the account. Answers 200 with the contact.
    /// </summary>
    private FakeAnswer UpdateContact(string contactId, FakeRequest request)
    {
        var email = Contacts.FirstOrDefault(c => c.Value.Id.ToString(CultureInfo.InvariantCulture) == contactId).Key;
        if (email is null)
        {
            return Json(404, """{"message":"Contact not found"}""");
        }

        var contact = Contacts[email];
        var mask = request.QueryValue("update_mask")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var body = JsonNode.Parse(request.Body)!;
        if (body["owner_id"] is { } owner && (mask is null || mask.Contains("owner_id")))
        {
            var id = owner.GetValue<long>();
            if (!Users.ContainsValue(id))
            {
                return Json(400, $$"""{"message":"Invalid owner_id: {{id}}"}""");
            }

            Owners[contact.Id] = id;
        }

        return Json(200, new JsonObject
        {
            ["id"] = contact.Id,
            ["owner_id"] = Owners.TryGetValue(contact.Id, out var o) ? o : null,
            ["email_addresses"] = new JsonArray(new JsonObject { ["email"] = email, ["field"] = "EMAIL1" }),
        }.ToJsonString());
    }

    /// <summary>"List Users": paged with limit and offset, inactive and partner users included unless asked otherwise.</summary>
    private FakeAnswer ListUsers(FakeRequest request)
    {
        var limit = int.TryParse(request.QueryValue("limit"), CultureInfo.InvariantCulture, out var l) ? l : 1000;
        var offset = int.TryParse(request.QueryValue("offset"), CultureInfo.InvariantCulture, out var o) ? o : 0;
        var includeInactive = !string.Equals(request.QueryValue("include_inactive"), "false", StringComparison.OrdinalIgnoreCase);
        var listed = Users.Where(u => includeInactive || !InactiveUsers.Contains(u.Value)).OrderBy(u => u.Value).ToList();
        var users = new JsonArray([.. listed.Skip(offset).Take(limit).Select(u => (JsonNode?)new JsonObject
        {
            ["id"] = u.Value,
            ["email_address"] = u.Key,
            ["given_name"] = u.Key.Split('@')[0],
            ["status"] = InactiveUsers.Contains(u.Value) ? "Inactive" : "Active",
            ["partner"] = false,
        })]);
        var next = offset + limit < listed.Count
            ? $"{BaseUrl}{Rest}/users/?limit={limit.ToString(CultureInfo.InvariantCulture)}&offset={(offset + limit).ToString(CultureInfo.InvariantCulture)}"
            : null;
        var previous = offset > 0
            ? $"{BaseUrl}{Rest}/users/?limit={limit.ToString(CultureInfo.InvariantCulture)}&offset={Math.Max(0, offset - limit).ToString(CultureInfo.InvariantCulture)}"
            : null;
        return Json(200, new JsonObject { ["count"] = listed.Count, ["next"] = next, ["previous"] = previous, ["users"] = users }.ToJsonString());
    }

    private FakeAnswer ApplyTags(string contactId, FakeRequest request)
    {
        var contact = Contacts.Values.FirstOrDefault(c => c.Id.ToString(CultureInfo.InvariantCulture) == contactId);
        if (contact.Tags is null)
        {
            return Json(404, """{"message":"Contact not found"}""");
        }

        var result = new JsonObject();
        foreach (var tag in JsonNode.Parse(request.Body)?["tagIds"]?.AsArray() ?? [])
        {
            var id = tag!.GetValue<long>();
            if (!Tags.ContainsValue(id))
            {
                return Json(400, $$"""{"message":"Tag {{id}} does not exist"}""");
            }

            result[id.ToString(CultureInfo.InvariantCulture)] = contact.Tags.Add(id) ? "SUCCESS" : "DUPLICATE";
        }

        return Json(200, result.ToJsonString());
    }
}

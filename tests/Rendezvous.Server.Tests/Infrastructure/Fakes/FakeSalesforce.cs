using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Rendezvous.Server.Tests.Infrastructure.Fakes;

/// <summary>
/// Salesforce as its REST API documentation describes it, in memory:
/// <list type="bullet">
/// <item>OAuth 2.0 web server flow and refresh token flow at <c>/services/oauth2/token</c> (form posts; JSON answers with
/// access_token, refresh_token, instance_url and the identity URL <c>.../id/{orgId}/{userId}</c>; failures as
/// <c>{"error": "invalid_grant", "error_description": ...}</c> with 400);</item>
/// <item>the Query resource (<c>GET /services/data/vXX.X/query?q=</c>, answering totalSize, done and records);</item>
/// <item>sObject create (<c>POST /sobjects/Lead</c>, 201 with id, success and errors);</item>
/// <item>upsert by external ID (<c>PATCH /sobjects/Event/{field}/{value}</c>: 201 and created true for a new record, 200 for
/// an update; 404 NOT_FOUND when the external ID field does not exist);</item>
/// <item>sObject Rows (<c>POST /sobjects/Event</c>, 201 with id; <c>PATCH /sobjects/Event/{id}</c>, 204, or 404 NOT_FOUND for an
/// id it does not know); a body naming a field the org's Event does not have is 400 INVALID_FIELD ("No such column");</item>
/// <item>sObject Describe (<c>GET /sobjects/Event/describe</c>: the object's <c>fields</c>, each with its <c>name</c>);</item>
/// <item>SOQL on User by Email, and on Event by Subject and StartDateTime;</item>
/// <item>the Tooling API's CustomField (<c>POST /tooling/sobjects/CustomField</c> with <c>FullName</c> "Activity.{name}" and
/// <c>Metadata</c>: 201 with id, success, errors, warnings; 400 DUPLICATE_DEVELOPER_NAME for a field that exists);</item>
/// <item>errors as JSON arrays of {message, errorCode}: 401 INVALID_SESSION_ID for an expired or unknown token.</item>
/// </list>
/// </summary>
public sealed partial class FakeSalesforce : FakeService
{
    public const string ClientId = "sf-consumer-key";
    public const string ClientSecret = "sf-consumer-secret";
    public const string Api = "/services/data/v62.0";
    public const string DefaultOrg = "00D000000000001AAA";

    private readonly HashSet<string> _accessTokens = [];
    private readonly Dictionary<string, (string Org, string User)> _refreshTokens = [];
    private readonly Dictionary<string, (string Org, string User)> _codes = [];
    private int _next = 1000;

    public Dictionary<string, string> Contacts { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, string> Leads { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, string> Cases { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Active Salesforce users by email (User.Email to User.Id).</summary>
    public Dictionary<string, string> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Events by their Id, with every field written so far.</summary>
    public Dictionary<string, JsonObject> Events { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// When set, the next Event create is carried out but its answer is lost (a 503 comes back instead), as when a
    /// connection drops after Salesforce acted.
    /// </summary>
    public bool LoseNextCreateAnswer { get; set; }

    /// <summary>Custom fields the org's administrators added to Event besides Rendezvous' own (e.g. Follow_up__c).</summary>
    public HashSet<string> OrgFields { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The Rendezvous custom fields this org's Event object does not have.</summary>
    public HashSet<string> MissingFields { get; } = new(StringComparer.Ordinal);

    /// <summary>When true, upserts answer as an org without the Rendezvous_Booking_Id__c field does.</summary>
    public bool ExternalIdFieldMissing
    {
        get => MissingFields.Contains(BookingIdField);
        set
        {
            if (value)
            {
                MissingFields.Add(BookingIdField);
            }
            else
            {
                MissingFields.Remove(BookingIdField);
            }
        }
    }

    private const string BookingIdField = "Rendezvous_Booking_Id__c";

    private static readonly string[] CustomFields = [BookingIdField, "Rendezvous_Event_Status__c", "Rendezvous_Reason__c"];

    private static readonly string[] StandardEventFields =
        ["Id", "OwnerId", "Subject", "StartDateTime", "EndDateTime", "Location", "Description", "WhoId", "WhatId", "CreatedDate"];

    /// <summary>An authorization code, as Salesforce hands it to the callback after the user logs in and allows access.</summary>
    public string IssueCode(string user = "005000000000001AAA", string org = DefaultOrg)
    {
        lock (Gate)
        {
            var code = "aPrx" + Guid.NewGuid().ToString("N");
            _codes[code] = (org, user);
            return code;
        }
    }

    /// <summary>Every access token issued so far stops working (the session timed out).</summary>
    public void ExpireAccessTokens()
    {
        lock (Gate)
        {
            _accessTokens.Clear();
        }
    }

    /// <summary>Every refresh token is revoked (an administrator removed the app's access).</summary>
    public void RevokeRefreshTokens()
    {
        lock (Gate)
        {
            _refreshTokens.Clear();
        }
    }

    /// <summary>The Event whose Rendezvous_Booking_Id__c is <paramref name="bookingId"/>.</summary>
    public JsonObject? EventFor(string bookingId)
    {
        lock (Gate)
        {
            return Events.Values.FirstOrDefault(e => e[BookingIdField]?.GetValue<string>() == bookingId)?.DeepClone().AsObject();
        }
    }

    public JsonObject? EventById(string id)
    {
        lock (Gate)
        {
            return Events.TryGetValue(id, out var e) ? e.DeepClone().AsObject() : null;
        }
    }

    protected override FakeAnswer Answer(FakeRequest request)
    {
        if (request.Method == "POST" && request.Path == "/services/oauth2/token")
        {
            return Token(request);
        }

        if (!request.Path.StartsWith(Api, StringComparison.Ordinal))
        {
            return Json(404, """[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]""");
        }

        var bearer = request.Header("Authorization");
        if (!bearer.StartsWith("Bearer ", StringComparison.Ordinal) || !_accessTokens.Contains(bearer["Bearer ".Length..]))
        {
            return Json(401, """[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]""");
        }

        var path = request.Path[Api.Length..];
        return (request.Method, path) switch
        {
            ("GET", "/query") or ("GET", "/query/") => Query(request.QueryValue("q") ?? ""),
            ("POST", "/sobjects/Lead") => CreateLead(request),
            ("GET", "/sobjects/Event/describe") => DescribeEvent(),
            ("POST", "/sobjects/Event") => CreateEvent(request),
            ("POST", "/tooling/sobjects/CustomField") => CreateCustomField(request),
            ("PATCH", _) when path.StartsWith("/sobjects/Event/", StringComparison.Ordinal) && path.Split('/', StringSplitOptions.RemoveEmptyEntries).Length == 3
                => UpdateEvent(path.Split('/', StringSplitOptions.RemoveEmptyEntries)[2], request),
            ("PATCH", _) when path.StartsWith("/sobjects/Event/", StringComparison.Ordinal) => UpsertEvent(path, request),
            _ => Json(404, """[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"""),
        };
    }

    private FakeAnswer Token(FakeRequest request)
    {
        if (request.Form("client_id") != ClientId || request.Form("client_secret") != ClientSecret)
        {
            return Json(400, """{"error":"invalid_client","error_description":"invalid client credentials"}""");
        }

        (string Org, string User) who;
        string? refresh = null;
        switch (request.Form("grant_type"))
        {
            case "authorization_code":
                if (request.Form("code") is not { } code || !_codes.Remove(code, out who) || string.IsNullOrEmpty(request.Form("redirect_uri")))
                {
                    return Json(400, """{"error":"invalid_grant","error_description":"invalid authorization code"}""");
                }

                refresh = "5Aep" + Guid.NewGuid().ToString("N");
                _refreshTokens[refresh] = who;
                break;
            case "refresh_token":
                if (request.Form("refresh_token") is not { } token || !_refreshTokens.TryGetValue(token, out who))
                {
                    return Json(400, """{"error":"invalid_grant","error_description":"expired access/refresh token"}""");
                }

                break;
            default:
                return Json(400, """{"error":"unsupported_grant_type","error_description":"grant type not supported"}""");
        }

        var access = "00D!" + Guid.NewGuid().ToString("N");
        _accessTokens.Add(access);
        var answer = new JsonObject
        {
            ["access_token"] = access,
            ["signature"] = "c2lnbmF0dXJl",
            ["scope"] = "refresh_token api",
            ["instance_url"] = BaseUrl,
            ["id"] = $"{BaseUrl}/id/{who.Org}/{who.User}",
            ["token_type"] = "Bearer",
            ["issued_at"] = "1804150000000",
        };
        if (refresh is not null)
        {
            answer["refresh_token"] = refresh;
        }

        return Json(200, answer.ToJsonString());
    }

    [GeneratedRegex(@"FROM\s+(\w+)\s+WHERE\s+\w+\s*=\s*'((?:[^'\\]|\\.)*)'", RegexOptions.IgnoreCase)]
    private static partial Regex SoqlPattern();

    [GeneratedRegex(@"StartDateTime\s*=\s*(\S+)", RegexOptions.IgnoreCase)]
    private static partial Regex StartPattern();

    private FakeAnswer Query(string soql)
    {
        var match = SoqlPattern().Match(soql);
        if (!match.Success)
        {
            return Json(400, """[{"message":"unexpected token","errorCode":"MALFORMED_QUERY"}]""");
        }

        var type = match.Groups[1].Value;
        if (type == "Event")
        {
            // WHERE Subject = '...' AND StartDateTime = 2027-03-08T10:00:00Z
            var subject = match.Groups[2].Value.Replace("\\'", "'", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
            var start = StartPattern().Match(soql).Groups[1].Value;
            var events = new JsonArray([.. Events.Values
                .Where(e => e["Subject"]?.GetValue<string>() == subject && e["StartDateTime"]?.GetValue<string>() == start)
                .Select(e => (JsonNode?)new JsonObject { ["Id"] = e["Id"]!.GetValue<string>() })]);
            return Json(200, new JsonObject { ["totalSize"] = events.Count, ["done"] = true, ["records"] = events }.ToJsonString());
        }

        var email = match.Groups[2].Value.Replace("\\'", "'", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
        var table = type switch
        {
            "Contact" => Contacts,
            "Lead" => Leads,
            "Case" => Cases,
            "User" => Users,
            _ => null,
        };
        if (table is null)
        {
            return Json(400, $$"""[{"message":"sObject type '{{type}}' is not supported.","errorCode":"INVALID_TYPE"}]""");
        }

        var records = new JsonArray();
        if (table.TryGetValue(email, out var id))
        {
            records.Add(new JsonObject
            {
                ["attributes"] = new JsonObject { ["type"] = type, ["url"] = $"{Api}/sobjects/{type}/{id}" },
                ["Id"] = id,
            });
        }

        return Json(200, new JsonObject { ["totalSize"] = records.Count, ["done"] = true, ["records"] = records }.ToJsonString());
    }

    private FakeAnswer CreateLead(FakeRequest request)
    {
        var fields = JsonNode.Parse(request.Body)!.AsObject();
        if (fields["LastName"] is null || fields["Company"] is null)
        {
            return Json(400, """[{"message":"Required fields are missing: [LastName, Company]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName","Company"]}]""");
        }

        var id = "00Q" + (_next++).ToString("D15", CultureInfo.InvariantCulture);
        Leads[fields["Email"]!.GetValue<string>()] = id;
        return Json(201, new JsonObject { ["id"] = id, ["success"] = true, ["errors"] = new JsonArray() }.ToJsonString());
    }

    private JsonObject NewEvent()
    {
        var id = "00U" + (_next++).ToString("D15", CultureInfo.InvariantCulture);
        var e = new JsonObject { ["Id"] = id };
        Events[id] = e;
        return e;
    }

    /// <summary>
    /// "No such column" for a field the org's Event does not have (a Rendezvous field it lacks, or any name that is neither
    /// a standard field, nor ours, nor one of <see cref="OrgFields"/>), as the REST API answers a body naming it.
    /// </summary>
    private FakeAnswer? UnknownField(JsonObject fields)
    {
        var missing = fields.Select(f => f.Key).FirstOrDefault(f => MissingFields.Contains(f)
            || !(StandardEventFields.Contains(f, StringComparer.OrdinalIgnoreCase) || CustomFields.Contains(f, StringComparer.OrdinalIgnoreCase)
                || OrgFields.Contains(f)));
        return missing is null ? null : Json(400,
            $$"""[{"message":"No such column '{{missing}}' on sobject of type Event","errorCode":"INVALID_FIELD"}]""");
    }

    private FakeAnswer DescribeEvent()
    {
        var fields = new JsonArray([.. StandardEventFields.Concat(CustomFields.Where(f => !MissingFields.Contains(f))).Concat(OrgFields)
            .Select(name => (JsonNode?)new JsonObject { ["name"] = name, ["custom"] = name.EndsWith("__c", StringComparison.Ordinal) })]);
        return Json(200, new JsonObject { ["name"] = "Event", ["fields"] = fields }.ToJsonString());
    }

    private FakeAnswer CreateEvent(FakeRequest request)
    {
        var fields = JsonNode.Parse(request.Body)!.AsObject();
        if (UnknownField(fields) is { } unknown)
        {
            return unknown;
        }

        var e = NewEvent();
        foreach (var (name, value) in fields)
        {
            e[name] = value?.DeepClone();
        }

        if (LoseNextCreateAnswer)
        {
            LoseNextCreateAnswer = false;
            return Json(503, """[{"message":"Server is unavailable","errorCode":"SERVER_UNAVAILABLE"}]""");
        }

        return Json(201, new JsonObject { ["id"] = e["Id"]!.GetValue<string>(), ["success"] = true, ["errors"] = new JsonArray() }.ToJsonString());
    }

    private FakeAnswer UpdateEvent(string id, FakeRequest request)
    {
        if (!Events.TryGetValue(Uri.UnescapeDataString(id), out var e))
        {
            return Json(404, """[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]""");
        }

        var fields = JsonNode.Parse(request.Body)!.AsObject();
        if (UnknownField(fields) is { } unknown)
        {
            return unknown;
        }

        foreach (var (name, value) in fields)
        {
            e[name] = value?.DeepClone();
        }

        return new FakeAnswer(204);
    }

    private FakeAnswer CreateCustomField(FakeRequest request)
    {
        var body = JsonNode.Parse(request.Body)!;
        var fullName = body["FullName"]?.GetValue<string>() ?? "";
        var metadata = body["Metadata"];
        // Event's custom fields are Activity fields: they are made on Activity and show on Event and Task.
        if (!fullName.StartsWith("Activity.", StringComparison.Ordinal) || metadata?["label"] is null || metadata["type"] is null)
        {
            return Json(400, """[{"message":"Must specify a valid object, label and type","errorCode":"FIELD_INTEGRITY_EXCEPTION"}]""");
        }

        var name = fullName["Activity.".Length..];
        if (!MissingFields.Remove(name))
        {
            return Json(400, $$"""[{"message":"There is already a field named {{name}} on Activity.","errorCode":"DUPLICATE_DEVELOPER_NAME"}]""");
        }

        return Json(201, new JsonObject
        {
            ["id"] = "00N" + (_next++).ToString("D15", CultureInfo.InvariantCulture),
            ["success"] = true,
            ["errors"] = new JsonArray(),
            ["warnings"] = new JsonArray(),
            ["infos"] = new JsonArray(),
        }.ToJsonString());
    }

    private FakeAnswer UpsertEvent(string path, FakeRequest request)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 4 || ExternalIdFieldMissing || parts[2] != "Rendezvous_Booking_Id__c")
        {
            return Json(404, $$"""[{"errorCode":"NOT_FOUND","message":"Provided external ID field does not exist or is not accessible: {{(parts.Length > 2 ? parts[2] : "")}}"}]""");
        }

        var externalId = Uri.UnescapeDataString(parts[3]);
        var fields = JsonNode.Parse(request.Body)!.AsObject();
        if (fields.ContainsKey("Id"))
        {
            return Json(400, """[{"message":"Unable to create/update fields: Id","errorCode":"INVALID_FIELD_FOR_INSERT_UPDATE"}]""");
        }

        if (UnknownField(fields) is { } unknown)
        {
            return unknown;
        }

        var existing = Events.Values.FirstOrDefault(e => e[BookingIdField]?.GetValue<string>() == externalId);
        var created = existing is null;
        if (created)
        {
            existing = NewEvent();
            existing[BookingIdField] = externalId;
        }

        foreach (var (name, value) in fields)
        {
            existing![name] = value?.DeepClone();
        }

        return Json(created ? 201 : 200, new JsonObject
        {
            ["id"] = existing!["Id"]!.GetValue<string>(),
            ["success"] = true,
            ["errors"] = new JsonArray(),
            ["created"] = created,
        }.ToJsonString());
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>A meeting the fake holds, in any of the three services.</summary>
public sealed class FakeMeeting
{
    public required string Provider { get; init; }

    public required string Id { get; init; }

    public required string JoinUrl { get; init; }

    /// <summary>The account (user key) that hosts the meeting.</summary>
    public required string Host { get; set; }

    public string Topic { get; set; } = "";

    public string Agenda { get; set; } = "";

    public string Start { get; set; } = "";

    public string End { get; set; } = "";

    public int Duration { get; set; }

    public bool Deleted { get; set; }
}

/// <summary>A request the fake answered.</summary>
public sealed record FakeConferencingRequest(string Provider, string Method, string PathAndQuery, string? User, string Body, int Status);

/// <summary>
/// A scripted failure: the next request of <paramref name="Provider"/> with <paramref name="Method"/> whose path contains
/// <paramref name="PathContains"/> is answered <paramref name="Status"/> (with Retry-After when given). With
/// <paramref name="ProcessFirst"/> the request is carried out first and only the answer is replaced: a lost answer.
/// </summary>
public sealed record FakeFault(string Provider, string Method, string PathContains, int Status, string? RetryAfter = null, bool ProcessFirst = false);

/// <summary>
/// A local stand-in for the Zoom, GoTo Meeting and Webex REST APIs and their OAuth token endpoints, on 127.0.0.1 (a free
/// port), answering as the vendors document (status codes, bodies, error codes), with scripted 401, 404, 429 and 5xx.
/// <list type="bullet">
/// <item>Zoom: /zoom/v2 (Meetings API v2) and /zoom/oauth/token (Basic client credentials, rotating refresh tokens).</item>
/// <item>GoTo Meeting: /goto/G2M/rest/v2 and /goto/oauth/token (Basic client credentials).</item>
/// <item>Webex: /webex/v1 and /webex/v1/access_token (client credentials in the form).</item>
/// </list>
/// </summary>
public sealed class FakeConferencingServer : IAsyncDisposable
{
    public const string ClientId = "rendezvous-client";
    public const string ClientSecret = "rendezvous-client-secret";

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (string Provider, string User)> _accessTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Provider, string User)> _refreshTokens = new(StringComparer.Ordinal);
    private readonly List<FakeFault> _faults = [];
    private readonly ConcurrentQueue<FakeConferencingRequest> _requests = new();
    private readonly HashSet<(string Caller, string Target)> _schedulingPrivileges = [];
    private long _nextId = 81_000_000_000;

    private FakeConferencingServer()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public string BaseUrl { get; private set; } = "";

    public string ZoomApi => $"{BaseUrl}/zoom/v2/";

    public string ZoomToken => $"{BaseUrl}/zoom/oauth/token";

    public string GoToApi => $"{BaseUrl}/goto/G2M/rest/v2/";

    public string GoToToken => $"{BaseUrl}/goto/oauth/token";

    public string WebexApi => $"{BaseUrl}/webex/v1/";

    public string WebexToken => $"{BaseUrl}/webex/v1/access_token";

    public ConcurrentDictionary<string, FakeMeeting> Meetings { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<FakeConferencingRequest> Requests => [.. _requests];

    private static readonly Lazy<Task<FakeConferencingServer>> SharedServer = new(StartAsync);

    /// <summary>One server for every application fixture of the test run; tests tell their data apart by their own user keys.</summary>
    public static FakeConferencingServer Shared => SharedServer.Value.GetAwaiter().GetResult();

    /// <summary>Points an application's conferencing settings at this server, with short retry delays for tests.</summary>
    public void Configure(IWebHostBuilder builder)
    {
        foreach (var (name, api, token) in new[] { ("Zoom", ZoomApi, ZoomToken), ("GoToMeeting", GoToApi, GoToToken), ("Webex", WebexApi, WebexToken) })
        {
            builder.UseSetting($"Rendezvous:Conferencing:{name}:ApiBaseUrl", api);
            builder.UseSetting($"Rendezvous:Conferencing:{name}:TokenUrl", token);
            builder.UseSetting($"Rendezvous:Conferencing:{name}:ClientId", ClientId);
            builder.UseSetting($"Rendezvous:Conferencing:{name}:ClientSecret", ClientSecret);
        }

        builder.UseSetting("Rendezvous:Conferencing:RetryBaseDelay", "00:00:00.010");
        builder.UseSetting("Rendezvous:Conferencing:MaxRetryAfter", "00:00:02");
        builder.UseSetting("Rendezvous:Conferencing:RequestTimeout", "00:00:05");
    }

    public static async Task<FakeConferencingServer> StartAsync()
    {
        var server = new FakeConferencingServer();
        await server._app.StartAsync();
        server.BaseUrl = server._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/');
        return server;
    }

    /// <summary>Issues an access and a refresh token for <paramref name="user"/> in <paramref name="provider"/> ("zoom", "goto", "webex").</summary>
    public (string AccessToken, string RefreshToken) Issue(string provider, string user)
    {
        lock (_gate)
        {
            var access = $"at-{provider}-{Guid.NewGuid():N}";
            var refresh = $"rt-{provider}-{Guid.NewGuid():N}";
            _accessTokens[access] = (provider, user);
            _refreshTokens[refresh] = (provider, user);
            return (access, refresh);
        }
    }

    /// <summary>The access token stops working (it expired), so the next call with it is answered 401.</summary>
    public void Expire(string accessToken)
    {
        lock (_gate)
        {
            _accessTokens.Remove(accessToken);
        }
    }

    /// <summary>The refresh token is revoked: refreshing with it is answered 400 invalid_grant.</summary>
    public void Revoke(string refreshToken)
    {
        lock (_gate)
        {
            _refreshTokens.Remove(refreshToken);
        }
    }

    /// <summary>Zoom: <paramref name="caller"/> may schedule meetings for <paramref name="target"/> (and so make them the host).</summary>
    public void GrantSchedulingPrivilege(string caller, string target)
    {
        lock (_gate)
        {
            _schedulingPrivileges.Add((caller, target));
        }
    }

    public void Fail(FakeFault fault)
    {
        lock (_gate)
        {
            _faults.Add(fault);
        }
    }

    /// <summary>The live meetings of one user in one service.</summary>
    public IReadOnlyList<FakeMeeting> MeetingsOf(string provider, string user) =>
        [.. Meetings.Values.Where(m => m.Provider == provider && m.Host == user && !m.Deleted).OrderBy(m => m.Id, StringComparer.Ordinal)];

    public IReadOnlyList<FakeConferencingRequest> RequestsOf(string provider) => [.. _requests.Where(r => r.Provider == provider)];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        var method = http.Request.Method;
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var provider = path.StartsWith("/zoom/", StringComparison.Ordinal) ? "zoom"
            : path.StartsWith("/goto/", StringComparison.Ordinal) ? "goto"
            : path.StartsWith("/webex/", StringComparison.Ordinal) ? "webex" : "";
        string? user = null;
        Answer answer;
        var isToken = path.EndsWith("/oauth/token", StringComparison.Ordinal) || path.EndsWith("/access_token", StringComparison.Ordinal);
        var fault = TakeFault(provider, method, path + http.Request.QueryString);
        if (fault is { ProcessFirst: false })
        {
            answer = FaultAnswer(provider, fault);
        }
        else if (isToken)
        {
            answer = Token(provider, http, body);
        }
        else if ((user = Authenticate(provider, http)) is null)
        {
            answer = provider switch
            {
                // Zoom: 401 code 124 "Invalid access token" (also for an expired one).
                "zoom" => new Answer(401, """{"code":124,"message":"Invalid access token."}"""),
                "goto" => new Answer(401, """{"int_err_code":"InvalidToken","msg":"Invalid token passed"}"""),
                _ => new Answer(401, """{"message":"The request requires a valid access token set in the Authorization request header.","trackingId":"fake"}"""),
            };
        }
        else
        {
            answer = provider switch
            {
                "zoom" => Zoom(method, path["/zoom/v2/".Length..], http.Request.Query, user, body),
                "goto" => GoTo(method, path["/goto/G2M/rest/v2/".Length..], user, body),
                "webex" => Webex(method, path["/webex/v1/".Length..], user, body),
                _ => new Answer(404, ""),
            };
        }

        if (fault is { ProcessFirst: true })
        {
            answer = FaultAnswer(provider, fault);
        }

        _requests.Enqueue(new FakeConferencingRequest(provider, method, path + http.Request.QueryString, user, body, answer.Status));
        http.Response.StatusCode = answer.Status;
        if (answer.RetryAfter is not null)
        {
            http.Response.Headers["Retry-After"] = answer.RetryAfter;
        }

        if (answer.Body.Length > 0)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(answer.Body);
        }
    }

    private sealed record Answer(int Status, string Body, string? RetryAfter = null);

    private FakeFault? TakeFault(string provider, string method, string path)
    {
        lock (_gate)
        {
            var fault = _faults.FirstOrDefault(f => f.Provider == provider && f.Method == method && path.Contains(f.PathContains, StringComparison.Ordinal));
            if (fault is not null)
            {
                _faults.Remove(fault);
            }

            return fault;
        }
    }

    private static Answer FaultAnswer(string provider, FakeFault fault) => fault.Status switch
    {
        429 when provider == "zoom" => new Answer(429, """{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}""", fault.RetryAfter),
        429 => new Answer(429, """{"message":"Too many requests"}""", fault.RetryAfter),
        _ => new Answer(fault.Status, """{"message":"fault"}""", fault.RetryAfter),
    };

    private string? Authenticate(string provider, HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return null;
        }

        lock (_gate)
        {
            return _accessTokens.TryGetValue(header["Bearer ".Length..], out var owner) && owner.Provider == provider ? owner.User : null;
        }
    }

    /// <summary>
    /// Token endpoints. Zoom (developers.zoom.us/docs/integrations/oauth/, "Refreshing an access token") and GoTo take the
    /// client id and secret as HTTP Basic; Webex (developer.webex.com/docs/integrations) in the form. A refresh token works
    /// once: the answer carries a new one (rotation). An unknown one is 400 invalid_grant.
    /// </summary>
    private Answer Token(string provider, HttpContext http, string body)
    {
        var form = body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "", StringComparer.Ordinal);
        var clientOk = provider == "webex"
            ? form.GetValueOrDefault("client_id") == ClientId && form.GetValueOrDefault("client_secret") == ClientSecret
            : http.Request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));
        if (!clientOk)
        {
            return new Answer(401, """{"reason":"Invalid client_id or client_secret","error":"invalid_client"}""");
        }

        if (form.GetValueOrDefault("grant_type") != "refresh_token")
        {
            return new Answer(400, """{"reason":"Unsupported grant type","error":"unsupported_grant_type"}""");
        }

        lock (_gate)
        {
            if (!_refreshTokens.Remove(form.GetValueOrDefault("refresh_token") ?? "", out var owner) || owner.Provider != provider)
            {
                return new Answer(400, """{"reason":"Invalid Token!","error":"invalid_grant"}""");
            }

            var access = $"at-{provider}-{Guid.NewGuid():N}";
            var refresh = $"rt-{provider}-{Guid.NewGuid():N}";
            _accessTokens[access] = owner;
            _refreshTokens[refresh] = owner;
            var json = new JsonObject
            {
                ["access_token"] = access,
                ["token_type"] = "bearer",
                ["refresh_token"] = refresh,
                ["expires_in"] = 3599,
                ["scope"] = "meeting:write",
            };
            return new Answer(200, json.ToJsonString());
        }
    }

    private string NextId() => Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);

    /// <summary>Zoom Meetings API v2 (developers.zoom.us/docs/api/meetings/).</summary>
    private Answer Zoom(string method, string path, IQueryCollection query, string user, string body)
    {
        if (method == "GET" && path == "users/me")
        {
            return new Answer(200, new JsonObject { ["id"] = ZoomUserId(user), ["email"] = user, ["type"] = 2 }.ToJsonString());
        }

        if (path == "users/me/meetings" && method == "POST")
        {
            // Create a meeting: 201 with the meeting, its numeric id and join_url.
            var json = JsonNode.Parse(body)!;
            var id = NextId();
            var meeting = new FakeMeeting
            {
                Provider = "zoom",
                Id = id,
                JoinUrl = $"https://zoom.example/j/{id}",
                Host = user,
                Topic = json["topic"]?.GetValue<string>() ?? "",
                Agenda = json["agenda"]?.GetValue<string>() ?? "",
                Start = json["start_time"]?.GetValue<string>() ?? "",
                Duration = json["duration"]?.GetValue<int>() ?? 0,
            };
            Meetings[id] = meeting;
            return new Answer(201, ZoomJson(meeting).ToJsonString());
        }

        if (path == "users/me/meetings" && method == "GET")
        {
            // List meetings (type=upcoming): one page, every live meeting the user hosts.
            var list = new JsonArray([.. MeetingsOf("zoom", user).Select(ZoomJson)]);
            return new Answer(200, new JsonObject
            {
                ["page_size"] = int.TryParse(query["page_size"], out var size) ? size : 30,
                ["total_records"] = list.Count,
                ["next_page_token"] = "",
                ["meetings"] = list,
            }.ToJsonString());
        }

        if (path.StartsWith("meetings/", StringComparison.Ordinal))
        {
            var id = path["meetings/".Length..];
            if (!Meetings.TryGetValue(id, out var meeting) || meeting.Deleted || meeting.Provider != "zoom")
            {
                // 404, code 3001: "Meeting does not exist".
                return new Answer(404, $$"""{"code":3001,"message":"Meeting does not exist: {{id}}."}""");
            }

            if (meeting.Host != user && !HasPrivilege(user, meeting.Host))
            {
                return new Answer(400, """{"code":3000,"message":"You cannot update this meeting."}""");
            }

            if (method == "DELETE")
            {
                meeting.Deleted = true;
                return new Answer(204, "");
            }

            if (method == "PATCH")
            {
                // Update a meeting: 204. schedule_for makes another user the host, given scheduling privilege for them.
                var json = JsonNode.Parse(body)!;
                if (json["schedule_for"]?.GetValue<string>() is { } target)
                {
                    var targetUser = UserOfZoomId(target);
                    if (targetUser is null || !HasPrivilege(user, targetUser))
                    {
                        return new Answer(400, $$"""{"code":3000,"message":"You cannot schedule a meeting for {{target}}"}""");
                    }

                    meeting.Host = targetUser;
                }

                meeting.Start = json["start_time"]?.GetValue<string>() ?? meeting.Start;
                meeting.Duration = json["duration"]?.GetValue<int>() ?? meeting.Duration;
                return new Answer(204, "");
            }
        }

        return new Answer(404, """{"code":404,"message":"Not found"}""");
    }

    private static JsonObject ZoomJson(FakeMeeting m) => new()
    {
        ["id"] = long.Parse(m.Id, CultureInfo.InvariantCulture),
        ["host_id"] = ZoomUserId(m.Host),
        ["topic"] = m.Topic,
        ["type"] = 2,
        ["start_time"] = m.Start,
        ["duration"] = m.Duration,
        ["timezone"] = "UTC",
        ["agenda"] = m.Agenda,
        ["join_url"] = m.JoinUrl,
    };

    public static string ZoomUserId(string user) => "zu-" + user;

    private string? UserOfZoomId(string target)
    {
        if (target.StartsWith("zu-", StringComparison.Ordinal))
        {
            return target[3..];
        }

        lock (_gate)
        {
            return _accessTokens.Values.Any(v => v.User == target) ? target : null;
        }
    }

    private bool HasPrivilege(string caller, string target)
    {
        lock (_gate)
        {
            return caller == target || _schedulingPrivileges.Contains((caller, target));
        }
    }

    /// <summary>GoTo Meeting REST API v2 (developer.goto.com, GoTo Meeting API reference).</summary>
    private Answer GoTo(string method, string path, string user, string body)
    {
        if (path == "meetings" && method == "POST")
        {
            // Create meeting: 201 with an array holding joinURL, meetingid, maxParticipants, uniqueMeetingId, conferenceCallInfo.
            var json = JsonNode.Parse(body)!;
            var id = NextId();
            var meeting = new FakeMeeting
            {
                Provider = "goto",
                Id = id,
                JoinUrl = $"https://global.gotomeeting.com/join/{id}",
                Host = user,
                Topic = json["subject"]?.GetValue<string>() ?? "",
                Start = json["starttime"]?.GetValue<string>() ?? "",
                End = json["endtime"]?.GetValue<string>() ?? "",
            };
            Meetings[id] = meeting;
            return new Answer(201, new JsonArray(new JsonObject
            {
                ["joinURL"] = meeting.JoinUrl,
                ["maxParticipants"] = 250,
                ["uniqueMeetingId"] = long.Parse(id, CultureInfo.InvariantCulture) + 1,
                ["conferenceCallInfo"] = "VoIP",
                ["meetingid"] = long.Parse(id, CultureInfo.InvariantCulture),
            }).ToJsonString());
        }

        if (path == "upcomingMeetings" && method == "GET")
        {
            var list = MeetingsOf("goto", user);
            return list.Count == 0
                ? new Answer(204, "")
                : new Answer(200, new JsonArray([.. list.Select(m => (JsonNode)new JsonObject
                {
                    ["meetingId"] = long.Parse(m.Id, CultureInfo.InvariantCulture),
                    ["subject"] = m.Topic,
                    ["startTime"] = m.Start,
                    ["endTime"] = m.End,
                    ["meetingType"] = "scheduled",
                })]).ToJsonString());
        }

        if (path.StartsWith("meetings/", StringComparison.Ordinal))
        {
            var id = path["meetings/".Length..];
            if (!Meetings.TryGetValue(id, out var meeting) || meeting.Deleted || meeting.Provider != "goto" || meeting.Host != user)
            {
                return new Answer(404, """{"int_err_code":"NotFound","msg":"Meeting not found"}""");
            }

            if (method == "DELETE")
            {
                meeting.Deleted = true;
                return new Answer(204, "");
            }

            if (method == "PUT")
            {
                var json = JsonNode.Parse(body)!;
                meeting.Start = json["starttime"]?.GetValue<string>() ?? meeting.Start;
                meeting.End = json["endtime"]?.GetValue<string>() ?? meeting.End;
                return new Answer(204, "");
            }
        }

        return new Answer(404, """{"int_err_code":"NotFound","msg":"Not found"}""");
    }

    /// <summary>Webex Meetings REST API (developer.webex.com/docs/api/v1/meetings).</summary>
    private Answer Webex(string method, string path, string user, string body)
    {
        if (path == "meetings" && method == "POST")
        {
            var json = JsonNode.Parse(body)!;
            var id = Guid.NewGuid().ToString("N");
            var meeting = new FakeMeeting
            {
                Provider = "webex",
                Id = id,
                JoinUrl = $"https://example.webex.com/meet/{id}",
                Host = user,
                Topic = json["title"]?.GetValue<string>() ?? "",
                Agenda = json["agenda"]?.GetValue<string>() ?? "",
                Start = json["start"]?.GetValue<string>() ?? "",
                End = json["end"]?.GetValue<string>() ?? "",
            };
            Meetings[id] = meeting;
            return new Answer(200, WebexJson(meeting).ToJsonString());
        }

        if (path == "meetings" && method == "GET")
        {
            return new Answer(200, new JsonObject { ["items"] = new JsonArray([.. MeetingsOf("webex", user).Select(WebexJson)]) }.ToJsonString());
        }

        if (path.StartsWith("meetings/", StringComparison.Ordinal))
        {
            var id = path["meetings/".Length..];
            if (!Meetings.TryGetValue(id, out var meeting) || meeting.Deleted || meeting.Provider != "webex" || meeting.Host != user)
            {
                return new Answer(404, """{"message":"Meeting not found.","errors":[{"description":"Meeting not found."}],"trackingId":"fake"}""");
            }

            if (method == "DELETE")
            {
                meeting.Deleted = true;
                return new Answer(204, "");
            }

            if (method == "PUT")
            {
                var json = JsonNode.Parse(body)!;
                meeting.Start = json["start"]?.GetValue<string>() ?? meeting.Start;
                meeting.End = json["end"]?.GetValue<string>() ?? meeting.End;
                return new Answer(200, WebexJson(meeting).ToJsonString());
            }
        }

        return new Answer(404, """{"message":"Not found","trackingId":"fake"}""");
    }

    private static JsonObject WebexJson(FakeMeeting m) => new()
    {
        ["id"] = m.Id,
        ["meetingNumber"] = "2" + m.Id[..8],
        ["title"] = m.Topic,
        ["agenda"] = m.Agenda,
        ["meetingType"] = "meetingSeries",
        ["start"] = m.Start,
        ["end"] = m.End,
        ["hostEmail"] = m.Host,
        ["webLink"] = m.JoinUrl,
    };
}

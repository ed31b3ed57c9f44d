using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;
using NodaTime.Text;

namespace Rendezvous.Emulators.Google;

/// <summary>
/// An in-memory stand-in for Google's OAuth 2.0 endpoints and the Calendar API v3, on a loopback port, written from
/// Google's documentation (each handler names its page). It keeps calendars and events, pages results, hands out sync
/// tokens and answers 410 for ones it forgot, expands recurring series for singleEvents=true, checks etags (412),
/// refuses duplicate client-chosen ids (409), expires access tokens by the test's clock, revokes grants, sends push
/// notifications to channel addresses, and answers any fault a test queues (401, 403 rate limits, 429 with
/// Retry-After, 5xx, slowness).
/// </summary>
public sealed partial class GoogleCalendarEmulator : IAsyncDisposable
{
    public const string ClientId = "rendezvous-emulated-client.apps.googleusercontent.com";
    public const string ClientSecret = "emulated-client-secret";

    private static readonly InstantPattern Rfc3339 = InstantPattern.CreateWithInvariantCulture("uuuu-MM-dd'T'HH:mm:ss'Z'");
    private static readonly InstantPattern InstanceSuffix = InstantPattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss'Z'");

    private readonly Lock _gate = new();
    private readonly IClock _clock;
    private readonly Dictionary<string, Account> _accounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Calendar> _calendars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingCode> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Grant> _refreshTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AccessGrant> _accessTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Channel> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PagedResult> _pages = new(StringComparer.Ordinal);
    private readonly List<GoogleFault> _faults = [];
    private readonly List<string> _requests = [];
    private readonly List<SentNotification> _sent = [];
    private readonly List<Task> _deliveries = [];
    private WebApplication? _app;
    private long _seq = 1_000;

    private GoogleCalendarEmulator(IClock clock)
    {
        _clock = clock;
    }

    /// <summary>The emulator's root; <see cref="ApiBaseUrl"/>, <see cref="TokenUrl"/> and the others hang off it.</summary>
    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1/");

    public Uri ApiBaseUrl => new(BaseUrl, "calendar/v3/");

    public Uri AuthorizationUrl => new(BaseUrl, "o/oauth2/v2/auth");

    public Uri TokenUrl => new(BaseUrl, "token");

    public Uri RevokeUrl => new(BaseUrl, "revoke");

    /// <summary>The account that says yes on the consent screen (the user signed in to Google in the browser).</summary>
    public string? ConsentingAccount { get; set; }

    /// <summary>How long access tokens live (Google: one hour).</summary>
    public Duration AccessTokenLifetime { get; set; } = Duration.FromHours(1);

    /// <summary>The most events one page holds, whatever maxResults asks (Google's cap is 2500; tests lower it to force paging).</summary>
    public int MaxPageSize { get; set; } = 2500;

    /// <summary>Where push notifications are delivered; tests pass the application's in-memory handler.</summary>
    public HttpMessageHandler? NotificationHandler { get; set; }

    /// <summary>Whether a change sends notifications to the calendar's channels at once.</summary>
    public bool SendNotifications { get; set; } = true;

    public static async Task<GoogleCalendarEmulator> StartAsync(IClock clock)
    {
        var emulator = new GoogleCalendarEmulator(clock);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        emulator.Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        emulator._app = app;
        return emulator;
    }

    public async ValueTask DisposeAsync()
    {
        Task[] pending;
        lock (_gate)
        {
            pending = [.. _deliveries];
        }

        await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    // ---- What a test (or the person in Google Calendar's own UI) does -------------------------------------------------

    /// <summary>Creates a Google account with its primary calendar, whose id is the email address.</summary>
    public void AddAccount(string email, string timeZone = "UTC")
    {
        lock (_gate)
        {
            var account = new Account(email);
            _accounts[email] = account;
            var primary = new Calendar(email, email, email) { TimeZone = timeZone };
            _calendars[email] = primary;
            account.Calendars.Add(email);
        }
    }

    /// <summary>Adds another calendar to an account's list (accessRole "reader" makes it read-only).</summary>
    public string AddCalendar(string email, string summary, string accessRole = "owner")
    {
        lock (_gate)
        {
            var id = RandomId(26) + "@group.calendar.google.com";
            _calendars[id] = new Calendar(id, summary, email) { AccessRole = accessRole };
            _accounts[email].Calendars.Add(id);
            return id;
        }
    }

    /// <summary>An event as the calendar now holds it (cancelled ones included), or null.</summary>
    public JsonObject? Event(string calendarId, string eventId)
    {
        lock (_gate)
        {
            return _calendars[calendarId].Events.TryGetValue(eventId, out var stored) ? (JsonObject)stored.Body.DeepClone() : null;
        }
    }

    /// <summary>The events of a calendar that are not cancelled (series as their master, not expanded).</summary>
    public IReadOnlyList<JsonObject> Events(string calendarId)
    {
        lock (_gate)
        {
            return [.. _calendars[calendarId].Events.Values.Where(e => !e.Cancelled).Select(e => (JsonObject)e.Body.DeepClone())];
        }
    }

    /// <summary>Creates an event as the user would in Google Calendar; returns it with its id and etag.</summary>
    public JsonObject CreateEvent(string calendarId, JsonObject body)
    {
        Calendar calendar;
        JsonObject created;
        lock (_gate)
        {
            calendar = _calendars[calendarId];
            body["id"] ??= RandomId(26);
            created = Store(calendar, body, null);
        }

        Notify(calendar.Id);
        return created;
    }

    /// <summary>Changes an event as the user would (moves it, renames it, marks it free ...); the etag changes.</summary>
    public JsonObject UpdateEvent(string calendarId, string eventId, Action<JsonObject> change)
    {
        JsonObject updated;
        lock (_gate)
        {
            var calendar = _calendars[calendarId];
            var body = (JsonObject)calendar.Events[eventId].Body.DeepClone();
            change(body);
            updated = Store(calendar, body, calendar.Events[eventId]);
        }

        Notify(calendarId);
        return updated;
    }

    /// <summary>Moves a timed event by <paramref name="by"/>, keeping its length.</summary>
    public JsonObject MoveEvent(string calendarId, string eventId, Duration by) => UpdateEvent(calendarId, eventId, body =>
    {
        foreach (var key in new[] { "start", "end" })
        {
            var at = ParseTime(body[key]!["dateTime"]!.GetValue<string>());
            body[key] = new JsonObject { ["dateTime"] = Rfc3339.Format(at + by), ["timeZone"] = "UTC" };
        }
    });

    /// <summary>Deletes an event as the user would: it stays as a cancelled tombstone for incremental syncs.</summary>
    public void DeleteEvent(string calendarId, string eventId)
    {
        lock (_gate)
        {
            var calendar = _calendars[calendarId];
            Delete(calendar, calendar.Events[eventId]);
        }

        Notify(calendarId);
    }

    /// <summary>Queues a fault for the next matching requests.</summary>
    public void Fault(GoogleFault fault)
    {
        lock (_gate)
        {
            _faults.Add(fault);
        }
    }

    /// <summary>Drops every queued fault.</summary>
    public void ClearFaults()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    /// <summary>Every access token handed out stops working now (as after an hour, or a password change).</summary>
    public void ExpireAccessTokens()
    {
        lock (_gate)
        {
            _accessTokens.Clear();
        }
    }

    /// <summary>The user removes our app at myaccount.google.com: refresh and access tokens stop working.</summary>
    public void RevokeGrant(string email)
    {
        lock (_gate)
        {
            foreach (var (token, grant) in _refreshTokens.Where(kv => kv.Value.Email.Equals(email, StringComparison.OrdinalIgnoreCase)).ToList())
            {
                _refreshTokens.Remove(token);
            }

            foreach (var (token, _) in _accessTokens.Where(kv => kv.Value.Email.Equals(email, StringComparison.OrdinalIgnoreCase)).ToList())
            {
                _accessTokens.Remove(token);
            }
        }
    }

    /// <summary>Forgets every sync token of a calendar: the next incremental sync gets 410 Gone.</summary>
    public void InvalidateSyncTokens(string calendarId)
    {
        lock (_gate)
        {
            _calendars[calendarId].Epoch++;
        }
    }

    /// <summary>"METHOD /path?query" of every API and OAuth request, in order.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The channels now open on a calendar (ids).</summary>
    public IReadOnlyList<string> ChannelsOn(string calendarId)
    {
        lock (_gate)
        {
            return [.. _channels.Values.Where(c => c.CalendarId == calendarId).Select(c => c.Id)];
        }
    }

    public IReadOnlyList<SentNotification> SentNotifications
    {
        get
        {
            lock (_gate)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>Waits for every notification sent so far to be delivered.</summary>
    public async Task DeliveredAsync()
    {
        Task[] pending;
        lock (_gate)
        {
            pending = [.. _deliveries];
        }

        await Task.WhenAll(pending);
    }

    // ---- The HTTP surface ---------------------------------------------------------------------------------------------

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            lock (_gate)
            {
                _requests.Add(context.Request.Method + " " + context.Request.Path + context.Request.QueryString);
            }

            await next(context);
        });

        app.MapGet("/o/oauth2/v2/auth", Authorize);
        app.MapPost("/token", TokenAsync);
        app.MapPost("/revoke", RevokeAsync);
        app.MapGet("/revoke", RevokeAsync);

        var api = app.MapGroup("/calendar/v3");
        api.AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            if (await TakeFaultAsync(context) is { } fault)
            {
                return fault;
            }

            if (Authenticate(context) is null)
            {
                // https://developers.google.com/calendar/api/guides/errors#401_invalid_credentials
                return Error(401, "authError", "Invalid Credentials", "global");
            }

            return await next(invocation);
        });
        api.MapGet("/users/me/calendarList", ListCalendars);
        api.MapGet("/users/me/calendarList/{calendarId}", GetCalendarListEntry);
        api.MapGet("/calendars/{calendarId}/events", ListEvents);
        api.MapPost("/calendars/{calendarId}/events", InsertEventAsync);
        api.MapPost("/calendars/{calendarId}/events/watch", WatchAsync);
        api.MapGet("/calendars/{calendarId}/events/{eventId}", GetEvent);
        api.MapPut("/calendars/{calendarId}/events/{eventId}", UpdateEventAsync);
        api.MapPatch("/calendars/{calendarId}/events/{eventId}", PatchEventAsync);
        api.MapDelete("/calendars/{calendarId}/events/{eventId}", DeleteEventHandler);
        api.MapPost("/channels/stop", (Delegate)StopChannelAsync);
    }

    /// <summary>
    /// The consent screen: https://developers.google.com/identity/protocols/oauth2/web-server#redirecting — the user
    /// (here <see cref="ConsentingAccount"/>) agrees and Google redirects back with a one-time code and the state.
    /// </summary>
    private IResult Authorize(HttpRequest request)
    {
        var q = request.Query;
        if (q["client_id"] != ClientId || string.IsNullOrEmpty(q["redirect_uri"]) || q["response_type"] != "code")
        {
            return Results.BadRequest("Error 400: invalid_request");
        }

        var redirect = q["redirect_uri"].ToString();
        if (ConsentingAccount is not { } email)
        {
            // https://developers.google.com/identity/protocols/oauth2/web-server#handlingresponse (the user said no)
            return Results.Redirect(redirect + (redirect.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "error=access_denied&state="
                + Uri.EscapeDataString(q["state"].ToString()));
        }

        var code = "4/" + RandomId(40);
        lock (_gate)
        {
            _codes[code] = new PendingCode(email, redirect, q["access_type"] == "offline");
        }

        return Results.Redirect(redirect + (redirect.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "code=" + Uri.EscapeDataString(code)
            + "&state=" + Uri.EscapeDataString(q["state"].ToString()) + "&scope=" + Uri.EscapeDataString(q["scope"].ToString()));
    }

    /// <summary>
    /// Code exchange (https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code) and
    /// refresh (https://developers.google.com/identity/protocols/oauth2/web-server#offline). A used code, or a refresh token
    /// of a revoked grant, gets 400 invalid_grant.
    /// </summary>
    private async Task<IResult> TokenAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
        {
            return Results.Json(new JsonObject { ["error"] = "invalid_client", ["error_description"] = "The OAuth client was not found." }, statusCode: 401);
        }

        lock (_gate)
        {
            var now = _clock.GetCurrentInstant();
            switch (form["grant_type"].ToString())
            {
                case "authorization_code":
                    if (!_codes.Remove(form["code"].ToString(), out var pending) || pending.RedirectUri != form["redirect_uri"])
                    {
                        return InvalidGrant("Malformed auth code.");
                    }

                    var refresh = "1//" + RandomId(60);
                    _refreshTokens[refresh] = new Grant(pending.Email, refresh);
                    var access = NewAccessToken(pending.Email, refresh, now);
                    var body = new JsonObject
                    {
                        ["access_token"] = access,
                        ["expires_in"] = (long)AccessTokenLifetime.TotalSeconds,
                        ["scope"] = "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly",
                        ["token_type"] = "Bearer",
                    };
                    if (pending.Offline)
                    {
                        body["refresh_token"] = refresh;
                    }

                    return Results.Json(body);
                case "refresh_token":
                    if (!_refreshTokens.TryGetValue(form["refresh_token"].ToString(), out var grant))
                    {
                        return InvalidGrant("Token has been expired or revoked.");
                    }

                    return Results.Json(new JsonObject
                    {
                        ["access_token"] = NewAccessToken(grant.Email, grant.RefreshToken, now),
                        ["expires_in"] = (long)AccessTokenLifetime.TotalSeconds,
                        ["scope"] = "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly",
                        ["token_type"] = "Bearer",
                    });
                default:
                    return Results.Json(new JsonObject { ["error"] = "unsupported_grant_type" }, statusCode: 400);
            }
        }
    }

    /// <summary>https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke — either token ends the grant.</summary>
    private async Task<IResult> RevokeAsync(HttpRequest request)
    {
        var token = request.Query["token"].ToString();
        if (string.IsNullOrEmpty(token) && request.HasFormContentType)
        {
            token = (await request.ReadFormAsync())["token"].ToString();
        }

        string? email;
        lock (_gate)
        {
            email = _refreshTokens.GetValueOrDefault(token)?.Email ?? _accessTokens.GetValueOrDefault(token)?.Email;
        }

        if (email is null)
        {
            return Results.Json(new JsonObject { ["error"] = "invalid_token" }, statusCode: 400);
        }

        RevokeGrant(email);
        return Results.Ok();
    }

    /// <summary>https://developers.google.com/calendar/api/v3/reference/calendarList/list</summary>
    private IResult ListCalendars(HttpContext context)
    {
        var email = Authenticate(context)!;
        lock (_gate)
        {
            var items = new JsonArray([.. _accounts[email].Calendars.Select(id => (JsonNode)CalendarListEntry(_calendars[id], email))]);
            return Results.Json(new JsonObject { ["kind"] = "calendar#calendarList", ["items"] = items });
        }
    }

    /// <summary>https://developers.google.com/calendar/api/v3/reference/calendarList/get ("primary" names the primary calendar)</summary>
    private IResult GetCalendarListEntry(HttpContext context, string calendarId)
    {
        var email = Authenticate(context)!;
        lock (_gate)
        {
            return FindCalendar(email, calendarId) is { } calendar ? Results.Json(CalendarListEntry(calendar, email)) : NotFound();
        }
    }

    /// <summary>
    /// https://developers.google.com/calendar/api/v3/reference/events/list and the sync guide
    /// https://developers.google.com/calendar/api/guides/sync: without syncToken, a listing (from timeMin, series expanded
    /// when singleEvents=true, cancelled events left out unless showDeleted); with it, everything changed since, deleted
    /// events included as "cancelled"; 410 fullSyncRequired for a token the server no longer knows. Results come in pages
    /// of at most maxResults; nextSyncToken only on the last page.
    /// </summary>
    private IResult ListEvents(HttpContext context, string calendarId)
    {
        var email = Authenticate(context)!;
        var q = context.Request.Query;
        lock (_gate)
        {
            if (FindCalendar(email, calendarId) is not { } calendar)
            {
                return NotFound();
            }

            var size = Math.Clamp(int.TryParse(q["maxResults"], CultureInfo.InvariantCulture, out var m) ? m : 250, 1, MaxPageSize);
            if (q["pageToken"].ToString() is { Length: > 0 } pageToken)
            {
                return _pages.Remove(pageToken, out var paged) ? Page(paged, size) : Error(400, "invalid", "Invalid page token value.");
            }

            var singleEvents = q["singleEvents"] == "true";
            List<JsonObject> items;
            if (q["syncToken"].ToString() is { Length: > 0 } syncToken)
            {
                if (q.ContainsKey("timeMin") || q.ContainsKey("timeMax") || q.ContainsKey("orderBy") || q.ContainsKey("q"))
                {
                    return Error(400, "invalid", "Sync token cannot be used together with timeMin, timeMax, orderBy or q.");
                }

                if (ParseSyncToken(syncToken) is not { } since || since.Epoch != calendar.Epoch)
                {
                    // https://developers.google.com/calendar/api/guides/errors#410_gone
                    return Error(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.", "calendar");
                }

                items = Changes(calendar, since.Seq, singleEvents);
            }
            else
            {
                var timeMin = q["timeMin"].ToString() is { Length: > 0 } a ? ParseTime(a) : (Instant?)null;
                var timeMax = q["timeMax"].ToString() is { Length: > 0 } b ? ParseTime(b) : (Instant?)null;
                items = Listing(calendar, singleEvents, timeMin, timeMax, q["showDeleted"] == "true");
            }

            return Page(new PagedResult(items, SyncToken(calendar), calendar.TimeZone), size);
        }
    }

    /// <summary>
    /// https://developers.google.com/calendar/api/v3/reference/events/insert with a client-chosen id: base32hex characters
    /// (a-v, 0-9), 5 to 1024 long, unique in the calendar (deleted events included): a reused id gets 409 duplicate.
    /// </summary>
    private async Task<IResult> InsertEventAsync(HttpContext context, string calendarId)
    {
        var email = Authenticate(context)!;
        var body = await ReadBodyAsync(context.Request);
        if (body is null)
        {
            return Error(400, "parseError", "Parse Error");
        }

        Calendar? calendar;
        JsonObject created;
        lock (_gate)
        {
            calendar = FindCalendar(email, calendarId);
            if (calendar is null)
            {
                return NotFound();
            }

            if (calendar.AccessRole is not ("owner" or "writer"))
            {
                return Error(403, "requiredAccessLevel", "You need to have writer access to this calendar.", "calendar");
            }

            if ((string?)body["id"] is { } id)
            {
                if (id.Length is < 5 or > 1024 || id.Any(ch => ch is not ((>= 'a' and <= 'v') or (>= '0' and <= '9'))))
                {
                    return Error(400, "invalid", "Invalid resource id value.");
                }

                if (calendar.Events.ContainsKey(id))
                {
                    // https://developers.google.com/calendar/api/guides/errors#409_conflict
                    return Error(409, "duplicate", "The requested identifier already exists.");
                }
            }
            else
            {
                body["id"] = RandomId(26);
            }

            if (body["start"] is null || body["end"] is null)
            {
                return Error(400, "required", "Missing end time.");
            }

            created = Store(calendar, body, null);
        }

        Notify(calendar.Id);
        return Results.Json(created);
    }

    /// <summary>https://developers.google.com/calendar/api/v3/reference/events/get</summary>
    private IResult GetEvent(HttpContext context, string calendarId, string eventId)
    {
        var email = Authenticate(context)!;
        lock (_gate)
        {
            if (FindCalendar(email, calendarId) is not { } calendar || !calendar.Events.TryGetValue(eventId, out var stored))
            {
                return NotFound();
            }

            return Results.Json(stored.Body.DeepClone());
        }
    }

    /// <summary>
    /// https://developers.google.com/calendar/api/v3/reference/events/update with If-Match
    /// (https://developers.google.com/calendar/api/guides/version-resources): an etag that is no longer current gets
    /// 412 conditionNotMet and nothing changes.
    /// </summary>
    private Task<IResult> UpdateEventAsync(HttpContext context, string calendarId, string eventId) => WriteEventAsync(context, calendarId, eventId, patch: false);

    /// <summary>https://developers.google.com/calendar/api/v3/reference/events/patch (fields given replace those stored).</summary>
    private Task<IResult> PatchEventAsync(HttpContext context, string calendarId, string eventId) => WriteEventAsync(context, calendarId, eventId, patch: true);

    private async Task<IResult> WriteEventAsync(HttpContext context, string calendarId, string eventId, bool patch)
    {
        var email = Authenticate(context)!;
        var body = await ReadBodyAsync(context.Request);
        if (body is null)
        {
            return Error(400, "parseError", "Parse Error");
        }

        JsonObject updated;
        lock (_gate)
        {
            if (FindCalendar(email, calendarId) is not { } calendar || !calendar.Events.TryGetValue(eventId, out var stored))
            {
                return NotFound();
            }

            if (context.Request.Headers.IfMatch.ToString() is { Length: > 0 } ifMatch && ifMatch != (string?)stored.Body["etag"])
            {
                return Error(412, "conditionNotMet", "Precondition Failed", "global");
            }

            if (patch)
            {
                var merged = (JsonObject)stored.Body.DeepClone();
                foreach (var (key, value) in body)
                {
                    merged[key] = value?.DeepClone();
                }

                body = merged;
            }

            body["id"] = eventId;
            // Writing a deleted event back with a live status brings it back, as Google does.
            body["status"] ??= "confirmed";
            updated = Store(calendar, body, stored);
            calendarId = calendar.Id;
        }

        Notify(calendarId);
        return Results.Json(updated);
    }

    /// <summary>
    /// https://developers.google.com/calendar/api/v3/reference/events/delete: the event becomes a cancelled tombstone;
    /// deleting it again gets 410 deleted.
    /// </summary>
    private IResult DeleteEventHandler(HttpContext context, string calendarId, string eventId)
    {
        var email = Authenticate(context)!;
        lock (_gate)
        {
            if (FindCalendar(email, calendarId) is not { } calendar || !calendar.Events.TryGetValue(eventId, out var stored))
            {
                return NotFound();
            }

            if (stored.Cancelled)
            {
                return Error(410, "deleted", "Resource has been deleted");
            }

            if (context.Request.Headers.IfMatch.ToString() is { Length: > 0 } ifMatch && ifMatch != (string?)stored.Body["etag"])
            {
                return Error(412, "conditionNotMet", "Precondition Failed", "global");
            }

            Delete(calendar, stored);
            calendarId = calendar.Id;
        }

        Notify(calendarId);
        return Results.NoContent();
    }

    /// <summary>
    /// https://developers.google.com/calendar/api/v3/reference/events/watch and https://developers.google.com/calendar/api/guides/push:
    /// opens a web_hook channel (ids must be unique), answers with its resourceId and expiration (ms since the epoch;
    /// params.ttl in seconds, at most a week here), and sends the "sync" message at once.
    /// </summary>
    private async Task<IResult> WatchAsync(HttpContext context, string calendarId)
    {
        var email = Authenticate(context)!;
        var body = await ReadBodyAsync(context.Request);
        if (body is null || (string?)body["type"] is not ("web_hook" or "webhook") || (string?)body["id"] is not { Length: > 0 } id
            || !Uri.TryCreate((string?)body["address"], UriKind.Absolute, out var address))
        {
            return Error(400, "invalid", "Invalid channel: id, type web_hook and address are required.", "push");
        }

        Channel channel;
        lock (_gate)
        {
            if (FindCalendar(email, calendarId) is not { } calendar)
            {
                return NotFound();
            }

            if (_channels.ContainsKey(id))
            {
                return Error(400, "channelIdNotUnique", "Channel id not unique.", "push");
            }

            var ttl = long.TryParse((string?)body["params"]?["ttl"], CultureInfo.InvariantCulture, out var seconds) ? Math.Min(seconds, 604_800) : 604_800;
            channel = new Channel(id, RandomId(27), calendar.Id, address, (string?)body["token"], _clock.GetCurrentInstant() + Duration.FromSeconds(ttl));
            _channels[id] = channel;
        }

        Deliver(channel, "sync");
        return Results.Json(new JsonObject
        {
            ["kind"] = "api#channel",
            ["id"] = channel.Id,
            ["resourceId"] = channel.ResourceId,
            ["resourceUri"] = new Uri(ApiBaseUrl, "calendars/" + Uri.EscapeDataString(channel.CalendarId) + "/events?alt=json").ToString(),
            ["token"] = channel.Token,
            ["expiration"] = (channel.ExpiresAt.ToUnixTimeMilliseconds()).ToString(CultureInfo.InvariantCulture),
        });
    }

    /// <summary>https://developers.google.com/calendar/api/v3/reference/channels/stop: needs the channel id and its resourceId.</summary>
    private async Task<IResult> StopChannelAsync(HttpContext context)
    {
        var body = await ReadBodyAsync(context.Request);
        lock (_gate)
        {
            if (body is null || (string?)body["id"] is not { } id || !_channels.TryGetValue(id, out var channel)
                || channel.ResourceId != (string?)body["resourceId"])
            {
                return NotFound();
            }

            _channels.Remove(id);
        }

        return Results.NoContent();
    }
}

using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Domain.Conferencing;

namespace Rendezvous.Integrations.Conferencing;

/// <summary>
/// The meeting a booking asks for. <see cref="Marker"/> is unique to the booking and written into the meeting (its agenda,
/// or for GoTo Meeting its subject), so a meeting made by a call whose answer was lost can be found again instead of made twice.
/// </summary>
public sealed record MeetingSpec(string Topic, string Marker, Instant Start, Instant End);

/// <summary>A meeting in a conferencing service: its id there and the link people join with.</summary>
public sealed record ConferencingMeeting(string MeetingId, string JoinUrl);

/// <summary>How moving a meeting to another host went.</summary>
public enum TransferOutcome
{
    /// <summary>The service moved it: same meeting, same link, new host.</summary>
    Moved,
    /// <summary>The service cannot move it: make it again in the new host's account and remove the old one.</summary>
    MustRecreate,
    /// <summary>The meeting no longer exists in the service.</summary>
    Gone,
}

/// <summary>One conferencing service's meetings API. Every method is safe to call again after a failure.</summary>
public interface IConferencingClient
{
    ConferencingProvider Provider { get; }

    /// <summary>Makes a meeting in the host's account. Not repeated on its own after a server failure: look with <see cref="FindAsync"/> first.</summary>
    Task<ConferencingMeeting> CreateAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct);

    /// <summary>The host's upcoming meeting that carries <see cref="MeetingSpec.Marker"/>, or null.</summary>
    Task<ConferencingMeeting?> FindAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct);

    /// <summary>Moves the meeting to the spec's time; false when the meeting no longer exists.</summary>
    Task<bool> UpdateTimeAsync(ConferencingSession host, string meetingId, MeetingSpec spec, CancellationToken ct);

    /// <summary>Removes the meeting; a meeting already gone counts as removed.</summary>
    Task DeleteAsync(ConferencingSession host, string meetingId, CancellationToken ct);

    /// <summary>Makes <paramref name="newHost"/> the meeting's host, when the service can; the caller re-creates it otherwise.</summary>
    Task<TransferOutcome> TransferAsync(ConferencingSession currentHost, ConferencingSession newHost, string meetingId, CancellationToken ct);
}

/// <summary>What the three clients share: addresses, sending through <see cref="ConferencingHttp"/>, and reading answers.</summary>
public abstract class ConferencingClientBase(ConferencingHttp http, IConferencingTokens tokens, IOptions<ConferencingOptions> options) : IConferencingClient
{
    protected static readonly InstantPattern Utc = InstantPattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss'Z'");

    public abstract ConferencingProvider Provider { get; }

    protected IConferencingTokens Tokens => tokens;

    public abstract Task<ConferencingMeeting> CreateAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct);

    public abstract Task<ConferencingMeeting?> FindAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct);

    public abstract Task<bool> UpdateTimeAsync(ConferencingSession host, string meetingId, MeetingSpec spec, CancellationToken ct);

    public abstract Task<TransferOutcome> TransferAsync(ConferencingSession currentHost, ConferencingSession newHost, string meetingId, CancellationToken ct);

    public async Task DeleteAsync(ConferencingSession host, string meetingId, CancellationToken ct)
    {
        using var response = await SendAsync(host, HttpMethod.Delete, MeetingPath(meetingId), null, safeToRepeat: true, ct);
        if (!response.IsSuccessStatusCode && (int)response.StatusCode != 404)
        {
            throw await RefusedAsync(response, ct);
        }
    }

    protected abstract string MeetingPath(string meetingId);

    protected Uri Url(string relative) => new(new Uri(options.Value.For(Provider).ApiBaseUrl), relative);

    protected Task<HttpResponseMessage> SendAsync(ConferencingSession session, HttpMethod method, string relative, JsonNode? body, bool safeToRepeat,
        CancellationToken ct) =>
        http.SendAsync(session, tokens, () =>
        {
            var request = new HttpRequestMessage(method, Url(relative));
            request.Headers.Accept.ParseAdd("application/json");
            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            return request;
        }, safeToRepeat, ct);

    protected async Task<ConferencingRequestException> RefusedAsync(HttpResponseMessage response, CancellationToken ct) =>
        new(Provider, (int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));

    protected static async Task<JsonNode?> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        return string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
    }

    /// <summary>A JSON value as text, whether the service sent a number (Zoom's int64 ids) or a string.</summary>
    protected static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<long>(out var l) => l.ToString(CultureInfo.InvariantCulture),
        _ => node.ToJsonString(),
    };
}

/// <summary>
/// Zoom Meetings API v2 (developers.zoom.us/docs/api/meetings/): create with <c>POST /users/me/meetings</c> (201, <c>id</c>
/// and <c>join_url</c>), look up with <c>GET /users/me/meetings?type=upcoming</c> (paged by <c>next_page_token</c>), move with
/// <c>PATCH /meetings/{meetingId}</c> (204), delete with <c>DELETE /meetings/{meetingId}</c> (204; 404 when it does not
/// exist). A host change is a PATCH with <c>schedule_for</c> naming the new host; Zoom refuses it (400, code 3000) when
/// the caller has no scheduling privilege for that user, and then the meeting is made again in the new host's account.
/// </summary>
public sealed class ZoomClient(ConferencingHttp http, IConferencingTokens tokens, IOptions<ConferencingOptions> options)
    : ConferencingClientBase(http, tokens, options)
{
    private const int MaxPages = 10;

    public override ConferencingProvider Provider => ConferencingProvider.Zoom;

    protected override string MeetingPath(string meetingId) => "meetings/" + Uri.EscapeDataString(meetingId);

    public override async Task<ConferencingMeeting> CreateAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["topic"] = Clip(spec.Topic, 200),
            ["type"] = 2,
            ["start_time"] = Utc.Format(spec.Start),
            ["duration"] = (int)Math.Ceiling((spec.End - spec.Start).TotalMinutes),
            ["timezone"] = "UTC",
            ["agenda"] = $"Booked through Rendezvous. Reference: {spec.Marker}",
        };
        using var response = await SendAsync(host, HttpMethod.Post, "users/me/meetings", body, safeToRepeat: false, ct);
        if ((int)response.StatusCode != 201 && (int)response.StatusCode != 200)
        {
            throw await RefusedAsync(response, ct);
        }

        return Meeting(await ReadAsync(response, ct)) ?? throw new ConferencingTransientException("Zoom answered the create without a meeting id and join_url.");
    }

    public override async Task<ConferencingMeeting?> FindAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct)
    {
        string? pageToken = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var path = "users/me/meetings?type=upcoming&page_size=300" + (pageToken is null ? "" : "&next_page_token=" + Uri.EscapeDataString(pageToken));
            using var response = await SendAsync(host, HttpMethod.Get, path, null, safeToRepeat: true, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw await RefusedAsync(response, ct);
            }

            var json = await ReadAsync(response, ct);
            foreach (var meeting in json?["meetings"]?.AsArray() ?? [])
            {
                if (Text(meeting?["agenda"])?.Contains(spec.Marker, StringComparison.Ordinal) == true && Meeting(meeting) is { } found)
                {
                    return found;
                }
            }

            pageToken = Text(json?["next_page_token"]);
            if (string.IsNullOrEmpty(pageToken))
            {
                return null;
            }
        }

        return null;
    }

    public override async Task<bool> UpdateTimeAsync(ConferencingSession host, string meetingId, MeetingSpec spec, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["start_time"] = Utc.Format(spec.Start),
            ["duration"] = (int)Math.Ceiling((spec.End - spec.Start).TotalMinutes),
            ["timezone"] = "UTC",
        };
        using var response = await SendAsync(host, HttpMethod.Patch, MeetingPath(meetingId), body, safeToRepeat: true, ct);
        return (int)response.StatusCode == 404 ? false : response.IsSuccessStatusCode ? true : throw await RefusedAsync(response, ct);
    }

    public override async Task<TransferOutcome> TransferAsync(ConferencingSession currentHost, ConferencingSession newHost, string meetingId, CancellationToken ct)
    {
        var target = newHost.ExternalUserId ?? await WhoAmIAsync(newHost, ct);
        using var response = await SendAsync(currentHost, HttpMethod.Patch, MeetingPath(meetingId), new JsonObject { ["schedule_for"] = target },
            safeToRepeat: true, ct);
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return TransferOutcome.Moved;
        }

        if (status == 404)
        {
            return TransferOutcome.Gone;
        }

        if (status is 400 or 403)
        {
            // Code 3000, "You cannot schedule a meeting for ...": no scheduling privilege for the new host.
            return TransferOutcome.MustRecreate;
        }

        throw await RefusedAsync(response, ct);
    }

    /// <summary>The account's Zoom user id (GET /users/me), remembered for later host changes.</summary>
    private async Task<string> WhoAmIAsync(ConferencingSession session, CancellationToken ct)
    {
        using var response = await SendAsync(session, HttpMethod.Get, "users/me", null, safeToRepeat: true, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await RefusedAsync(response, ct);
        }

        var json = await ReadAsync(response, ct);
        var id = Text(json?["id"]) ?? Text(json?["email"]) ?? throw new ConferencingTransientException("Zoom's GET /users/me answered without an id.");
        await Tokens.SaveExternalUserIdAsync(session, id, ct);
        return id;
    }

    private static ConferencingMeeting? Meeting(JsonNode? json) =>
        Text(json?["id"]) is { Length: > 0 } id && Text(json?["join_url"]) is { Length: > 0 } url ? new ConferencingMeeting(id, url) : null;

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}

/// <summary>
/// GoTo Meeting REST API v2 (developer.goto.com, GoTo Meeting API reference): create with <c>POST /meetings</c> (201, an
/// array holding <c>meetingid</c> and <c>joinURL</c>), look up with <c>GET /upcomingMeetings</c>, move with
/// <c>PUT /meetings/{meetingId}</c> (204), delete with <c>DELETE /meetings/{meetingId}</c> (204; 404 when gone). The API has
/// no call that changes a meeting's organizer, so ownership moves by making the meeting in the new organizer's account
/// and deleting it from the previous one's; the join link changes, and later notifications carry the new one.
/// </summary>
public sealed class GoToMeetingClient(ConferencingHttp http, IConferencingTokens tokens, IOptions<ConferencingOptions> options)
    : ConferencingClientBase(http, tokens, options)
{
    public override ConferencingProvider Provider => ConferencingProvider.GoToMeeting;

    protected override string MeetingPath(string meetingId) => "meetings/" + Uri.EscapeDataString(meetingId);

    public override async Task<ConferencingMeeting> CreateAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct)
    {
        using var response = await SendAsync(host, HttpMethod.Post, "meetings", Body(spec), safeToRepeat: false, ct);
        if ((int)response.StatusCode != 201 && (int)response.StatusCode != 200)
        {
            throw await RefusedAsync(response, ct);
        }

        var json = await ReadAsync(response, ct);
        var created = json is JsonArray array ? array.FirstOrDefault() : json;
        return Meeting(created) ?? throw new ConferencingTransientException("GoTo Meeting answered the create without a meetingid and joinURL.");
    }

    public override async Task<ConferencingMeeting?> FindAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct)
    {
        using var response = await SendAsync(host, HttpMethod.Get, "upcomingMeetings", null, safeToRepeat: true, ct);
        if ((int)response.StatusCode == 204)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw await RefusedAsync(response, ct);
        }

        var json = await ReadAsync(response, ct);
        foreach (var meeting in json as JsonArray ?? [])
        {
            if (Text(meeting?["subject"])?.Contains(spec.Marker, StringComparison.Ordinal) == true && Meeting(meeting) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    public override async Task<bool> UpdateTimeAsync(ConferencingSession host, string meetingId, MeetingSpec spec, CancellationToken ct)
    {
        using var response = await SendAsync(host, HttpMethod.Put, MeetingPath(meetingId), Body(spec), safeToRepeat: true, ct);
        return (int)response.StatusCode == 404 ? false : response.IsSuccessStatusCode ? true : throw await RefusedAsync(response, ct);
    }

    public override Task<TransferOutcome> TransferAsync(ConferencingSession currentHost, ConferencingSession newHost, string meetingId, CancellationToken ct) =>
        Task.FromResult(TransferOutcome.MustRecreate);

    private static JsonObject Body(MeetingSpec spec)
    {
        var suffix = $" ({spec.Marker})";
        var topic = spec.Topic.Length + suffix.Length > 128 ? spec.Topic[..(128 - suffix.Length)] : spec.Topic;
        return new JsonObject
        {
            ["subject"] = topic + suffix,
            ["starttime"] = Utc.Format(spec.Start),
            ["endtime"] = Utc.Format(spec.End),
            ["passwordrequired"] = false,
            ["conferencecallinfo"] = "VoIP",
            ["timezonekey"] = "",
            ["meetingtype"] = "scheduled",
        };
    }

    private static ConferencingMeeting? Meeting(JsonNode? json)
    {
        var id = Text(json?["meetingid"]) ?? Text(json?["meetingId"]);
        if (string.IsNullOrEmpty(id))
        {
            return null;
        }

        // The create answers with joinURL; listings may leave it out, and the join link is the documented global one.
        var url = Text(json?["joinURL"]) ?? Text(json?["joinUrl"]) ?? $"https://global.gotomeeting.com/join/{id}";
        return new ConferencingMeeting(id, url);
    }
}

/// <summary>
/// Webex Meetings REST API (developer.webex.com/docs/api/v1/meetings): create with <c>POST /meetings</c> (200, <c>id</c> and
/// <c>webLink</c>), look up with <c>GET /meetings?meetingType=scheduledMeeting&amp;from=&amp;to=</c>, move with
/// <c>PUT /meetings/{meetingId}</c>, delete with <c>DELETE /meetings/{meetingId}</c> (204; 404 when gone). Reassignment does
/// not support Webex (seed 001), so there is no host change.
/// </summary>
public sealed class WebexClient(ConferencingHttp http, IConferencingTokens tokens, IOptions<ConferencingOptions> options)
    : ConferencingClientBase(http, tokens, options)
{
    public override ConferencingProvider Provider => ConferencingProvider.Webex;

    protected override string MeetingPath(string meetingId) => "meetings/" + Uri.EscapeDataString(meetingId);

    public override async Task<ConferencingMeeting> CreateAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct)
    {
        using var response = await SendAsync(host, HttpMethod.Post, "meetings", Body(spec), safeToRepeat: false, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await RefusedAsync(response, ct);
        }

        return Meeting(await ReadAsync(response, ct)) ?? throw new ConferencingTransientException("Webex answered the create without an id and webLink.");
    }

    public override async Task<ConferencingMeeting?> FindAsync(ConferencingSession host, MeetingSpec spec, CancellationToken ct)
    {
        var path = $"meetings?meetingType=scheduledMeeting&from={Uri.EscapeDataString(Utc.Format(spec.Start - Duration.FromDays(1)))}"
            + $"&to={Uri.EscapeDataString(Utc.Format(spec.End + Duration.FromDays(1)))}";
        using var response = await SendAsync(host, HttpMethod.Get, path, null, safeToRepeat: true, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await RefusedAsync(response, ct);
        }

        var json = await ReadAsync(response, ct);
        foreach (var meeting in json?["items"]?.AsArray() ?? [])
        {
            if (Text(meeting?["agenda"])?.Contains(spec.Marker, StringComparison.Ordinal) == true && Meeting(meeting) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    public override async Task<bool> UpdateTimeAsync(ConferencingSession host, string meetingId, MeetingSpec spec, CancellationToken ct)
    {
        using var response = await SendAsync(host, HttpMethod.Put, MeetingPath(meetingId), Body(spec), safeToRepeat: true, ct);
        return (int)response.StatusCode == 404 ? false : response.IsSuccessStatusCode ? true : throw await RefusedAsync(response, ct);
    }

    public override Task<TransferOutcome> TransferAsync(ConferencingSession currentHost, ConferencingSession newHost, string meetingId, CancellationToken ct) =>
        throw new NotSupportedException("Reassignment does not support Webex meetings.");

    private static JsonObject Body(MeetingSpec spec) => new()
    {
        ["title"] = spec.Topic.Length <= 128 ? spec.Topic : spec.Topic[..128],
        ["agenda"] = $"Booked through Rendezvous. Reference: {spec.Marker}",
        ["start"] = Utc.Format(spec.Start),
        ["end"] = Utc.Format(spec.End),
        ["timezone"] = "UTC",
    };

    private static ConferencingMeeting? Meeting(JsonNode? json) =>
        Text(json?["id"]) is { Length: > 0 } id && Text(json?["webLink"]) is { Length: > 0 } url ? new ConferencingMeeting(id, url) : null;
}

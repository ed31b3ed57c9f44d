using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Domain.Conferencing;
using Rendezvous.Integrations.Conferencing;
using Rendezvous.Server.Features.Conferencing;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Conferencing;

/// <summary>Accounts held in memory, refreshed through the real token client, for testing the API clients on their own.</summary>
internal sealed class MemoryTokens(ConferencingHttp http, ConferencingOptions options) : IConferencingTokens
{
    private readonly Dictionary<(UserId, ConferencingProvider), (string Access, string? Refresh, string? External)> _accounts = [];

    public int Refreshes { get; private set; }

    public UserId Add(ConferencingProvider provider, string access, string? refresh, string? external = null)
    {
        var user = UserId.New();
        _accounts[(user, provider)] = (access, refresh, external);
        return user;
    }

    public string? RefreshTokenOf(UserId user, ConferencingProvider provider) => _accounts[(user, provider)].Refresh;

    public Task<ConferencingSession> OpenAsync(UserId userId, ConferencingProvider provider, CancellationToken ct)
    {
        var a = _accounts[(userId, provider)];
        return Task.FromResult(new ConferencingSession(Guid.NewGuid(), userId, provider, a.Access, a.External));
    }

    public async Task RefreshAsync(ConferencingSession session, CancellationToken ct)
    {
        Refreshes++;
        var a = _accounts[(session.UserId, session.Provider)];
        var refreshed = await http.RefreshAsync(session.Provider, options.For(session.Provider), a.Refresh!, ct)
            ?? throw new ConferencingAuthorizationException("refresh refused");
        _accounts[(session.UserId, session.Provider)] = (refreshed.AccessToken, refreshed.RefreshToken ?? a.Refresh, a.External);
        session.AccessToken = refreshed.AccessToken;
    }

    public Task SaveExternalUserIdAsync(ConferencingSession session, string externalUserId, CancellationToken ct)
    {
        var a = _accounts[(session.UserId, session.Provider)];
        _accounts[(session.UserId, session.Provider)] = (a.Access, a.Refresh, externalUserId);
        session.ExternalUserId = externalUserId;
        return Task.CompletedTask;
    }
}

/// <summary>
/// The Zoom, GoTo Meeting and Webex clients against a local HTTP fake that answers as each vendor's documentation says,
/// including expired tokens, missing meetings, throttling and server failures. Each test names the page it follows.
/// </summary>
public sealed class ConferencingClientTests : IAsyncLifetime
{
    private static readonly Instant Now = Instant.FromUtc(2027, 3, 1, 8, 0);
    private FakeConferencingServer _fake = null!;
    private ConferencingOptions _options = null!;
    private ServiceProvider _services = null!;
    private ConferencingHttp _http = null!;
    private MemoryTokens _tokens = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeConferencingServer.StartAsync();
        _options = new ConferencingOptions
        {
            Zoom = Endpoint(_fake.ZoomApi, _fake.ZoomToken),
            GoToMeeting = Endpoint(_fake.GoToApi, _fake.GoToToken),
            Webex = Endpoint(_fake.WebexApi, _fake.WebexToken),
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryAfter = TimeSpan.FromSeconds(2),
            RequestTimeout = TimeSpan.FromSeconds(5),
        };
        _services = Services(_options);
        _http = _services.GetRequiredService<ConferencingHttp>();
        _tokens = new MemoryTokens(_http, _options);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _fake.DisposeAsync();
    }

    /// <summary>The conferencing HTTP stack as the server registers it (named clients with their pipelines).</summary>
    internal static ServiceProvider Services(ConferencingOptions options)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(new FakeClock(Now));
        services.AddSingleton(Options.Create(options));
        services.AddConferencingHttp();
        return services.BuildServiceProvider();
    }

    private static ConferencingEndpoint Endpoint(string api, string token) => new()
    {
        ApiBaseUrl = api,
        TokenUrl = token,
        ClientId = FakeConferencingServer.ClientId,
        ClientSecret = FakeConferencingServer.ClientSecret,
    };

    private static MeetingSpec Spec(string marker = "rdv:0123456789abcdef") =>
        new("Intro call with Grace Hopper", marker, Instant.FromUtc(2027, 3, 15, 14, 0), Instant.FromUtc(2027, 3, 15, 14, 30));

    private ZoomClient Zoom() => new(_http, _tokens, Options.Create(_options));

    private GoToMeetingClient GoTo() => new(_http, _tokens, Options.Create(_options));

    private WebexClient Webex() => new(_http, _tokens, Options.Create(_options));

    private async Task<(ConferencingSession Session, string Access, string Refresh)> AccountAsync(ConferencingProvider provider, string fakeProvider, string user)
    {
        var (access, refresh) = _fake.Issue(fakeProvider, user);
        var id = _tokens.Add(provider, access, refresh);
        return (await _tokens.OpenAsync(id, provider, default), access, refresh);
    }

    // Zoom: "Create a meeting", POST /users/{userId}/meetings (developers.zoom.us/docs/api/meetings/#tag/meetings/POST/users/{userId}/meetings).
    [Fact]
    public async Task Zoom_create_posts_a_scheduled_meeting_that_carries_the_marker()
    {
        var (host, _, _) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "ada@acme.example");
        var meeting = await Zoom().CreateAsync(host, Spec(), default);

        var stored = _fake.Meetings[meeting.MeetingId];
        meeting.JoinUrl.ShouldBe(stored.JoinUrl);
        (stored.Host, stored.Topic, stored.Start, stored.Duration).ShouldBe(("ada@acme.example", "Intro call with Grace Hopper", "2027-03-15T14:00:00Z", 30));
        stored.Agenda.ShouldContain("rdv:0123456789abcdef");
        _fake.RequestsOf("zoom").ShouldHaveSingleItem().Body.ShouldContain("\"type\":2");
    }

    // Zoom: 401 code 124 "Invalid access token" for an expired token; "Refreshing an access token" with HTTP Basic client
    // credentials and grant_type=refresh_token; the answer rotates the refresh token (developers.zoom.us/docs/integrations/oauth/).
    [Fact]
    public async Task Zoom_expired_token_is_refreshed_once_and_the_call_repeated()
    {
        var (host, access, refresh) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "ada@acme.example");
        _fake.Expire(access);

        var meeting = await Zoom().CreateAsync(host, Spec(), default);

        _fake.MeetingsOf("zoom", "ada@acme.example").ShouldHaveSingleItem().Id.ShouldBe(meeting.MeetingId);
        _tokens.Refreshes.ShouldBe(1);
        host.AccessToken.ShouldNotBe(access);
        _tokens.RefreshTokenOf(host.UserId, ConferencingProvider.Zoom).ShouldNotBe(refresh);
        _fake.Requests.Select(r => (r.Method, r.Status)).ShouldBe([("POST", 401), ("POST", 200), ("POST", 201)]);
    }

    // Zoom OAuth: a refresh token that is no longer valid is answered 400 {"error":"invalid_grant"}: the user must authorize again.
    [Fact]
    public async Task Zoom_refused_refresh_asks_for_a_reconnect_and_makes_no_meeting()
    {
        var (host, access, refresh) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "ada@acme.example");
        _fake.Expire(access);
        _fake.Revoke(refresh);

        await Should.ThrowAsync<ConferencingAuthorizationException>(() => Zoom().CreateAsync(host, Spec(), default));
        _fake.Meetings.ShouldBeEmpty();
    }

    // Zoom rate limits (developers.zoom.us/docs/api/rest/rate-limits/): 429, with Retry-After saying when to try again.
    [Fact]
    public async Task Zoom_throttling_with_a_short_retry_after_is_waited_out()
    {
        var (host, _, _) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "ada@acme.example");
        _fake.Fail(new FakeFault("zoom", "POST", "/meetings", 429, RetryAfter: "1"));

        var started = System.Diagnostics.Stopwatch.StartNew();
        await Zoom().CreateAsync(host, Spec(), default);

        started.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(900));
        _fake.RequestsOf("zoom").Select(r => r.Status).ShouldBe([429, 201]);
        _fake.Meetings.Count.ShouldBe(1);
    }

    // Zoom rate limits: a daily limit answers 429 with Retry-After as an ISO-8601 time (the next day, 00:00 GMT).
    [Fact]
    public async Task Zoom_daily_limit_goes_back_to_the_outbox_with_the_time_to_retry()
    {
        var (host, _, _) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "ada@acme.example");
        _fake.Fail(new FakeFault("zoom", "POST", "/meetings", 429, RetryAfter: "2027-03-02T00:00:00Z"));

        var ex = await Should.ThrowAsync<ConferencingThrottledException>(() => Zoom().CreateAsync(host, Spec(), default));
        ex.RetryAt.ShouldBe(Instant.FromUtc(2027, 3, 2, 0, 0));
        _fake.Meetings.ShouldBeEmpty();
    }

    // Zoom "Update a meeting" (PATCH /meetings/{meetingId}, 204) is safe to repeat after a 5xx; "Create a meeting" is not: a
    // meeting made before an answer was lost is found in "List meetings" (GET /users/{userId}/meetings?type=upcoming) by its agenda.
    [Fact]
    public async Task Zoom_server_failures_repeat_an_update_but_never_a_create_and_a_lost_create_is_found()
    {
        var (host, _, _) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "ada@acme.example");
        _fake.Fail(new FakeFault("zoom", "POST", "/users/me/meetings", 502, ProcessFirst: true));

        await Should.ThrowAsync<ConferencingTransientException>(() => Zoom().CreateAsync(host, Spec(), default));
        var made = _fake.MeetingsOf("zoom", "ada@acme.example").ShouldHaveSingleItem();
        (await Zoom().FindAsync(host, Spec(), default)).ShouldBe(new ConferencingMeeting(made.Id, made.JoinUrl));
        (await Zoom().FindAsync(host, Spec("rdv:another"), default)).ShouldBeNull();

        _fake.Fail(new FakeFault("zoom", "PATCH", "/meetings/", 503));
        (await Zoom().UpdateTimeAsync(host, made.Id, Spec() with { Start = Instant.FromUtc(2027, 3, 16, 9, 0), End = Instant.FromUtc(2027, 3, 16, 10, 0) }, default))
            .ShouldBeTrue();
        (made.Start, made.Duration).ShouldBe(("2027-03-16T09:00:00Z", 60));
        _fake.RequestsOf("zoom").Where(r => r.Method == "PATCH").Select(r => r.Status).ShouldBe([503, 204]);
    }

    // Zoom "Delete a meeting" (DELETE /meetings/{meetingId}): 204, or 404 code 3001 "Meeting does not exist".
    [Fact]
    public async Task Zoom_delete_of_a_meeting_that_is_gone_counts_as_deleted_and_an_update_reports_it_gone()
    {
        var (host, _, _) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "ada@acme.example");
        var meeting = await Zoom().CreateAsync(host, Spec(), default);
        await Zoom().DeleteAsync(host, meeting.MeetingId, default);
        await Zoom().DeleteAsync(host, meeting.MeetingId, default);
        (await Zoom().UpdateTimeAsync(host, meeting.MeetingId, Spec(), default)).ShouldBeFalse();
        _fake.RequestsOf("zoom").Select(r => (r.Method, r.Status)).ShouldBe([("POST", 201), ("DELETE", 204), ("DELETE", 404), ("PATCH", 404)]);
    }

    // Zoom "Update a meeting" with schedule_for (the new host's user id, from GET /users/me): 204 with scheduling privilege,
    // else 400 code 3000 "You cannot schedule a meeting for ...".
    [Fact]
    public async Task Zoom_host_change_uses_schedule_for_and_needs_scheduling_privilege()
    {
        var (ada, _, _) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "ada@acme.example");
        var (bob, _, _) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "bob@acme.example");
        var meeting = await Zoom().CreateAsync(ada, Spec(), default);

        (await Zoom().TransferAsync(ada, bob, meeting.MeetingId, default)).ShouldBe(TransferOutcome.MustRecreate);
        _fake.Meetings[meeting.MeetingId].Host.ShouldBe("ada@acme.example");
        bob.ExternalUserId.ShouldBe(FakeConferencingServer.ZoomUserId("bob@acme.example"));

        _fake.GrantSchedulingPrivilege("ada@acme.example", "bob@acme.example");
        (await Zoom().TransferAsync(ada, bob, meeting.MeetingId, default)).ShouldBe(TransferOutcome.Moved);
        _fake.Meetings[meeting.MeetingId].Host.ShouldBe("bob@acme.example");
        _fake.Meetings[meeting.MeetingId].JoinUrl.ShouldBe(meeting.JoinUrl);
        _fake.RequestsOf("zoom").Count(r => r.PathAndQuery.EndsWith("/users/me", StringComparison.Ordinal)).ShouldBe(1);

        await Zoom().DeleteAsync(bob, meeting.MeetingId, default);
        (await Zoom().TransferAsync(bob, ada, meeting.MeetingId, default)).ShouldBe(TransferOutcome.Gone);
    }

    // GoTo Meeting REST API v2 (developer.goto.com, GoTo Meeting API reference): "Create meeting" POST /meetings answers 201 with
    // an array (joinURL, meetingid); "Get upcoming meetings" GET /upcomingMeetings (204 when there are none); "Update meeting"
    // PUT /meetings/{meetingId} and "Delete meeting" DELETE /meetings/{meetingId} answer 204, and 404 once it is gone.
    [Fact]
    public async Task GoTo_meetings_are_created_found_moved_and_deleted()
    {
        var (host, _, _) = await AccountAsync(ConferencingProvider.GoToMeeting, "goto", "ada@acme.example");
        (await GoTo().FindAsync(host, Spec(), default)).ShouldBeNull();

        var meeting = await GoTo().CreateAsync(host, Spec(), default);
        meeting.JoinUrl.ShouldBe($"https://global.gotomeeting.com/join/{meeting.MeetingId}");
        var stored = _fake.Meetings[meeting.MeetingId];
        stored.Topic.ShouldBe("Intro call with Grace Hopper (rdv:0123456789abcdef)");
        (stored.Start, stored.End).ShouldBe(("2027-03-15T14:00:00Z", "2027-03-15T14:30:00Z"));
        (await GoTo().FindAsync(host, Spec(), default)).ShouldBe(meeting);

        (await GoTo().UpdateTimeAsync(host, meeting.MeetingId, Spec() with { Start = Instant.FromUtc(2027, 3, 15, 15, 0), End = Instant.FromUtc(2027, 3, 15, 15, 30) }, default))
            .ShouldBeTrue();
        stored.Start.ShouldBe("2027-03-15T15:00:00Z");

        _fake.Fail(new FakeFault("goto", "DELETE", "/meetings/", 500));
        await GoTo().DeleteAsync(host, meeting.MeetingId, default);
        stored.Deleted.ShouldBeTrue();
        (await GoTo().UpdateTimeAsync(host, meeting.MeetingId, Spec(), default)).ShouldBeFalse();
        _fake.RequestsOf("goto").Where(r => r.Method == "DELETE").Select(r => r.Status).ShouldBe([500, 204]);
    }

    // GoTo: an expired token is answered 401 (InvalidToken); tokens are refreshed at the GoTo authentication service with
    // HTTP Basic client credentials and grant_type=refresh_token. The API has no call that changes a meeting's organizer.
    [Fact]
    public async Task GoTo_refreshes_an_expired_token_and_moves_ownership_by_recreating()
    {
        var (ada, access, _) = await AccountAsync(ConferencingProvider.GoToMeeting, "goto", "ada@acme.example");
        var (bob, _, _) = await AccountAsync(ConferencingProvider.GoToMeeting, "goto", "bob@acme.example");
        _fake.Expire(access);

        var meeting = await GoTo().CreateAsync(ada, Spec(), default);
        _tokens.Refreshes.ShouldBe(1);
        _fake.Meetings[meeting.MeetingId].Host.ShouldBe("ada@acme.example");
        (await GoTo().TransferAsync(ada, bob, meeting.MeetingId, default)).ShouldBe(TransferOutcome.MustRecreate);
        _fake.RequestsOf("goto").Select(r => r.Status).ShouldBe([401, 200, 201]);
    }

    // Webex Meetings API (developer.webex.com/docs/api/v1/meetings): "Create a Meeting" POST /meetings answers 200 with id and
    // webLink; "Delete a Meeting" 204 (404 when gone). Tokens are refreshed at /v1/access_token with client_id and client_secret
    // in the form (developer.webex.com/docs/integrations); 429 carries Retry-After in seconds.
    [Fact]
    public async Task Webex_meetings_are_created_after_refresh_and_throttling_and_deleted()
    {
        var (host, access, _) = await AccountAsync(ConferencingProvider.Webex, "webex", "ada@acme.example");
        _fake.Expire(access);
        _fake.Fail(new FakeFault("webex", "POST", "/v1/meetings", 429, RetryAfter: "1"));

        var meeting = await Webex().CreateAsync(host, Spec(), default);
        meeting.JoinUrl.ShouldBe($"https://example.webex.com/meet/{meeting.MeetingId}");
        _fake.Meetings[meeting.MeetingId].Agenda.ShouldContain("rdv:0123456789abcdef");
        (await Webex().FindAsync(host, Spec(), default)).ShouldBe(meeting);
        _tokens.Refreshes.ShouldBe(1);

        await Webex().DeleteAsync(host, meeting.MeetingId, default);
        await Webex().DeleteAsync(host, meeting.MeetingId, default);
        _fake.RequestsOf("webex").Select(r => (r.Method, r.Status)).ShouldBe(
            [("POST", 429), ("POST", 401), ("POST", 200), ("POST", 200), ("GET", 200), ("DELETE", 204), ("DELETE", 404)]);
        await Should.ThrowAsync<NotSupportedException>(() => Webex().TransferAsync(host, host, meeting.MeetingId, default));
    }

    // The same client handles a service that stays down: a repeatable call is tried MaxAttempts times, then handed back.
    [Fact]
    public async Task A_service_that_stays_down_is_tried_a_bounded_number_of_times()
    {
        var (host, _, _) = await AccountAsync(ConferencingProvider.Zoom, "zoom", "ada@acme.example");
        for (var i = 0; i < 10; i++)
        {
            _fake.Fail(new FakeFault("zoom", "DELETE", "/meetings/", 500));
        }

        await Should.ThrowAsync<ConferencingTransientException>(() => Zoom().DeleteAsync(host, "123", default));
        _fake.RequestsOf("zoom").Count.ShouldBe(_options.MaxAttempts);
    }
}

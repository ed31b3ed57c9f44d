using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Rendezvous.Domain;
using Rendezvous.Domain.Conferencing;
using Rendezvous.Integrations;
using Rendezvous.Integrations.Conferencing;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Conferencing;

/// <summary>
/// The resilience pipeline every vendor client sends through (here the conferencing stack, against the local fake):
/// what is retried, what is waited for, and when the circuit opens.
/// </summary>
public sealed class OutboundResilienceTests : IAsyncLifetime
{
    private static readonly Instant Now = Instant.FromUtc(2027, 3, 1, 8, 0);
    private FakeConferencingServer _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeConferencingServer.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private ConferencingOptions Options(Action<ConferencingOptions>? change = null)
    {
        var options = new ConferencingOptions
        {
            Zoom = new ConferencingEndpoint
            {
                ApiBaseUrl = _fake.ZoomApi,
                TokenUrl = _fake.ZoomToken,
                ClientId = FakeConferencingServer.ClientId,
                ClientSecret = FakeConferencingServer.ClientSecret,
            },
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryAfter = TimeSpan.FromSeconds(2),
            RequestTimeout = TimeSpan.FromSeconds(5),
        };
        change?.Invoke(options);
        return options;
    }

    private static ServiceProvider Services(ConferencingOptions options, Func<DelegatingHandler>? extra = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IClock>(new FakeClock(Now));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        services.AddConferencingHttp();
        if (extra is not null)
        {
            // The hook tests use to put a misbehaving handler under a vendor client, inside its pipeline.
            services.AddHttpClient(ConferencingHttp.ClientName(ConferencingProvider.Zoom)).AddHttpMessageHandler(extra);
        }

        return services.BuildServiceProvider();
    }

    private async Task<ConferencingSession> SessionAsync()
    {
        var (access, _) = _fake.Issue("zoom", "ada@acme.example");
        return new ConferencingSession(Guid.NewGuid(), UserId.New(), ConferencingProvider.Zoom, access, null);
    }

    private static Func<HttpRequestMessage> Get(string url) => () => new HttpRequestMessage(HttpMethod.Get, url);

    // RFC 9110 §10.2.3: Retry-After in delta-seconds; Zoom's rate-limit page says to wait for it before trying again.
    [Fact]
    public async Task A_429_with_Retry_After_is_waited_for_and_the_same_call_retried()
    {
        await using var services = Services(Options());
        var http = services.GetRequiredService<ConferencingHttp>();
        var session = await SessionAsync();
        _fake.Fail(new FakeFault("zoom", "GET", "/users/me/meetings", 429, RetryAfter: "1"));

        using var response = await http.SendAsync(session, new NoRefresh(), Get(_fake.ZoomApi + "users/me/meetings"), safeToRepeat: true, default);

        response.IsSuccessStatusCode.ShouldBeTrue();
        _fake.RequestsOf("zoom").Select(r => (r.Method, r.Status)).ShouldBe([("GET", 429), ("GET", 200)]);
    }

    [Fact]
    public async Task A_Retry_After_longer_than_the_limit_goes_back_to_the_caller_as_throttling()
    {
        await using var services = Services(Options());
        var http = services.GetRequiredService<ConferencingHttp>();
        var session = await SessionAsync();
        _fake.Fail(new FakeFault("zoom", "GET", "/users/me/meetings", 429, RetryAfter: "120"));

        var ex = await Should.ThrowAsync<ConferencingThrottledException>(
            () => http.SendAsync(session, new NoRefresh(), Get(_fake.ZoomApi + "users/me/meetings"), safeToRepeat: true, default));

        ex.Message.ShouldContain("throttling");
        _fake.RequestsOf("zoom").Count.ShouldBe(1);
    }

    // A create whose answer timed out may have created the meeting: sending it again could make a second one.
    [Fact]
    public async Task A_POST_without_an_idempotency_key_is_not_retried_after_a_timeout()
    {
        var hang = new HangingHandler();
        await using var services = Services(Options(o => o.RequestTimeout = TimeSpan.FromMilliseconds(200)), () => hang);
        var http = services.GetRequiredService<ConferencingHttp>();
        var session = await SessionAsync();

        var ex = await Should.ThrowAsync<ConferencingTransientException>(() => http.SendAsync(session, new NoRefresh(),
            () => new HttpRequestMessage(HttpMethod.Post, _fake.ZoomApi + "users/me/meetings") { Content = new StringContent("{}") },
            safeToRepeat: false, default));

        ex.InnerException.ShouldBeOfType<TimeoutRejectedException>();
        hang.Requests.ShouldBe(1);
    }

    [Fact]
    public async Task A_read_that_times_out_is_retried_up_to_the_attempt_limit()
    {
        var hang = new HangingHandler();
        var options = Options(o => o.RequestTimeout = TimeSpan.FromMilliseconds(200));
        await using var services = Services(options, () => hang);
        var http = services.GetRequiredService<ConferencingHttp>();
        var session = await SessionAsync();

        await Should.ThrowAsync<ConferencingTransientException>(
            () => http.SendAsync(session, new NoRefresh(), Get(_fake.ZoomApi + "users/me/meetings"), safeToRepeat: true, default));

        hang.Requests.ShouldBe(options.MaxAttempts);
    }

    [Fact]
    public async Task Repeated_server_failures_open_the_circuit_and_later_calls_fail_without_reaching_the_service()
    {
        var options = Options(o => o.CircuitBreaker = new CircuitBreakerSettings
        {
            FailureRatio = 0.5,
            MinimumThroughput = 3,
            SamplingDuration = TimeSpan.FromMinutes(1),
            BreakDuration = TimeSpan.FromMinutes(5),
        });
        await using var services = Services(options);
        var http = services.GetRequiredService<ConferencingHttp>();
        var session = await SessionAsync();
        for (var i = 0; i < 10; i++)
        {
            _fake.Fail(new FakeFault("zoom", "GET", "/users/me/meetings", 503));
        }

        var first = await Should.ThrowAsync<ConferencingTransientException>(
            () => http.SendAsync(session, new NoRefresh(), Get(_fake.ZoomApi + "users/me/meetings"), safeToRepeat: true, default));
        var second = await Should.ThrowAsync<ConferencingTransientException>(
            () => http.SendAsync(session, new NoRefresh(), Get(_fake.ZoomApi + "users/me/meetings"), safeToRepeat: true, default));

        first.InnerException.ShouldBeOfType<BrokenCircuitException>();
        second.InnerException.ShouldBeOfType<BrokenCircuitException>();
        second.Message.ShouldContain("circuit open");
        _fake.RequestsOf("zoom").Select(r => r.Status).ShouldBe([503, 503, 503]);
    }

    private sealed class NoRefresh : IConferencingTokens
    {
        public Task<ConferencingSession> OpenAsync(UserId userId, ConferencingProvider provider, CancellationToken ct) => throw new NotSupportedException();

        public Task RefreshAsync(ConferencingSession session, CancellationToken ct) => throw new InvalidOperationException("no refresh expected");

        public Task SaveExternalUserIdAsync(ConferencingSession session, string externalUserId, CancellationToken ct) => Task.CompletedTask;
    }

    /// <summary>A service that accepts the request and never answers.</summary>
    private sealed class HangingHandler : DelegatingHandler
    {
        private int _requests;

        public int Requests => _requests;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}

using System.Globalization;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using NodaTime;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Rendezvous.Integrations;

/// <summary>Which failures of one request the pipeline may answer by sending it again.</summary>
public enum RetryScope
{
    /// <summary>Never sent twice: a write whose effect could already have happened when its answer was lost.</summary>
    None,

    /// <summary>Sent again only after a 429, which says the service did nothing with it.</summary>
    ThrottlingOnly,

    /// <summary>Safe to repeat (a read, a PUT, a write carrying an idempotency key): also after network failures, timeouts and 5xx.</summary>
    Transient,
}

/// <summary>When one provider's circuit opens, and for how long (bound under <c>CircuitBreaker</c> of its settings).</summary>
public sealed class CircuitBreakerSettings
{
    /// <summary>The share of failed attempts (network failures, timeouts, 408, 5xx) within the window that opens the circuit.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>The attempts the window must hold before the ratio counts, so a few failures on a quiet day open nothing.</summary>
    public int MinimumThroughput { get; set; } = 10;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long calls fail at once, without reaching the provider, before one is let through to probe it.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The numbers that shape one provider's pipeline, whatever its settings class calls them.</summary>
public sealed record ResilienceSettings(
    TimeSpan AttemptTimeout,
    TimeSpan TotalTimeout,
    int MaxRetries,
    TimeSpan RetryBaseDelay,
    TimeSpan MaxRetryAfter,
    CircuitBreakerSettings CircuitBreaker);

/// <summary>
/// Outbound HTTP to vendors goes through <see cref="IHttpClientFactory"/> named clients, one per provider, each with a
/// Microsoft.Extensions.Http.Resilience pipeline: a total timeout, then retries (exponential backoff with jitter, or the
/// wait the provider's Retry-After asks for), then a circuit breaker, then a timeout per attempt. Whether a request may be
/// sent again is the caller's to say (<see cref="WithRetryScope"/>): the pipeline cannot know whether a POST created
/// something before its answer was lost. Redirects are never followed (credentials must not travel to another host).
/// </summary>
public static class ResilientHttp
{
    private static readonly HttpRequestOptionsKey<RetryScope> ScopeKey = new("Rendezvous.RetryScope");

    /// <summary>Marks which failures of <paramref name="request"/> may be retried; an unmarked request is never retried.</summary>
    public static HttpRequestMessage WithRetryScope(this HttpRequestMessage request, RetryScope scope)
    {
        request.Options.Set(ScopeKey, scope);
        return request;
    }

    /// <summary>
    /// Registers the named client <paramref name="name"/> with its pipeline. <paramref name="settings"/> is read when the
    /// pipeline is built (once per name), from the provider's bound options. Tests add handlers to the returned builder.
    /// </summary>
    public static IHttpClientBuilder AddResilientClient(this IServiceCollection services, string name, Func<IServiceProvider, ResilienceSettings> settings)
    {
        var builder = services.AddHttpClient(name, client =>
            {
                // The pipeline's timeouts govern; HttpClient's own would cut a retrying request short with a vaguer error.
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Rendezvous/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            });
        builder.AddResilienceHandler(name, (pipeline, context) =>
            {
                var s = settings(context.ServiceProvider);
                var clock = context.ServiceProvider.GetRequiredService<IClock>();
                pipeline
                    .AddTimeout(s.TotalTimeout)
                    .AddRetry(Retry(s, clock))
                    .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                    {
                        FailureRatio = s.CircuitBreaker.FailureRatio,
                        MinimumThroughput = s.CircuitBreaker.MinimumThroughput,
                        SamplingDuration = s.CircuitBreaker.SamplingDuration,
                        BreakDuration = s.CircuitBreaker.BreakDuration,
                        // A 429 is the provider pacing us, not failing: it must not cut every other call off.
                        ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome)),
                    })
                    .AddTimeout(s.AttemptTimeout);
            });
        return builder;
    }

    /// <summary>True for what the pipeline gives up with (its timeouts, an open circuit) or the network raises: no answer came.</summary>
    public static bool IsNoAnswer(Exception ex, CancellationToken callerToken) =>
        ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
        || (ex is OperationCanceledException && !callerToken.IsCancellationRequested);

    /// <summary>Words for an administrator about <paramref name="ex"/>, one of <see cref="IsNoAnswer"/>'s.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        BrokenCircuitException => "calls are paused after repeated failures (circuit open)",
        TimeoutRejectedException t => $"no answer within {t.Timeout.TotalSeconds:0.#} s",
        _ => ex.Message,
    };

    /// <summary>
    /// How long the provider asked us to wait: Retry-After as delta-seconds, as an HTTP date, or as the ISO-8601 time Zoom
    /// sends for daily limits. Dates are measured against <paramref name="now"/>.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, Instant now)
    {
        var at = now.ToDateTimeOffset();
        if (response.Headers.RetryAfter is { } typed)
        {
            if (typed.Delta is { } delta)
            {
                return delta;
            }

            if (typed.Date is { } date)
            {
                return date > at ? date - at : TimeSpan.Zero;
            }
        }

        if (response.Headers.NonValidated.TryGetValues("Retry-After", out var values))
        {
            foreach (var value in values)
            {
                if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                {
                    return TimeSpan.FromSeconds(seconds);
                }

                if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when))
                {
                    return when > at ? when - at : TimeSpan.Zero;
                }
            }
        }

        return null;
    }

    private static RetryStrategyOptions<HttpResponseMessage> Retry(ResilienceSettings s, IClock clock) => new()
    {
        // Polly wants at least one; with none configured ShouldHandle refuses every retry instead.
        MaxRetryAttempts = Math.Max(s.MaxRetries, 1),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = s.RetryBaseDelay,
        ShouldHandle = args =>
        {
            if (s.MaxRetries <= 0)
            {
                return ValueTask.FromResult(false);
            }

            var scope = args.Context.GetRequestMessage() is { } request && request.Options.TryGetValue(ScopeKey, out var marked) ? marked : RetryScope.None;
            if (args.Outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } throttled)
            {
                // A wait longer than we are willing to hold a worker for goes back to the caller, who queues the work.
                var asked = RetryAfter(throttled, clock.GetCurrentInstant());
                return ValueTask.FromResult(scope != RetryScope.None && (asked is null || asked <= s.MaxRetryAfter));
            }

            return ValueTask.FromResult(scope == RetryScope.Transient && IsFailure(args.Outcome));
        },
        DelayGenerator = args => ValueTask.FromResult(
            args.Outcome.Result is { } response && RetryAfter(response, clock.GetCurrentInstant()) is { } asked ? (TimeSpan?)asked : null),
    };

    private static bool IsFailure(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => (int)response.StatusCode is 408 or >= 500,
        _ => false,
    };
}

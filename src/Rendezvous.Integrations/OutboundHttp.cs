using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Rendezvous.Integrations;

/// <summary>Timeouts and retries for calls to one provider (bound from <c>Rendezvous:&lt;Provider&gt;</c>).</summary>
public class OutboundHttpOptions
{
    /// <summary>How long one request may take, answer included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Further attempts after a failure that may pass (idempotent requests only).</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The first wait between attempts; it doubles each time, with up to 25% jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A Retry-After longer than this is not waited out in-process: the work goes back to its queue instead.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>An answer from a provider, read in full.</summary>
public sealed record HttpAnswer(HttpStatusCode Status, string Body, HttpResponseHeaders Headers)
{
    public int Code => (int)Status;

    public bool IsSuccess => Code is >= 200 and < 300;

    /// <summary>The provider's Retry-After as a wait (delta-seconds form; a date form is not trusted against our clock).</summary>
    public TimeSpan? RetryAfter => Headers.RetryAfter?.Delta
        ?? (Headers.TryGetValues("Retry-After", out var values)
            && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds) : null);
}

/// <summary>
/// One connection pool for all calls to CRMs and payment providers. Redirects are never followed (credentials must not
/// travel to another host). <see cref="SendAsync"/> gives every attempt a hard timeout, and retries idempotent requests
/// on network failures, timeouts, 408, 429 and 5xx a bounded number of times with exponential backoff and jitter,
/// honouring a short Retry-After. Whatever is still failing afterwards is the caller's to classify.
/// </summary>
public sealed class OutboundHttp : IDisposable
{
    private readonly HttpClient _client;

    public OutboundHttp()
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        };
        _client = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("Rendezvous/1.0");
    }

    /// <summary>
    /// Sends the request <paramref name="build"/> makes (called again for each attempt). Retries only when
    /// <paramref name="idempotent"/>. Throws <see cref="IntegrationException"/> (Transient) when no answer came at all.
    /// </summary>
    public async Task<HttpAnswer> SendAsync(string provider, Func<HttpRequestMessage> build, bool idempotent, OutboundHttpOptions options,
        CancellationToken cancellationToken)
    {
        var attempt = 0;
        while (true)
        {
            attempt++;
            var mayRetry = idempotent && attempt <= options.MaxRetries;
            HttpAnswer? answer = null;
            Exception? failure = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(options.Timeout);
                try
                {
                    using var request = build();
                    using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
                    var body = await response.Content.ReadAsStringAsync(timeout.Token);
                    answer = new HttpAnswer(response.StatusCode, body, response.Headers);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = new IntegrationException(provider, IntegrationFailureKind.Transient,
                        $"{provider} did not answer within {options.Timeout.TotalSeconds:0.#} s", inner: ex);
                }
                catch (HttpRequestException ex)
                {
                    failure = new IntegrationException(provider, IntegrationFailureKind.Transient,
                        $"{provider} could not be reached: {ex.Message}", inner: ex);
                }
            }

            if (answer is not null && !IsRetryable(answer.Code))
            {
                return answer;
            }

            var wait = Backoff(options, attempt);
            if (answer?.RetryAfter is { } asked)
            {
                if (asked > options.MaxRetryAfter)
                {
                    return answer;
                }

                wait = asked > wait ? asked : wait;
            }

            if (!mayRetry)
            {
                return answer ?? throw failure!;
            }

            await Task.Delay(wait, cancellationToken);
        }
    }

    public void Dispose() => _client.Dispose();

    private static bool IsRetryable(int status) => status is 408 or 429 or 500 or 502 or 503 or 504;

    private static TimeSpan Backoff(OutboundHttpOptions options, int attempt)
    {
        var baseDelay = options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1);
#pragma warning disable CA5394 // Jitter needs no cryptographic randomness.
        var jitter = 1 + (Random.Shared.NextDouble() * 0.25);
#pragma warning restore CA5394
        return TimeSpan.FromMilliseconds(baseDelay * jitter);
    }
}

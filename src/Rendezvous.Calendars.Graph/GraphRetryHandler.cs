using System.Net;

namespace Rendezvous.Calendars.Graph;

/// <summary>
/// Under every Graph call: a timeout per attempt, and bounded retries with jitter for throttling (429), unavailability
/// (503, 504), other server errors and network failures. A Retry-After from the service is honoured as given
/// (https://learn.microsoft.com/en-us/graph/throttling); without one the backoff doubles from
/// <see cref="GraphOptions.RetryBaseDelay"/> with full jitter. Requests are cloned for each attempt, so POSTs are safe to
/// resend: every create we send carries a transactionId, which makes a repeated create return the first event.
/// It replaces the Graph SDK's own retry handler, which has neither jitter nor a per-attempt timeout. A 401 is answered
/// once by refreshing the access token (<paramref name="tokens"/>, forced) and sending the same bytes again: access tokens
/// can be revoked before their expiry.
/// </summary>
public sealed class GraphRetryHandler(GraphOptions options, IGraphTokenSource? tokens = null) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var refreshed = false;
        for (var attempt = 0; ; attempt++)
        {
            using var attemptRequest = Clone(request, body);
            if (refreshed)
            {
                attemptRequest.Headers.Authorization = request.Headers.Authorization;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.RequestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(attemptRequest, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt >= options.MaxRetries)
                {
                    throw new TimeoutException($"Microsoft Graph did not answer {request.Method} {request.RequestUri?.AbsolutePath} within {options.RequestTimeout.TotalSeconds:0.#} s.");
                }

                await Task.Delay(Backoff(attempt), cancellationToken);
                continue;
            }
            catch (HttpRequestException) when (attempt < options.MaxRetries)
            {
                await Task.Delay(Backoff(attempt), cancellationToken);
                continue;
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && !refreshed && tokens is not null
                && request.Headers.Authorization is { Scheme: "Bearer" }
                && request.RequestUri?.Host == options.GraphBaseUrl.Host && request.RequestUri.Port == options.GraphBaseUrl.Port)
            {
                // The token was refused before its time (revoked sessions, policy changes): refresh once and send again.
                response.Dispose();
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
                    await tokens.GetAccessTokenAsync(forceRefresh: true, cancellationToken));
                refreshed = true;
                attempt--;
                continue;
            }

            if (!IsRetryable(response.StatusCode) || attempt >= options.MaxRetries)
            {
                return response;
            }

            var retryAfter = RetryAfter(response);
            if (retryAfter > options.MaxRetryDelay)
            {
                // Waiting that long inside one call would hold a worker; the caller's backoff deals with it.
                return response;
            }

            response.Dispose();
            await Task.Delay(retryAfter ?? Backoff(attempt), cancellationToken);
        }
    }

    private static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout
            or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway;

    /// <summary>The wait the service asked for: seconds, or an HTTP date measured against the response's own Date.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is not { } header)
        {
            return null;
        }

        if (header.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header.Date is { } date && response.Headers.Date is { } now)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(options.MaxRetryDelay.TotalMilliseconds, options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt));
        // Full jitter: many connections throttled at once do not come back in step.
#pragma warning disable CA5394 // Not for security: spreading retries only.
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
#pragma warning restore CA5394
    }

    private static HttpRequestMessage Clone(HttpRequestMessage request, byte[]? body)
    {
        var clone = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var header in request.Headers)
        {
            clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        foreach (var option in request.Options)
        {
            clone.Options.Set(new HttpRequestOptionsKey<object?>(option.Key), option.Value);
        }

        if (body is not null)
        {
            clone.Content = new ByteArrayContent(body);
            foreach (var header in request.Content!.Headers)
            {
                clone.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return clone;
    }
}

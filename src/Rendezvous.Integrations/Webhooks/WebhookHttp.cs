using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;

namespace Rendezvous.Integrations.Webhooks;

/// <summary>What one request came to.</summary>
public sealed record WebhookAttemptOutcome(int? StatusCode, string? ResponseExcerpt, string? Error, TimeSpan Duration)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;

    public bool Gone => StatusCode == (int)HttpStatusCode.Gone;

    /// <summary>A one-line summary for the delivery: the error, or the status when the receiver refused.</summary>
    public string? Summary => Succeeded ? null : Error ?? $"HTTP {StatusCode}";
}

/// <summary>
/// Sends webhook requests through the <see cref="ClientName"/> IHttpClientFactory client. Redirects are not followed (the
/// receiver's URL is the one the administrator chose, and a redirect could point anywhere); every request has a hard
/// timeout that also covers reading the start of the answer. Nothing is retried here: a failed delivery is tried again
/// on the dispatcher's durable schedule (WebhookRetrySchedule), which spans a day and survives restarts.
/// </summary>
public sealed class WebhookHttp
{
    public const string ClientName = "webhooks";

    public const string UserAgent = "Rendezvous-Webhooks/1.0";

    /// <summary>How much of an answer's body is kept for the delivery log.</summary>
    public const int ExcerptBytes = 512;

    private const int MaxErrorLength = 500;

    private readonly IHttpClientFactory _factory;
    private readonly TimeSpan _timeout;

    public WebhookHttp(IHttpClientFactory factory, IOptions<WebhookOptions> options)
    {
        _factory = factory;
        _timeout = options.Value.Timeout;
    }

    /// <summary>Registers <see cref="WebhookHttp"/> and its client.</summary>
    public static void AddTo(IServiceCollection services)
    {
        services.AddHttpClient(ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = sp.GetRequiredService<IOptions<WebhookOptions>>().Value.Timeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });
        services.AddSingleton<WebhookHttp>();
    }

    public async Task<WebhookAttemptOutcome> SendAsync(string url, string eventId, string eventType, string body, string signature,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.UserAgent.ParseAdd(UserAgent);
            request.Headers.Accept.ParseAdd("*/*");
            request.Headers.TryAddWithoutValidation("Rendezvous-Event-Id", eventId);
            request.Headers.TryAddWithoutValidation("Rendezvous-Event-Type", eventType);
            request.Headers.TryAddWithoutValidation("Rendezvous-Signature", signature);

            using var response = await _factory.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var excerpt = await ReadExcerptAsync(response.Content, timeout.Token);
            string? error = null;
            if (status is >= 300 and < 400)
            {
                error = response.Headers.Location is { } location
                    ? Truncate($"Redirects are not followed (Location: {location})")
                    : "Redirects are not followed";
            }

            return new WebhookAttemptOutcome(status, excerpt, error, Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttemptOutcome(null, null, $"Timed out after {_timeout.TotalSeconds:0.#} s", Stopwatch.GetElapsedTime(started));
        }
        catch (HttpRequestException ex)
        {
            return new WebhookAttemptOutcome(null, null, Truncate(Describe(ex)), Stopwatch.GetElapsedTime(started));
        }
    }

    private static async Task<string?> ReadExcerptAsync(HttpContent content, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        var buffer = new byte[ExcerptBytes];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        if (read == 0)
        {
            return null;
        }

        // A cut may split a UTF-8 sequence; the decoder turns the stray bytes into U+FFFD.
        var text = Encoding.UTF8.GetString(buffer, 0, read);
        return new string([.. text.Select(c => char.IsControl(c) && c is not '\n' and not '\t' ? ' ' : c)]).Trim();
    }

    private static string Describe(HttpRequestException ex)
    {
        var inner = ex.InnerException?.Message;
        return string.IsNullOrEmpty(inner) || ex.Message.Contains(inner, StringComparison.Ordinal) ? ex.Message : $"{ex.Message} ({inner})";
    }

    private static string Truncate(string text) => text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
}

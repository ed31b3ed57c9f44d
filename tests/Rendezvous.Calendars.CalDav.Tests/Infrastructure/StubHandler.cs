using System.Net;
using System.Text;

namespace Rendezvous.Calendars.CalDav.Tests.Infrastructure;

/// <summary>An HTTP handler answering from a script, recording what was sent; for client behaviour the real server cannot show.</summary>
public sealed class StubHandler : HttpMessageHandler
{
    private readonly Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> _respond;

    public StubHandler(Func<RecordedRequest, HttpResponseMessage> respond)
        : this((request, _) => Task.FromResult(respond(request)))
    {
    }

    public StubHandler(Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond) => _respond = respond;

    public List<RecordedRequest> Requests { get; } = [];

    public static Uri Server { get; } = new("http://dav.test/");

    public CalDavClient Client(Action<CalDavClientOptionsBuilder>? configure = null)
    {
        var builder = new CalDavClientOptionsBuilder();
        configure?.Invoke(builder);
        return new CalDavClient(new HttpClient(this), builder.Build());
    }

    public static HttpResponseMessage Xml(int status, string xml, string? etag = null)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status)
        {
            Content = new StringContent(xml, Encoding.UTF8, "application/xml"),
        };
        if (etag is not null)
        {
            response.Headers.TryAddWithoutValidation("ETag", etag);
        }

        return response;
    }

    public static HttpResponseMessage Status(int status, string? etag = null)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new ByteArrayContent([]) };
        if (etag is not null)
        {
            response.Headers.TryAddWithoutValidation("ETag", etag);
        }

        return response;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedRequest(
            request.Method.Method,
            request.RequestUri!,
            request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase),
            body);
        lock (Requests)
        {
            Requests.Add(recorded);
        }

        var response = await _respond(recorded, cancellationToken);
        response.RequestMessage = request;
        return response;
    }
}

public sealed record RecordedRequest(string Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string? Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>The path exactly as it goes on the request line.</summary>
    public string Path => Uri.PathAndQuery;
}

public sealed class CalDavClientOptionsBuilder
{
    public Uri ServerUri { get; set; } = StubHandler.Server;

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxReadRetries { get; set; }

    public int MaxSyncPages { get; set; } = 100;

    public int MultigetBatchSize { get; set; } = 100;

    public long MaxResponseBytes { get; set; } = 1024 * 1024;

    public CalDavClientOptions Build() => new()
    {
        ServerUri = ServerUri,
        UserName = "alice",
        Password = "secret",
        RequestTimeout = RequestTimeout,
        MaxReadRetries = MaxReadRetries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(5),
        MaxSyncPages = MaxSyncPages,
        MultigetBatchSize = MultigetBatchSize,
        MaxResponseBytes = MaxResponseBytes,
    };
}

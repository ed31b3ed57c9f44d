using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Polly;
using Polly.Retry;

namespace Rendezvous.Calendars.CalDav;

/// <summary>A request the transport can send more than once (the body is made afresh for each attempt and redirect).</summary>
internal sealed record DavRequest(HttpMethod Method, string Href)
{
    public string? Depth { get; init; }

    public Func<HttpContent>? Content { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>Safe to retry after a transient failure (reads only).</summary>
    public bool Idempotent { get; init; }
}

/// <summary>An answer with its body read into memory.</summary>
internal sealed record DavAnswer(string Method, Uri Uri, int StatusCode, string? ETag, string? Charset, ReadOnlyMemory<byte> Body)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;

    public string BodyText()
    {
        Encoding encoding;
        try
        {
            encoding = Charset is null ? Encoding.UTF8 : Encoding.GetEncoding(Charset.Trim('"'));
        }
        catch (ArgumentException)
        {
            encoding = Encoding.UTF8;
        }

        var span = Body.Span;
        var preamble = encoding.Preamble;
        if (preamble.Length > 0 && span.StartsWith(preamble))
        {
            span = span[preamble.Length..];
        }

        return encoding.GetString(span);
    }
}

/// <summary>
/// Sends WebDAV requests: Basic auth on every request, a timeout per attempt, same-host redirects followed by hand
/// (an automatic redirect would drop the Authorization header), bounded reads, retries of reads, and the mapping of
/// failures to <see cref="CalDavException"/> types.
/// </summary>
internal sealed class CalDavTransport : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttpClient;
    private readonly CalDavClientOptions _options;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly ResiliencePipeline _readPipeline;

    public CalDavTransport(HttpClient http, bool ownsHttpClient, CalDavClientOptions options)
    {
        _http = http;
        _ownsHttpClient = ownsHttpClient;
        _options = options;
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes(options.UserName + ":" + options.Password));
        _authorization = new AuthenticationHeaderValue("Basic", credentials);
        _readPipeline = options.MaxReadRetries == 0
            ? ResiliencePipeline.Empty
            : new ResiliencePipelineBuilder()
                .AddRetry(new RetryStrategyOptions
                {
                    ShouldHandle = new PredicateBuilder().Handle<CalDavTransientException>(),
                    MaxRetryAttempts = options.MaxReadRetries,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.RetryBaseDelay,
                    MaxDelay = options.MaxRetryDelay,
                    DelayGenerator = args => ValueTask.FromResult(
                        args.Outcome.Exception is CalDavTransientException { RetryAfter: { } retryAfter }
                            ? (TimeSpan?)(retryAfter < options.MaxRetryDelay ? retryAfter : options.MaxRetryDelay)
                            : null),
                })
                .Build();
    }

    public Uri ServerUri => _options.ServerUri;

    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _http.Dispose();
        }
    }

    public Task<DavAnswer> SendAsync(DavRequest request, CancellationToken cancellationToken)
    {
        if (!request.Idempotent)
        {
            return SendOnceAsync(request, cancellationToken);
        }

        return _readPipeline.ExecuteAsync(
            static (state, token) => new ValueTask<DavAnswer>(state.Transport.SendOnceAsync(state.Request, token)),
            (Transport: this, Request: request),
            cancellationToken).AsTask();
    }

    private async Task<DavAnswer> SendOnceAsync(DavRequest request, CancellationToken cancellationToken)
    {
        var uri = CalDavHref.Resolve(_options.ServerUri, request.Href);
        var method = request.Method.Method;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);

        for (var hop = 0; ; hop++)
        {
            using var message = new HttpRequestMessage(request.Method, uri);
            message.Headers.Authorization = _authorization;
            message.Headers.UserAgent.TryParseAdd(_options.UserAgent);
            if (request.Depth is not null)
            {
                message.Headers.TryAddWithoutValidation("Depth", request.Depth);
            }

            foreach (var header in request.Headers)
            {
                message.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            message.Content = request.Content?.Invoke();

            try
            {
                using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var status = (int)response.StatusCode;
                if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
                {
                    uri = FollowRedirect(method, uri, location, hop);
                    continue;
                }

                if (TransientReasonOf(response) is { } transient)
                {
                    // Read what the server said about it (a bounded read), for the log and the connection's health.
                    var said = await TryReadBodyAsync(method, uri, response, timeout.Token);
                    throw TransientError(method, uri, response, transient, said);
                }

                var body = await ReadBodyAsync(method, uri, response, timeout.Token);
                return new DavAnswer(method, uri, status, ReadETag(response), response.Content.Headers.ContentType?.CharSet, body);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new CalDavTransientException(
                    $"{method} {uri} did not finish within {_options.RequestTimeout.TotalSeconds:0.###} s.", TransientReason.Timeout, method, uri, null, null, ex);
            }
            catch (HttpRequestException ex)
            {
                throw new CalDavTransientException(
                    $"{method} {uri} failed: the server could not be reached ({ex.HttpRequestError}).", TransientReason.Unreachable, method, uri, null, null, ex);
            }
            catch (IOException ex)
            {
                throw new CalDavTransientException(
                    $"{method} {uri} failed while reading the answer: {ex.Message}", TransientReason.Unreachable, method, uri, null, null, ex);
            }
        }
    }

    private Uri FollowRedirect(string method, Uri from, Uri location, int hop)
    {
        if (hop >= _options.MaxRedirects)
        {
            throw new CalDavProtocolException($"{method} {from}: more than {_options.MaxRedirects} redirects.", method, from);
        }

        var target = location.IsAbsoluteUri ? location : new Uri(from, location);
        var sameOrigin = string.Equals(target.Host, from.Host, StringComparison.OrdinalIgnoreCase)
            && ((target.Scheme == from.Scheme && target.Port == from.Port)
                || (from.Scheme == Uri.UriSchemeHttp && target.Scheme == Uri.UriSchemeHttps));
        if (!sameOrigin)
        {
            // Credentials are only ever sent to the host they were given for.
            throw new CalDavProtocolException(
                $"{method} {from} redirects to another host ({target}); configure that address instead.", method, from);
        }

        return target;
    }

    private static TransientReason? TransientReasonOf(HttpResponseMessage response) => (int)response.StatusCode switch
    {
        408 or 429 => TransientReason.Throttled,
        >= 500 and not 501 and not 505 and not 507 and < 600 => TransientReason.ServerError,
        _ => null,
    };

    private async Task<ReadOnlyMemory<byte>> TryReadBodyAsync(string method, Uri uri, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadBodyAsync(method, uri, response, cancellationToken);
        }
        catch (Exception ex) when (ex is CalDavProtocolException or IOException or HttpRequestException)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
    }

    private static CalDavTransientException TransientError(string method, Uri uri, HttpResponseMessage response, TransientReason reason, ReadOnlyMemory<byte> said)
    {
        var status = (int)response.StatusCode;
        TimeSpan? retryAfter = null;
        if (response.Headers.RetryAfter is { } header)
        {
            // A date is taken relative to the server's own Date header, so no local clock is read.
            retryAfter = header.Delta ?? (header.Date - response.Headers.Date);
            if (retryAfter < TimeSpan.Zero)
            {
                retryAfter = TimeSpan.Zero;
            }
        }

        return new CalDavTransientException(
            $"{method} {uri} answered {status} {response.ReasonPhrase}.{ServerAnswerText.Suffix(said, response.Content.Headers.ContentType?.CharSet)}",
            reason, method, uri, status, retryAfter, null);
    }

    private async Task<ReadOnlyMemory<byte>> ReadBodyAsync(string method, Uri uri, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var limit = _options.MaxResponseBytes;
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new CalDavProtocolException($"{method} {uri}: the answer is larger than {limit} bytes.", method, uri, (int)response.StatusCode);
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new CalDavProtocolException($"{method} {uri}: the answer is larger than {limit} bytes.", method, uri, (int)response.StatusCode);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static string? ReadETag(HttpResponseMessage response)
    {
        // Read unvalidated: some servers send etags that System.Net's parser rejects (unquoted ones, for instance).
        if (response.Headers.NonValidated.TryGetValues("ETag", out var values))
        {
            foreach (var value in values)
            {
                var trimmed = value.Trim();
                if (trimmed.Length > 0)
                {
                    return trimmed;
                }
            }
        }

        return null;
    }

    /// <summary>The exception for an answer the caller did not expect.</summary>
    public static CalDavException ErrorFor(DavAnswer answer)
    {
        var status = answer.StatusCode;
        var condition = status >= 400 ? Multistatus.TryReadErrorCondition(answer.Body) : null;
        var what = $"{answer.Method} {answer.Uri} answered {status}";
        // Whatever the server wrote about a refusal goes into the message, so logs and health say why.
        var said = status >= 400 ? ServerAnswerText.Suffix(answer.Body, answer.Charset) : "";
        return status switch
        {
            401 => new CalDavAccessDeniedException($"{what}: the server did not accept the credentials.{said}", answer.Method, answer.Uri, status),
            403 when condition is null => new CalDavAccessDeniedException($"{what}: access is forbidden.{said}", answer.Method, answer.Uri, status),
            404 or 410 => new CalDavNotFoundException($"{what}: the resource does not exist.{said}", answer.Method, answer.Uri, status),
            412 when condition is null || condition.Namespace != DavNames.CalDav =>
                new CalDavPreconditionFailedException($"{what}: a precondition failed.{said}", answer.Method, answer.Uri, status),
            408 or 429 => new CalDavTransientException($"{what}.{said}", TransientReason.Throttled, answer.Method, answer.Uri, status, null, null),
            >= 500 and not 501 and not 505 and not 507 and < 600 =>
                new CalDavTransientException($"{what}.{said}", TransientReason.ServerError, answer.Method, answer.Uri, status, null, null),
            // Includes a 412 naming a CalDAV precondition: Xandikos answers valid-calendar-data and no-uid-conflict with 412.
            >= 400 and < 600 => new CalDavRequestRejectedException(
                (condition is null ? $"{what}." : $"{what}: precondition {condition.LocalName} ({condition.NamespaceName}) failed.") + said,
                answer.Method, answer.Uri, status, condition),
            >= 300 and < 400 => new CalDavProtocolException($"{what}: a redirect that cannot be followed.", answer.Method, answer.Uri, status),
            _ => new CalDavProtocolException($"{what}, which is not an answer this request expects.", answer.Method, answer.Uri, status),
        };
    }

    /// <summary>Parses a 207 (or a 200 that carries a multistatus); anything else is thrown as its error.</summary>
    public static Multistatus ReadMultistatus(DavAnswer answer)
    {
        if (answer.StatusCode is not (207 or 200))
        {
            throw ErrorFor(answer);
        }

        if (answer.Body.IsEmpty)
        {
            throw new CalDavProtocolException($"{answer.Method} {answer.Uri} answered {answer.StatusCode} with an empty body.", answer.Method, answer.Uri, answer.StatusCode);
        }

        try
        {
            return Multistatus.Parse(answer.Body);
        }
        catch (CalDavProtocolException ex)
        {
            throw new CalDavProtocolException($"{answer.Method} {answer.Uri}: {ex.Message}", answer.Method, answer.Uri, answer.StatusCode, ex);
        }
    }

    /// <summary>A request body factory for an XML document, serialised once as UTF-8.</summary>
    public static Func<HttpContent> Xml(XElement root)
    {
        using var stream = new MemoryStream();
        using (var writer = System.Xml.XmlWriter.Create(stream, new System.Xml.XmlWriterSettings { Encoding = new UTF8Encoding(false) }))
        {
            new XDocument(new XDeclaration("1.0", "utf-8", null), root).Save(writer);
        }

        var bytes = stream.ToArray();
        return () =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/xml") { CharSet = "utf-8" };
            return content;
        };
    }

    /// <summary>A request body factory for iCalendar text, sent as UTF-8 without a byte order mark.</summary>
    public static Func<HttpContent> Calendar(string icalendar)
    {
        var bytes = new UTF8Encoding(false).GetBytes(icalendar);
        return () =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("text/calendar") { CharSet = "utf-8" };
            return content;
        };
    }
}

namespace Rendezvous.Calendars.CalDav;

/// <summary>Where and how a <see cref="CalDavClient"/> connects. A class, not a record, so the password never shows in a ToString.</summary>
public sealed class CalDavClientOptions
{
    /// <summary>The server's base address (e.g. <c>https://dav.example.com/</c>); hrefs are resolved against it.</summary>
    public required Uri ServerUri { get; init; }

    /// <summary>The user name for HTTP Basic authentication.</summary>
    public required string UserName { get; init; }

    /// <summary>The password or app password for HTTP Basic authentication.</summary>
    public required string Password { get; init; }

    /// <summary>How long one request (including reading its answer) may take before it fails as a transient timeout.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Retries of a read (PROPFIND, REPORT, GET) that failed transiently, with exponential backoff and jitter; 0 turns
    /// retries off. Writes are never retried here: a lost answer to a conditional PUT would come back as a 412 on retry
    /// and hide the success, so the caller decides.
    /// </summary>
    public int MaxReadRetries { get; init; } = 2;

    /// <summary>The first retry delay; later ones double, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between retries, also the cap on a server's Retry-After.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Redirects followed per request; only to the same host (or from http to https on it).</summary>
    public int MaxRedirects { get; init; } = 5;

    /// <summary>The largest answer body read; a larger one fails as a protocol error.</summary>
    public long MaxResponseBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Hrefs per calendar-multiget request.</summary>
    public int MultigetBatchSize { get; init; } = 100;

    /// <summary>The most sync-collection requests one sync may take when the server truncates its answers.</summary>
    public int MaxSyncPages { get; init; } = 100;

    /// <summary>The User-Agent header.</summary>
    public string UserAgent { get; init; } = "Rendezvous-CalDAV/1.0";

    internal void Validate()
    {
        if (!ServerUri.IsAbsoluteUri || (ServerUri.Scheme != Uri.UriSchemeHttp && ServerUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("ServerUri must be an absolute http or https URI.", nameof(ServerUri));
        }

        ArgumentException.ThrowIfNullOrEmpty(UserName);
        ArgumentNullException.ThrowIfNull(Password);
        if (UserName.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException("HTTP Basic user names cannot contain ':'.", nameof(UserName));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero, nameof(RequestTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxReadRetries, nameof(MaxReadRetries));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RetryBaseDelay, TimeSpan.Zero, nameof(RetryBaseDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryDelay, RetryBaseDelay, nameof(MaxRetryDelay));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRedirects, nameof(MaxRedirects));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxResponseBytes, 1024, nameof(MaxResponseBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MultigetBatchSize, 1, nameof(MultigetBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSyncPages, 1, nameof(MaxSyncPages));
    }
}

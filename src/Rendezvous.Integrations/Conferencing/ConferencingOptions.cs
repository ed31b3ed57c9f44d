namespace Rendezvous.Integrations.Conferencing;

/// <summary>Where one conferencing service's API and token endpoint are, and this installation's OAuth client there.</summary>
public sealed class ConferencingEndpoint
{
    /// <summary>The REST API's base address, ending in a slash.</summary>
    public string ApiBaseUrl { get; set; } = "";

    /// <summary>The OAuth token endpoint used to refresh access tokens.</summary>
    public string TokenUrl { get; set; } = "";

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }
}

/// <summary>Settings under <c>Rendezvous:Conferencing</c>. The defaults are the services' documented production addresses.</summary>
public sealed class ConferencingOptions
{
    /// <summary>Zoom Meetings API v2; tokens from zoom.us/oauth/token.</summary>
    public ConferencingEndpoint Zoom { get; set; } = new() { ApiBaseUrl = "https://api.zoom.us/v2/", TokenUrl = "https://zoom.us/oauth/token" };

    /// <summary>GoTo Meeting REST API v2; tokens from the GoTo (LogMeIn) authentication service.</summary>
    public ConferencingEndpoint GoToMeeting { get; set; } = new()
    {
        ApiBaseUrl = "https://api.getgo.com/G2M/rest/v2/",
        TokenUrl = "https://authentication.logmeininc.com/oauth/token",
    };

    /// <summary>Webex Meetings REST API; tokens from webexapis.com/v1/access_token.</summary>
    public ConferencingEndpoint Webex { get; set; } = new() { ApiBaseUrl = "https://webexapis.com/v1/", TokenUrl = "https://webexapis.com/v1/access_token" };

    /// <summary>The longest wait for one answer.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest one call may take, all its tries and waits included.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>When each service's circuit opens (each service has its own).</summary>
    public CircuitBreakerSettings CircuitBreaker { get; set; } = new();

    /// <summary>Tries per call, the first included, for throttling and (on calls that are safe to repeat) server failures.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>The first backoff after a server failure; it doubles per try, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A throttled call is retried in place when the service asks to wait at most this long; longer waits go back to the outbox.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An access token this close to its expiry is refreshed before use.</summary>
    public TimeSpan RefreshAhead { get; set; } = TimeSpan.FromMinutes(1);

    public ConferencingEndpoint For(Domain.Conferencing.ConferencingProvider provider) => provider switch
    {
        Domain.Conferencing.ConferencingProvider.Zoom => Zoom,
        Domain.Conferencing.ConferencingProvider.GoToMeeting => GoToMeeting,
        Domain.Conferencing.ConferencingProvider.Webex => Webex,
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };
}

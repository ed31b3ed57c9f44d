namespace Rendezvous.Calendars.Graph;

/// <summary>
/// Where the Microsoft identity platform and Microsoft Graph are, and how the app is registered there. The defaults are
/// Microsoft's public cloud; tests point <see cref="AuthorityHost"/> and <see cref="GraphBaseUrl"/> at a local emulator.
/// </summary>
public sealed class GraphOptions
{
    /// <summary>The identity platform's host; the authority is <c>{AuthorityHost}/{Tenant}/</c>.</summary>
    public Uri AuthorityHost { get; set; } = new("https://login.microsoftonline.com/");

    /// <summary>"organizations" (any work or school account), "common" (also personal accounts) or one tenant's id.</summary>
    public string Tenant { get; set; } = "organizations";

    /// <summary>Microsoft Graph's versioned base URL.</summary>
    public Uri GraphBaseUrl { get; set; } = new("https://graph.microsoft.com/v1.0");

    /// <summary>The app registration's client id; empty means "Microsoft 365 is not configured" and connecting is refused.</summary>
    public string ClientId { get; set; } = "";

    public string ClientSecret { get; set; } = "";

    /// <summary>The OAuth redirect URI registered for the app (the server's <c>/api/v1/calendar-connections/microsoft/callback</c>).</summary>
    public Uri? RedirectUri { get; set; }

    /// <summary>Delegated permissions: read and write the user's calendars. MSAL adds openid, profile and offline_access itself.</summary>
    public IReadOnlyList<string> Scopes { get; set; } = ["Calendars.ReadWrite"];

    /// <summary>Each attempt of each call is given up after this long.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Retries after a throttled (429), unavailable (503/504) or failed (5xx, network) attempt; then the call fails.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first backoff when the service gives no Retry-After; doubled on each retry, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The longest wait before a retry. A Retry-After longer than this is not waited out inside one call: the call fails
    /// as throttled and the connection's backoff takes over, so one throttled account never holds a sync worker.
    /// </summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Events per delta page asked for (<c>Prefer: odata.maxpagesize</c>); the service may send fewer.</summary>
    public int PageSize { get; set; } = 100;

    /// <summary>How often a healthy connection is polled; change notifications wake it sooner.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long each change-notification subscription is asked for (Outlook events allow at most 7 days).</summary>
    public TimeSpan SubscriptionLifetime { get; set; } = TimeSpan.FromDays(3);

    public Uri Authority => new(AuthorityHost, Tenant.Trim('/') + "/");
}

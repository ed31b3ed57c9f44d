namespace Rendezvous.Calendars.Google;

/// <summary>
/// Where Google's endpoints are and how patiently we call them. The defaults are Google's production endpoints; tests
/// point every URL at the local emulator.
/// </summary>
public sealed class GoogleCalendarOptions
{
    /// <summary>The OAuth client registered in Google Cloud console (a "Web application" client).</summary>
    public string ClientId { get; set; } = "";

    public string ClientSecret { get; set; } = "";

    /// <summary>Calendar API v3 root; every resource path is relative to it.</summary>
    public Uri ApiBaseUrl { get; set; } = new("https://www.googleapis.com/calendar/v3/");

    /// <summary>https://developers.google.com/identity/protocols/oauth2/web-server#httprest_1</summary>
    public Uri AuthorizationUrl { get; set; } = new("https://accounts.google.com/o/oauth2/v2/auth");

    /// <summary>https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code</summary>
    public Uri TokenUrl { get; set; } = new("https://oauth2.googleapis.com/token");

    /// <summary>https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke</summary>
    public Uri RevokeUrl { get; set; } = new("https://oauth2.googleapis.com/revoke");

    /// <summary>Read/write events and read the calendar list; nothing else of the account.</summary>
    public IReadOnlyList<string> Scopes { get; set; } =
    [
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.readonly",
    ];

    /// <summary>Each HTTP attempt is abandoned after this long.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Attempts per call for answers Google's error guide says to retry (429, 403 rate limits, 5xx, timeouts).</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>First backoff step; doubled per attempt, with full jitter.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The longest we wait inside one call, whether backing off or honouring Retry-After. A longer Retry-After ends the
    /// call at once: the sync round fails and the connection is retried later with its own backoff, so no worker sits idle.
    /// </summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>An access token is renewed this long before Google says it expires (Google's own libraries use 5 minutes).</summary>
    public TimeSpan RefreshMargin { get; set; } = TimeSpan.FromMinutes(5);
}

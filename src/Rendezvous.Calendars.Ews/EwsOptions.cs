namespace Rendezvous.Calendars.Ews;

/// <summary>How the EWS client talks to Exchange Server. Bound from <c>Rendezvous:Exchange</c>.</summary>
public sealed class EwsOptions
{
    /// <summary>
    /// The schema version sent in <c>RequestServerVersion</c>. Exchange2016 is understood by Exchange Server 2016, 2019
    /// and Subscription Edition, the versions that still run EWS on premises.
    /// </summary>
    public string RequestServerVersion { get; set; } = "Exchange2016";

    /// <summary>Each attempt of each call is given up after this long.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries after ErrorServerBusy, a 5xx answer or a network failure; then the call fails.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first backoff when the server gives no BackOffMilliseconds; doubled on each retry.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The longest back-off waited inside one call. A longer BackOffMilliseconds fails the call as unavailable and the
    /// connection's own backoff takes over, so one throttled mailbox never holds a sync worker.
    /// </summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Changes per SyncFolderItems call; 512 is the most Exchange returns in one answer.</summary>
    public int SyncBatchSize { get; set; } = 512;

    /// <summary>Items per GetItem call when reading changed items.</summary>
    public int GetItemBatchSize { get; set; } = 100;

    /// <summary>How often a healthy connection is polled (SyncFolderItems is cheap; notifications wake it sooner).</summary>
    public TimeSpan? PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Hosts that may be reached over plain http (credentials and calendars would otherwise cross the network in clear).
    /// Empty in production; tests name their loopback emulator.
    /// </summary>
    public IList<string> AllowedHttpHosts { get; } = [];

    /// <summary>
    /// SendMeetingInvitations / SendMeetingInvitationsOrCancellations / SendMeetingCancellations for booking events.
    /// False (SendToNone, the default) because Rendezvous emails the customer itself; true lets Exchange send its own
    /// meeting requests and cancellations as well (SendToAllAndSaveCopy).
    /// </summary>
    public bool SendMeetingInvitations { get; set; }

    /// <summary>
    /// Autodiscover endpoints to ask instead of the ones derived from the email domain (an organization whose
    /// Autodiscover lives elsewhere; tests). Empty: https://{domain}/ and https://autodiscover.{domain}/.
    /// </summary>
    public IList<string> AutodiscoverUrls { get; } = [];

    /// <summary>Minutes each GetStreamingEvents stream is asked for; below 30, Exchange's limit, so it is renewed first.</summary>
    public int StreamingConnectionMinutes { get; set; } = 29;

    /// <summary>The wait before subscribing again after a failed stream (polling covers the gap).</summary>
    public TimeSpan StreamingRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Hold streaming notifications open for synced Exchange connections (changes within seconds).</summary>
    public bool Streaming { get; set; } = true;
}

using NodaTime;

namespace Rendezvous.Domain.Calendars;

/// <summary>The kind of calendar service a connection talks to. Later: Exchange/Office 365 and Google.</summary>
public enum CalendarKind
{
    CalDav,
}

/// <summary>
/// Which calendar service a connection belongs to, as the user says when connecting. It decides whether bookings of the
/// user's pages can be reassigned (only pages with no calendar or with Google Calendar can; seed 001) and whether the
/// connection is synced: only <see cref="CalDav"/> and <see cref="ICloud"/> are synced today (both over CalDAV). The
/// others are recorded (so the reassignment rules see them) but not synced until their connectors exist.
/// </summary>
public enum CalendarProvider
{
    /// <summary>A generic CalDAV server (Fastmail, Nextcloud, Radicale, ...). The default.</summary>
    CalDav,
    /// <summary>Apple iCloud, over CalDAV.</summary>
    ICloud,
    Google,
    Exchange,
    Office365,
    Outlook,
}

/// <summary>
/// How a connection is doing. A connection that keeps failing reaches <see cref="Error"/>: its user and administrators
/// see it, and the user's booking pages stop accepting bookings until it recovers (a booking could otherwise land on
/// time that is busy in a calendar we can no longer read).
/// </summary>
public enum ConnectionHealth
{
    Healthy,
    /// <summary>The last attempts failed; retrying with backoff. Bookings are still accepted.</summary>
    Failing,
    /// <summary>Failed <see cref="CalendarConnection.ErrorThreshold"/> times in a row.</summary>
    Error,
}

/// <summary>
/// A user's connection to their own calendar service: one booking calendar (bookings are written there, and changes
/// to those events flow back) and any number of additional calendars read for busy time only. The two sync toggles
/// are off by default.
/// </summary>
public sealed class CalendarConnection
{
    /// <summary>Consecutive failures after which the connection is in <see cref="ConnectionHealth.Error"/>.</summary>
    public const int ErrorThreshold = 5;

    private CalendarConnection()
    {
        ServerUrl = "";
        Username = "";
        ProtectedPassword = "";
        BookingCalendarUrl = "";
        AdditionalCalendarUrls = [];
    }

    public CalendarConnection(Guid id, OrganizationId organizationId, UserId userId, CalendarKind kind, string serverUrl, string username,
        string protectedPassword, string bookingCalendarUrl, IEnumerable<string> additionalCalendarUrls, bool cancelBookingOnDelete,
        bool updateBookingOnMove, Instant now)
    {
        Id = id;
        OrganizationId = organizationId;
        UserId = userId;
        Kind = kind;
        ServerUrl = serverUrl;
        Username = username;
        ProtectedPassword = protectedPassword;
        BookingCalendarUrl = bookingCalendarUrl;
        AdditionalCalendarUrls = [.. additionalCalendarUrls];
        CancelBookingOnDelete = cancelBookingOnDelete;
        UpdateBookingOnMove = updateBookingOnMove;
        Health = ConnectionHealth.Healthy;
        CreatedAt = now;
        NextSyncAt = now;
    }

    public Guid Id { get; private set; }

    public OrganizationId OrganizationId { get; private set; }

    public UserId UserId { get; private set; }

    public CalendarKind Kind { get; private set; }

    /// <summary>The calendar service behind the connection; <see cref="CalendarProvider.CalDav"/> unless the user said otherwise.</summary>
    public CalendarProvider Provider { get; private set; } = CalendarProvider.CalDav;

    /// <summary>
    /// True when the connection is synced: CalDAV, iCloud, and Microsoft 365 / Outlook once signed in. Other providers, and
    /// OAuth providers recorded through the API without signing in, are recorded only (for the reassignment rules).
    /// </summary>
    public bool IsSynced => IsSyncedProvider(Provider) && ProtectedPassword.Length > 0;

    /// <summary>Whether connections of <paramref name="provider"/> are synced today.</summary>
    public static bool IsSyncedProvider(CalendarProvider provider) =>
        provider is CalendarProvider.CalDav or CalendarProvider.ICloud or CalendarProvider.Office365 or CalendarProvider.Outlook;

    /// <summary>Connections of these providers are made by signing in (OAuth), not with a server, user name and password.</summary>
    public static bool IsOAuthProvider(CalendarProvider provider) => provider is CalendarProvider.Office365 or CalendarProvider.Outlook;

    /// <summary>How <see cref="LastError"/> starts when only connecting the account again helps (consent withdrawn).</summary>
    public const string NeedsReconnectingPrefix = "Needs reconnecting: ";

    /// <summary>True when the last failure was a withdrawn or expired sign-in; syncing resumes only after reconnecting.</summary>
    public bool NeedsReconnecting => LastError?.StartsWith(NeedsReconnectingPrefix, StringComparison.Ordinal) == true;

    public string ServerUrl { get; private set; }

    public string Username { get; private set; }

    /// <summary>The password or app password, encrypted at rest; never returned by the API.</summary>
    public string ProtectedPassword { get; private set; }

    public string BookingCalendarUrl { get; private set; }

    public List<string> AdditionalCalendarUrls { get; private set; }

    /// <summary>"Deleting an event in my calendar cancels the booking."</summary>
    public bool CancelBookingOnDelete { get; private set; }

    /// <summary>"Changing the time in my calendar updates the booking."</summary>
    public bool UpdateBookingOnMove { get; private set; }

    /// <summary>
    /// True for the one connection of the user whose booking calendar receives bookings (and whose moves and deletions
    /// of booking events count). The user's other connections are read for busy time only.
    /// </summary>
    public bool IsBookingConnection { get; private set; } = true;

    /// <summary>The provider's own JSON about the account (e.g. a cached access token); never returned by the API.</summary>
    public string? ProviderState { get; private set; }

    public ConnectionHealth Health { get; private set; }

    public int ConsecutiveFailures { get; private set; }

    public string? LastError { get; private set; }

    public Instant? LastSuccessAt { get; private set; }

    public Instant? LastFailureAt { get; private set; }

    /// <summary>When the sync worker should look at this connection next.</summary>
    public Instant NextSyncAt { get; private set; }

    public Instant CreatedAt { get; private set; }

    /// <summary>False while the connection is in <see cref="ConnectionHealth.Error"/>.</summary>
    public bool CanAcceptBookings => Health != ConnectionHealth.Error;

    /// <summary>Every calendar of the connection, the booking calendar first.</summary>
    public IEnumerable<string> AllCalendarUrls => [BookingCalendarUrl, .. AdditionalCalendarUrls.Where(u => u != BookingCalendarUrl)];

    public void Update(string serverUrl, string username, string? protectedPassword, string bookingCalendarUrl,
        IEnumerable<string> additionalCalendarUrls, bool cancelBookingOnDelete, bool updateBookingOnMove, Instant now)
    {
        ServerUrl = serverUrl;
        Username = username;
        ProtectedPassword = protectedPassword ?? ProtectedPassword;
        BookingCalendarUrl = bookingCalendarUrl;
        AdditionalCalendarUrls = [.. additionalCalendarUrls];
        CancelBookingOnDelete = cancelBookingOnDelete;
        UpdateBookingOnMove = updateBookingOnMove;
        // New settings deserve a fresh look at once.
        NextSyncAt = now;
    }

    /// <summary>Marks whether this connection receives the user's bookings (the API keeps exactly one marked per user).</summary>
    public void SetBookingConnection(bool value) => IsBookingConnection = value;

    /// <summary>Stores what a provider changed about the account: a rotated secret (already encrypted) or its state.</summary>
    public void UpdateAccount(string? protectedSecret, string? providerState)
    {
        ProtectedPassword = protectedSecret ?? ProtectedPassword;
        ProviderState = providerState ?? ProviderState;
    }

    /// <summary>Records which calendar service the connection belongs to.</summary>
    public void SetProvider(CalendarProvider provider) => Provider = provider;

    /// <summary>A sync round succeeded: healthy again, next look after <paramref name="interval"/>.</summary>
    public void RecordSuccess(Instant now, Duration interval)
    {
        Health = ConnectionHealth.Healthy;
        ConsecutiveFailures = 0;
        LastError = null;
        LastSuccessAt = now;
        NextSyncAt = now + interval;
    }

    /// <summary>A sync round failed: retry with capped exponential backoff; past the threshold the connection is in error.</summary>
    public void RecordFailure(string error, Instant now, Duration interval)
    {
        ConsecutiveFailures++;
        LastError = error.Length > 1000 ? error[..1000] : error;
        LastFailureAt = now;
        Health = ConsecutiveFailures >= ErrorThreshold ? ConnectionHealth.Error : ConnectionHealth.Failing;
        var backoff = interval * Math.Pow(2, Math.Min(ConsecutiveFailures, 10));
        NextSyncAt = now + (backoff > Duration.FromMinutes(15) ? Duration.FromMinutes(15) : backoff);
    }
}

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
    /// True when the connection is synced: CalDAV and iCloud, and Google, Microsoft 365 and Outlook once the account is
    /// connected by signing in (OAuth). An OAuth connection recorded without a grant only informs the reassignment rules;
    /// other providers are recorded only.
    /// </summary>
    public bool IsSynced => IsSyncedProvider(Provider) && (!ConnectsBySigningIn(Provider) || ProtectedPassword.Length > 0);

    /// <summary>Whether connections of <paramref name="provider"/> can be synced today.</summary>
    public static bool IsSyncedProvider(CalendarProvider provider) =>
        provider is CalendarProvider.CalDav or CalendarProvider.ICloud or CalendarProvider.Google or CalendarProvider.Exchange
            or CalendarProvider.Office365 or CalendarProvider.Outlook;

    /// <summary>Connections of these providers get their account by signing in (OAuth), not with a server and a password.</summary>
    private static bool ConnectsBySigningIn(CalendarProvider provider) => provider == CalendarProvider.Google || IsOAuthProvider(provider);

    /// <summary>
    /// Microsoft 365 / Outlook: connected by signing in to a Microsoft account (Google has its own connect flow and
    /// validation, so it is not included here).
    /// </summary>
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

    /// <summary>Why the last write of a booking into the booking calendar failed; null once a write succeeds again.</summary>
    public string? LastWriteError { get; private set; }

    public Instant? LastWriteFailureAt { get; private set; }

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

    /// <summary>The user connected the account again (a fresh grant): the failures before no longer say anything.</summary>
    public void Reconnected(Instant now)
    {
        Health = ConnectionHealth.Healthy;
        ConsecutiveFailures = 0;
        LastError = null;
        NextSyncAt = now;
    }

    /// <summary>Records which calendar service the connection belongs to.</summary>
    public void SetProvider(CalendarProvider provider) => Provider = provider;

    /// <summary>A sync round succeeded: healthy again, next look after <paramref name="interval"/>.</summary>
    public void RecordSuccess(Instant now, Duration interval)
    {
        // Reading worked; a booking that cannot be written still keeps the connection from looking healthy.
        Health = LastWriteError is null ? ConnectionHealth.Healthy : ConnectionHealth.Failing;
        ConsecutiveFailures = 0;
        LastError = LastWriteError;
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

    /// <summary>
    /// Writing a booking into the booking calendar failed (the outbox retries it). The connection shows it as failing
    /// with the server's answer until a write succeeds; polling and its backoff are not affected, and bookings are
    /// still accepted (reading busy time, which guards against double booking, still works).
    /// </summary>
    public void RecordWriteFailure(string error, Instant now)
    {
        var text = "Writing a booking into the calendar failed: " + error;
        LastWriteError = text.Length > 1000 ? text[..1000] : text;
        LastWriteFailureAt = now;
        LastFailureAt = now;
        LastError = LastWriteError;
        if (Health == ConnectionHealth.Healthy)
        {
            Health = ConnectionHealth.Failing;
        }
    }

    /// <summary>A booking was written into the booking calendar: a write failure shown before is over.</summary>
    public void RecordWriteSuccess()
    {
        if (LastWriteError is null)
        {
            return;
        }

        if (LastError == LastWriteError)
        {
            LastError = null;
        }

        LastWriteError = null;
        if (Health == ConnectionHealth.Failing && ConsecutiveFailures == 0)
        {
            Health = ConnectionHealth.Healthy;
        }
    }
}

using NodaTime;
using Rendezvous.Calendars.Sync;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;

namespace Rendezvous.Calendars.Providers;

/// <summary>
/// One calendar service the two-way sync speaks to (CalDAV, Microsoft Graph, Google Calendar, ...). A provider knows
/// the wire protocol only: what a change means for a booking is decided once, for every provider, by
/// <see cref="SyncDecisions"/> in the sync engine. Providers are registered as singletons of this interface; the
/// server picks the one whose <see cref="Providers"/> holds the connection's <see cref="CalendarProvider"/>.
/// </summary>
public interface ICalendarProvider
{
    /// <summary>
    /// A short lowercase name ("caldav", "microsoft", "google"): it names the push endpoint
    /// (<c>/api/v1/calendar-push/{name}</c>) and the provider in logs.
    /// </summary>
    string Name { get; }

    /// <summary>The connection providers this implementation serves (CalDAV serves CalDav and ICloud).</summary>
    IReadOnlyCollection<CalendarProvider> Providers { get; }

    /// <summary>
    /// True when the service can notify us of changes; the engine then keeps a subscription per calendar alive with
    /// <see cref="ICalendarSession.EnsurePushAsync"/>. Polling goes on regardless (a missed notification costs one interval).
    /// </summary>
    bool SupportsPush { get; }

    /// <summary>
    /// How often a healthy connection is polled; null uses the configured interval (one second by default). Services with
    /// request quotas and push notifications poll rarely and rely on push wake-ups.
    /// </summary>
    TimeSpan? PollInterval { get; }

    /// <summary>A session for one connection, used for one sync round or one outbound write and then disposed.</summary>
    ICalendarSession Open(CalendarAccount account);
}

/// <summary>What a provider gets to reach one connection's account.</summary>
/// <param name="ConnectionId">The connection (for logs, and for idempotency keys a service may want).</param>
/// <param name="Provider">The service as the user named it.</param>
/// <param name="ServerUrl">The server (CalDAV); empty for services with one fixed endpoint.</param>
/// <param name="Username">The account name (CalDAV user name, or the account's email address).</param>
/// <param name="Secret">The decrypted password, app password or OAuth refresh token.</param>
/// <param name="State">The provider's own JSON about the account (e.g. a cached access token and its expiry); null at first.</param>
public sealed record CalendarAccount(Guid ConnectionId, CalendarProvider Provider, string ServerUrl, string Username, string Secret, string? State);

/// <summary>
/// Provider operations on one account. Calendar ids and item ids are the provider's own strings (CalDAV: absolute
/// calendar URL and object href; Graph/Google: their ids); the engine stores them and hands them back unchanged.
/// Failures that concern the connection (credentials refused, server down, calendar gone, nonsense answers) are thrown
/// as <see cref="CalendarProviderException"/>; anything else is a bug.
/// </summary>
public interface ICalendarSession : IDisposable
{
    /// <summary>
    /// Set when the session changed what is stored for the account (a rotated refresh token, a new access token
    /// cache); the caller saves it after the session. Null when nothing changed.
    /// </summary>
    AccountUpdate? AccountUpdate { get; }

    /// <summary>The calendars of the account (for the connection screens: pick the booking and additional calendars).</summary>
    Task<IReadOnlyList<ProviderCalendar>> ListCalendarsAsync(CancellationToken ct);

    /// <summary>
    /// What changed in one calendar since <see cref="ChangeQuery.Cursor"/> (null: list everything). Items whose version
    /// equals <see cref="ChangeQuery.Known"/> need not be read again. When the service no longer accepts the cursor,
    /// return <see cref="CalendarChanges.CursorInvalid"/>: the engine asks again without one and works out deletions
    /// from the full listing, so nothing is lost.
    /// </summary>
    Task<CalendarChanges> GetChangesAsync(string calendarId, ChangeQuery query, CancellationToken ct);

    /// <summary>
    /// Writes a booking's event, idempotently: <paramref name="previous"/> is what we last wrote (null, or
    /// <see cref="WrittenItem.Version"/> null, when nothing is known to exist). A create must never make a second
    /// event for the same booking (derive the item's name from the booking id, or use the service's idempotency key,
    /// or find the event by <see cref="BookingCalendarEvent.BookingIdProperty"/>). An update is conditional on the
    /// previous version (If-Match); when the event changed or vanished meanwhile, the booking wins: write it anyway.
    /// Returns the item id and the version now stored, which the sync later recognises as our own write.
    /// </summary>
    Task<WrittenItem> UpsertBookingEventAsync(string calendarId, BookingEventContent content, WrittenItem? previous, CancellationToken ct);

    /// <summary>Deletes a booking's event; an event already gone, or changed meanwhile, is deleted (or left gone) all the same.</summary>
    Task DeleteBookingEventAsync(string calendarId, WrittenItem item, CancellationToken ct);

    /// <summary>
    /// Makes sure the service notifies <see cref="PushTarget.Callback"/> of changes in the calendar: creates a
    /// subscription when <paramref name="current"/> is null, renews it when it expires soon, and returns what is now in
    /// place. Providers without push return null.
    /// </summary>
    Task<PushSubscription?> EnsurePushAsync(string calendarId, PushSubscription? current, PushTarget target, CancellationToken ct);

    /// <summary>Ends a push subscription (the connection is being removed). A subscription already gone is fine.</summary>
    Task StopPushAsync(PushSubscription subscription, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>A booking event as we last wrote it into a calendar.</summary>
/// <param name="ItemId">The provider's id of the event (CalDAV: the object's href).</param>
/// <param name="Version">The version stored by that write (ETag); null when it is unknown whether the event exists
/// (never written, deleted since, or written by an attempt that did not live to record it).</param>
public sealed record WrittenItem(string ItemId, string? Version);

/// <summary>New stored values for an account; a null member keeps the stored one.</summary>
public sealed record AccountUpdate(string? Secret, string? State);

/// <summary>A calendar of an account.</summary>
/// <param name="Id">The provider's id (CalDAV: the absolute collection URL).</param>
/// <param name="Name">The name the user sees.</param>
/// <param name="CanWrite">False for read-only calendars (subscriptions, shared read-only): not usable as booking calendar.</param>
public sealed record ProviderCalendar(string Id, string Name, bool CanWrite);

/// <summary>What the engine knows when it asks for changes.</summary>
/// <param name="Cursor">The cursor stored after the last round (sync token, delta link, ...); null for a full listing.</param>
/// <param name="Known">Item id → version of every item we hold for the calendar.</param>
/// <param name="BusyFrom">Busy time is computed from here ...</param>
/// <param name="BusyTo">... to here (recurring events expanded in between).</param>
/// <param name="Zone">The user's time zone, for floating and all-day times.</param>
public sealed record ChangeQuery(string? Cursor, IReadOnlyDictionary<string, string?> Known, Instant BusyFrom, Instant BusyTo, DateTimeZone Zone);

/// <summary>Whether a change query could be answered.</summary>
public enum ChangesOutcome
{
    Completed,

    /// <summary>The service no longer accepts the cursor (expired, reset): ask again without one.</summary>
    CursorInvalid,
}

/// <summary>The answer to a change query.</summary>
/// <param name="Outcome">Completed, or the cursor is no longer accepted.</param>
/// <param name="Changed">New and changed items, read and interpreted.</param>
/// <param name="Deleted">Item ids that are gone.</param>
/// <param name="Cursor">The cursor to store for the next round (null when the service offers none).</param>
/// <param name="Listed">On a full listing, the id of every item the calendar now holds (changed or not); every known
/// item not in it is treated as deleted. Null for an incremental answer.</param>
public sealed record CalendarChanges(
    ChangesOutcome Outcome,
    IReadOnlyList<ProviderItem> Changed,
    IReadOnlyList<string> Deleted,
    string? Cursor,
    IReadOnlyCollection<string>? Listed)
{
    public static CalendarChanges CursorInvalid { get; } = new(ChangesOutcome.CursorInvalid, [], [], null, null);
}

/// <summary>One item of a calendar as the provider read it.</summary>
/// <param name="ItemId">The provider's id of the item (CalDAV: the href).</param>
/// <param name="Version">ETag / change key / etag; compared with what we wrote to recognise our own writes.</param>
/// <param name="Uid">The iCalendar UID (or iCalUId), when there is one.</param>
/// <param name="BookingId">Set when the item is one of our booking events.</param>
/// <param name="Event">For our booking events: when it starts now and whether it was cancelled.</param>
/// <param name="Busy">The busy intervals of the item within the query's window (empty for our own events, free or
/// cancelled ones).</param>
/// <param name="Unreadable">True when the item could not be understood: it is counted and skipped, its busy time cleared.</param>
public sealed record ProviderItem(
    string ItemId,
    string? Version,
    string? Uid,
    BookingId? BookingId,
    ObservedEvent? Event,
    IReadOnlyList<Interval> Busy,
    bool Unreadable = false);

/// <summary>Where to send push notifications for one calendar, and the secret they must carry back.</summary>
/// <param name="Callback">Our public endpoint for the provider (<c>/api/v1/calendar-push/{provider}</c>).</param>
/// <param name="ChannelToken">A secret the service echoes in every notification (Graph clientState, Google channel
/// token); notifications without it are ignored.</param>
public sealed record PushTarget(Uri Callback, string ChannelToken);

/// <summary>A push subscription in place for one calendar.</summary>
/// <param name="ChannelId">The service's id of the subscription (Graph subscription id, Google channel id); a
/// notification names it, and it leads to the connection.</param>
/// <param name="ExpiresAt">When the service drops it; the engine renews it before then.</param>
/// <param name="State">The provider's own JSON about it (e.g. Google's resourceId, needed to stop the channel).</param>
public sealed record PushSubscription(string ChannelId, Instant ExpiresAt, string? State);

/// <summary>What a connection's failure was about; decides the message the user sees.</summary>
public enum CalendarFailure
{
    /// <summary>Credentials refused or revoked (401/403, an OAuth grant withdrawn).</summary>
    AccessDenied,
    /// <summary>The user's OAuth grant was withdrawn or expired (invalid_grant): only connecting again helps.</summary>
    ReconnectRequired,
    /// <summary>A calendar (or the account) is not there.</summary>
    NotFound,
    /// <summary>The service is down, slow or throttling; it will be retried.</summary>
    Unavailable,
    /// <summary>The service answered something we cannot use.</summary>
    Protocol,
}

/// <summary>A failure of one connection's calendar service. The connection is retried with backoff; others go on.</summary>
public sealed class CalendarProviderException : Exception
{
    public CalendarProviderException(CalendarFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    public CalendarFailure Failure { get; }
}

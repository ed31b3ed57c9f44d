using System.Globalization;
using System.Net;
using System.Text.Json;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Calendars.Providers;
using Rendezvous.Calendars.Sync;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;

namespace Rendezvous.Calendars.Google;

/// <summary>
/// Two-way sync with Google Calendar over the Calendar API v3. A connection's secret is the OAuth refresh token
/// (encrypted at rest like every calendar secret); access tokens live in this process's memory only, never in the database. Changes come from events.list with a sync token per calendar and singleEvents=true,
/// so every instance of a recurring series is an item of its own; bookings are written under an event id derived
/// from the booking id; push notifications come through events.watch channels.
/// </summary>
public sealed class GoogleCalendarProvider : ICalendarProvider, IDisposable
{
    /// <summary>Our events' ids: this prefix and the booking id's 32 hex digits, all base32hex characters as Google requires.</summary>
    public const string EventIdPrefix = "rdv";

    /// <summary>The private extended property that carries the booking id on our events.</summary>
    public const string BookingIdProperty = "rendezvousBookingId";

    private readonly HttpMessageHandler _handler;
    private readonly GoogleCalendarOptions _options;
    private readonly IClock _clock;
    private readonly GoogleOAuth _oauth;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, AccessToken> _accessTokens = new();

    /// <param name="handler">Shared by every session (one connection pool per process); disposed with the provider.</param>
    /// <param name="options">Endpoints, OAuth client, timeouts and retries.</param>
    /// <param name="clock">Decides when a cached access token is too old.</param>
    /// <param name="pollInterval">How often a healthy connection is polled besides push.</param>
    public GoogleCalendarProvider(HttpMessageHandler handler, GoogleCalendarOptions options, IClock clock, TimeSpan pollInterval)
    {
        _handler = handler;
        _options = options;
        _clock = clock;
        _oauth = new GoogleOAuth(options, clock, handler);
        PollInterval = pollInterval;
    }

    public string Name => "google";

    public IReadOnlyCollection<CalendarProvider> Providers { get; } = [CalendarProvider.Google];

    public bool SupportsPush => true;

    /// <summary>Google event ids are compared exactly, as the API returns them.</summary>
    public IEqualityComparer<string> ItemIds => StringComparer.Ordinal;

    /// <summary>
    /// Google counts every request against per-user and per-project quotas, and push tells us of changes at once: a
    /// connection is polled far less often than a CalDAV one; the poll only catches notifications that never came.
    /// </summary>
    public TimeSpan? PollInterval { get; }

    public GoogleOAuth OAuth => _oauth;

    public ICalendarSession Open(CalendarAccount account) => new GoogleCalendarSession(this, account);

    /// <summary>A client for an access token already in hand (right after the OAuth code exchange).</summary>
    public GoogleCalendarClient ClientFor(string accessToken) => new(Http(), _options, new FixedToken(accessToken));

    internal HttpClient Http() => new(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

    internal GoogleCalendarOptions Options => _options;

    internal IClock Clock => _clock;

    /// <summary>The access token this process holds for a connection, if it was obtained with <paramref name="refreshToken"/>.</summary>
    internal AccessToken? CachedToken(Guid connectionId, string refreshToken) =>
        _accessTokens.TryGetValue(connectionId, out var token) && token.RefreshToken == refreshToken ? token : null;

    internal void CacheToken(Guid connectionId, AccessToken token) => _accessTokens[connectionId] = token;

    /// <summary>Forgets a connection's access token (it was disconnected).</summary>
    public void Forget(Guid connectionId) => _accessTokens.TryRemove(connectionId, out _);

    public static string EventIdOf(BookingId id) => EventIdPrefix + id.Value.ToString("N");

    /// <summary>The booking an event belongs to, when it is one of ours (by our private property, or by its id).</summary>
    public static BookingId? TryGetBookingId(GoogleEvent e)
    {
        if (e.ExtendedProperties?.Private?.GetValueOrDefault(BookingIdProperty) is { } marker && Guid.TryParse(marker, out var fromMarker))
        {
            return new BookingId(fromMarker);
        }

        return e.Id is { Length: 35 } id && id.StartsWith(EventIdPrefix, StringComparison.Ordinal)
            && Guid.TryParseExact(id[EventIdPrefix.Length..], "N", out var fromId)
                ? new BookingId(fromId)
                : null;
    }

    public void Dispose()
    {
        _oauth.Dispose();
        _handler.Dispose();
    }

    internal sealed record AccessToken(string Value, Instant ExpiresAt, string RefreshToken);

    private sealed class FixedToken(string token) : IGoogleAccessTokens
    {
        public Task<string> GetAsync(bool forceRefresh, CancellationToken ct) => Task.FromResult(token);
    }
}

/// <summary>One connection's Google account behind the provider-neutral operations.</summary>
internal sealed class GoogleCalendarSession : ICalendarSession, IGoogleAccessTokens
{
    private const int PageSize = 250;

    /// <summary>Channels live a week at most for events (Google may shorten it); the engine renews before expiry.</summary>
    private static readonly TimeSpan ChannelTtl = TimeSpan.FromDays(7);

    private static readonly InstantPattern UtcPattern = InstantPattern.CreateWithInvariantCulture("uuuu-MM-dd'T'HH:mm:ss'Z'");

    private readonly GoogleCalendarProvider _provider;
    private readonly CalendarAccount _account;
    private readonly GoogleCalendarClient _client;
    private readonly HttpClient _http;
    private string _refreshToken;

    public GoogleCalendarSession(GoogleCalendarProvider provider, CalendarAccount account)
    {
        _provider = provider;
        _account = account;
        _refreshToken = account.Secret;
        _http = provider.Http();
        _client = new GoogleCalendarClient(_http, provider.Options, this);
    }

    public AccountUpdate? AccountUpdate { get; private set; }

    /// <summary>
    /// The cached access token while it has more than the refresh margin left; otherwise (or after a 401) a new one from
    /// the refresh token. A refresh token Google no longer accepts means the user must connect again.
    /// </summary>
    public async Task<string> GetAsync(bool forceRefresh, CancellationToken ct)
    {
        var now = _provider.Clock.GetCurrentInstant();
        if (!forceRefresh && _provider.CachedToken(_account.ConnectionId, _refreshToken) is { } cached
            && cached.ExpiresAt - Duration.FromTimeSpan(_provider.Options.RefreshMargin) > now)
        {
            return cached.Value;
        }

        if (string.IsNullOrEmpty(_refreshToken))
        {
            throw new GoogleGrantRevokedException("The connection holds no Google refresh token.");
        }

        var tokens = await _provider.OAuth.RefreshAsync(_refreshToken, ct);
        var rotated = tokens.RefreshToken is { Length: > 0 } fresh && fresh != _refreshToken ? fresh : null;
        if (rotated is not null)
        {
            // Google may hand out a new refresh token; the connection must keep the newest one.
            _refreshToken = rotated;
            AccountUpdate = new AccountUpdate(rotated, null);
        }

        _provider.CacheToken(_account.ConnectionId, new GoogleCalendarProvider.AccessToken(tokens.AccessToken, tokens.ExpiresAt, _refreshToken));
        return tokens.AccessToken;
    }

    public Task<IReadOnlyList<ProviderCalendar>> ListCalendarsAsync(CancellationToken ct) => Guard<IReadOnlyList<ProviderCalendar>>(async () =>
    {
        var calendars = await _client.ListCalendarsAsync(ct);
        return [.. calendars.Where(c => c.Id is not null && c.AccessRole != "freeBusyReader")
            .OrderByDescending(c => c.Primary == true)
            .Select(c => new ProviderCalendar(c.Id!, c.Summary ?? c.Id!, c.CanWrite))];
    });

    /// <summary>
    /// Pages through events.list (https://developers.google.com/calendar/api/guides/sync): with the cursor, the changes
    /// since; without, everything from a week before the busy window on (a fixed window keeps the full listing bounded,
    /// and the sync token then remembers it). 410 Gone becomes <see cref="CalendarChanges.CursorInvalid"/>.
    /// </summary>
    public Task<CalendarChanges> GetChangesAsync(string calendarId, ChangeQuery query, CancellationToken ct) => Guard(async () =>
    {
        var changed = new List<ProviderItem>();
        var deleted = new List<string>();
        var listed = query.Cursor is null ? new HashSet<string>(StringComparer.Ordinal) : null;
        var timeMin = query.Cursor is null ? (query.BusyFrom - Duration.FromDays(7)).ToDateTimeOffset() : (DateTimeOffset?)null;
        string? pageToken = null;
        string? syncToken;
        do
        {
            GoogleEventsPage page;
            try
            {
                page = await _client.ListEventsPageAsync(calendarId, query.Cursor, pageToken, timeMin, PageSize, ct);
            }
            catch (GoogleSyncTokenExpiredException)
            {
                return CalendarChanges.CursorInvalid;
            }

            foreach (var e in page.Items ?? [])
            {
                if (e.Id is null)
                {
                    continue;
                }

                if (e.IsCancelled)
                {
                    // A deleted event, or a cancelled instance of a series. A whole series deleted also takes the
                    // instances we hold under its id.
                    deleted.Add(e.Id);
                    deleted.AddRange(query.Known.Keys.Where(k => k.StartsWith(e.Id + "_", StringComparison.Ordinal)));
                    continue;
                }

                listed?.Add(e.Id);
                if (listed is not null && query.Known.TryGetValue(e.Id, out var version) && version is not null && version == e.ETag)
                {
                    continue;
                }

                changed.Add(Read(e, query));
            }

            pageToken = page.NextPageToken;
            syncToken = page.NextSyncToken;
        }
        while (pageToken is not null);

        return new CalendarChanges(ChangesOutcome.Completed, changed, deleted, syncToken, listed);
    });

    /// <summary>
    /// Our events become observations for the sync rules; everyone else's become busy time: not when marked free
    /// (transparency "transparent"), not when the account's owner declined it. Tentative events and invitations not yet
    /// answered count as busy, as Google's own free/busy shows them. All-day events take whole days in the user's zone.
    /// </summary>
    private static ProviderItem Read(GoogleEvent e, ChangeQuery query)
    {
        var start = InstantOf(e.Start, query.Zone);
        var end = InstantOf(e.End, query.Zone);
        if (GoogleCalendarProvider.TryGetBookingId(e) is { } bookingId)
        {
            return new ProviderItem(e.Id!, e.ETag, e.ICalUid, bookingId, new ObservedEvent(start, Cancelled: false), []);
        }

        if (start is not { } s || end is not { } en)
        {
            return new ProviderItem(e.Id!, e.ETag, e.ICalUid, null, null, [], Unreadable: true);
        }

        var free = e.Transparency == "transparent" || e.Attendees?.Any(a => a.Self == true && a.ResponseStatus == "declined") == true;
        var from = s < query.BusyFrom ? query.BusyFrom : s;
        var to = en > query.BusyTo ? query.BusyTo : en;
        IReadOnlyList<Interval> busy = free || to <= from ? [] : [new Interval(from, to)];
        return new ProviderItem(e.Id!, e.ETag, e.ICalUid, null, null, busy);
    }

    private static Instant? InstantOf(GoogleEventTime? time, DateTimeZone zone)
    {
        if (time?.DateTime is { } dateTime)
        {
            var parsed = OffsetDateTimePattern.ExtendedIso.Parse(dateTime);
            return parsed.Success ? parsed.Value.ToInstant() : null;
        }

        if (time?.Date is { } date)
        {
            var parsed = LocalDatePattern.Iso.Parse(date);
            var dayZone = time.TimeZone is { } id && DateTimeZoneProviders.Tzdb.GetZoneOrNull(id) is { } z ? z : zone;
            return parsed.Success ? parsed.Value.AtStartOfDayInZone(dayZone).ToInstant() : null;
        }

        return null;
    }

    /// <summary>
    /// Creates the event under the id derived from the booking (a retried create that already happened gets 409 and is
    /// then updated), or updates it with If-Match on the etag we last wrote. On 412 (the host changed it meanwhile) or a
    /// vanished event, the booking wins: read it again and write it once more.
    /// </summary>
    public Task<WrittenItem> UpsertBookingEventAsync(string calendarId, BookingEventContent content, WrittenItem? previous, CancellationToken ct) =>
        Guard(async () =>
        {
            var id = GoogleCalendarProvider.EventIdOf(content.BookingId);
            var body = Build(id, content);
            GoogleEvent? written;
            if (previous?.Version is null)
            {
                written = await _client.InsertEventAsync(calendarId, body, ct)
                    ?? await _client.UpdateEventAsync(calendarId, id, body, null, ct);
            }
            else
            {
                try
                {
                    written = await _client.UpdateEventAsync(calendarId, id, body, previous.Version, ct);
                }
                catch (GoogleApiException ex) when (ex.Status == HttpStatusCode.PreconditionFailed)
                {
                    var current = await _client.GetEventAsync(calendarId, id, ct);
                    written = current is null
                        ? await _client.InsertEventAsync(calendarId, body, ct) ?? await _client.UpdateEventAsync(calendarId, id, body, null, ct)
                        : await _client.UpdateEventAsync(calendarId, id, body, current.ETag, ct);
                }
                catch (GoogleApiException ex) when (ex.IsNotFound)
                {
                    written = await _client.InsertEventAsync(calendarId, body, ct) ?? await _client.UpdateEventAsync(calendarId, id, body, null, ct);
                }
            }

            return new WrittenItem(id, written?.ETag);
        });

    public Task DeleteBookingEventAsync(string calendarId, WrittenItem item, CancellationToken ct) =>
        Guard(async () =>
        {
            await _client.DeleteEventAsync(calendarId, item.ItemId, ct);
            return true;
        });

    /// <summary>
    /// Google channels cannot be extended: a new channel replaces one that expires soon, and the old one is stopped
    /// (https://developers.google.com/calendar/api/guides/push#renewing-notification-channels).
    /// </summary>
    public Task<PushSubscription?> EnsurePushAsync(string calendarId, PushSubscription? current, PushTarget target, CancellationToken ct) =>
        Guard<PushSubscription?>(async () =>
        {
            var channelId = "rdv-" + Guid.NewGuid().ToString("N");
            var channel = await _client.WatchEventsAsync(calendarId, channelId, target.Callback, target.ChannelToken, ChannelTtl, ct);
            var expires = long.TryParse(channel.Expiration, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
                ? Instant.FromUnixTimeMilliseconds(ms)
                : _provider.Clock.GetCurrentInstant() + Duration.FromTimeSpan(ChannelTtl);
            if (current is not null)
            {
                await StopQuietlyAsync(current, ct);
            }

            return new PushSubscription(channel.Id ?? channelId, expires, JsonSerializer.Serialize(new ChannelState(channel.ResourceId ?? "")));
        });

    public Task StopPushAsync(string calendarId, PushSubscription subscription, CancellationToken ct) =>
        Guard(async () =>
        {
            await StopQuietlyAsync(subscription, ct);
            return true;
        });

    private async Task StopQuietlyAsync(PushSubscription subscription, CancellationToken ct)
    {
        if (subscription.State is { } state && JsonSerializer.Deserialize<ChannelState>(state) is { ResourceId.Length: > 0 } channel)
        {
            await _client.StopChannelAsync(subscription.ChannelId, channel.ResourceId, ct);
        }
    }

    /// <summary>
    /// The booking as a Google event: times in UTC, tentative while it awaits approval, the customer as attendee (Google
    /// sends them nothing: sendUpdates=none, our own emails do that), the meeting link as location, our booking id in a
    /// private extended property.
    /// </summary>
    private static GoogleEvent Build(string id, BookingEventContent c) => new()
    {
        Id = id,
        Status = c.Tentative ? "tentative" : "confirmed",
        Summary = c.Title,
        Description = c.Description,
        Location = c.Location,
        Start = new GoogleEventTime { DateTime = UtcPattern.Format(c.Start), TimeZone = "UTC" },
        End = new GoogleEventTime { DateTime = UtcPattern.Format(c.End), TimeZone = "UTC" },
        Transparency = "opaque",
        Attendees = [new GoogleAttendee { Email = c.CustomerEmail, DisplayName = c.CustomerName, ResponseStatus = "accepted" }],
        ExtendedProperties = new GoogleExtendedProperties { Private = new() { [GoogleCalendarProvider.BookingIdProperty] = c.BookingId.ToString() } },
    };

    /// <summary>Every failure leaves as a <see cref="CalendarProviderException"/> saying what it is about.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (GoogleGrantRevokedException ex)
        {
            throw new CalendarProviderException(CalendarFailure.ReconnectRequired, ex.Message, ex);
        }
        catch (GoogleApiException ex) when (ex.IsUnauthorized || ex.IsForbidden)
        {
            throw new CalendarProviderException(CalendarFailure.AccessDenied, ex.Message, ex);
        }
        catch (GoogleApiException ex) when (ex.IsNotFound)
        {
            throw new CalendarProviderException(CalendarFailure.NotFound, ex.Message, ex);
        }
        catch (GoogleApiException ex) when (ex.IsTransient)
        {
            throw new CalendarProviderException(CalendarFailure.Unavailable, ex.Message, ex);
        }
        catch (GoogleApiException ex)
        {
            throw new CalendarProviderException(CalendarFailure.Protocol, ex.Message, ex);
        }
        catch (JsonException ex)
        {
            throw new CalendarProviderException(CalendarFailure.Protocol, "Google answered something that is not the documented JSON: " + ex.Message, ex);
        }
    }

    public void Dispose() => _http.Dispose();

    private sealed record ChannelState(string ResourceId);
}

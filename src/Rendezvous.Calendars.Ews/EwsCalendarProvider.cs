using System.Net;
using System.Text;
using System.Text.Json;
using NodaTime;
using Rendezvous.Calendars.Providers;
using Rendezvous.Calendars.Sync;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;

namespace Rendezvous.Calendars.Ews;

/// <summary>
/// On-premises Exchange Server calendars through Exchange Web Services. A connection's server URL is the EWS endpoint,
/// its user name and secret sign in (Basic over https, NTLM/Negotiate, or a bearer token), and its state says how
/// (<see cref="EwsAccountState"/>). Changes come from SyncFolderItems with the stored SyncState; busy time of recurring
/// series from FindItem with a CalendarView (the server expands the occurrences); booking events carry our booking id in
/// an extended property, are found by it before any create, and are updated conditionally on their ChangeKey.
/// </summary>
public sealed class EwsCalendarProvider : ICalendarProvider, IDisposable
{
    private readonly HttpMessageHandler _transport;
    private readonly EwsOptions _options;

    /// <param name="transport">The handler under Basic and bearer clients (one connection pool per process); disposed with the provider.</param>
    /// <param name="options">Version, timeouts, retries, plain-http hosts.</param>
    public EwsCalendarProvider(HttpMessageHandler transport, EwsOptions options)
    {
        _transport = transport;
        _options = options;
    }

    public string Name => "exchange";

    public IReadOnlyCollection<CalendarProvider> Providers { get; } = [CalendarProvider.Exchange];

    /// <summary>
    /// False: EWS push is not the webhook kind the engine subscribes per calendar; streaming notifications are held open
    /// by <see cref="WatchAsync"/> instead, and wake the sync directly.
    /// </summary>
    public bool SupportsPush => false;

    public TimeSpan? PollInterval => _options.PollInterval;

    /// <summary>EWS item ids are opaque base64 strings, compared exactly.</summary>
    public IEqualityComparer<string> ItemIds => StringComparer.Ordinal;

    public EwsOptions Options => _options;

    public ICalendarSession Open(CalendarAccount account)
    {
        if (!Uri.TryCreate(account.ServerUrl, UriKind.Absolute, out var endpoint))
        {
            throw new CalendarProviderException(CalendarFailure.Protocol, "The Exchange server URL of this connection is not a URL.");
        }

        var state = EwsAccountState.Read(account.State);
        var mailbox = state.Mailbox ?? (account.Username.Contains('@', StringComparison.Ordinal) ? account.Username : null);
        try
        {
            return new EwsCalendarSession(new EwsClient(endpoint, new EwsCredentials(state.Auth, account.Username, account.Secret, mailbox, state.Impersonate),
                _options, _transport));
        }
        catch (EwsException ex)
        {
            throw EwsCalendarSession.Translate(ex);
        }
    }

    public void Dispose() => _transport.Dispose();

    /// <summary>
    /// Watches the calendars with EWS streaming notifications until <paramref name="ct"/> ends: Subscribe with a
    /// StreamingSubscriptionRequest, then GetStreamingEvents again and again, each stream asked for
    /// <see cref="EwsOptions.StreamingConnectionMinutes"/> (below Exchange's 30-minute limit) so it is renewed before the
    /// server cuts it. <paramref name="onChange"/> runs for every batch of notifications, and after every (re)subscription
    /// (changes between two subscriptions are not notified, so the sync looks once). An expired subscription
    /// (ErrorSubscriptionNotFound) is made again at once; any other failure waits <see cref="EwsOptions.StreamingRetryDelay"/>
    /// (polling goes on meanwhile).
    /// </summary>
    public async Task WatchAsync(CalendarAccount account, IReadOnlyList<string> calendarIds, Func<Task> onChange, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var session = (EwsCalendarSession)Open(account);
                var subscription = await session.Client.SubscribeStreamingAsync(calendarIds, ct);
                await onChange();
                while (!ct.IsCancellationRequested)
                {
                    await session.Client.ReadStreamingEventsAsync(subscription, _options.StreamingConnectionMinutes, onChange, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (EwsException ex) when (ex.Kind == EwsErrorKind.NotFound && ex.ResponseCode == "ErrorSubscriptionNotFound")
            {
                // Expired or forgotten (a server restart): subscribe again at once.
            }
            catch (Exception ex) when (ex is EwsException or CalendarProviderException or HttpRequestException or IOException)
            {
                try
                {
                    await Task.Delay(_options.StreamingRetryDelay, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

/// <summary>What is kept (unencrypted) about an Exchange connection: how it signs in and whose mailbox it reads.</summary>
/// <param name="Auth">Auto (NTLM, Negotiate or Basic as the server offers), Basic, Ntlm or Bearer.</param>
/// <param name="Mailbox">The mailbox's SMTP address when the sign-in name is not it (DOMAIN\user, a service account).</param>
/// <param name="Impersonate">A service account acting on <paramref name="Mailbox"/> through ExchangeImpersonation.</param>
public sealed record EwsAccountState(EwsAuth Auth, string? Mailbox, bool Impersonate)
{
    public static EwsAccountState Default { get; } = new(EwsAuth.Auto, null, false);

    public static EwsAccountState Read(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return Default;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var auth = root.TryGetProperty("auth", out var a) && Enum.TryParse<EwsAuth>(a.GetString(), ignoreCase: true, out var parsed) ? parsed : EwsAuth.Auto;
            var mailbox = root.TryGetProperty("mailbox", out var m) ? m.GetString() : null;
            var impersonate = root.TryGetProperty("impersonate", out var i) && i.ValueKind == JsonValueKind.True;
            return new EwsAccountState(auth, string.IsNullOrWhiteSpace(mailbox) ? null : mailbox, impersonate && !string.IsNullOrWhiteSpace(mailbox));
        }
        catch (JsonException)
        {
            return Default;
        }
    }

    public string Write() => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["auth"] = Auth.ToString().ToLowerInvariant(),
        ["mailbox"] = Mailbox,
        ["impersonate"] = Impersonate,
    });
}

/// <summary>One connection's EWS client behind the provider-neutral operations.</summary>
public sealed class EwsCalendarSession : ICalendarSession
{
    private readonly EwsClient _client;

    public EwsCalendarSession(EwsClient client)
    {
        _client = client;
    }

    public AccountUpdate? AccountUpdate => null;

    public EwsClient Client => _client;

    public void Dispose() => _client.Dispose();

    public Task<IReadOnlyList<ProviderCalendar>> ListCalendarsAsync(CancellationToken ct) => Guard<IReadOnlyList<ProviderCalendar>>(async () =>
        [.. (await _client.ListCalendarsAsync(ct)).DistinctBy(f => f.Id).Select(f => new ProviderCalendar(f.Id, f.Name, true))]);

    public Task<CalendarChanges> GetChangesAsync(string calendarId, ChangeQuery query, CancellationToken ct) => Guard(async () =>
    {
        EwsSyncResult sync;
        try
        {
            sync = await _client.SyncFolderItemsAsync(calendarId, query.Cursor, ct);
        }
        catch (EwsException ex) when (ex.Kind == EwsErrorKind.InvalidSyncState && query.Cursor is not null)
        {
            // The engine asks again without a state and works out deletions from the full listing.
            return CalendarChanges.CursorInvalid;
        }

        var toRead = sync.Changed
            .Where(c => !(query.Known.TryGetValue(c.Id, out var known) && known is not null && known == c.ChangeKey))
            .Select(c => c.Id).ToList();
        var items = toRead.Count == 0 ? [] : await _client.GetItemsAsync(toRead, ct);
        IReadOnlyList<EwsCalendarItem> occurrences = [];
        if (items.Any(i => i.ItemType == "RecurringMaster" && i.BookingId is null))
        {
            // SyncFolderItems reports a series once; the server expands it over the busy window.
            occurrences = await _client.FindCalendarViewAsync(calendarId, query.BusyFrom, query.BusyTo, ct);
        }

        var read = items.Select(i => EwsEvents.Read(i, occurrences, query)).ToList();
        var isFull = query.Cursor is null;
        return new CalendarChanges(ChangesOutcome.Completed, read, isFull ? [] : sync.Deleted, sync.SyncState,
            isFull ? sync.Changed.Select(c => c.Id).ToHashSet(StringComparer.Ordinal) : null);
    });

    public Task<WrittenItem> UpsertBookingEventAsync(string calendarId, BookingEventContent content, WrittenItem? previous, CancellationToken ct) =>
        Guard(async () =>
        {
            var item = EwsEvents.Build(content);
            if (previous is { Version: { } version, ItemId.Length: > 0 })
            {
                var written = await UpdateBookingWinsAsync(previous.ItemId, version, item, ct);
                if (written is not null)
                {
                    return written;
                }

                // Gone from the calendar: written again as a new item below.
            }

            // Before any create: an earlier attempt whose answer was lost may have made the item already.
            if (await _client.FindBookingItemAsync(calendarId, item.BookingId, ct) is { } existing)
            {
                if (await UpdateBookingWinsAsync(existing.Id, existing.ChangeKey ?? "", item, ct) is { } updated)
                {
                    return updated;
                }
            }

            var (id, changeKey) = await _client.CreateItemAsync(calendarId, item, ct);
            return new WrittenItem(id, changeKey);
        });

    /// <summary>
    /// UpdateItem on the ChangeKey we know; on ErrorIrresolvableConflict (changed in Outlook, or by an attendee's answer)
    /// the item is read again and written over: the booking is the source of truth. Null when the item is gone.
    /// </summary>
    private async Task<WrittenItem?> UpdateBookingWinsAsync(string id, string changeKey, EwsBookingItem item, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                var (newId, newKey) = await _client.UpdateItemAsync(id, changeKey, item, ct);
                return new WrittenItem(newId, newKey);
            }
            catch (EwsException ex) when (ex.Kind == EwsErrorKind.NotFound)
            {
                return null;
            }
            catch (EwsException ex) when (ex.Kind == EwsErrorKind.Conflict)
            {
                var current = await _client.GetItemAsync(id, ct);
                if (current is null)
                {
                    return null;
                }

                changeKey = current.ChangeKey ?? "";
            }
        }

        throw new CalendarProviderException(CalendarFailure.Unavailable, "The event kept changing in Exchange while it was written; trying again later.");
    }

    public Task DeleteBookingEventAsync(string calendarId, WrittenItem item, CancellationToken ct) => Guard(async () =>
    {
        if (item.ItemId.Length > 0)
        {
            await _client.DeleteItemAsync(item.ItemId, ct);
        }

        return true;
    });

    public Task<PushSubscription?> EnsurePushAsync(string calendarId, PushSubscription? current, PushTarget target, CancellationToken ct) =>
        Task.FromResult<PushSubscription?>(null);

    /// <summary>Turns EWS failures into the provider-neutral failure kinds (shown in the connection's health).</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (EwsException ex)
        {
            throw Translate(ex);
        }
    }

    internal static CalendarProviderException Translate(EwsException ex) => new(ex.Kind switch
    {
        EwsErrorKind.AccessDenied => CalendarFailure.AccessDenied,
        EwsErrorKind.NotFound => CalendarFailure.NotFound,
        EwsErrorKind.Unavailable or EwsErrorKind.Conflict => CalendarFailure.Unavailable,
        _ => CalendarFailure.Protocol,
    }, ex.Message, ex);
}

/// <summary>EWS calendar items to and from what the sync works with.</summary>
public static class EwsEvents
{
    /// <summary>
    /// Reads a calendar item. Our booking events are recognised by the extended property (or our UID). Busy time follows
    /// LegacyFreeBusyStatus (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/legacyfreebusystatus):
    /// Free and WorkingElsewhere are available; Tentative, Busy, OOF and NoData are busy, as Outlook's scheduling
    /// assistant shows them. Cancelled meetings are not busy. A recurring series is busy at its occurrences in the window,
    /// from the CalendarView (matched by UID); single items at their own time.
    /// </summary>
    public static ProviderItem Read(EwsCalendarItem item, IReadOnlyList<EwsCalendarItem> occurrences, ChangeQuery query)
    {
        var bookingId = BookingIdOf(item);
        if (bookingId is not null)
        {
            // Our own events are already held as bookings; they are never counted as busy time twice.
            return new ProviderItem(item.Id, item.ChangeKey, item.Uid, bookingId, new ObservedEvent(item.Start, item.IsCancelled), []);
        }

        if (item.ItemType == "RecurringMaster")
        {
            var busy = occurrences
                .Where(o => o.Uid is not null && o.Uid == item.Uid && o.ItemType != "RecurringMaster")
                .SelectMany(o => BusyOf(o, query))
                .ToList();
            return new ProviderItem(item.Id, item.ChangeKey, item.Uid, null, null, busy);
        }

        if (item.Start is null || item.End is null)
        {
            return new ProviderItem(item.Id, item.ChangeKey, item.Uid, null, null, [], Unreadable: true);
        }

        return new ProviderItem(item.Id, item.ChangeKey, item.Uid, null, null, BusyOf(item, query));
    }

    private static IReadOnlyList<Interval> BusyOf(EwsCalendarItem item, ChangeQuery query)
    {
        if (item.IsCancelled || item.FreeBusy is "Free" or "WorkingElsewhere" || item.Start is not { } start || item.End is not { } end
            || end <= start || end <= query.BusyFrom || start >= query.BusyTo)
        {
            return [];
        }

        return [new Interval(start, end)];
    }

    /// <summary>The booking an item belongs to: our extended property, else a UID we made.</summary>
    public static BookingId? BookingIdOf(EwsCalendarItem item)
    {
        if (Guid.TryParse(item.BookingId, out var fromProperty))
        {
            return new BookingId(fromProperty);
        }

        var uid = item.Uid;
        return uid is not null && uid.EndsWith(BookingCalendarEvent.UidSuffix, StringComparison.Ordinal)
            && Guid.TryParseExact(uid[..^BookingCalendarEvent.UidSuffix.Length], "N", out var fromUid)
            ? new BookingId(fromUid)
            : null;
    }

    /// <summary>
    /// The Exchange item for a booking: subject, an HTML body with the notes and the conferencing link, the location,
    /// UTC times, Tentative for requests awaiting approval or payment, the customer as a required attendee, our UID and
    /// our booking id in the extended property.
    /// </summary>
    public static EwsBookingItem Build(BookingEventContent c)
    {
        var body = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(c.Description))
        {
            body.Append("<p>").Append(WebUtility.HtmlEncode(c.Description).Replace("\n", "<br>", StringComparison.Ordinal)).Append("</p>");
        }

        if (!string.IsNullOrWhiteSpace(c.Location))
        {
            var location = WebUtility.HtmlEncode(c.Location);
            body.Append("<p>").Append(Uri.TryCreate(c.Location, UriKind.Absolute, out var link) && link.Scheme == Uri.UriSchemeHttps
                ? $"Join: <a href=\"{location}\">{location}</a>"
                : "Where: " + location).Append("</p>");
        }

        body.Append("<p>Booked with ").Append(WebUtility.HtmlEncode(c.CustomerName)).Append(" &lt;")
            .Append(WebUtility.HtmlEncode(c.CustomerEmail)).Append("&gt;</p>");
        return new EwsBookingItem(c.BookingId.ToString(), BookingCalendarEvent.UidOf(c.BookingId), c.Title, body.ToString(), c.Location,
            c.Start, c.End, c.Tentative, [(c.CustomerName, c.CustomerEmail)]);
    }
}

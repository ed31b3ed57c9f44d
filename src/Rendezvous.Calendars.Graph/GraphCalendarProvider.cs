using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Graph.Models;
using Microsoft.Identity.Client;
using NodaTime;
using Rendezvous.Calendars.Providers;
using Rendezvous.Calendars.Sync;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;

namespace Rendezvous.Calendars.Graph;

/// <summary>
/// Microsoft 365 / Exchange Online (and Outlook.com) calendars through Microsoft Graph. A connection's secret is MSAL's
/// token cache for the account (encrypted at rest by the caller); its state names the account in that cache. Changes come
/// from calendarView delta per calendar, over a window fixed when the listing starts (renewed by the daily full listing);
/// booking events are created with a transactionId derived from the booking and written conditionally on their change key;
/// change notifications wake the sync, and polling goes on at <see cref="GraphOptions.PollInterval"/> as the fallback.
/// </summary>
public sealed class GraphCalendarProvider : ICalendarProvider, IDisposable
{
    /// <summary>The prefix of the transactionId of our booking events: "rendezvous-{booking id}-{sequence}".</summary>
    public const string TransactionPrefix = "rendezvous-";

    private readonly HttpMessageHandler _transport;
    private readonly GraphAuthenticator _authenticator;
    private readonly IClock _clock;

    /// <param name="transport">The HTTP handler under every Graph client (one connection pool per process); disposed with the provider.</param>
    /// <param name="authenticator">MSAL, configured with the app registration.</param>
    /// <param name="clock">For subscription expiry.</param>
    public GraphCalendarProvider(HttpMessageHandler transport, GraphAuthenticator authenticator, IClock clock)
    {
        _transport = transport;
        _authenticator = authenticator;
        _clock = clock;
    }

    public string Name => "microsoft";

    public IReadOnlyCollection<CalendarProvider> Providers { get; } = [CalendarProvider.Office365, CalendarProvider.Outlook];

    public bool SupportsPush => true;

    /// <summary>Graph event ids are opaque strings, compared exactly as the service returns them.</summary>
    public IEqualityComparer<string> ItemIds => StringComparer.Ordinal;

    public TimeSpan? PollInterval => _authenticator.Options.PollInterval;

    public GraphAuthenticator Authenticator => _authenticator;

    public ICalendarSession Open(CalendarAccount account)
    {
        var state = GraphAccountState.Read(account.State);
        var tokens = _authenticator.Open(new GraphGrant(account.Secret, state.HomeAccountId, account.Username));
        return new GraphCalendarSession(new GraphCalendarClient(_transport, _authenticator.Options, tokens), tokens, _clock, _authenticator.Options);
    }

    /// <summary>A client for an account just connected (listing its calendars before the connection is saved).</summary>
    public GraphCalendarSession OpenGrant(GraphGrant grant)
    {
        var tokens = _authenticator.Open(grant);
        return new GraphCalendarSession(new GraphCalendarClient(_transport, _authenticator.Options, tokens), tokens, _clock, _authenticator.Options);
    }

    public void Dispose() => _transport.Dispose();

    /// <summary>The transactionId of a booking's event; the sequence makes an event created again after a deletion a new create.</summary>
    public static string TransactionIdOf(BookingId id, int sequence) => $"{TransactionPrefix}{id.Value:N}-{sequence}";

    /// <summary>The booking an event belongs to, from its transactionId; null for anything else.</summary>
    public static BookingId? BookingIdOf(string? transactionId)
    {
        if (transactionId is null || !transactionId.StartsWith(TransactionPrefix, StringComparison.Ordinal) || transactionId.Length < TransactionPrefix.Length + 32)
        {
            return null;
        }

        return Guid.TryParseExact(transactionId.AsSpan(TransactionPrefix.Length, 32), "N", out var id) ? new BookingId(id) : null;
    }

    /// <summary>A Microsoft HTTP client factory over one handler, for MSAL (which asks for a client for every call).</summary>
    public sealed class MsalHttp(HttpMessageHandler handler, TimeSpan timeout) : IMsalHttpClientFactory
    {
        public HttpClient GetHttpClient() => new(handler, disposeHandler: false) { Timeout = timeout };
    }
}

/// <summary>What is kept (unencrypted) about a connected Microsoft account: which account of the token cache it is.</summary>
public sealed record GraphAccountState(string HomeAccountId)
{
    public static GraphAccountState Read(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            throw new CalendarProviderException(CalendarFailure.ReconnectRequired, "The Microsoft account of this connection is not known; connect the calendar again.");
        }

        using var doc = JsonDocument.Parse(json);
        return new GraphAccountState(doc.RootElement.GetProperty("homeAccountId").GetString() ?? "");
    }

    public string Write() => JsonSerializer.Serialize(new Dictionary<string, string> { ["homeAccountId"] = HomeAccountId });
}

/// <summary>One connection's Graph client behind the provider-neutral operations.</summary>
public sealed class GraphCalendarSession : ICalendarSession
{
    private readonly GraphCalendarClient _client;
    private readonly GraphTokenSession _tokens;
    private readonly IClock _clock;
    private readonly GraphOptions _options;

    internal GraphCalendarSession(GraphCalendarClient client, GraphTokenSession tokens, IClock clock, GraphOptions options)
    {
        _client = client;
        _tokens = tokens;
        _clock = clock;
        _options = options;
    }

    /// <summary>MSAL's cache changes whenever it gets a token (and the refresh token rotates): store it again.</summary>
    public AccountUpdate? AccountUpdate => _tokens.Updated is { } grant ? new AccountUpdate(grant.TokenCache, null) : null;

    public GraphCalendarClient Client => _client;

    public void Dispose() => _client.Dispose();

    public Task<IReadOnlyList<ProviderCalendar>> ListCalendarsAsync(CancellationToken ct) => Guard<IReadOnlyList<ProviderCalendar>>(async () =>
        [.. (await _client.ListCalendarsAsync(ct)).OrderByDescending(c => c.IsDefault).Select(c => new ProviderCalendar(c.Id, c.Name, c.CanEdit))]);

    public Task<CalendarChanges> GetChangesAsync(string calendarId, ChangeQuery query, CancellationToken ct) => Guard(async () =>
    {
        var delta = await _client.CalendarViewDeltaAsync(calendarId, query.Cursor, query.BusyFrom.ToDateTimeOffset(), query.BusyTo.ToDateTimeOffset(), ct);
        if (delta.CursorInvalid)
        {
            return CalendarChanges.CursorInvalid;
        }

        if (delta.DeltaLink is null)
        {
            throw new CalendarProviderException(CalendarFailure.Protocol, "Microsoft Graph ended a calendar listing without a delta link.");
        }

        var items = delta.Changed.Select(e => GraphEvents.Read(e, query.Zone)).ToList();
        var isFull = query.Cursor is null;
        return new CalendarChanges(ChangesOutcome.Completed, items, isFull ? [] : delta.Removed, delta.DeltaLink,
            isFull ? items.Select(i => i.ItemId).ToHashSet(StringComparer.Ordinal) : null);
    });

    public Task<WrittenItem> UpsertBookingEventAsync(string calendarId, BookingEventContent content, WrittenItem? previous, CancellationToken ct) =>
        Guard(async () =>
        {
            // A fresh model for every request: the SDK's backing store sends only what changed since the model was last
            // serialized, so a model sent twice would arrive empty the second time.
            if (previous is { Version: { } version, ItemId.Length: > 0 })
            {
                var write = await _client.UpdateEventAsync(previous.ItemId, GraphEvents.Build(content), version, ct);
                if (write.Outcome == GraphWriteOutcome.PreconditionFailed)
                {
                    // Changed in Outlook since our last write: the booking is the source of truth, so write it over the change.
                    var current = await _client.GetEventAsync(previous.ItemId, ct);
                    write = current is null
                        ? new GraphWrite(GraphWriteOutcome.NotFound, null)
                        : await _client.UpdateEventAsync(previous.ItemId, GraphEvents.Build(content), current.ChangeKey, ct);
                }

                if (write is { Outcome: GraphWriteOutcome.Written, Event: { Id: { } id, ChangeKey: { } changeKey } })
                {
                    return new WrittenItem(id, changeKey);
                }

                if (write.Outcome == GraphWriteOutcome.PreconditionFailed)
                {
                    throw new CalendarProviderException(CalendarFailure.Unavailable, "The event kept changing in Outlook while it was written; trying again later.");
                }

                // Gone from the calendar: write it again as a new event.
            }

            var body = GraphEvents.Build(content);
            body.TransactionId = GraphCalendarProvider.TransactionIdOf(content.BookingId, content.Sequence);
            var created = await _client.CreateEventAsync(calendarId, body, ct);
            return new WrittenItem(created.Id ?? throw new CalendarProviderException(CalendarFailure.Protocol, "A created event has no id."), created.ChangeKey);
        });

    public Task DeleteBookingEventAsync(string calendarId, WrittenItem item, CancellationToken ct) => Guard(async () =>
    {
        if (item.ItemId.Length > 0)
        {
            await _client.DeleteEventAsync(item.ItemId, ct);
        }

        return true;
    });

    public Task<PushSubscription?> EnsurePushAsync(string calendarId, PushSubscription? current, PushTarget target, CancellationToken ct) =>
        Guard<PushSubscription?>(async () =>
        {
            var expires = _clock.GetCurrentInstant() + Duration.FromTimeSpan(_options.SubscriptionLifetime);
            if (current is not null)
            {
                var renewed = await _client.RenewSubscriptionAsync(current.ChannelId, expires.ToDateTimeOffset(), ct);
                if (renewed is not null)
                {
                    return new PushSubscription(current.ChannelId, renewed.ExpirationDateTime is { } at ? Instant.FromDateTimeOffset(at) : expires, null);
                }

                // Gone (expired, or removed by the service): subscribe again.
            }

            var created = await _client.CreateSubscriptionAsync(calendarId, target.Callback, target.Callback, target.ChannelToken, expires.ToDateTimeOffset(), ct);
            return new PushSubscription(created.Id ?? throw new CalendarProviderException(CalendarFailure.Protocol, "A subscription came back without an id."),
                created.ExpirationDateTime is { } at2 ? Instant.FromDateTimeOffset(at2) : expires, null);
        });

    public Task StopPushAsync(string calendarId, PushSubscription subscription, CancellationToken ct) => Guard(async () =>
    {
        await _client.DeleteSubscriptionAsync(subscription.ChannelId, ct);
        return true;
    });

    /// <summary>Turns Graph failures into the provider-neutral failure kinds.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (GraphException ex)
        {
            var failure = ex.Kind switch
            {
                GraphErrorKind.ConsentRevoked => CalendarFailure.ReconnectRequired,
                GraphErrorKind.AccessDenied => CalendarFailure.AccessDenied,
                GraphErrorKind.NotFound => CalendarFailure.NotFound,
                GraphErrorKind.Throttled or GraphErrorKind.Unavailable => CalendarFailure.Unavailable,
                _ => CalendarFailure.Protocol,
            };
            throw new CalendarProviderException(failure, ex.Message, ex);
        }
    }
}

/// <summary>Graph events to and from what the sync works with.</summary>
public static class GraphEvents
{
    /// <summary>
    /// Reads an event (an occurrence, for series) from calendarView. Our booking events are recognised by their
    /// transactionId. Busy time follows showAs (https://learn.microsoft.com/en-us/graph/api/resources/event, freeBusyStatus):
    /// free and workingElsewhere are available; tentative, busy, oof and unknown are busy. Cancelled events are not busy.
    /// All-day events cover whole days in the user's zone.
    /// </summary>
    public static ProviderItem Read(Event e, DateTimeZone zone)
    {
        var id = e.Id!;
        var start = TimeOf(e.Start, e.IsAllDay == true, zone);
        var end = TimeOf(e.End, e.IsAllDay == true, zone);
        var cancelled = e.IsCancelled == true;
        if (GraphCalendarProvider.BookingIdOf(e.TransactionId) is { } bookingId)
        {
            // Our own events are already held as bookings; they are never counted as busy time twice.
            return new ProviderItem(id, e.ChangeKey, e.ICalUId, bookingId, new ObservedEvent(start, cancelled), []);
        }

        if (start is null || end is null)
        {
            return new ProviderItem(id, e.ChangeKey, e.ICalUId, null, null, [], Unreadable: true);
        }

        var free = cancelled || e.ShowAs is FreeBusyStatus.Free or FreeBusyStatus.WorkingElsewhere || end <= start;
        return new ProviderItem(id, e.ChangeKey, e.ICalUId, null, null, free ? [] : [new Interval(start.Value, end.Value)]);
    }

    /// <summary>A dateTimeTimeZone: UTC as we ask for it, or an IANA or Windows zone name if the service answers in one.</summary>
    public static Instant? TimeOf(DateTimeTimeZone? value, bool allDay, DateTimeZone userZone)
    {
        if (value?.DateTime is not { } text
            || !DateTime.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var parsed))
        {
            return null;
        }

        var local = LocalDateTime.FromDateTime(DateTime.SpecifyKind(parsed, DateTimeKind.Unspecified));
        if (allDay)
        {
            // An all-day event is a set of dates, wherever the user is.
            return local.Date.AtStartOfDayInZone(userZone).ToInstant();
        }

        var zone = ZoneOf(value.TimeZone) ?? DateTimeZone.Utc;
        return local.InZoneLeniently(zone).ToInstant();
    }

    private static DateTimeZone? ZoneOf(string? name)
    {
        if (string.IsNullOrEmpty(name) || name is "UTC" or "Etc/UTC" or "tzone://Microsoft/Utc")
        {
            return DateTimeZone.Utc;
        }

        if (DateTimeZoneProviders.Tzdb.GetZoneOrNull(name) is { } iana)
        {
            return iana;
        }

        var mapping = NodaTime.TimeZones.TzdbDateTimeZoneSource.Default.WindowsMapping.PrimaryMapping;
        return mapping.TryGetValue(name, out var id) ? DateTimeZoneProviders.Tzdb.GetZoneOrNull(id) : null;
    }

    /// <summary>
    /// The Graph event for a booking: subject, body with the notes and the conferencing link, location, UTC times,
    /// showAs tentative for requests awaiting approval or payment, and the customer as a required attendee.
    /// </summary>
    public static Event Build(BookingEventContent c)
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

        body.Append("<p>Booked with ").Append(WebUtility.HtmlEncode(c.CustomerName)).Append(" &lt;").Append(WebUtility.HtmlEncode(c.CustomerEmail)).Append("&gt;</p>");
        return new Event
        {
            Subject = c.Title,
            Body = new ItemBody { ContentType = BodyType.Html, Content = body.ToString() },
            Start = Utc(c.Start),
            End = Utc(c.End),
            Location = c.Location is null ? null : new Location { DisplayName = c.Location },
            ShowAs = c.Tentative ? FreeBusyStatus.Tentative : FreeBusyStatus.Busy,
            IsReminderOn = false,
            Attendees =
            [
                new Attendee
                {
                    Type = AttendeeType.Required,
                    EmailAddress = new EmailAddress { Address = c.CustomerEmail, Name = c.CustomerName },
                },
            ],
        };
    }

    private static DateTimeTimeZone Utc(Instant at) => new()
    {
        DateTime = at.ToDateTimeUtc().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", System.Globalization.CultureInfo.InvariantCulture),
        TimeZone = "UTC",
    };
}

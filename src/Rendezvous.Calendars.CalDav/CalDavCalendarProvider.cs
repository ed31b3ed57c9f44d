using Rendezvous.Calendars.Providers;
using Rendezvous.Calendars.Sync;
using Rendezvous.Domain.Calendars;

namespace Rendezvous.Calendars.CalDav;

/// <summary>
/// The two-way sync over CalDAV (generic servers and iCloud). Changes come from RFC 6578 sync-collection, or from an
/// ETag listing where the server lacks it; booking events are stored under a name derived from the booking id, so a
/// retried create lands on the same object. CalDAV has no push: connections are polled.
/// </summary>
public sealed class CalDavCalendarProvider : ICalendarProvider, IDisposable
{
    private readonly HttpMessageHandler _handler;
    private readonly TimeSpan _requestTimeout;

    /// <param name="handler">Shared by every session (one connection pool per process); disposed with the provider.</param>
    /// <param name="requestTimeout">Per request, so one slow server cannot hold a sync round for long.</param>
    public CalDavCalendarProvider(HttpMessageHandler handler, TimeSpan requestTimeout)
    {
        _handler = handler;
        _requestTimeout = requestTimeout;
    }

    public string Name => "caldav";

    public IReadOnlyCollection<CalendarProvider> Providers { get; } = [CalendarProvider.CalDav, CalendarProvider.ICloud];

    public bool SupportsPush => false;

    public TimeSpan? PollInterval => null;

    public ICalendarSession Open(CalendarAccount account)
    {
        var http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        return new CalDavCalendarSession(new CalDavClient(http, new CalDavClientOptions
        {
            ServerUri = new Uri(account.ServerUrl),
            UserName = account.Username,
            Password = account.Secret,
            RequestTimeout = _requestTimeout,
        }));
    }

    public void Dispose() => _handler.Dispose();

    /// <summary>The path of an absolute calendar URL, as CalDAV hrefs are written.</summary>
    public static string HrefOf(string calendarUrl) => new Uri(calendarUrl).AbsolutePath;
}

/// <summary>One connection's CalDAV client behind the provider-neutral operations.</summary>
internal sealed class CalDavCalendarSession(CalDavClient client) : ICalendarSession
{
    public AccountUpdate? AccountUpdate => null;

    public Task<IReadOnlyList<ProviderCalendar>> ListCalendarsAsync(CancellationToken ct) => Guard<IReadOnlyList<ProviderCalendar>>(async () =>
    {
        var discovery = await client.DiscoverAsync(null, ct);
        return [.. discovery.Calendars.Where(c => c.Supports("VEVENT"))
            .Select(c => new ProviderCalendar(new Uri(client.ServerUri, c.Href).ToString(), c.DisplayName ?? c.Href, CanWrite: true))];
    });

    public Task<CalendarChanges> GetChangesAsync(string calendarId, ChangeQuery query, CancellationToken ct) => Guard(async () =>
    {
        var href = CalDavCalendarProvider.HrefOf(calendarId);
        IReadOnlyList<ObjectVersion> changed;
        List<string> deleted;
        string? cursor = null;
        IReadOnlyCollection<string>? listed = null;

        var result = await client.SyncCollectionAsync(href, query.Cursor, ct);
        if (result.Outcome == SyncOutcome.InvalidToken)
        {
            return CalendarChanges.CursorInvalid;
        }

        if (result.Outcome == SyncOutcome.Completed)
        {
            changed = result.Changed;
            deleted = [.. result.Deleted];
            cursor = result.SyncToken;
            if (result.IsInitial)
            {
                listed = changed.Select(c => c.Href).ToHashSet(StringComparer.Ordinal);
            }
        }
        else
        {
            // No sync-collection: compare the collection's ETags with what we know.
            var listing = await client.ListObjectsAsync(href, ct);
            var diff = CollectionDiff.Compare(query.Known, listing);
            changed = [.. diff.Added, .. diff.Changed];
            deleted = [.. diff.Removed];
        }

        var toFetch = changed.Where(c => !query.Known.TryGetValue(c.Href, out var version) || version is null || version != c.ETag || c.ETag is null)
            .Select(c => c.Href).Distinct(StringComparer.Ordinal).ToList();
        var items = new List<ProviderItem>();
        if (toFetch.Count > 0)
        {
            var fetched = await client.MultigetAsync(href, toFetch, ct);
            items.AddRange(fetched.Objects.Select(o => ICalendarItemReader.Read(o.Href, o.ETag, o.CalendarData, query)));
            deleted.AddRange(fetched.Missing);
        }

        return new CalendarChanges(ChangesOutcome.Completed, items, deleted, cursor, listed);
    });

    public Task<WrittenItem> UpsertBookingEventAsync(string calendarId, BookingEventContent content, WrittenItem? previous, CancellationToken ct) => Guard(async () =>
    {
        var href = previous?.ItemId
            ?? CalDavHref.Combine(CalDavCalendarProvider.HrefOf(calendarId), BookingCalendarEvent.ResourceNameOf(content.BookingId));
        var text = BookingCalendarEvent.Write(content);
        WriteResult result;
        if (previous?.Version is not { } etag)
        {
            result = await client.CreateObjectAsync(href, text, ct);
            if (result.Outcome == WriteOutcome.PreconditionFailed)
            {
                // It exists already: an earlier attempt wrote it but did not live to record the ETag.
                result = await OverwriteAsync(href, text, ct);
            }
        }
        else
        {
            result = await client.UpdateObjectAsync(href, text, etag, ct);
            if (result.Outcome is WriteOutcome.PreconditionFailed or WriteOutcome.NotFound)
            {
                // Changed (or removed) in the calendar since our last write: the booking is the source of truth.
                result = await OverwriteAsync(href, text, ct);
            }
        }

        if (!result.Succeeded)
        {
            throw new CalendarProviderException(CalendarFailure.Protocol, $"Writing {href} ended as {result.Outcome}.");
        }

        return new WrittenItem(href, result.ETag ?? await client.GetETagAsync(href, ct));
    });

    public Task DeleteBookingEventAsync(string calendarId, WrittenItem item, CancellationToken ct) => Guard(async () =>
    {
        var result = await client.DeleteAsync(item.ItemId, item.Version, ct);
        if (result.Outcome == WriteOutcome.PreconditionFailed)
        {
            await client.DeleteAsync(item.ItemId, null, ct);
        }

        return true;
    });

    public Task<PushSubscription?> EnsurePushAsync(string calendarId, PushSubscription? current, PushTarget target, CancellationToken ct) =>
        Task.FromResult<PushSubscription?>(null);

    public void Dispose() => client.Dispose();

    private async Task<WriteResult> OverwriteAsync(string href, string text, CancellationToken ct)
    {
        var etag = await client.GetETagAsync(href, ct);
        return etag is null ? await client.CreateObjectAsync(href, text, ct) : await client.UpdateObjectAsync(href, text, etag, ct);
    }

    /// <summary>CalDAV failures become the provider-neutral kinds the engine reports to the user.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (CalDavException ex)
        {
            var failure = ex switch
            {
                CalDavAccessDeniedException => CalendarFailure.AccessDenied,
                CalDavNotFoundException => CalendarFailure.NotFound,
                CalDavTransientException => CalendarFailure.Unavailable,
                _ => CalendarFailure.Protocol,
            };
            throw new CalendarProviderException(failure, ex.Message, ex);
        }
    }
}

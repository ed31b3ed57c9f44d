using System.Net;
using System.Xml.Linq;
using NodaTime;
using NodaTime.Text;

namespace Rendezvous.Calendars.CalDav;

/// <summary>
/// A CalDAV client (RFC 4791 over WebDAV, RFC 4918) that deals in raw iCalendar text, hrefs and entity tags:
/// discovery (RFC 6764, RFC 5397), calendar listing and creation, conditional PUT/DELETE, GET, RFC 6578 sync-collection,
/// a ctag-and-listing fallback, calendar-multiget and calendar-query with a time range.
/// </summary>
/// <remarks>
/// Every call sends HTTP Basic credentials, has the timeout of <see cref="CalDavClientOptions.RequestTimeout"/> and honours
/// its <see cref="CancellationToken"/> (a cancelled token throws <see cref="OperationCanceledException"/>). Expected
/// outcomes come back as values (<see cref="WriteResult"/>, <see cref="SyncCollectionResult"/>, a null object); failures
/// are thrown as <see cref="CalDavException"/> subclasses whose <see cref="CalDavException.Kind"/> says what to do next.
/// Hrefs are kept as the server wrote them. The client holds no per-call state and may be shared between threads.
/// </remarks>
public sealed class CalDavClient : IDisposable
{
    private static readonly HttpMethod PropFind = new("PROPFIND");
    private static readonly HttpMethod Report = new("REPORT");
    private static readonly HttpMethod MkCalendar = new("MKCALENDAR");
    private static readonly InstantPattern UtcDateTime = InstantPattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss'Z'");

    private static readonly XName[] CalendarProperties =
    [
        DavNames.ResourceType,
        DavNames.DisplayName,
        DavNames.GetCTag,
        DavNames.SyncToken,
        DavNames.SupportedCalendarComponentSet,
        DavNames.SupportedReportSet,
    ];

    private readonly CalDavClientOptions _options;
    private readonly CalDavTransport _transport;

    /// <summary>
    /// A client on a caller-owned <see cref="HttpClient"/>, which is not disposed with it. Its handler should not follow
    /// redirects itself (.NET drops the Authorization header when it does) and should cope with HTTP/1.0 servers that
    /// close every connection: <see cref="CreateHttpMessageHandler"/> makes a suitable one, which may be shared.
    /// </summary>
    public CalDavClient(HttpClient httpClient, CalDavClientOptions options)
        : this(httpClient, ownsHttpClient: false, options)
    {
    }

    /// <summary>A client with its own <see cref="HttpClient"/> on a <see cref="CreateHttpMessageHandler"/> handler, disposed with it.</summary>
    public CalDavClient(CalDavClientOptions options)
        : this(new HttpClient(CreateHttpMessageHandler(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan }, ownsHttpClient: true, options)
    {
    }

    private CalDavClient(HttpClient httpClient, bool ownsHttpClient, CalDavClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
        }
        catch (ArgumentException)
        {
            if (ownsHttpClient)
            {
                httpClient.Dispose();
            }

            throw;
        }

        _options = options;
        _transport = new CalDavTransport(httpClient, ownsHttpClient, options);
    }

    /// <summary>The server base address hrefs are resolved against.</summary>
    public Uri ServerUri => _options.ServerUri;

    /// <summary>
    /// A handler that leaves redirects to the client, decompresses answers and pools connections. It also marks every
    /// HTTP/1.0 answer "Connection: close": such servers (Radicale's built-in one, for instance) close the connection
    /// after one answer, and SocketsHttpHandler would otherwise pool it and fail the next request sent on it.
    /// </summary>
    public static SocketsHttpHandler CreateHttpMessageHandler() => new()
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.All,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        UseCookies = false,
        PlaintextStreamFilter = (context, _) => ValueTask.FromResult<Stream>(
            context.NegotiatedHttpVersion.Major == 1 ? new Http10ConnectionCloseStream(context.PlaintextStream) : context.PlaintextStream),
    };

    public void Dispose() => _transport.Dispose();

    // ---------------------------------------------------------------- discovery

    /// <summary>
    /// Finds the user's principal, calendar homes and calendars. Tries <paramref name="startUri"/> (default: the server
    /// base), then <c>/.well-known/caldav</c> (RFC 6764; same-host redirects are followed), then <c>/</c>.
    /// </summary>
    /// <exception cref="CalDavProtocolException">None of them names a principal or a calendar home.</exception>
    /// <exception cref="CalDavAccessDeniedException">The credentials are refused (401), or every candidate is forbidden (403).</exception>
    public async Task<CalDavDiscovery> DiscoverAsync(Uri? startUri = null, CancellationToken cancellationToken = default)
    {
        var candidates = new List<string> { (startUri ?? _options.ServerUri).AbsoluteUri, "/.well-known/caldav", "/" };
        var tried = new HashSet<string>(CalDavHref.Comparer);
        CalDavException? lastError = null;
        foreach (var candidate in candidates)
        {
            if (!tried.Add(CalDavHref.Resolve(_options.ServerUri, candidate).AbsoluteUri))
            {
                continue;
            }

            DavAnswer answer;
            Multistatus multistatus;
            try
            {
                answer = await _transport.SendAsync(
                    PropfindRequest(candidate, PropfindDepth.Zero, [DavNames.CurrentUserPrincipal, DavNames.CalendarHomeSet, DavNames.ResourceType]),
                    cancellationToken);
                multistatus = CalDavTransport.ReadMultistatus(answer);
            }
            catch (CalDavException ex) when (ex is CalDavNotFoundException or CalDavRequestRejectedException or CalDavProtocolException
                || (ex is CalDavAccessDeniedException && ex.StatusCode == 403))
            {
                // Some servers refuse PROPFIND on their root or the well-known path but answer on the next candidate;
                // a 401 (wrong credentials) is final.
                lastError = ex;
                continue;
            }

            var response = multistatus.Responses.FirstOrDefault();
            var principal = response?.FindHrefs(DavNames.CurrentUserPrincipal).FirstOrDefault();
            var homes = response?.FindHrefs(DavNames.CalendarHomeSet) ?? [];
            if (principal is null && homes.Count == 0)
            {
                continue;
            }

            principal ??= response!.Href;
            if (homes.Count == 0)
            {
                homes = await GetCalendarHomeSetAsync(principal, cancellationToken);
            }

            var calendars = new List<CalendarCollection>();
            foreach (var home in homes)
            {
                calendars.AddRange(await ListCalendarsAsync(home, cancellationToken));
            }

            return new CalDavDiscovery(answer.Uri, principal, homes, calendars);
        }

        if (lastError is CalDavAccessDeniedException denied)
        {
            throw denied;
        }

        throw new CalDavProtocolException(
            $"No CalDAV principal was found at {startUri ?? _options.ServerUri}, /.well-known/caldav or /.", innerException: lastError);
    }

    /// <summary>The RFC 5397 current-user-principal reported at <paramref name="href"/>, or null when the server names none.</summary>
    public async Task<string?> GetCurrentUserPrincipalAsync(string href, CancellationToken cancellationToken = default)
    {
        var multistatus = await PropfindAsync(href, PropfindDepth.Zero, [DavNames.CurrentUserPrincipal], cancellationToken);
        return multistatus.Responses.FirstOrDefault()?.FindHrefs(DavNames.CurrentUserPrincipal).FirstOrDefault();
    }

    /// <summary>The RFC 4791 calendar-home-set of a principal (empty when the server names none).</summary>
    public async Task<IReadOnlyList<string>> GetCalendarHomeSetAsync(string principalHref, CancellationToken cancellationToken = default)
    {
        var multistatus = await PropfindAsync(principalHref, PropfindDepth.Zero, [DavNames.CalendarHomeSet], cancellationToken);
        return multistatus.Responses.FirstOrDefault()?.FindHrefs(DavNames.CalendarHomeSet) ?? [];
    }

    /// <summary>The calendar collections directly inside <paramref name="calendarHomeHref"/>.</summary>
    public async Task<IReadOnlyList<CalendarCollection>> ListCalendarsAsync(string calendarHomeHref, CancellationToken cancellationToken = default)
    {
        var multistatus = await PropfindAsync(calendarHomeHref, PropfindDepth.One, CalendarProperties, cancellationToken);
        return multistatus.Responses.Where(r => r.HasResourceType(DavNames.Calendar)).Select(ToCalendar).ToList();
    }

    /// <summary>One calendar's properties (ctag and sync-token included); null when the resource is not a calendar.</summary>
    /// <exception cref="CalDavNotFoundException">Nothing exists at <paramref name="calendarHref"/>.</exception>
    public async Task<CalendarCollection?> GetCalendarAsync(string calendarHref, CancellationToken cancellationToken = default)
    {
        var multistatus = await PropfindAsync(calendarHref, PropfindDepth.Zero, CalendarProperties, cancellationToken);
        var response = multistatus.Responses.FirstOrDefault(r => CalDavHref.Comparer.Equals(r.Href, calendarHref))
            ?? multistatus.Responses.FirstOrDefault();
        return response is not null && response.HasResourceType(DavNames.Calendar) ? ToCalendar(response) : null;
    }

    /// <summary>A PROPFIND for the named properties.</summary>
    /// <exception cref="CalDavNotFoundException">Nothing exists at <paramref name="href"/>.</exception>
    public async Task<Multistatus> PropfindAsync(string href, PropfindDepth depth, IEnumerable<XName> properties, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var answer = await _transport.SendAsync(PropfindRequest(href, depth, properties), cancellationToken);
        return CalDavTransport.ReadMultistatus(answer);
    }

    /// <summary>Creates a calendar collection with MKCALENDAR (RFC 4791 section 5.3.1).</summary>
    /// <param name="href">The new collection's href, e.g. the calendar home plus a new name and '/'.</param>
    /// <param name="displayName">Its DAV:displayname, or null.</param>
    /// <param name="components">The component types it may hold (e.g. VEVENT); null or empty leaves it to the server.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<CreateCalendarOutcome> CreateCalendarAsync(
        string href, string? displayName = null, IEnumerable<string>? components = null, CancellationToken cancellationToken = default)
    {
        var properties = new List<XElement>();
        if (displayName is not null)
        {
            properties.Add(new XElement(DavNames.DisplayName, displayName));
        }

        var componentList = components?.ToList() ?? [];
        if (componentList.Count > 0)
        {
            properties.Add(new XElement(
                DavNames.SupportedCalendarComponentSet,
                componentList.Select(c => new XElement(DavNames.Comp, new XAttribute("name", c)))));
        }

        var request = new DavRequest(MkCalendar, href)
        {
            Content = properties.Count == 0
                ? null
                : CalDavTransport.Xml(new XElement(DavNames.MkCalendar, Namespaces(), new XElement(DavNames.Set, new XElement(DavNames.Prop, properties)))),
        };
        var answer = await _transport.SendAsync(request, cancellationToken);
        if (answer.IsSuccess)
        {
            return CreateCalendarOutcome.Created;
        }

        if (answer.StatusCode == 405
            || (answer.StatusCode is 403 or 409 && Multistatus.TryReadErrorCondition(answer.Body) == DavNames.Dav + "resource-must-be-null"))
        {
            return CreateCalendarOutcome.AlreadyExists;
        }

        throw CalDavTransport.ErrorFor(answer);
    }

    // ---------------------------------------------------------------- objects

    /// <summary>Creates a calendar object with <c>If-None-Match: *</c>, so an existing one is never overwritten.</summary>
    /// <returns>Created with the new etag, or PreconditionFailed when something already exists at the href.</returns>
    /// <exception cref="CalDavRequestRejectedException">The server refused the data, e.g. CalDAV <c>no-uid-conflict</c>
    /// (another href already holds this UID) or <c>valid-calendar-data</c>.</exception>
    public Task<WriteResult> CreateObjectAsync(string href, string icalendar, CancellationToken cancellationToken = default) =>
        PutAsync(href, icalendar, new KeyValuePair<string, string>("If-None-Match", "*"), WriteOutcome.Created, cancellationToken);

    /// <summary>Replaces a calendar object only if it still has <paramref name="etag"/> (<c>If-Match</c>).</summary>
    /// <returns>Updated with the new etag; PreconditionFailed when the object changed since (or was deleted); NotFound
    /// when the server says the object is gone.</returns>
    public Task<WriteResult> UpdateObjectAsync(string href, string icalendar, string etag, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(etag);
        return PutAsync(href, icalendar, new KeyValuePair<string, string>("If-Match", etag), WriteOutcome.Updated, cancellationToken);
    }

    /// <summary>Deletes a resource (an object, or a whole collection), only if it still has <paramref name="etag"/> when one is given.</summary>
    /// <returns>Deleted; PreconditionFailed when the etag no longer matches; NotFound when it was already gone.</returns>
    public async Task<WriteResult> DeleteAsync(string href, string? etag = null, CancellationToken cancellationToken = default)
    {
        var request = new DavRequest(HttpMethod.Delete, href)
        {
            Headers = etag is null ? [] : [new KeyValuePair<string, string>("If-Match", etag)],
        };
        var answer = await _transport.SendAsync(request, cancellationToken);
        return answer.StatusCode switch
        {
            >= 200 and < 300 => new WriteResult(WriteOutcome.Deleted, null),
            412 => new WriteResult(WriteOutcome.PreconditionFailed, null),
            404 or 410 => new WriteResult(WriteOutcome.NotFound, null),
            _ => throw CalDavTransport.ErrorFor(answer),
        };
    }

    /// <summary>Reads one calendar object; null when the server says it does not exist (404/410).</summary>
    public async Task<CalendarObject?> GetObjectAsync(string href, CancellationToken cancellationToken = default)
    {
        var request = new DavRequest(HttpMethod.Get, href)
        {
            Headers = [new KeyValuePair<string, string>("Accept", "text/calendar")],
            Idempotent = true,
        };
        var answer = await _transport.SendAsync(request, cancellationToken);
        return answer.StatusCode switch
        {
            200 => new CalendarObject(href, answer.ETag, answer.BodyText()),
            404 or 410 => null,
            _ => throw CalDavTransport.ErrorFor(answer),
        };
    }

    /// <summary>The current etag of a resource (PROPFIND getetag); null when it does not exist or has none.</summary>
    public async Task<string?> GetETagAsync(string href, CancellationToken cancellationToken = default)
    {
        var answer = await _transport.SendAsync(PropfindRequest(href, PropfindDepth.Zero, [DavNames.GetETag]), cancellationToken);
        if (answer.StatusCode is 404 or 410)
        {
            return null;
        }

        var multistatus = CalDavTransport.ReadMultistatus(answer);
        var response = multistatus.Responses.FirstOrDefault(r => CalDavHref.Comparer.Equals(r.Href, href)) ?? multistatus.Responses.FirstOrDefault();
        return response?.FindText(DavNames.GetETag);
    }

    private async Task<WriteResult> PutAsync(string href, string icalendar, KeyValuePair<string, string> condition, WriteOutcome success, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(icalendar);
        var request = new DavRequest(HttpMethod.Put, href)
        {
            Content = CalDavTransport.Calendar(icalendar),
            Headers = [condition],
        };
        var answer = await _transport.SendAsync(request, cancellationToken);
        switch (answer.StatusCode)
        {
            case >= 200 and < 300:
                // RFC 4791 5.3.4: a server that changed the data as it stored it sends no ETag, so read the stored one.
                var etag = answer.ETag ?? await GetETagAsync(href, cancellationToken);
                return new WriteResult(success, etag);
            case 412 when IsCalDavPrecondition(answer):
                // Not an ETag conflict but a refused object (Xandikos answers valid-calendar-data, no-uid-conflict and the
                // like with 412 instead of 403/409): reading that as "something exists" would hide the refusal.
                throw CalDavTransport.ErrorFor(answer);
            case 412:
                return new WriteResult(WriteOutcome.PreconditionFailed, null);
            case 404 or 410 when success == WriteOutcome.Updated:
                return new WriteResult(WriteOutcome.NotFound, null);
            default:
                throw CalDavTransport.ErrorFor(answer);
        }
    }

    private static bool IsCalDavPrecondition(DavAnswer answer) =>
        Multistatus.TryReadErrorCondition(answer.Body) is { } condition && condition.Namespace == DavNames.CalDav;

    // ---------------------------------------------------------------- synchronisation

    /// <summary>
    /// RFC 6578 sync-collection (sync-level 1) of a calendar: without a token, every member; with one, what changed and
    /// what was deleted since. When the server truncates its answer (a 507 for the collection) the client asks again
    /// from the token it got, up to <see cref="CalDavClientOptions.MaxSyncPages"/> requests, and merges the pages.
    /// Only etags are fetched; read the data with <see cref="MultigetAsync"/>.
    /// </summary>
    /// <returns>Completed with the changes and the new token; InvalidToken when the server refuses the token (sync
    /// again from scratch); NotSupported when the collection has no sync-collection report.</returns>
    /// <exception cref="CalDavProtocolException">The server's answer has no sync-token, or it truncates without progress.</exception>
    public async Task<SyncCollectionResult> SyncCollectionAsync(string calendarHref, string? syncToken, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(calendarHref);
        var isInitial = string.IsNullOrWhiteSpace(syncToken);
        var token = isInitial ? null : syncToken;
        var collectionKey = CollectionKey(calendarHref);
        var changed = new OrderedDictionary<string, ObjectVersion>(StringComparer.Ordinal);
        var deleted = new OrderedDictionary<string, string>(StringComparer.Ordinal);

        for (var page = 1; page <= _options.MaxSyncPages; page++)
        {
            var body = new XElement(
                DavNames.SyncCollection,
                Namespaces(),
                new XElement(DavNames.SyncToken, token ?? string.Empty),
                new XElement(DavNames.SyncLevel, "1"),
                new XElement(DavNames.Prop, new XElement(DavNames.GetETag)));
            var request = new DavRequest(Report, calendarHref) { Depth = "0", Content = CalDavTransport.Xml(body), Idempotent = true };
            DavAnswer answer;
            try
            {
                answer = await _transport.SendAsync(request, cancellationToken);
            }
            catch (CalDavTransientException ex) when (ex.StatusCode == 500 && token is not null && page == 1)
            {
                // Xandikos answers a token it does not know with 500 rather than 403 valid-sync-token. When the same
                // report without a token works, the token was the trouble: start again from scratch, losing nothing.
                if (await AcceptsInitialSyncAsync(calendarHref, cancellationToken))
                {
                    return SyncCollectionResult.Failed(SyncOutcome.InvalidToken, isInitial, page);
                }

                throw;
            }

            if (answer.StatusCode is 400 or 403 or 409 or 412)
            {
                var condition = Multistatus.TryReadErrorCondition(answer.Body);
                if (condition == DavNames.ValidSyncToken && token is not null)
                {
                    return SyncCollectionResult.Failed(SyncOutcome.InvalidToken, isInitial, page);
                }

                if (condition == DavNames.SupportedReport)
                {
                    return SyncCollectionResult.Failed(SyncOutcome.NotSupported, isInitial, page);
                }
            }

            if (answer.StatusCode is 405 or 501)
            {
                return SyncCollectionResult.Failed(SyncOutcome.NotSupported, isInitial, page);
            }

            var multistatus = CalDavTransport.ReadMultistatus(answer);
            if (multistatus.SyncToken is null)
            {
                throw new CalDavProtocolException(
                    $"REPORT sync-collection on {answer.Uri} answered without a DAV:sync-token.", answer.Method, answer.Uri, answer.StatusCode);
            }

            var truncated = false;
            foreach (var response in multistatus.Responses)
            {
                if (response.StatusCode == 507)
                {
                    truncated = true;
                    continue;
                }

                foreach (var href in response.Hrefs)
                {
                    var key = CalDavHref.Normalize(href);
                    if (CalDavHref.IsCollection(key) || key.TrimEnd('/') == collectionKey)
                    {
                        continue;
                    }

                    if (response.IsGone)
                    {
                        changed.Remove(key);
                        if (!isInitial)
                        {
                            deleted[key] = href;
                        }
                    }
                    else if (response.StatusCode is >= 200 and < 300 || response.PropStats.Count > 0)
                    {
                        changed[key] = new ObjectVersion(href, response.FindText(DavNames.GetETag));
                        deleted.Remove(key);
                    }
                }
            }

            if (!truncated)
            {
                return SyncCollectionResult.Completed(multistatus.SyncToken, [.. changed.Values], [.. deleted.Values], isInitial, page);
            }

            if (string.Equals(multistatus.SyncToken, token, StringComparison.Ordinal))
            {
                throw new CalDavProtocolException(
                    $"REPORT sync-collection on {answer.Uri} was truncated without a new sync-token.", answer.Method, answer.Uri, answer.StatusCode);
            }

            token = multistatus.SyncToken;
        }

        throw new CalDavProtocolException($"sync-collection of {calendarHref} was still truncated after {_options.MaxSyncPages} requests.");
    }

    private async Task<bool> AcceptsInitialSyncAsync(string calendarHref, CancellationToken cancellationToken)
    {
        var body = new XElement(
            DavNames.SyncCollection,
            Namespaces(),
            new XElement(DavNames.SyncToken, string.Empty),
            new XElement(DavNames.SyncLevel, "1"),
            new XElement(DavNames.Prop, new XElement(DavNames.GetETag)));
        var request = new DavRequest(Report, calendarHref) { Depth = "0", Content = CalDavTransport.Xml(body), Idempotent = true };
        try
        {
            var answer = await _transport.SendAsync(request, cancellationToken);
            return answer.StatusCode is 207 or 200;
        }
        catch (CalDavException)
        {
            return false;
        }
    }

    /// <summary>
    /// Every member of a calendar with its etag (a depth-1 PROPFIND), for servers without sync-collection: compare the
    /// calendar's <see cref="CalendarCollection.CTag"/> first, and when it changed, diff this listing with
    /// <see cref="CollectionDiff.Compare"/>. The collection itself and sub-collections are left out.
    /// </summary>
    public async Task<IReadOnlyList<ObjectVersion>> ListObjectsAsync(string calendarHref, CancellationToken cancellationToken = default)
    {
        var multistatus = await PropfindAsync(calendarHref, PropfindDepth.One, [DavNames.GetETag, DavNames.ResourceType], cancellationToken);
        var collectionKey = CollectionKey(calendarHref);
        return multistatus.Responses
            .Where(r => r.StatusCode is >= 200 and < 300 || (r.StatusCode is null && r.PropStats.Any(p => p.IsSuccess)))
            .Where(r => !r.HasResourceType(DavNames.Collection) && !CalDavHref.IsCollection(r.Href) && CollectionKey(r.Href) != collectionKey)
            .Select(r => new ObjectVersion(r.Href, r.FindText(DavNames.GetETag)))
            .ToList();
    }

    /// <summary>
    /// Reads many objects of one calendar with calendar-multiget (RFC 4791 section 7.9), in batches of
    /// <see cref="CalDavClientOptions.MultigetBatchSize"/>. Hrefs are sent as given.
    /// </summary>
    public async Task<MultigetResult> MultigetAsync(string calendarHref, IEnumerable<string> hrefs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hrefs);
        var wanted = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var href in hrefs)
        {
            if (!string.IsNullOrWhiteSpace(href))
            {
                wanted.TryAdd(CalDavHref.Normalize(href), href);
            }
        }

        var objects = new List<CalendarObject>();
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var batch in wanted.Values.Chunk(_options.MultigetBatchSize))
        {
            var body = new XElement(
                DavNames.CalendarMultiget,
                Namespaces(),
                new XElement(DavNames.Prop, new XElement(DavNames.GetETag), new XElement(DavNames.CalendarData)),
                batch.Select(h => new XElement(DavNames.Href, h)));
            var request = new DavRequest(Report, calendarHref) { Depth = "1", Content = CalDavTransport.Xml(body), Idempotent = true };
            var multistatus = CalDavTransport.ReadMultistatus(await _transport.SendAsync(request, cancellationToken));
            foreach (var response in multistatus.Responses)
            {
                var data = response.FindProperty(DavNames.CalendarData)?.Value;
                if (string.IsNullOrWhiteSpace(data) || !found.Add(CalDavHref.Normalize(response.Href)))
                {
                    continue;
                }

                objects.Add(new CalendarObject(response.Href, response.FindText(DavNames.GetETag), data));
            }
        }

        var missing = wanted.Where(w => !found.Contains(w.Key)).Select(w => w.Value).ToList();
        return new MultigetResult(objects, missing);
    }

    /// <summary>
    /// The events of a calendar that overlap [<paramref name="start"/>, <paramref name="end"/>) by RFC 4791 time-range
    /// rules (recurring events are matched by any instance), with their data and etags (calendar-query, section 7.8).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="end"/> is not after <paramref name="start"/>.</exception>
    public async Task<IReadOnlyList<CalendarObject>> QueryEventsAsync(string calendarHref, Instant start, Instant end, CancellationToken cancellationToken = default)
    {
        if (end <= start)
        {
            throw new ArgumentException("The end of the time range must be after its start.", nameof(end));
        }

        var body = new XElement(
            DavNames.CalendarQuery,
            Namespaces(),
            new XElement(DavNames.Prop, new XElement(DavNames.GetETag), new XElement(DavNames.CalendarData)),
            new XElement(
                DavNames.Filter,
                new XElement(
                    DavNames.CompFilter,
                    new XAttribute("name", "VCALENDAR"),
                    new XElement(
                        DavNames.CompFilter,
                        new XAttribute("name", "VEVENT"),
                        new XElement(
                            DavNames.TimeRange,
                            new XAttribute("start", UtcDateTime.Format(start)),
                            new XAttribute("end", UtcDateTime.Format(end)))))));
        var request = new DavRequest(Report, calendarHref) { Depth = "1", Content = CalDavTransport.Xml(body), Idempotent = true };
        var multistatus = CalDavTransport.ReadMultistatus(await _transport.SendAsync(request, cancellationToken));

        var collectionKey = CollectionKey(calendarHref);
        var objects = new List<CalendarObject>();
        var withoutData = new List<string>();
        foreach (var response in multistatus.Responses)
        {
            if (CalDavHref.IsCollection(response.Href) || CollectionKey(response.Href) == collectionKey || response.IsGone)
            {
                continue;
            }

            var data = response.FindProperty(DavNames.CalendarData)?.Value;
            if (string.IsNullOrWhiteSpace(data))
            {
                // Some servers match but leave the data out (too large, or unsupported); fetch it separately.
                withoutData.Add(response.Href);
            }
            else
            {
                objects.Add(new CalendarObject(response.Href, response.FindText(DavNames.GetETag), data));
            }
        }

        if (withoutData.Count > 0)
        {
            objects.AddRange((await MultigetAsync(calendarHref, withoutData, cancellationToken)).Objects);
        }

        return objects;
    }

    // ---------------------------------------------------------------- helpers

    private static DavRequest PropfindRequest(string href, PropfindDepth depth, IEnumerable<XName> properties) =>
        new(PropFind, href)
        {
            Depth = depth == PropfindDepth.Zero ? "0" : "1",
            Content = CalDavTransport.Xml(new XElement(
                DavNames.PropFind,
                Namespaces(),
                new XElement(DavNames.Prop, properties.Select(p => new XElement(p))))),
            Idempotent = true,
        };

    /// <summary>The comparison key of a collection's href; some servers list a collection without its trailing '/'.</summary>
    private static string CollectionKey(string href) => CalDavHref.Normalize(href).TrimEnd('/');

    private static XAttribute[] Namespaces() =>
    [
        new(XNamespace.Xmlns + "D", DavNames.Dav.NamespaceName),
        new(XNamespace.Xmlns + "C", DavNames.CalDav.NamespaceName),
        new(XNamespace.Xmlns + "CS", DavNames.CalendarServer.NamespaceName),
    ];

    private static CalendarCollection ToCalendar(DavResponse response)
    {
        var components = response.FindProperty(DavNames.SupportedCalendarComponentSet)?
            .Elements(DavNames.Comp)
            .Select(c => ((string?)c.Attribute("name"))?.Trim().ToUpperInvariant())
            .Where(n => !string.IsNullOrEmpty(n))
            .Select(n => n!)
            .Distinct(StringComparer.Ordinal)
            .ToList() ?? [];
        var reports = response.FindProperty(DavNames.SupportedReportSet)?
            .Elements(DavNames.SupportedReport)
            .Elements(DavNames.Report)
            .Elements()
            .Select(e => e.Name)
            .Distinct()
            .ToList() ?? [];
        return new CalendarCollection(
            response.Href,
            response.FindText(DavNames.DisplayName),
            response.FindText(DavNames.GetCTag),
            response.FindText(DavNames.SyncToken),
            components,
            reports);
    }
}

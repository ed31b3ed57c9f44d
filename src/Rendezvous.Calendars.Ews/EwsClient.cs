using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using NodaTime;
using static Rendezvous.Calendars.Ews.EwsXml;

namespace Rendezvous.Calendars.Ews;

/// <summary>How the client proves who it is.</summary>
public enum EwsAuth
{
    /// <summary>
    /// Whatever the server offers of NTLM, Negotiate and Basic, through <see cref="HttpClientHandler.Credentials"/>
    /// (HttpClient prefers NTLM/Negotiate when the server offers them with Basic). The default for password connections.
    /// </summary>
    Auto,
    /// <summary>Basic over HTTPS: the user name and password in every request.</summary>
    Basic,
    /// <summary>NTLM or Negotiate, through <see cref="HttpClientHandler.Credentials"/> (connection-based: keep-alive on).</summary>
    Ntlm,
    /// <summary>An OAuth access token (hybrid modern authentication).</summary>
    Bearer,
}

/// <summary>Who the client signs in as, and (for an organization-wide service account) whose mailbox it acts on.</summary>
/// <param name="Auth">Basic, NTLM or bearer.</param>
/// <param name="Username">The sign-in name (user@domain, DOMAIN\user); unused for bearer.</param>
/// <param name="Secret">The password, or the bearer token.</param>
/// <param name="Mailbox">The mailbox's SMTP address: sent as X-AnchorMailbox, and impersonated when <paramref name="Impersonate"/>.</param>
/// <param name="Impersonate">Act on <paramref name="Mailbox"/> through ExchangeImpersonation (the account holds the ApplicationImpersonation role).</param>
public sealed record EwsCredentials(EwsAuth Auth, string Username, string Secret, string? Mailbox, bool Impersonate = false);

/// <summary>A calendar folder.</summary>
public sealed record EwsFolder(string Id, string? ChangeKey, string Name, string? FolderClass);

/// <summary>The calendar item fields the sync reads.</summary>
/// <param name="Id">The ItemId's Id.</param>
/// <param name="ChangeKey">The ItemId's ChangeKey: changes on every change of the item.</param>
/// <param name="Uid">The iCalendar UID, shared by a series and its occurrences.</param>
/// <param name="Subject">The title.</param>
/// <param name="Start">Start, in UTC as EWS gives it.</param>
/// <param name="End">End.</param>
/// <param name="IsAllDay">IsAllDayEvent.</param>
/// <param name="IsCancelled">Set on meetings their organizer cancelled.</param>
/// <param name="BookingId">Our extended property's value, when the item is one of our booking events.</param>
/// <param name="FreeBusy">LegacyFreeBusyStatus: Free, Tentative, Busy, OOF, WorkingElsewhere, NoData.</param>
/// <param name="ItemType">CalendarItemType: Single, Occurrence, Exception, RecurringMaster.</param>
public sealed record EwsCalendarItem(
    string Id,
    string? ChangeKey,
    string? Uid,
    string? Subject,
    Instant? Start,
    Instant? End,
    bool IsAllDay,
    string FreeBusy,
    bool IsCancelled,
    string ItemType,
    string? BookingId);

/// <summary>One SyncFolderItems round to the end: every change since the given state, and the state to keep.</summary>
/// <param name="Changed">Created and updated items (id and ChangeKey).</param>
/// <param name="Deleted">Ids of deleted items.</param>
/// <param name="SyncState">The state to send next time.</param>
public sealed record EwsSyncResult(IReadOnlyList<(string Id, string? ChangeKey)> Changed, IReadOnlyList<string> Deleted, string SyncState);

/// <summary>What a booking event shows in Exchange.</summary>
public sealed record EwsBookingItem(
    string BookingId,
    string Uid,
    string Subject,
    string BodyHtml,
    string? Location,
    Instant Start,
    Instant End,
    bool Tentative,
    IReadOnlyList<(string Name, string Email)> Attendees);

/// <summary>
/// A small typed client for the Exchange Web Services operations the calendar sync needs, SOAP over HttpClient with
/// System.Xml.Linq (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/ews-operations-in-exchange).
/// Every request carries RequestServerVersion and X-AnchorMailbox; ErrorServerBusy is retried after the server's
/// BackOffMilliseconds, 5xx answers and network failures with exponential backoff; failures surface as
/// <see cref="EwsException"/>.
/// </summary>
public sealed class EwsClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly EwsCredentials _credentials;
    private readonly EwsOptions _options;

    /// <param name="endpoint">The EWS URL (https://mail.example.com/EWS/Exchange.asmx).</param>
    /// <param name="credentials">Who signs in, and whose mailbox.</param>
    /// <param name="options">Version, timeouts, retries, and the hosts allowed over plain http.</param>
    /// <param name="transport">The shared handler for Basic and bearer (not disposed here); NTLM gets its own, because
    /// it authenticates the connection rather than the request.</param>
    public EwsClient(Uri endpoint, EwsCredentials credentials, EwsOptions options, HttpMessageHandler transport)
    {
        RefuseCleartext(endpoint, options);
        _endpoint = endpoint;
        _credentials = credentials;
        _options = options;
        if (credentials.Auth is EwsAuth.Ntlm or EwsAuth.Auto)
        {
            var server = new Uri(endpoint.GetLeftPart(UriPartial.Authority));
            var cache = new CredentialCache
            {
                { server, "NTLM", Credential(credentials) },
                { server, "Negotiate", Credential(credentials) },
            };
            if (credentials.Auth == EwsAuth.Auto)
            {
                cache.Add(server, "Basic", Credential(credentials));
            }

            _http = new HttpClient(new SocketsHttpHandler
            {
                Credentials = cache,
                PreAuthenticate = true,
                // NTLM authenticates the connection, not the request: keep connections alive for the session.
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                SslOptions = transport is SocketsHttpHandler shared ? shared.SslOptions : new System.Net.Security.SslClientAuthenticationOptions(),
                // The host's connect check (its outbound address policy) applies to these connections too.
                ConnectCallback = (transport as SocketsHttpHandler)?.ConnectCallback,
            }, disposeHandler: true);
        }
        else
        {
            _http = new HttpClient(transport, disposeHandler: false);
        }

        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Plain http is refused (the password or token would cross the network in clear) unless the host is allowed.</summary>
    public static void RefuseCleartext(Uri endpoint, EwsOptions options)
    {
        if (endpoint.Scheme == Uri.UriSchemeHttps)
        {
            return;
        }

        if (endpoint.Scheme == Uri.UriSchemeHttp && options.AllowedHttpHosts.Contains(endpoint.Host, StringComparer.OrdinalIgnoreCase))
        {
            return;
        }

        throw new EwsException(EwsErrorKind.AccessDenied, null,
            $"The Exchange server must be reached over https (got {endpoint.Scheme}://{endpoint.Host}); plain http is allowed only to hosts named in configuration.");
    }

    private static NetworkCredential Credential(EwsCredentials credentials)
    {
        var slash = credentials.Username.IndexOf('\\', StringComparison.Ordinal);
        return slash > 0
            ? new NetworkCredential(credentials.Username[(slash + 1)..], credentials.Secret, credentials.Username[..slash])
            : new NetworkCredential(credentials.Username, credentials.Secret);
    }

    /// <summary>
    /// The calendar folders: the default calendar (GetFolder) and every calendar folder below it (FindFolder, deep)
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getfolder-operation,
    /// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findfolder-operation).
    /// </summary>
    public async Task<IReadOnlyList<EwsFolder>> ListCalendarsAsync(CancellationToken ct)
    {
        var shape = new XElement(M + "FolderShape", new XElement(T + "BaseShape", "Default"),
            new XElement(T + "AdditionalProperties", FieldUri("folder:FolderClass")));
        var root = await CallAsync(new XElement(M + "GetFolder", shape, new XElement(M + "FolderIds", Folder("calendar"))), ct);
        var folders = ReadFolders(Single(root, "GetFolder")).ToList();
        var found = await CallAsync(new XElement(M + "FindFolder", new XAttribute("Traversal", "Deep"), new XElement(shape),
            new XElement(M + "ParentFolderIds", Folder("calendar"))), ct);
        folders.AddRange(ReadFolders(Single(found, "FindFolder"))
            .Where(f => f.FolderClass is null || f.FolderClass.StartsWith("IPF.Appointment", StringComparison.OrdinalIgnoreCase)));
        return folders;
    }

    private static IEnumerable<EwsFolder> ReadFolders(XElement message) =>
        message.Descendants(T + "CalendarFolder").Concat(message.Descendants(T + "Folder"))
            .Select(f => (Id: f.Element(T + "FolderId"), f))
            .Where(x => x.Id?.Attribute("Id") is not null)
            .Select(x => new EwsFolder(x.Id!.Attribute("Id")!.Value, x.Id.Attribute("ChangeKey")?.Value,
                x.f.Element(T + "DisplayName")?.Value ?? "Calendar", x.f.Element(T + "FolderClass")?.Value));

    /// <summary>
    /// FindItem with a CalendarView: the items and expanded occurrences overlapping [<paramref name="from"/>,
    /// <paramref name="to"/>) (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation,
    /// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarview).
    /// </summary>
    public async Task<IReadOnlyList<EwsCalendarItem>> FindCalendarViewAsync(string folderId, Instant from, Instant to, CancellationToken ct)
    {
        var root = await CallAsync(new XElement(M + "FindItem", new XAttribute("Traversal", "Shallow"),
            CalendarShape(),
            new XElement(M + "CalendarView", new XAttribute("StartDate", Time(from)), new XAttribute("EndDate", Time(to))),
            new XElement(M + "ParentFolderIds", Folder(folderId))), ct);
        return [.. Single(root, "FindItem").Descendants(T + "CalendarItem").Select(ReadItem)];
    }

    /// <summary>
    /// SyncFolderItems from <paramref name="syncState"/> (null: from the beginning), <see cref="EwsOptions.SyncBatchSize"/>
    /// changes per call, repeated until IncludesLastItemInRange
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation).
    /// Create and Update are reported as changes, Delete as deletions; ReadFlagChange means nothing for a calendar.
    /// A state the server no longer accepts throws <see cref="EwsErrorKind.InvalidSyncState"/>.
    /// </summary>
    public async Task<EwsSyncResult> SyncFolderItemsAsync(string folderId, string? syncState, CancellationToken ct)
    {
        var changed = new Dictionary<string, string?>(StringComparer.Ordinal);
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        var state = syncState;
        for (var round = 0; round < 10_000; round++)
        {
            var root = await CallAsync(new XElement(M + "SyncFolderItems",
                new XElement(M + "ItemShape", new XElement(T + "BaseShape", "IdOnly")),
                new XElement(M + "SyncFolderId", Folder(folderId)),
                state is null ? null : new XElement(M + "SyncState", state),
                new XElement(M + "MaxChangesReturned", _options.SyncBatchSize.ToString(CultureInfo.InvariantCulture))), ct);
            var message = Single(root, "SyncFolderItems");
            state = message.Element(M + "SyncState")?.Value
                ?? throw new EwsException(EwsErrorKind.Protocol, null, "SyncFolderItems answered without a SyncState.");
            foreach (var change in message.Element(M + "Changes")?.Elements() ?? [])
            {
                var id = change.Descendants(T + "ItemId").FirstOrDefault();
                if (id?.Attribute("Id")?.Value is not { } itemId)
                {
                    continue;
                }

                switch (change.Name.LocalName)
                {
                    case "Create" or "Update":
                        changed[itemId] = id.Attribute("ChangeKey")?.Value;
                        deleted.Remove(itemId);
                        break;
                    case "Delete":
                        changed.Remove(itemId);
                        deleted.Add(itemId);
                        break;
                }
            }

            if (string.Equals(message.Element(M + "IncludesLastItemInRange")?.Value, "true", StringComparison.OrdinalIgnoreCase))
            {
                return new EwsSyncResult([.. changed.Select(kv => (kv.Key, kv.Value))], [.. deleted], state);
            }
        }

        throw new EwsException(EwsErrorKind.Protocol, null, "SyncFolderItems never reached the last item.");
    }

    /// <summary>
    /// GetItem for calendar items, in batches; items that are gone meanwhile (ErrorItemNotFound) are left out
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getitem-operation).
    /// </summary>
    public async Task<IReadOnlyList<EwsCalendarItem>> GetItemsAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var items = new List<EwsCalendarItem>();
        foreach (var batch in ids.Chunk(Math.Max(1, _options.GetItemBatchSize)))
        {
            var root = await CallAsync(new XElement(M + "GetItem", CalendarShape(),
                new XElement(M + "ItemIds", batch.Select(id => ItemId(id)))), ct);
            foreach (var message in Messages(root, "GetItem"))
            {
                if (ResponseCode(message) is "ErrorItemNotFound")
                {
                    continue;
                }

                ThrowIfError(message, "GetItem");
                items.AddRange(message.Descendants(T + "CalendarItem").Select(ReadItem));
            }
        }

        return items;
    }

    /// <summary>One item, or null when it is gone.</summary>
    public async Task<EwsCalendarItem?> GetItemAsync(string id, CancellationToken ct) => (await GetItemsAsync([id], ct)).FirstOrDefault();

    /// <summary>
    /// The booking event already in the folder, found by our extended property: FindItem with an IsEqualTo restriction
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isequalto). It makes a create
    /// that is retried after a lost answer find the item the first attempt made instead of making a second one.
    /// </summary>
    public async Task<EwsCalendarItem?> FindBookingItemAsync(string folderId, string bookingId, CancellationToken ct)
    {
        var root = await CallAsync(new XElement(M + "FindItem", new XAttribute("Traversal", "Shallow"),
            CalendarShape(),
            new XElement(M + "IndexedPageItemView", new XAttribute("MaxEntriesReturned", "10"), new XAttribute("Offset", "0"),
                new XAttribute("BasePoint", "Beginning")),
            new XElement(M + "Restriction", new XElement(T + "IsEqualTo", BookingIdPropertyUri(),
                new XElement(T + "FieldURIOrConstant", new XElement(T + "Constant", new XAttribute("Value", bookingId))))),
            new XElement(M + "ParentFolderIds", Folder(folderId))), ct);
        return Single(root, "FindItem").Descendants(T + "CalendarItem").Select(ReadItem).FirstOrDefault();
    }

    /// <summary>
    /// CreateItem of a CalendarItem in the folder, with our booking id in the extended property
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation-calendar-item).
    /// </summary>
    public async Task<(string Id, string? ChangeKey)> CreateItemAsync(string folderId, EwsBookingItem item, CancellationToken ct)
    {
        var root = await CallAsync(new XElement(M + "CreateItem",
            new XAttribute("SendMeetingInvitations", _options.SendMeetingInvitations ? "SendToAllAndSaveCopy" : "SendToNone"),
            new XElement(M + "SavedItemFolderId", Folder(folderId)),
            new XElement(M + "Items", new XElement(T + "CalendarItem",
                new XElement(T + "Subject", item.Subject),
                new XElement(T + "Body", new XAttribute("BodyType", "HTML"), item.BodyHtml),
                new XElement(T + "ReminderIsSet", "false"),
                new XElement(T + "ExtendedProperty", BookingIdPropertyUri(), new XElement(T + "Value", item.BookingId)),
                new XElement(T + "UID", item.Uid),
                new XElement(T + "Start", Time(item.Start)),
                new XElement(T + "End", Time(item.End)),
                new XElement(T + "LegacyFreeBusyStatus", item.Tentative ? "Tentative" : "Busy"),
                item.Location is null ? null : new XElement(T + "Location", item.Location),
                Attendees(item)))), ct);
        return WrittenId(Single(root, "CreateItem"), "CreateItem");
    }

    /// <summary>
    /// UpdateItem of a booking event, conditional on <paramref name="changeKey"/>: ConflictResolution NeverOverwrite, so
    /// a stale ChangeKey is refused with ErrorIrresolvableConflict (AutoResolve would let Exchange merge silently)
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem-operation-calendar-item).
    /// </summary>
    public async Task<(string Id, string? ChangeKey)> UpdateItemAsync(string id, string changeKey, EwsBookingItem item, CancellationToken ct)
    {
        static XElement Set(string field, XElement value) =>
            new(T + "SetItemField", FieldUri(field), new XElement(T + "CalendarItem", value));

        var updates = new List<XElement>
        {
            Set("item:Subject", new XElement(T + "Subject", item.Subject)),
            Set("item:Body", new XElement(T + "Body", new XAttribute("BodyType", "HTML"), item.BodyHtml)),
            Set("calendar:Start", new XElement(T + "Start", Time(item.Start))),
            Set("calendar:End", new XElement(T + "End", Time(item.End))),
            Set("calendar:LegacyFreeBusyStatus", new XElement(T + "LegacyFreeBusyStatus", item.Tentative ? "Tentative" : "Busy")),
            item.Location is null
                ? new XElement(T + "DeleteItemField", FieldUri("calendar:Location"))
                : Set("calendar:Location", new XElement(T + "Location", item.Location)),
            Set("calendar:RequiredAttendees", Attendees(item) ?? new XElement(T + "RequiredAttendees")),
        };
        var root = await CallAsync(new XElement(M + "UpdateItem",
            new XAttribute("ConflictResolution", "NeverOverwrite"),
            new XAttribute("SendMeetingInvitationsOrCancellations", _options.SendMeetingInvitations ? "SendToAllAndSaveCopy" : "SendToNone"),
            new XElement(M + "ItemChanges", new XElement(T + "ItemChange", ItemId(id, changeKey), new XElement(T + "Updates", updates)))), ct);
        return WrittenId(Single(root, "UpdateItem"), "UpdateItem");
    }

    /// <summary>
    /// DeleteItem (to Deleted Items, so the user can restore it), cancelling the meeting for attendees when configured
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteitem-operation).
    /// Returns false when the item was already gone.
    /// </summary>
    public async Task<bool> DeleteItemAsync(string id, CancellationToken ct)
    {
        var root = await CallAsync(new XElement(M + "DeleteItem",
            new XAttribute("DeleteType", "MoveToDeletedItems"),
            new XAttribute("SendMeetingCancellations", _options.SendMeetingInvitations ? "SendToAllAndSaveCopy" : "SendToNone"),
            new XElement(M + "ItemIds", ItemId(id))), ct);
        var message = Messages(root, "DeleteItem").FirstOrDefault()
            ?? throw new EwsException(EwsErrorKind.Protocol, null, "DeleteItem answered without a response message.");
        if (ResponseCode(message) is "ErrorItemNotFound")
        {
            return false;
        }

        ThrowIfError(message, "DeleteItem");
        return true;
    }

    private static XElement? Attendees(EwsBookingItem item) => item.Attendees.Count == 0
        ? null
        : new XElement(T + "RequiredAttendees", item.Attendees.Select(a => new XElement(T + "Attendee",
            new XElement(T + "Mailbox", new XElement(T + "Name", a.Name), new XElement(T + "EmailAddress", a.Email)))));

    private static XElement CalendarShape() => new(M + "ItemShape",
        new XElement(T + "BaseShape", "IdOnly"),
        new XElement(T + "AdditionalProperties",
            FieldUri("item:Subject"),
            FieldUri("calendar:UID"),
            FieldUri("calendar:Start"),
            FieldUri("calendar:End"),
            FieldUri("calendar:IsAllDayEvent"),
            FieldUri("calendar:LegacyFreeBusyStatus"),
            FieldUri("calendar:IsCancelled"),
            FieldUri("calendar:CalendarItemType"),
            BookingIdPropertyUri()));

    /// <summary>Reads a CalendarItem element of any answer.</summary>
    public static EwsCalendarItem ReadItem(XElement e)
    {
        var id = e.Element(T + "ItemId");
        var bookingId = e.Elements(T + "ExtendedProperty")
            .FirstOrDefault(p => p.Element(T + "ExtendedFieldURI")?.Attribute("PropertyName")?.Value == BookingIdPropertyName)
            ?.Element(T + "Value")?.Value;
        return new EwsCalendarItem(
            id?.Attribute("Id")?.Value ?? "",
            id?.Attribute("ChangeKey")?.Value,
            e.Element(T + "UID")?.Value,
            e.Element(T + "Subject")?.Value,
            ParseTime(e.Element(T + "Start")?.Value),
            ParseTime(e.Element(T + "End")?.Value),
            IsTrue(e.Element(T + "IsAllDayEvent")),
            e.Element(T + "LegacyFreeBusyStatus")?.Value ?? "Busy",
            IsTrue(e.Element(T + "IsCancelled")),
            e.Element(T + "CalendarItemType")?.Value ?? "Single",
            bookingId);
    }

    private static bool IsTrue(XElement? e) => string.Equals(e?.Value, "true", StringComparison.OrdinalIgnoreCase);

    private static (string Id, string? ChangeKey) WrittenId(XElement message, string operation)
    {
        var id = message.Descendants(T + "ItemId").FirstOrDefault();
        return id?.Attribute("Id")?.Value is { } value
            ? (value, id.Attribute("ChangeKey")?.Value)
            : throw new EwsException(EwsErrorKind.Protocol, null, operation + " answered without the item's id.");
    }

    // ---- the SOAP exchange ----

    /// <summary>The response messages of an operation's answer (m:{Operation}ResponseMessage elements).</summary>
    public static IEnumerable<XElement> Messages(XElement response, string operation) =>
        response.Element(M + "ResponseMessages")?.Elements() ?? [];

    /// <summary>The only response message of an answer, which must be a success.</summary>
    private static XElement Single(XElement response, string operation)
    {
        var message = Messages(response, operation).FirstOrDefault()
            ?? throw new EwsException(EwsErrorKind.Protocol, null, operation + " answered without a response message.");
        ThrowIfError(message, operation);
        return message;
    }

    public static string? ResponseCode(XElement message) => message.Element(M + "ResponseCode")?.Value;

    private static void ThrowIfError(XElement message, string operation)
    {
        if (message.Attribute("ResponseClass")?.Value is "Success" or "Warning")
        {
            return;
        }

        var code = ResponseCode(message) ?? "(no ResponseCode)";
        var text = message.Element(M + "MessageText")?.Value;
        throw new EwsException(EwsException.KindOf(code), code, $"Exchange refused {operation}: {code}" + (text is { Length: > 0 } ? " (" + text + ")" : ""));
    }

    /// <summary>
    /// Sends one request and returns the operation's response element (m:{Operation}Response), retrying ErrorServerBusy
    /// after the server's BackOffMilliseconds
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange),
    /// and 5xx answers, timeouts and network failures after an exponential backoff.
    /// </summary>
    public async Task<XElement> CallAsync(XElement body, CancellationToken ct)
    {
        var operation = body.Name.LocalName;
        var impersonate = _credentials.Impersonate ? _credentials.Mailbox : null;
        var payload = Envelope(_options.RequestServerVersion, impersonate, body).ToString(SaveOptions.DisableFormatting);
        for (var attempt = 0; ; attempt++)
        {
            using var request = CreateRequest(payload, operation);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.RequestTimeout);
            TimeSpan? wait;
            try
            {
                using var response = await _http.SendAsync(request, timeout.Token);
                var text = await response.Content.ReadAsStringAsync(timeout.Token);
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    throw new EwsException(EwsErrorKind.AccessDenied, "HTTP " + (int)response.StatusCode,
                        $"Exchange refused the credentials ({(int)response.StatusCode}): the password may have changed or expired.");
                }

                var document = Parse(text);
                var fault = document?.Root?.Element(Soap + "Body")?.Element(Soap + "Fault");
                if (fault is not null)
                {
                    var code = fault.Descendants(M + "ResponseCode").FirstOrDefault()?.Value
                        ?? fault.Descendants(T + "ResponseCode").FirstOrDefault()?.Value
                        ?? fault.Descendants().FirstOrDefault(d => d.Name.LocalName == "ResponseCode")?.Value;
                    if (code == "ErrorServerBusy")
                    {
                        wait = BackOff(fault) ?? Backoff(attempt);
                    }
                    else
                    {
                        var faultString = fault.Element("faultstring")?.Value ?? fault.Descendants().FirstOrDefault(d => d.Name.LocalName == "faultstring")?.Value;
                        throw new EwsException(code is null ? EwsErrorKind.Protocol : EwsException.KindOf(code), code ?? "SOAP fault",
                            $"Exchange answered {operation} with a SOAP fault: {code ?? faultString ?? "unknown"}" + (faultString is { Length: > 0 } && code is not null ? " (" + faultString + ")" : ""));
                    }
                }
                else if ((int)response.StatusCode >= 500)
                {
                    wait = Backoff(attempt);
                    if (attempt >= _options.MaxRetries)
                    {
                        throw new EwsException(EwsErrorKind.Unavailable, "HTTP " + (int)response.StatusCode,
                            $"Exchange answered {operation} with {(int)response.StatusCode}.");
                    }
                }
                else if (!response.IsSuccessStatusCode)
                {
                    throw new EwsException(response.StatusCode == HttpStatusCode.NotFound ? EwsErrorKind.NotFound : EwsErrorKind.Protocol,
                        "HTTP " + (int)response.StatusCode, $"Exchange answered {operation} with {(int)response.StatusCode}: is this the EWS URL?");
                }
                else
                {
                    var answer = document?.Root?.Element(Soap + "Body")?.Element(M + operation + "Response")
                        ?? throw new EwsException(EwsErrorKind.Protocol, null, $"Exchange's answer to {operation} is not an EWS response.");
                    var busy = Messages(answer, operation).FirstOrDefault(m => ResponseCode(m) == "ErrorServerBusy");
                    if (busy is null)
                    {
                        return answer;
                    }

                    wait = BackOff(busy) ?? Backoff(attempt);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                if (attempt >= _options.MaxRetries)
                {
                    throw new EwsException(EwsErrorKind.Unavailable, "timeout",
                        $"Exchange did not answer {operation} within {_options.RequestTimeout.TotalSeconds:0.#} s.");
                }

                wait = Backoff(attempt);
            }
            catch (HttpRequestException ex)
            {
                if (attempt >= _options.MaxRetries)
                {
                    throw new EwsException(EwsErrorKind.Unavailable, "network", $"Exchange could not be reached: {ex.Message}", ex);
                }

                wait = Backoff(attempt);
            }

            if (attempt >= _options.MaxRetries || wait > _options.MaxRetryDelay)
            {
                throw new EwsException(EwsErrorKind.Unavailable, "ErrorServerBusy",
                    $"Exchange is busy (ErrorServerBusy, back off {wait?.TotalMilliseconds:0} ms); trying again later.");
            }

            await Task.Delay(wait ?? TimeSpan.Zero, ct);
        }
    }

    private HttpRequestMessage CreateRequest(string payload, string operation)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Content = new StringContent(payload, Encoding.UTF8, "text/xml"),
        };
        request.Headers.TryAddWithoutValidation("SOAPAction", "\"http://schemas.microsoft.com/exchange/services/2006/messages/" + operation + "\"");
        if (_credentials.Mailbox is { Length: > 0 } anchor)
        {
            // Routes the request to the mailbox's server in a multi-server organization and keeps NTLM affinity.
            request.Headers.TryAddWithoutValidation("X-AnchorMailbox", anchor);
        }

        switch (_credentials.Auth)
        {
            case EwsAuth.Basic:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes(_credentials.Username + ":" + _credentials.Secret)));
                break;
            case EwsAuth.Bearer:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _credentials.Secret);
                break;
        }

        return request;
    }

    /// <summary>
    /// Subscribe with a StreamingSubscriptionRequest for created, modified, moved, copied and deleted items of the folders
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/subscribe-operation).
    /// Returns the subscription id.
    /// </summary>
    public async Task<string> SubscribeStreamingAsync(IReadOnlyList<string> folderIds, CancellationToken ct)
    {
        var root = await CallAsync(new XElement(M + "Subscribe",
            new XElement(M + "StreamingSubscriptionRequest",
                new XElement(T + "FolderIds", folderIds.Select(id => Folder(id))),
                new XElement(T + "EventTypes", new[] { "CreatedEvent", "ModifiedEvent", "DeletedEvent", "MovedEvent", "CopiedEvent" }
                    .Select(e => new XElement(T + "EventType", e))))), ct);
        return Single(root, "Subscribe").Element(M + "SubscriptionId")?.Value
            ?? throw new EwsException(EwsErrorKind.Protocol, null, "Subscribe answered without a SubscriptionId.");
    }

    /// <summary>
    /// GetStreamingEvents (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getstreamingevents-operation):
    /// one long chunked answer made of several SOAP envelopes, each with notifications or a ConnectionStatus (OK as a
    /// heartbeat, Closed at the end of <paramref name="connectionTimeoutMinutes"/>, at most 30).
    /// <paramref name="onNotification"/> is called for every envelope that carries notifications. Returns when the server
    /// closes the stream; ErrorSubscriptionNotFound (the subscription expired) surfaces as <see cref="EwsErrorKind.NotFound"/>.
    /// </summary>
    public async Task ReadStreamingEventsAsync(string subscriptionId, int connectionTimeoutMinutes, Func<Task> onNotification, CancellationToken ct)
    {
        var body = new XElement(M + "GetStreamingEvents",
            new XElement(M + "SubscriptionIds", new XElement(T + "SubscriptionId", subscriptionId)),
            new XElement(M + "ConnectionTimeout", Math.Clamp(connectionTimeoutMinutes, 1, 30).ToString(CultureInfo.InvariantCulture)));
        var impersonate = _credentials.Impersonate ? _credentials.Mailbox : null;
        using var request = CreateRequest(Envelope(_options.RequestServerVersion, impersonate, body).ToString(SaveOptions.DisableFormatting), "GetStreamingEvents");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new EwsException(EwsErrorKind.Unavailable, "network", $"Exchange could not be reached: {ex.Message}", ex);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new EwsException(EwsErrorKind.AccessDenied, "HTTP " + (int)response.StatusCode, "Exchange refused the credentials.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new EwsException(EwsErrorKind.Unavailable, "HTTP " + (int)response.StatusCode, $"Exchange answered GetStreamingEvents with {(int)response.StatusCode}.");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            // The answer is a sequence of whole envelopes: read it as an XML fragment, one envelope at a time, as it arrives.
            using var reader = XmlReader.Create(stream, new XmlReaderSettings
            {
                Async = true, ConformanceLevel = ConformanceLevel.Fragment, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null,
            });
            try
            {
                while (await reader.ReadAsync())
                {
                    if (reader.NodeType != XmlNodeType.Element || reader.LocalName != "Envelope")
                    {
                        continue;
                    }

                    var envelope = await XElement.LoadAsync(reader.ReadSubtree(), LoadOptions.None, ct);
                    var message = envelope.Descendants(M + "GetStreamingEventsResponseMessage").FirstOrDefault();
                    if (message is null)
                    {
                        continue;
                    }

                    ThrowIfError(message, "GetStreamingEvents");
                    if (message.Element(M + "Notifications")?.Elements(M + "Notification").Any() == true)
                    {
                        await onNotification();
                    }

                    if (message.Element(M + "ConnectionStatus")?.Value == "Closed")
                    {
                        return;
                    }
                }
            }
            catch (XmlException ex)
            {
                throw new EwsException(EwsErrorKind.Protocol, null, "Exchange's event stream could not be read: " + ex.Message, ex);
            }
            catch (IOException ex)
            {
                throw new EwsException(EwsErrorKind.Unavailable, "network", "Exchange's event stream broke off: " + ex.Message, ex);
            }
        }
    }

    private static XDocument? Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            // No DTDs: an answer is data, never a reason to fetch or expand anything.
            using var reader = XmlReader.Create(new StringReader(text), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            return XDocument.Load(reader);
        }
        catch (XmlException)
        {
            return null;
        }
    }

    /// <summary>The BackOffMilliseconds the server asked for (m:MessageXml/t:Value[@Name]), when it gave one.</summary>
    public static TimeSpan? BackOff(XElement messageOrFault)
    {
        var value = messageOrFault.Descendants().FirstOrDefault(d => d.Name.LocalName == "Value" && d.Attribute("Name")?.Value == "BackOffMilliseconds")?.Value;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? TimeSpan.FromMilliseconds(ms) : null;
    }

    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(_options.MaxRetryDelay.TotalMilliseconds, _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt));
#pragma warning disable CA5394 // Not for security: spreading retries only.
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
#pragma warning restore CA5394
    }
}

using System.Net;
using System.Text;
using NodaTime;
using Rendezvous.Calendars.CalDav.Tests.Infrastructure;

namespace Rendezvous.Calendars.CalDav.Tests;

/// <summary>
/// Client behaviour on answers Radicale does not give (truncated syncs, missing ETags, redirects, 5xx, timeouts),
/// against a scripted HTTP handler. The answers follow RFC 4918, RFC 4791 and RFC 6578 (section 3.6 for truncation).
/// </summary>
public sealed class ClientBehaviourTests
{
    private static string SyncPage(string token, params string[] responses) =>
        $"<D:multistatus xmlns:D=\"DAV:\">{string.Concat(responses)}<D:sync-token>{token}</D:sync-token></D:multistatus>";

    private static string Changed(string href, string etag) =>
        $"<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:getetag>{etag}</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>";

    private static string Gone(string href) => $"<D:response><D:href>{href}</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>";

    private const string Truncated =
        "<D:response><D:href>/cal/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status><D:error><D:number-of-matches-within-limits/></D:error></D:response>";

    [Fact]
    public async Task Initial_sync_follows_truncated_answers_and_merges_the_pages()
    {
        var handler = new StubHandler(r => r.Body!.Contains("<D:sync-token />", StringComparison.Ordinal) || r.Body.Contains("<D:sync-token></D:sync-token>", StringComparison.Ordinal)
            ? StubHandler.Xml(207, SyncPage("t1", Changed("/cal/a.ics", "\"a1\""), Changed("/cal/b.ics", "\"b1\""), Truncated))
            : StubHandler.Xml(207, SyncPage("t2", Gone("/cal/b.ics"), Changed("/cal/c.ics", "\"c1\""), Gone("/cal/never-seen.ics"))));
        using var client = handler.Client();

        var result = await client.SyncCollectionAsync("/cal/", null);

        result.Outcome.ShouldBe(SyncOutcome.Completed);
        result.SyncToken.ShouldBe("t2");
        result.Pages.ShouldBe(2);
        result.Changed.ShouldBe([new ObjectVersion("/cal/a.ics", "\"a1\""), new ObjectVersion("/cal/c.ics", "\"c1\"")]);
        result.Deleted.ShouldBeEmpty();
        handler.Requests.Count.ShouldBe(2);
        handler.Requests.ShouldAllBe(r => r.Method == "REPORT" && r.Header("Depth") == "0");
        handler.Requests[1].Body!.ShouldContain(">t1</D:sync-token>");
    }

    [Fact]
    public async Task Incremental_sync_across_pages_keeps_the_last_word_for_each_href()
    {
        var handler = new StubHandler(r => r.Body!.Contains(">t0<", StringComparison.Ordinal)
            ? StubHandler.Xml(207, SyncPage("t1", Gone("/cal/a.ics"), Changed("/cal/b.ics", "\"b2\""), Truncated))
            : StubHandler.Xml(207, SyncPage("t2", Changed("/cal/a.ics", "\"a2\""), Gone("/cal/b.ics"), Gone("/cal/c.ics"))));
        using var client = handler.Client();

        var result = await client.SyncCollectionAsync("/cal/", "t0");

        result.IsInitial.ShouldBeFalse();
        result.Changed.ShouldBe([new ObjectVersion("/cal/a.ics", "\"a2\"")]);
        result.Deleted.ShouldBe(["/cal/b.ics", "/cal/c.ics"]);
        result.SyncToken.ShouldBe("t2");
    }

    [Fact]
    public async Task Sync_leaves_out_the_collection_itself_and_sub_collections()
    {
        var handler = new StubHandler(_ => StubHandler.Xml(207, SyncPage(
            "t1",
            Changed("/cal/", "\"col\""),
            Changed("http://dav.test/cal", "\"col\""),
            Changed("/cal/sub/", "\"sub\""),
            Changed("/cal/a.ics", "\"a\""),
            "<D:response><D:href>/cal/no-etag.ics</D:href><D:propstat><D:prop><D:getetag/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>")));
        using var client = handler.Client();

        var result = await client.SyncCollectionAsync("/cal/", "t0");

        result.Changed.ShouldBe([new ObjectVersion("/cal/a.ics", "\"a\""), new ObjectVersion("/cal/no-etag.ics", null)]);
    }

    [Fact]
    public async Task A_truncated_answer_without_a_new_token_is_a_protocol_error_not_a_loop()
    {
        var handler = new StubHandler(_ => StubHandler.Xml(207, SyncPage("t0", Truncated)));
        using var client = handler.Client();

        await Should.ThrowAsync<CalDavProtocolException>(() => client.SyncCollectionAsync("/cal/", "t0"));
        handler.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Endless_truncation_stops_at_the_page_limit()
    {
        var page = 0;
        var handler = new StubHandler(_ => StubHandler.Xml(207, SyncPage("t" + Interlocked.Increment(ref page), Truncated)));
        using var client = handler.Client(o => o.MaxSyncPages = 3);

        await Should.ThrowAsync<CalDavProtocolException>(() => client.SyncCollectionAsync("/cal/", null));
        handler.Requests.Count.ShouldBe(3);
    }

    [Theory]
    [InlineData(403)]
    [InlineData(409)]
    public async Task A_refused_sync_token_is_reported_as_invalid(int status)
    {
        var handler = new StubHandler(_ => StubHandler.Xml(status, "<error xmlns=\"DAV:\"><valid-sync-token/></error>"));
        using var client = handler.Client();

        var result = await client.SyncCollectionAsync("/cal/", "old");

        result.Outcome.ShouldBe(SyncOutcome.InvalidToken);
        result.SyncToken.ShouldBeNull();
    }

    [Fact]
    public async Task A_token_answered_with_500_where_a_fresh_sync_works_is_reported_as_invalid()
    {
        // Xandikos 0.2.8 answers a sync-token it does not know with 500 Internal Server Error instead of RFC 6578's
        // 403 valid-sync-token; without this the calendar would fail on every round until reconnected.
        var handler = new StubHandler(r => r.Body!.Contains(">old<", StringComparison.Ordinal)
            ? StubHandler.Xml(500, "<html><body>Internal Server Error</body></html>")
            : StubHandler.Xml(207, SyncPage("t1", Changed("/cal/a.ics", "\"a1\""))));
        using var client = handler.Client();

        var result = await client.SyncCollectionAsync("/cal/", "old");

        result.Outcome.ShouldBe(SyncOutcome.InvalidToken);
    }

    [Fact]
    public async Task A_500_to_an_incremental_sync_stays_an_error_when_a_fresh_sync_fails_too()
    {
        var handler = new StubHandler(_ => StubHandler.Xml(500, "<html><body>Database is locked</body></html>"));
        using var client = handler.Client();

        var error = await Should.ThrowAsync<CalDavTransientException>(() => client.SyncCollectionAsync("/cal/", "old"));

        error.StatusCode.ShouldBe(500);
        error.Message.ShouldContain("The server said: \"Database is locked\"");
    }

    [Fact]
    public async Task A_put_refused_with_412_naming_a_caldav_precondition_is_a_rejection_with_the_servers_words()
    {
        // Xandikos answers valid-calendar-data and no-uid-conflict with 412, which must not read as "the href is taken".
        var handler = new StubHandler(_ => StubHandler.Xml(412,
            "<error xmlns=\"DAV:\"><valid-calendar-data xmlns=\"urn:ietf:params:xml:ns:caldav\"/>" +
            "<responsedescription>Not a valid calendar file: Broken calendar file</responsedescription></error>"));
        using var client = handler.Client();

        var error = await Should.ThrowAsync<CalDavRequestRejectedException>(() => client.CreateObjectAsync("/cal/a.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"));

        error.Precondition.ShouldBe(DavNames.CalDav + "valid-calendar-data");
        error.Message.ShouldContain("Not a valid calendar file: Broken calendar file");
    }

    [Fact]
    public async Task A_put_answered_412_without_a_caldav_precondition_is_still_an_etag_conflict()
    {
        var handler = new StubHandler(_ => StubHandler.Status(412));
        using var client = handler.Client();

        (await client.CreateObjectAsync("/cal/a.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")).Outcome.ShouldBe(WriteOutcome.PreconditionFailed);
    }

    [Theory]
    [InlineData(403, "<error xmlns=\"DAV:\"><supported-report/></error>")]
    [InlineData(501, "")]
    [InlineData(405, "")]
    public async Task A_server_without_sync_collection_is_reported_as_not_supported(int status, string body)
    {
        var handler = new StubHandler(_ => StubHandler.Xml(status, body));
        using var client = handler.Client();

        (await client.SyncCollectionAsync("/cal/", null)).Outcome.ShouldBe(SyncOutcome.NotSupported);
    }

    [Fact]
    public async Task A_sync_answer_without_a_token_is_a_protocol_error()
    {
        var handler = new StubHandler(_ => StubHandler.Xml(207, "<multistatus xmlns=\"DAV:\"/>"));
        using var client = handler.Client();

        await Should.ThrowAsync<CalDavProtocolException>(() => client.SyncCollectionAsync("/cal/", null));
    }

    [Fact]
    public async Task Malformed_xml_in_a_207_is_a_protocol_error()
    {
        var handler = new StubHandler(_ => StubHandler.Xml(207, "<multistatus xmlns=\"DAV:\"><response>"));
        using var client = handler.Client();

        var error = await Should.ThrowAsync<CalDavProtocolException>(() => client.PropfindAsync("/cal/", PropfindDepth.One, [DavNames.GetETag]));
        error.StatusCode.ShouldBe(207);
        error.Method.ShouldBe("PROPFIND");
    }

    [Fact]
    public async Task A_put_answered_without_an_etag_reads_the_etag_back()
    {
        var handler = new StubHandler(r => r.Method == "PUT"
            ? StubHandler.Status(201)
            : StubHandler.Xml(207, SyncPage("unused", Changed("/cal/a.ics", "\"stored\""))));
        using var client = handler.Client();

        var result = await client.CreateObjectAsync("/cal/a.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");

        result.Outcome.ShouldBe(WriteOutcome.Created);
        result.ETag.ShouldBe("\"stored\"");
        handler.Requests.Select(r => r.Method).ShouldBe(["PUT", "PROPFIND"]);
        handler.Requests[0].Header("If-None-Match").ShouldBe("*");
        handler.Requests[1].Header("Depth").ShouldBe("0");
    }

    [Fact]
    public async Task Conditional_writes_send_the_etag_as_given()
    {
        var handler = new StubHandler(r => r.Method == "PUT" ? StubHandler.Status(204, "W/\"new\"") : StubHandler.Status(204));
        using var client = handler.Client();

        var updated = await client.UpdateObjectAsync("/cal/a.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "\"old\"");
        var deleted = await client.DeleteAsync("/cal/a.ics", "\"new\"");

        updated.ShouldBe(new WriteResult(WriteOutcome.Updated, "W/\"new\""));
        deleted.Outcome.ShouldBe(WriteOutcome.Deleted);
        handler.Requests[0].Header("If-Match").ShouldBe("\"old\"");
        handler.Requests[1].Header("If-Match").ShouldBe("\"new\"");
    }

    [Fact]
    public async Task Every_request_carries_basic_credentials_and_keeps_the_href_escapes()
    {
        var handler = new StubHandler(_ => StubHandler.Status(404));
        using var client = handler.Client();

        (await client.GetObjectAsync("/cal/a%40b%2Fc%7E.ics")).ShouldBeNull();

        var request = handler.Requests.ShouldHaveSingleItem();
        request.Path.ShouldBe("/cal/a%40b%2Fc%7E.ics");
        request.Header("Authorization").ShouldBe("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:secret")));
    }

    [Theory]
    [InlineData(401, CalDavErrorKind.AccessDenied)]
    [InlineData(403, CalDavErrorKind.AccessDenied)]
    [InlineData(404, CalDavErrorKind.NotFound)]
    [InlineData(410, CalDavErrorKind.NotFound)]
    [InlineData(412, CalDavErrorKind.PreconditionFailed)]
    [InlineData(400, CalDavErrorKind.Rejected)]
    [InlineData(415, CalDavErrorKind.Rejected)]
    [InlineData(501, CalDavErrorKind.Rejected)]
    [InlineData(500, CalDavErrorKind.Transient)]
    [InlineData(502, CalDavErrorKind.Transient)]
    [InlineData(503, CalDavErrorKind.Transient)]
    [InlineData(429, CalDavErrorKind.Transient)]
    [InlineData(200, CalDavErrorKind.Protocol)]
    [InlineData(302, CalDavErrorKind.Protocol)]
    public async Task Statuses_map_to_error_kinds(int status, CalDavErrorKind kind)
    {
        var handler = new StubHandler(_ => StubHandler.Status(status));
        using var client = handler.Client();

        var error = await Should.ThrowAsync<CalDavException>(() => client.PropfindAsync("/cal/", PropfindDepth.Zero, [DavNames.GetETag]));

        error.Kind.ShouldBe(kind);
        error.StatusCode.ShouldBe(status);
    }

    [Fact]
    public async Task A_403_naming_a_precondition_is_a_rejection_not_an_auth_error()
    {
        var handler = new StubHandler(_ => StubHandler.Xml(403, "<D:error xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><C:valid-calendar-data/></D:error>"));
        using var client = handler.Client();

        var error = await Should.ThrowAsync<CalDavRequestRejectedException>(() => client.CreateObjectAsync("/cal/a.ics", "junk"));

        error.Precondition.ShouldBe(DavNames.CalDav + "valid-calendar-data");
        error.StatusCode.ShouldBe(403);
    }

    [Fact]
    public async Task Reads_are_retried_after_a_transient_failure_and_the_retry_after_is_reported()
    {
        var calls = 0;
        var handler = new StubHandler(_ =>
        {
            if (Interlocked.Increment(ref calls) < 3)
            {
                var busy = StubHandler.Status(503);
                busy.Headers.TryAddWithoutValidation("Retry-After", "0");
                return busy;
            }

            return StubHandler.Xml(207, "<multistatus xmlns=\"DAV:\"/>");
        });
        using var client = handler.Client(o => o.MaxReadRetries = 2);

        (await client.PropfindAsync("/cal/", PropfindDepth.Zero, [DavNames.GetETag])).Responses.ShouldBeEmpty();
        handler.Requests.Count.ShouldBe(3);

        calls = -10;
        var error = await Should.ThrowAsync<CalDavTransientException>(() => client.PropfindAsync("/cal/", PropfindDepth.Zero, [DavNames.GetETag]));
        error.Reason.ShouldBe(TransientReason.ServerError);
        error.RetryAfter.ShouldBe(TimeSpan.Zero);
    }

    [Fact]
    public async Task Writes_are_never_retried()
    {
        var handler = new StubHandler(_ => StubHandler.Status(503));
        using var client = handler.Client(o => o.MaxReadRetries = 3);

        var error = await Should.ThrowAsync<CalDavTransientException>(() => client.CreateObjectAsync("/cal/a.ics", "x"));

        error.StatusCode.ShouldBe(503);
        handler.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_in_time_is_a_transient_timeout()
    {
        var handler = new StubHandler(async (_, token) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return StubHandler.Status(200);
        });
        using var client = handler.Client(o => o.RequestTimeout = TimeSpan.FromMilliseconds(100));

        var error = await Should.ThrowAsync<CalDavTransientException>(() => client.GetObjectAsync("/cal/a.ics"));

        error.Reason.ShouldBe(TransientReason.Timeout);
        error.Kind.ShouldBe(CalDavErrorKind.Transient);
    }

    [Fact]
    public async Task A_cancelled_call_throws_operation_cancelled_not_a_caldav_error()
    {
        var handler = new StubHandler(async (_, token) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return StubHandler.Status(200);
        });
        using var client = handler.Client(o => o.MaxReadRetries = 2);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        Exception? thrown = null;
        try
        {
            await client.GetObjectAsync("/cal/a.ics", cts.Token);
        }
        catch (Exception ex)
        {
            thrown = ex;
        }

        thrown.ShouldBeAssignableTo<OperationCanceledException>();
        handler.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_closed_port_is_a_transient_unreachable_error()
    {
        using var client = new CalDavClient(new CalDavClientOptions
        {
            ServerUri = new Uri("http://127.0.0.1:1/"),
            UserName = "alice",
            Password = "secret",
            RequestTimeout = TimeSpan.FromSeconds(10),
            MaxReadRetries = 0,
        });

        var error = await Should.ThrowAsync<CalDavTransientException>(() => client.DiscoverAsync());

        error.Reason.ShouldBe(TransientReason.Unreachable);
        error.StatusCode.ShouldBeNull();
        error.InnerException.ShouldBeOfType<HttpRequestException>();
    }

    [Fact]
    public async Task Same_host_redirects_are_followed_with_credentials()
    {
        var handler = new StubHandler(r =>
        {
            if (r.Path == "/.well-known/caldav")
            {
                var redirect = StubHandler.Status(301);
                redirect.Headers.Location = new Uri("/dav/", UriKind.Relative);
                return redirect;
            }

            return r.Path switch
            {
                "/dav/" => StubHandler.Xml(207, """
                    <multistatus xmlns="DAV:"><response><href>/dav/</href><propstat><prop>
                      <current-user-principal><href>/dav/principals/alice/</href></current-user-principal>
                    </prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>
                    """),
                "/dav/principals/alice/" => StubHandler.Xml(207, """
                    <multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/dav/principals/alice/</href><propstat><prop>
                      <C:calendar-home-set><href>/dav/calendars/alice/</href></C:calendar-home-set>
                    </prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>
                    """),
                "/dav/calendars/alice/" => StubHandler.Xml(207, """
                    <multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">
                      <response><href>/dav/calendars/alice/</href><propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
                      <response><href>/dav/calendars/alice/work/</href><propstat><prop>
                        <resourcetype><collection/><C:calendar/></resourcetype><displayname>Work</displayname><CS:getctag>c1</CS:getctag>
                      </prop><status>HTTP/1.1 200 OK</status></propstat>
                      <propstat><prop><sync-token/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
                      <response><href>/dav/calendars/alice/inbox/</href><propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
                    </multistatus>
                    """),
                _ => StubHandler.Status(404),
            };
        });
        using var client = handler.Client(o => o.ServerUri = new Uri("http://dav.test/.well-known/caldav"));

        var discovery = await client.DiscoverAsync();

        discovery.ContextUri.AbsolutePath.ShouldBe("/dav/");
        discovery.PrincipalHref.ShouldBe("/dav/principals/alice/");
        discovery.CalendarHomeHrefs.ShouldBe(["/dav/calendars/alice/"]);
        var calendar = discovery.Calendars.ShouldHaveSingleItem();
        calendar.ShouldSatisfyAllConditions(
            c => c.Href.ShouldBe("/dav/calendars/alice/work/"),
            c => c.DisplayName.ShouldBe("Work"),
            c => c.CTag.ShouldBe("c1"),
            c => c.SyncToken.ShouldBeNull(),
            c => c.SupportedComponents.ShouldBeEmpty(),
            c => c.Supports("VEVENT").ShouldBeTrue(),
            c => c.AdvertisesSyncCollection.ShouldBeFalse());
        handler.Requests.ShouldAllBe(r => r.Header("Authorization") != null && r.Method == "PROPFIND");
    }

    [Fact]
    public async Task Discovery_moves_past_a_forbidden_root_but_stops_at_wrong_credentials()
    {
        var handler = new StubHandler(r => r.Path switch
        {
            "/" => StubHandler.Status(403),
            "/.well-known/caldav" => StubHandler.Xml(207, """
                <multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/.well-known/caldav</href><propstat><prop>
                  <current-user-principal><href>/p/alice/</href></current-user-principal>
                  <C:calendar-home-set><href>/home/alice/</href></C:calendar-home-set>
                </prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>
                """),
            _ => StubHandler.Xml(207, "<multistatus xmlns=\"DAV:\"/>"),
        });
        using var client = handler.Client();

        var discovery = await client.DiscoverAsync();

        discovery.PrincipalHref.ShouldBe("/p/alice/");
        discovery.CalendarHomeHrefs.ShouldBe(["/home/alice/"]);
        discovery.Calendars.ShouldBeEmpty();

        using var forbidden = new StubHandler(_ => StubHandler.Status(403)).Client();
        (await Should.ThrowAsync<CalDavAccessDeniedException>(() => forbidden.DiscoverAsync())).StatusCode.ShouldBe(403);

        var unauthorized = new StubHandler(_ => StubHandler.Status(401));
        using var unauthorizedClient = unauthorized.Client();
        (await Should.ThrowAsync<CalDavAccessDeniedException>(() => unauthorizedClient.DiscoverAsync())).StatusCode.ShouldBe(401);
        unauthorized.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_redirect_to_another_host_is_not_followed()
    {
        var handler = new StubHandler(r =>
        {
            var redirect = StubHandler.Status(301);
            redirect.Headers.Location = new Uri("http://elsewhere.test/dav/");
            return redirect;
        });
        using var client = handler.Client();

        var error = await Should.ThrowAsync<CalDavException>(() => client.PropfindAsync("/", PropfindDepth.Zero, [DavNames.CurrentUserPrincipal]));

        error.Kind.ShouldBe(CalDavErrorKind.Protocol);
        handler.Requests.ShouldAllBe(r => r.Uri.Host == "dav.test");
    }

    [Fact]
    public async Task An_answer_larger_than_the_limit_is_a_protocol_error()
    {
        var handler = new StubHandler(_ => StubHandler.Xml(207, "<multistatus xmlns=\"DAV:\">" + new string(' ', 4096) + "</multistatus>"));
        using var client = handler.Client(o => o.MaxResponseBytes = 2048);

        await Should.ThrowAsync<CalDavProtocolException>(() => client.PropfindAsync("/cal/", PropfindDepth.One, [DavNames.GetETag]));
    }

    [Fact]
    public async Task Multiget_batches_hrefs_and_names_what_it_did_not_get()
    {
        var handler = new StubHandler(r =>
        {
            var hrefs = System.Xml.Linq.XDocument.Parse(r.Body!).Descendants(DavNames.Href).Select(h => h.Value).ToList();
            var body = new StringBuilder("<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">");
            foreach (var href in hrefs.Where(h => !h.Contains("unmentioned", StringComparison.Ordinal)))
            {
                body.Append(href.Contains("gone", StringComparison.Ordinal)
                    ? Gone(href)
                    : $"<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:getetag>\"1\"</D:getetag><C:calendar-data>BEGIN:VCALENDAR&#13;\nEND:VCALENDAR&#13;\n</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>");
            }

            return StubHandler.Xml(207, body.Append("</D:multistatus>").ToString());
        });
        using var client = handler.Client(o => o.MultigetBatchSize = 2);

        var result = await client.MultigetAsync("/cal/", ["/cal/a.ics", "/cal/gone.ics", "/cal/b.ics", "/cal/unmentioned.ics", "/cal/c.ics", "/cal/a.ics"]);

        result.Objects.Select(o => o.Href).ShouldBe(["/cal/a.ics", "/cal/b.ics", "/cal/c.ics"]);
        result.Objects[0].CalendarData.ShouldBe("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
        result.Missing.ShouldBe(["/cal/gone.ics", "/cal/unmentioned.ics"]);
        handler.Requests.Count.ShouldBe(3);
        handler.Requests.ShouldAllBe(r => r.Method == "REPORT" && r.Header("Depth") == "1");
        (await client.MultigetAsync("/cal/", [])).Objects.ShouldBeEmpty();
        handler.Requests.Count.ShouldBe(3);
    }

    [Fact]
    public async Task Calendar_query_sends_a_utc_time_range_and_fetches_data_the_server_left_out()
    {
        var handler = new StubHandler(r => r.Body!.Contains("calendar-query", StringComparison.Ordinal)
            ? StubHandler.Xml(207, """
                <D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
                  <D:response><D:href>/cal/a.ics</D:href><D:propstat><D:prop><D:getetag>"a"</D:getetag><C:calendar-data>BEGIN:VCALENDAR
                END:VCALENDAR
                </C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
                  <D:response><D:href>/cal/b.ics</D:href><D:propstat><D:prop><D:getetag>"b"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
                </D:multistatus>
                """)
            : StubHandler.Xml(207, """
                <D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
                  <D:response><D:href>/cal/b.ics</D:href><D:propstat><D:prop><D:getetag>"b"</D:getetag><C:calendar-data>BEGIN:VCALENDAR
                END:VCALENDAR
                </C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
                </D:multistatus>
                """));
        using var client = handler.Client();

        var found = await client.QueryEventsAsync("/cal/", Instant.FromUtc(2027, 3, 14, 6, 30), Instant.FromUtc(2027, 3, 15, 0, 0));

        found.Select(o => (o.Href, o.ETag)).ShouldBe([("/cal/a.ics", "\"a\""), ("/cal/b.ics", "\"b\"")]);
        handler.Requests[0].Body!.ShouldContain("start=\"20270314T063000Z\"");
        handler.Requests[0].Body!.ShouldContain("end=\"20270315T000000Z\"");
        handler.Requests[0].Header("Depth").ShouldBe("1");
        handler.Requests[1].Body!.ShouldContain("calendar-multiget");
    }

    [Fact]
    public async Task Calendar_query_refuses_an_empty_range()
    {
        using var client = new StubHandler(_ => StubHandler.Status(500)).Client();
        var at = Instant.FromUtc(2027, 3, 1, 0, 0);

        await Should.ThrowAsync<ArgumentException>(() => client.QueryEventsAsync("/cal/", at, at));
    }

    [Fact]
    public async Task Get_decodes_the_body_by_its_charset_and_returns_the_etag()
    {
        var handler = new StubHandler(_ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new ByteArrayContent(Encoding.Latin1.GetBytes("SUMMARY:Café\r\n")),
            };
            response.Content.Headers.TryAddWithoutValidation("Content-Type", "text/calendar; charset=iso-8859-1");
            response.Headers.TryAddWithoutValidation("ETag", "unquoted-etag");
            return response;
        });
        using var client = handler.Client();

        var item = await client.GetObjectAsync("/cal/a.ics");

        item.ShouldBe(new CalendarObject("/cal/a.ics", "unquoted-etag", "SUMMARY:Café\r\n"));
    }

    [Fact]
    public void Options_are_validated()
    {
        Should.Throw<ArgumentException>(() => new CalDavClient(new CalDavClientOptions { ServerUri = new Uri("ftp://x/"), UserName = "a", Password = "b" }));
        Should.Throw<ArgumentException>(() => new CalDavClient(new CalDavClientOptions { ServerUri = new Uri("http://x/"), UserName = "a:b", Password = "b" }));
        Should.Throw<ArgumentOutOfRangeException>(() => new CalDavClient(new CalDavClientOptions
        {
            ServerUri = new Uri("http://x/"),
            UserName = "a",
            Password = "b",
            RequestTimeout = TimeSpan.Zero,
        }));
    }
}

using System.Text;

namespace Rendezvous.Calendars.CalDav.Tests;

/// <summary>The multistatus parser on hand-written answers, including odd but legal ones (RFC 4918 section 14).</summary>
public sealed class MultistatusTests
{
    [Fact]
    public void Reads_hrefs_etags_statuses_and_the_sync_token()
    {
        var ms = Multistatus.Parse("""
            <?xml version="1.0" encoding="utf-8"?>
            <d:multistatus xmlns:d="DAV:">
              <d:response>
                <d:href>/cal/a.ics</d:href>
                <d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
              </d:response>
              <d:response><d:href>/cal/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>
              <d:sync-token>http://example.com/sync/7</d:sync-token>
            </d:multistatus>
            """);

        ms.SyncToken.ShouldBe("http://example.com/sync/7");
        ms.Responses.Count.ShouldBe(2);
        ms.Responses[0].Href.ShouldBe("/cal/a.ics");
        ms.Responses[0].FindText(DavNames.GetETag).ShouldBe("\"1\"");
        ms.Responses[0].IsGone.ShouldBeFalse();
        ms.Responses[1].StatusCode.ShouldBe(404);
        ms.Responses[1].IsGone.ShouldBeTrue();
        ms.Responses[1].PropStats.ShouldBeEmpty();
    }

    [Fact]
    public void Any_namespace_prefix_or_a_default_namespace_reads_the_same()
    {
        const string Body = """
            <X:multistatus xmlns:X="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav">
              <X:response>
                <X:href>/cal/a.ics</X:href>
                <X:propstat>
                  <X:prop>
                    <X:getetag>"e"</X:getetag>
                    <cal:calendar-data><![CDATA[BEGIN:VCALENDAR
            END:VCALENDAR
            ]]></cal:calendar-data>
                  </X:prop>
                  <X:status>HTTP/1.1 200 OK</X:status>
                </X:propstat>
              </X:response>
            </X:multistatus>
            """;
        var withDefault = Body.Replace("X:", string.Empty, StringComparison.Ordinal).Replace("xmlns:X=", "xmlns=", StringComparison.Ordinal);

        foreach (var xml in new[] { Body, withDefault })
        {
            var response = Multistatus.Parse(xml).Responses.ShouldHaveSingleItem();
            response.FindText(DavNames.GetETag).ShouldBe("\"e\"");
            response.FindProperty(DavNames.CalendarData)!.Value.ShouldStartWith("BEGIN:VCALENDAR\nEND:VCALENDAR");
        }
    }

    [Fact]
    public void A_missing_etag_is_null_not_an_error()
    {
        var response = Multistatus.Parse("""
            <multistatus xmlns="DAV:"><response><href>/cal/a.ics</href>
              <propstat><prop><getcontenttype>text/calendar</getcontenttype></prop><status>HTTP/1.1 200 OK</status></propstat>
            </response></multistatus>
            """).Responses.ShouldHaveSingleItem();

        response.FindText(DavNames.GetETag).ShouldBeNull();
        response.FindProperty(DavNames.GetETag).ShouldBeNull();
    }

    [Fact]
    public void An_empty_etag_element_is_null()
    {
        var response = Multistatus.Parse("""
            <multistatus xmlns="DAV:"><response><href>/cal/a.ics</href>
              <propstat><prop><getetag/></prop><status>HTTP/1.1 200 OK</status></propstat>
            </response></multistatus>
            """).Responses.ShouldHaveSingleItem();

        response.FindText(DavNames.GetETag).ShouldBeNull();
    }

    [Fact]
    public void Percent_encoded_hrefs_are_kept_as_sent_and_compare_equal_to_other_spellings()
    {
        var response = Multistatus.Parse("""
            <multistatus xmlns="DAV:"><response><href> /cal/meeting%201%40example.com.ics
            </href><status>HTTP/1.1 200 OK</status></response></multistatus>
            """).Responses.ShouldHaveSingleItem();

        response.Href.ShouldBe("/cal/meeting%201%40example.com.ics");
        CalDavHref.Comparer.Equals(response.Href, "/cal/meeting 1@example.com.ics").ShouldBeTrue();
        CalDavHref.Comparer.Equals(response.Href, "http://dav.test:80/cal/meeting%201@example.com.ics").ShouldBeTrue();
    }

    [Fact]
    public void A_404_propstat_mixed_with_a_200_one_only_hides_the_missing_properties()
    {
        var response = Multistatus.Parse("""
            <D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
              <D:response>
                <D:href>/cal/</D:href>
                <D:propstat><D:prop><CS:getctag/><D:displayname/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>
                <D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype><D:sync-token>t1</D:sync-token></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
              </D:response>
            </D:multistatus>
            """).Responses.ShouldHaveSingleItem();

        response.PropStats.Select(p => p.StatusCode).ShouldBe([404, 200]);
        response.FindText(DavNames.GetCTag).ShouldBeNull();
        response.FindText(DavNames.DisplayName).ShouldBeNull();
        response.FindText(DavNames.SyncToken).ShouldBe("t1");
        response.HasResourceType(DavNames.Collection).ShouldBeTrue();
        response.HasResourceType(DavNames.Calendar).ShouldBeFalse();
    }

    [Fact]
    public void A_truncated_sync_answer_shows_the_507_on_the_collection()
    {
        var ms = Multistatus.Parse("""
            <D:multistatus xmlns:D="DAV:">
              <D:response><D:href>/cal/a.ics</D:href>
                <D:propstat><D:prop><D:getetag>"1"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
              <D:response><D:href>/cal/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status>
                <D:error><D:number-of-matches-within-limits/></D:error></D:response>
              <D:sync-token>http://example.com/sync/8</D:sync-token>
            </D:multistatus>
            """);

        ms.Responses[1].StatusCode.ShouldBe(507);
        ms.Responses[1].ErrorCondition.ShouldBe(DavNames.Dav + "number-of-matches-within-limits");
        ms.SyncToken.ShouldBe("http://example.com/sync/8");
    }

    [Fact]
    public void A_response_may_list_several_hrefs_sharing_one_status()
    {
        var response = Multistatus.Parse("""
            <multistatus xmlns="DAV:"><response><href>/a.ics</href><href>/b.ics</href><status>HTTP/1.1 404 Not Found</status></response></multistatus>
            """).Responses.ShouldHaveSingleItem();

        response.Hrefs.ShouldBe(["/a.ics", "/b.ics"]);
        response.IsGone.ShouldBeTrue();
    }

    [Fact]
    public void Odd_pieces_are_tolerated_without_null_or_index_errors()
    {
        var ms = Multistatus.Parse("""
            <multistatus xmlns="DAV:" xmlns:x="urn:example:unknown">
              <response/>
              <response><href>   </href><status>HTTP/1.1 200 OK</status></response>
              <response><href>/no-status.ics</href><propstat><prop><getetag>"1"</getetag></prop></propstat></response>
              <response><href>/bad-status.ics</href><status>garbage</status></response>
              <response><href>/no-prop.ics</href><propstat><status>HTTP/1.1 200 OK</status></propstat></response>
              <x:extension>ignored</x:extension>
              <responsedescription>fine</responsedescription>
            </multistatus>
            """);

        ms.Responses.Select(r => r.Href).ShouldBe(["/no-status.ics", "/bad-status.ics", "/no-prop.ics"]);
        ms.Responses[0].PropStats.ShouldHaveSingleItem().StatusCode.ShouldBeNull();
        ms.Responses[0].FindText(DavNames.GetETag).ShouldBeNull();
        ms.Responses[1].StatusCode.ShouldBeNull();
        ms.Responses[1].IsGone.ShouldBeFalse();
        ms.Responses[2].PropStats.ShouldHaveSingleItem().Properties.ShouldBeEmpty();
        ms.SyncToken.ShouldBeNull();
    }

    [Fact]
    public void An_empty_multistatus_has_no_responses()
    {
        Multistatus.Parse("<multistatus xmlns='DAV:'/>").Responses.ShouldBeEmpty();
    }

    [Fact]
    public void The_encoding_declaration_is_honoured_when_parsing_bytes()
    {
        var bytes = Encoding.Latin1.GetBytes("""<?xml version="1.0" encoding="iso-8859-1"?><multistatus xmlns="DAV:"><response><href>/caf%C3%A9.ics</href><propstat><prop><displayname>Café</displayname></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>""");

        Multistatus.Parse(bytes).Responses.ShouldHaveSingleItem().FindText(DavNames.DisplayName).ShouldBe("Café");
    }

    [Theory]
    [InlineData("")]
    [InlineData("not xml at all")]
    [InlineData("<multistatus xmlns=\"DAV:\"><response><href>/a</href></multistatus>")]
    [InlineData("<multistatus xmlns=\"DAV:\">")]
    [InlineData("<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><multistatus xmlns=\"DAV:\">&x;</multistatus>")]
    public void Malformed_xml_is_a_protocol_error(string xml)
    {
        var error = Should.Throw<CalDavProtocolException>(() => Multistatus.Parse(xml));
        error.Kind.ShouldBe(CalDavErrorKind.Protocol);
    }

    [Theory]
    [InlineData("<multistatus/>")]
    [InlineData("<multistatus xmlns=\"urn:other\"/>")]
    [InlineData("<error xmlns=\"DAV:\"><valid-sync-token/></error>")]
    public void A_root_other_than_dav_multistatus_is_a_protocol_error(string xml)
    {
        Should.Throw<CalDavProtocolException>(() => Multistatus.Parse(xml));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK", 200)]
    [InlineData("HTTP/1.0 404 Not Found", 404)]
    [InlineData("  HTTP/2 507 Insufficient Storage ", 507)]
    [InlineData("HTTP/1.1 200", 200)]
    [InlineData("200 OK", 200)]
    [InlineData("HTTP/1.1", null)]
    [InlineData("HTTP/1.1 OK", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Status_lines_are_read_leniently(string? line, int? expected)
    {
        Multistatus.ParseStatus(line).ShouldBe(expected);
    }
}

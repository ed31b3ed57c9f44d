using System.Xml.Linq;
using NodaTime;
using Rendezvous.Calendars.CalDav.Tests.Infrastructure;

namespace Rendezvous.Calendars.CalDav.Tests;

/// <summary>
/// Odd server answers never surface as NullReference, IndexOutOfRange or XML exceptions: every operation either
/// succeeds or throws a <see cref="CalDavException"/>. The answers are a rich multistatus cut short at every length
/// and with each element removed or emptied in turn.
/// </summary>
public sealed class RobustnessTests
{
    private const string Rich = """
        <?xml version="1.0" encoding="utf-8"?>
        <D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">
          <D:response>
            <D:href>/cal/</D:href>
            <D:propstat>
              <D:prop>
                <D:current-user-principal><D:href>/p/</D:href></D:current-user-principal>
                <C:calendar-home-set><D:href>/home/</D:href></C:calendar-home-set>
                <D:resourcetype><D:collection/><C:calendar/></D:resourcetype>
                <D:displayname>Work</D:displayname>
                <CS:getctag>"c"</CS:getctag>
                <D:sync-token>t0</D:sync-token>
                <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
                <D:supported-report-set><D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report></D:supported-report-set>
              </D:prop>
              <D:status>HTTP/1.1 200 OK</D:status>
            </D:propstat>
          </D:response>
          <D:response>
            <D:href>/cal/a.ics</D:href>
            <D:propstat>
              <D:prop><D:getetag>"a"</D:getetag><C:calendar-data>BEGIN:VCALENDAR
        END:VCALENDAR
        </C:calendar-data></D:prop>
              <D:status>HTTP/1.1 200 OK</D:status>
            </D:propstat>
            <D:propstat><D:prop><D:displayname/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>
          </D:response>
          <D:response><D:href>/cal/b.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>
          <D:response><D:href>/cal/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status></D:response>
          <D:sync-token>t1</D:sync-token>
        </D:multistatus>
        """;

    [Fact]
    public async Task Truncated_answers_fail_only_as_caldav_errors()
    {
        var variants = Enumerable.Range(0, Rich.Length).Where(n => n % 3 == 0).Select(n => Rich[..n]);

        await RunEveryOperationOn(variants);
    }

    [Fact]
    public async Task Answers_missing_any_one_element_or_its_content_fail_only_as_caldav_errors()
    {
        var document = XDocument.Parse(Rich);
        var count = document.Descendants().Count();
        var variants = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var removed = XDocument.Parse(Rich);
            removed.Descendants().ElementAt(i).Remove();
            variants.Add(removed.ToString());

            var emptied = XDocument.Parse(Rich);
            emptied.Descendants().ElementAt(i).RemoveNodes();
            variants.Add(emptied.ToString());
        }

        await RunEveryOperationOn(variants);
    }

    private static async Task RunEveryOperationOn(IEnumerable<string> bodies)
    {
        var operations = new Func<CalDavClient, Task>[]
        {
            c => c.DiscoverAsync(),
            c => c.ListCalendarsAsync("/home/"),
            c => c.GetCalendarAsync("/cal/"),
            c => c.GetETagAsync("/cal/a.ics"),
            c => c.SyncCollectionAsync("/cal/", null),
            c => c.SyncCollectionAsync("/cal/", "t0"),
            c => c.ListObjectsAsync("/cal/"),
            c => c.MultigetAsync("/cal/", ["/cal/a.ics", "/cal/b.ics"]),
            c => c.QueryEventsAsync("/cal/", Instant.FromUtc(2027, 1, 1, 0, 0), Instant.FromUtc(2027, 2, 1, 0, 0)),
        };

        var checkedBodies = 0;
        foreach (var body in bodies)
        {
            using var client = new StubHandler(_ => StubHandler.Xml(207, body)).Client();
            foreach (var operation in operations)
            {
                try
                {
                    await operation(client);
                }
                catch (CalDavException)
                {
                    // The one acceptable way to fail.
                }
            }

            checkedBodies++;
        }

        checkedBodies.ShouldBeGreaterThan(10);
    }
}

using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>
/// Passes everything through to the real server, except: it spoils one event's DTSTART in what comes back, and it
/// answers for the paths in <see cref="Faults"/> as a broken server would (a status code, or silence past the timeout).
/// </summary>
public sealed class SpoilingHandlerFactory : CalendarHttpHandlerFactory
{
    public const string Marker = "DTSTART:20270302T101500Z";

    /// <summary>Path fragment to fault: an HTTP status, or 0 for "hangs".</summary>
    public static System.Collections.Concurrent.ConcurrentDictionary<string, int> Faults { get; } = new();

    public override HttpMessageHandler Create() => new Spoiler { InnerHandler = base.Create() };

    private sealed class Spoiler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            foreach (var (fragment, status) in Faults)
            {
                if (request.RequestUri!.AbsolutePath.Contains(fragment, StringComparison.Ordinal))
                {
                    if (status == 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
                    }

                    return new HttpResponseMessage((System.Net.HttpStatusCode)status) { RequestMessage = request, Content = new StringContent("fault") };
                }
            }

            var response = await base.SendAsync(request, cancellationToken);
            if (response.Content is null)
            {
                return response;
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!text.Contains(Marker, StringComparison.Ordinal))
            {
                response.Content = new StringContent(text, System.Text.Encoding.UTF8, response.Content.Headers.ContentType?.MediaType ?? "text/plain");
                return response;
            }

            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "application/xml";
            response.Content = new StringContent(text.Replace(Marker, "DTSTART:20270302T251500Z", StringComparison.Ordinal), System.Text.Encoding.UTF8, mediaType);
            return response;
        }
    }
}

public sealed class CalendarSyncApp : RendezvousApp
{
    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<CalendarHttpHandlerFactory, SpoilingHandlerFactory>();
        // A slow server is given up on after two seconds (the default is longer).
        services.Configure<CalendarSyncOptions>(o => o.RequestTimeout = TimeSpan.FromSeconds(2));
    }
}

/// <summary>
/// Two-way sync against real CalDAV servers: bookings appear in the host's calendar, and deleting or moving them there
/// acts on the booking exactly as the toggles say (seed 000). The seed's cases run against each of Radicale, Xandikos
/// and Cyrus (docs/CALDAV.md says how they differ); the fault injection runs against Radicale.
/// </summary>
public sealed class CalendarSyncTests(CalendarSyncApp app) : IClassFixture<CalendarSyncApp>
{
    private sealed record Host(string UserId, HttpClient Client, string Slug, string ConnectionId, string BookingCalendar, CalDavServer Server);

    private Task<Host> HostWithCalendarAsync(bool cancelOnDelete, bool updateOnMove, Action<JsonObject>? page = null,
        string[]? additional = null, string? serverUrl = null) =>
        HostWithCalendarAsync(CalDavServers.Radicale, cancelOnDelete, updateOnMove, page, additional, serverUrl);

    private async Task<Host> HostWithCalendarAsync(string serverName, bool cancelOnDelete, bool updateOnMove, Action<JsonObject>? page = null,
        string[]? additional = null, string? serverUrl = null, bool secondAccount = false)
    {
        var server = CalDavServers.Get(serverName, secondAccount);
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, "Synced Host", timeZone: "UTC");
        var client = app.Client(await Scenario.CreateKeyAsync(admin, userId));
        var slug = await Scenario.CreatePageAsync(client, page);
        var calendar = serverUrl is null ? await server.NewCalendarAsync("bookings") : serverUrl + "cal/";
        var connection = await (await client.PostJsonAsync("/api/v1/calendar-connections", new
        {
            url = serverUrl ?? server.Url,
            username = server.User,
            password = server.Password,
            bookingCalendarUrl = calendar,
            additionalCalendarUrls = additional ?? [],
            cancelBookingOnDelete = cancelOnDelete,
            updateBookingOnMove = updateOnMove,
        })).ExpectAsync(201);
        return new Host(userId, client, slug, connection["id"]!.GetValue<string>(), calendar, server);
    }

    /// <summary>Drains the outbox five minutes later, when a failed attempt's retry is due, then puts the clock back.</summary>
    private async Task DrainOutboxWhenRetriesAreDueAsync()
    {
        app.Clock.Advance(Duration.FromMinutes(5));
        try
        {
            await DrainOutboxAsync();
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }
    }

    private async Task DrainOutboxAsync()
    {
        await app.WithScopeAsync(async sp =>
        {
            var processor = sp.GetRequiredService<OutboxProcessor>();
            while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
            {
            }

            return 0;
        });
        var stuck = await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.ProcessedAt == null && m.LastError != null).Select(m => m.LastError).ToListAsync());
        stuck.ShouldBeEmpty();
    }

    private Task<SyncReport> SyncAsync(string connectionId) =>
        app.WithScopeAsync(sp => sp.GetRequiredService<CalendarSyncEngine>().SyncAsync(Guid.Parse(connectionId), CancellationToken.None));

    private static async Task<IReadOnlyList<CalendarObject>> ObjectsAsync(Host host)
    {
        using var client = host.Server.Client();
        var href = new Uri(host.BookingCalendar).AbsolutePath;
        var listing = await client.ListObjectsAsync(href);
        return listing.Count == 0 ? [] : (await client.MultigetAsync(href, listing.Select(o => o.Href))).Objects;
    }

    private async Task<JsonNode> BookingAsync(Host host, string id) => await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);

    private async Task<string[]> OutboxTypesAsync(string bookingId) =>
        [.. (await app.WithDbAsync(db => db.OutboxMessages.OrderBy(m => m.Id).ToListAsync()))
            .Where(m => m.Payload.Contains(bookingId, StringComparison.Ordinal)).Select(m => m.Type)];

    /// <summary>Books, writes the event out, and runs a first sync (which must see only our own write).</summary>
    private async Task<(string BookingId, CalendarObject Event)> BookAndSyncAsync(Host host, string start)
    {
        var booking = await Scenario.BookAsync(app.Anonymous(), host.Slug, start);
        var id = booking["id"]!.GetValue<string>();
        await DrainOutboxAsync();
        var objects = await ObjectsAsync(host);
        var ours = objects.ShouldHaveSingleItem();
        var report = await SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        (report.Canceled + report.Rescheduled + report.Deferred).ShouldBe(0);
        return (id, ours);
    }

    private static string Moved(string ics, Instant from, Instant to)
    {
        var pattern = NodaTime.Text.InstantPattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss'Z'");
        return ics.Replace(pattern.Format(from), pattern.Format(to), StringComparison.Ordinal)
            .Replace(pattern.Format(from + Duration.FromMinutes(30)), pattern.Format(to + Duration.FromMinutes(30)), StringComparison.Ordinal);
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task Booking_appears_in_the_hosts_calendar_and_our_write_is_not_an_external_change(string server)
    {
        var host = await HostWithCalendarAsync(server, true, true);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-02T10:00:00Z");

        var parsed = ICalendarReader.Parse(ev.CalendarData).Events.ShouldHaveSingleItem();
        parsed.Start!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2027, 3, 2, 10, 0));
        parsed.End!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2027, 3, 2, 10, 30));
        parsed.Attendees.ShouldHaveSingleItem();

        // Syncing again and again changes nothing: no echo of our own write.
        (await SyncAsync(host.ConnectionId)).Changed.ShouldBe(0);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created"]);

        // Writing again (a retry) never creates a second event.
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE outbox_messages SET processed_at = NULL, handled_by = ARRAY[]::text[]"));
        await DrainOutboxAsync();
        (await ObjectsAsync(host)).Count.ShouldBe(1);
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task Deleting_event_cancels_booking_when_toggle_on(string server)
    {
        var host = await HostWithCalendarAsync(server, cancelOnDelete: true, updateOnMove: false);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-03T10:00:00Z");

        using (var client = host.Server.Client())
        {
            (await client.DeleteAsync(ev.Href, ev.ETag)).Succeeded.ShouldBeTrue();
        }

        var report = await SyncAsync(host.ConnectionId);
        report.Canceled.ShouldBe(1);
        var booking = await BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("canceled");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by User (in calendar)");
        booking["history"]!.AsArray().Last()!["actor"]!.GetValue<string>().ShouldBe("calendarSync");
        // Integrations are told, exactly as for a cancel by the user.
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.canceled"]);

        // The time is available again.
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{host.Slug}/slots?from=2027-03-03&to=2027-03-03&timeZone=UTC")).ExpectAsync(200);
        slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ShouldContain("2027-03-03T10:00:00Z");
        await DrainOutboxAsync();
        (await ObjectsAsync(host)).ShouldBeEmpty();
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task Deleting_event_changes_nothing_when_toggle_off(string server)
    {
        var host = await HostWithCalendarAsync(server, cancelOnDelete: false, updateOnMove: true);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-04T10:00:00Z");
        using (var client = host.Server.Client())
        {
            await client.DeleteAsync(ev.Href, ev.ETag);
        }

        var report = await SyncAsync(host.ConnectionId);
        report.Canceled.ShouldBe(0);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created"]);
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task Moving_event_reschedules_booking_when_toggle_on(string server)
    {
        var host = await HostWithCalendarAsync(server, cancelOnDelete: false, updateOnMove: true);
        var from = Instant.FromUtc(2027, 3, 5, 10, 0);
        var to = Instant.FromUtc(2027, 3, 5, 14, 0);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-05T10:00:00Z");
        using (var client = host.Server.Client())
        {
            (await client.UpdateObjectAsync(ev.Href, Moved(ev.CalendarData, from, to), ev.ETag!)).Succeeded.ShouldBeTrue();
        }

        (await SyncAsync(host.ConnectionId)).Rescheduled.ShouldBe(1);
        var booking = await BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("rescheduled");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by User (in calendar)");
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-05T14:00:00Z");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.rescheduled"]);

        // The writer brings the event up to date (one object, higher SEQUENCE); the next sync sees only our echo.
        await DrainOutboxAsync();
        var rewritten = ICalendarReader.Parse((await ObjectsAsync(host)).ShouldHaveSingleItem().CalendarData).Events[0];
        rewritten.Sequence.ShouldBeGreaterThan(0);
        var again = await SyncAsync(host.ConnectionId);
        (again.Rescheduled + again.Canceled + again.Deferred).ShouldBe(0);
        (await OutboxTypesAsync(id)).Length.ShouldBe(2);
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task Moving_event_with_toggle_off_waits_for_the_next_reminder(string server)
    {
        var host = await HostWithCalendarAsync(server, cancelOnDelete: true, updateOnMove: false);
        var from = Instant.FromUtc(2027, 3, 8, 10, 0);
        var to = Instant.FromUtc(2027, 3, 8, 15, 0);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-08T10:00:00Z");
        using (var client = host.Server.Client())
        {
            await client.UpdateObjectAsync(ev.Href, Moved(ev.CalendarData, from, to), ev.ETag!);
        }

        (await SyncAsync(host.ConnectionId)).Deferred.ShouldBe(1);
        var booking = await BookingAsync(host, id);
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-08T10:00:00Z");
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created"]);
        var link = await app.WithDbAsync(db => db.BookingEventLinks.SingleAsync(l => l.BookingId == new Domain.BookingId(Guid.Parse(id))));
        link.PendingStart.ShouldBe(to);
        // Seen once, not again.
        (await SyncAsync(host.ConnectionId)).Deferred.ShouldBe(0);

        // When the booking's next reminder comes due (a day before the old time), the move is applied quietly: the
        // reminder carries the new time, and integrations are not told.
        await DrainOutboxAsync();
        app.Clock.Reset(Instant.FromUtc(2027, 3, 7, 10, 0));
        try
        {
            var round = await app.Services.GetRequiredService<Features.Reminders.ReminderSender>().SendDueAsync(CancellationToken.None);
            // Other bookings of this test class may be due too; this one's move is the only deferred one.
            round.MovesApplied.ShouldBe(1);
            round.Sent.ShouldBeGreaterThanOrEqualTo(1);
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        var after = await BookingAsync(host, id);
        after["start"]!.GetValue<string>().ShouldBe("2027-03-08T15:00:00Z");
        after["status"]!.GetValue<string>().ShouldBe("rescheduled");
        var moved = (await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type == "booking.rescheduled").ToListAsync()))
            .Single(m => m.Payload.Contains(id, StringComparison.Ordinal));
        JsonNode.Parse(moved.Payload)!["quiet"]!.GetValue<bool>().ShouldBeTrue();
        (await app.WithDbAsync(db => db.BookingEventLinks.SingleAsync(l => l.BookingId == new Domain.BookingId(Guid.Parse(id))))).PendingStart.ShouldBeNull();
        // The reminder just sent counts for the new time; no second copy is planned.
        await DrainOutboxAsync();
        var pendingReminders = await app.WithDbAsync(db => db.Database.SqlQuery<int>(
            $"SELECT count(*)::int AS \"Value\" FROM reminders WHERE booking_id = {Guid.Parse(id)} AND status = 'Pending'").SingleAsync());
        pendingReminders.ShouldBe(0);
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task Panel_primary_deleting_cancels_for_everyone_but_an_additional_member_deleting_does_not(string server)
    {
        var primary = await HostWithCalendarAsync(server, cancelOnDelete: true, updateOnMove: true);
        var member = await HostWithCalendarAsync(server, cancelOnDelete: true, updateOnMove: true, secondAccount: true);
        var panelSlug = await Scenario.CreatePageAsync(primary.Client, p =>
        {
            p["schedulingOption"] = "panel";
            p["panelMemberIds"] = new JsonArray(member.UserId);
        });

        async Task<string> BookPanel(string start)
        {
            var id = (await Scenario.BookAsync(app.Anonymous(), panelSlug, start))["id"]!.GetValue<string>();
            await DrainOutboxAsync();
            await SyncAsync(primary.ConnectionId);
            await SyncAsync(member.ConnectionId);
            return id;
        }

        async Task DeleteIn(Host host, string bookingId)
        {
            var obj = (await ObjectsAsync(host)).Single(o => o.CalendarData.Contains(Guid.Parse(bookingId).ToString("N"), StringComparison.Ordinal));
            using var client = host.Server.Client();
            await client.DeleteAsync(obj.Href, obj.ETag);
        }

        var first = await BookPanel("2027-03-09T10:00:00Z");
        (await ObjectsAsync(member)).Count.ShouldBe(1);
        await DeleteIn(member, first);
        (await SyncAsync(member.ConnectionId)).Canceled.ShouldBe(0);
        (await BookingAsync(primary, first))["status"]!.GetValue<string>().ShouldBe("scheduled");

        var second = await BookPanel("2027-03-09T12:00:00Z");
        await DeleteIn(primary, second);
        (await SyncAsync(primary.ConnectionId)).Canceled.ShouldBe(1);
        (await BookingAsync(primary, second))["status"]!.GetValue<string>().ShouldBe("canceled");
        // The cancellation leaves every member's calendar.
        await DrainOutboxAsync();
        (await ObjectsAsync(member)).ShouldNotContain(o => o.CalendarData.Contains(Guid.Parse(second).ToString("N"), StringComparison.Ordinal));
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task Busy_time_from_every_calendar_blocks_slots_and_a_lost_token_loses_nothing(string server)
    {
        var family = await CalDavServers.Get(server).NewCalendarAsync("family");
        var host = await HostWithCalendarAsync(server, true, true, additional: [family]);
        using var client = CalDavServers.Get(server).Client();
        var familyHref = new Uri(family).AbsolutePath;
        // UIDs unique per run: Cyrus keeps a UID unique across all calendars of one user, and its calendars outlive a run.
        var run = Guid.NewGuid().ToString("N");
        var weeklyEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:school-run-" + run + "\r\nDTSTAMP:20270101T000000Z\r\n" +
            "DTSTART;TZID=Europe/London:20270301T150000\r\nDTEND;TZID=Europe/London:20270301T160000\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\nSUMMARY:School run\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        var freeEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:reminder-" + run + "\r\nDTSTAMP:20270101T000000Z\r\n" +
            "DTSTART:20270302T090000Z\r\nDTEND:20270302T100000Z\r\nTRANSP:TRANSPARENT\r\nSUMMARY:Free reminder\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        var weekly = await client.CreateObjectAsync(familyHref + "school-run.ics", weeklyEvent);
        await client.CreateObjectAsync(familyHref + "reminder.ics", freeEvent);
        // Radicale repairs bad items itself, so the test's handler spoils this one on the way back (hour 25); our reader
        // refuses it, and the sync goes on without it.
        await client.CreateObjectAsync(familyHref + "broken.ics",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:broken-" + run + "\r\nDTSTAMP:20270101T000000Z\r\n" + SpoilingHandlerFactory.Marker +
            "\r\nDURATION:PT15M\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");

        var report = await SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        report.BadItems.ShouldBe(1);

        async Task<List<string>> Starts(string day)
        {
            var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{host.Slug}/slots?from={day}&to={day}&timeZone=UTC")).ExpectAsync(200);
            return [.. slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>())];
        }

        // Weekly on Mondays 15:00-16:00 London (GMT in early March, BST from the 28th); the transparent event blocks nothing.
        (await Starts("2027-03-08")).ShouldNotContain("2027-03-08T15:00:00Z");
        (await Starts("2027-03-08")).ShouldNotContain("2027-03-08T15:30:00Z");
        (await Starts("2027-03-29")).ShouldNotContain("2027-03-29T14:00:00Z");
        (await Starts("2027-03-29")).ShouldContain("2027-03-29T15:00:00Z");
        (await Starts("2027-03-02")).ShouldContain("2027-03-02T09:00:00Z");

        // The server forgets our token; meanwhile the weekly event is deleted. A clean resync notices.
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE calendar_sync_states SET sync_token = 'http://radicale.org/ns/sync/bogus'"));
        await client.DeleteAsync(familyHref + "school-run.ics", weekly.ETag);
        var resync = await SyncAsync(host.ConnectionId);
        resync.Failed.ShouldBeFalse(resync.Error);
        resync.Deleted.ShouldBe(1);
        (await Starts("2027-03-08")).ShouldContain("2027-03-08T15:00:00Z");
    }

    [SyncFact]
    public async Task A_server_that_is_down_puts_the_connection_in_error_without_stopping_others()
    {
        var down = await HostWithCalendarAsync(true, true, serverUrl: "http://127.0.0.1:1/");
        var healthy = await HostWithCalendarAsync(true, true);

        for (var i = 0; i < Domain.Calendars.CalendarConnection.ErrorThreshold; i++)
        {
            (await SyncAsync(down.ConnectionId)).Failed.ShouldBeTrue();
            (await SyncAsync(healthy.ConnectionId)).Failed.ShouldBeFalse();
        }

        var state = await (await down.Client.GetAsync($"/api/v1/calendar-connections/{down.ConnectionId}")).ExpectAsync(200);
        state["health"]!.GetValue<string>().ShouldBe("error");
        state["canAcceptBookings"]!.GetValue<bool>().ShouldBeFalse();
        state["lastError"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
        (await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{down.Slug}/slots?from=2027-03-10&to=2027-03-10")).ExpectAsync(409))
            ["code"]!.GetValue<string>().ShouldBe("page_unavailable");
        await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{down.Slug}/bookings", new { start = "2027-03-10T10:00:00Z", customer = Scenario.Customer() })).ExpectAsync(409);

        // The healthy one keeps working end to end.
        await BookAndSyncAsync(healthy, "2027-03-10T10:00:00Z");
    }

    [SyncTheory]
    [InlineData(401, "The calendar server refused")]
    [InlineData(403, "The calendar server refused")]
    [InlineData(503, "not answering")]
    [InlineData(500, "not answering")]
    [InlineData(0, "not answering")]
    public async Task A_failing_server_is_retried_with_backoff_and_never_stops_other_calendars(int status, string error)
    {
        var broken = await HostWithCalendarAsync(true, true);
        var healthy = await HostWithCalendarAsync(true, true);
        var (healthyBooking, healthyEvent) = await BookAndSyncAsync(healthy, "2027-03-11T09:00:00Z");
        var fragment = new Uri(broken.BookingCalendar).AbsolutePath;
        SpoilingHandlerFactory.Faults[fragment] = status;
        try
        {
            var before = app.Clock.GetCurrentInstant();
            var report = await SyncAsync(broken.ConnectionId);
            report.Failed.ShouldBeTrue();
            var state = await (await broken.Client.GetAsync($"/api/v1/calendar-connections/{broken.ConnectionId}")).ExpectAsync(200);
            state["health"]!.GetValue<string>().ShouldBe("failing");
            state["lastError"]!.GetValue<string>().ShouldContain(error);
            var next = await app.WithDbAsync(db => db.CalendarConnections.Where(c => c.Id == Guid.Parse(broken.ConnectionId)).Select(c => c.NextSyncAt).SingleAsync());
            (next - before).ShouldBeGreaterThan(Duration.FromSeconds(1));

            // The other calendar still syncs: deleting its event cancels its booking.
            using (var client = healthy.Server.Client())
            {
                await client.DeleteAsync(healthyEvent.Href, healthyEvent.ETag);
            }

            (await SyncAsync(healthy.ConnectionId)).Canceled.ShouldBe(1);
            (await BookingAsync(healthy, healthyBooking))["status"]!.GetValue<string>().ShouldBe("canceled");
        }
        finally
        {
            SpoilingHandlerFactory.Faults.TryRemove(fragment, out _);
        }

        // Once the server answers again, the connection recovers.
        (await SyncAsync(broken.ConnectionId)).Failed.ShouldBeFalse();
        (await (await broken.Client.GetAsync($"/api/v1/calendar-connections/{broken.ConnectionId}")).ExpectAsync(200))["health"]!.GetValue<string>().ShouldBe("healthy");
    }

    [SyncFact]
    public async Task A_write_that_fails_stays_in_the_outbox_and_lands_later_without_duplicates()
    {
        var host = await HostWithCalendarAsync(true, true);
        var fragment = new Uri(host.BookingCalendar).AbsolutePath;
        SpoilingHandlerFactory.Faults[fragment] = 503;
        string id;
        try
        {
            id = (await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-12T09:00:00Z"))["id"]!.GetValue<string>();
            await app.WithScopeAsync(sp => sp.GetRequiredService<OutboxProcessor>().ProcessBatchAsync(50, CancellationToken.None));
            var pending = await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.ProcessedAt == null).ToListAsync());
            pending.ShouldContain(m => m.Payload.Contains(id, StringComparison.Ordinal) && m.LastError!.Contains("calendar-writer", StringComparison.Ordinal));
        }
        finally
        {
            SpoilingHandlerFactory.Faults.TryRemove(fragment, out _);
        }

        // The booking itself was never in doubt; the retry (when due) writes the event once.
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
        await DrainOutboxWhenRetriesAreDueAsync();

        (await ObjectsAsync(host)).Count.ShouldBe(1);
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task A_write_over_an_event_changed_in_the_calendar_meanwhile_still_lands(string server)
    {
        var host = await HostWithCalendarAsync(server, cancelOnDelete: true, updateOnMove: false);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-15T09:00:00Z");
        using (var client = host.Server.Client())
        {
            // The user edits the title in the calendar; our stored ETag is now stale (the write gets 412).
            (await client.UpdateObjectAsync(ev.Href, ev.CalendarData.Replace("SUMMARY:", "SUMMARY:Edited ", StringComparison.Ordinal), ev.ETag!)).Succeeded.ShouldBeTrue();
        }

        await (await host.Client.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-15T11:00:00Z" })).ExpectAsync(200);
        await DrainOutboxAsync();
        var now = ICalendarReader.Parse((await ObjectsAsync(host)).ShouldHaveSingleItem().CalendarData).Events[0];
        now.Start!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2027, 3, 15, 11, 0));
        var report = await SyncAsync(host.ConnectionId);
        (report.Canceled + report.Rescheduled + report.Deferred).ShouldBe(0);
    }

    [SyncFact]
    public async Task A_second_connection_is_busy_time_only_until_it_becomes_the_booking_connection()
    {
        var host = await HostWithCalendarAsync(cancelOnDelete: true, updateOnMove: true);
        var other = await Radicale.NewCalendarAsync("other");
        var inOther = host with { BookingCalendar = other };
        using (var client = Radicale.Client())
        {
            await client.CreateObjectAsync(new Uri(other).AbsolutePath + "dentist.ics",
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:dentist\r\nDTSTAMP:20270101T000000Z\r\n" +
                "DTSTART:20270316T130000Z\r\nDTEND:20270316T140000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
        }

        // A second account (the test server under another name): its calendars are busy time, bookings are not written there.
        var secondUrl = Radicale.Url!.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        var second = await (await host.Client.PostJsonAsync("/api/v1/calendar-connections", new
        {
            url = secondUrl, username = Radicale.User, password = Radicale.Password, bookingCalendarUrl = other,
            cancelBookingOnDelete = true, updateBookingOnMove = true,
        })).ExpectAsync(201);
        second["isBookingConnection"]!.GetValue<bool>().ShouldBeFalse();
        var secondId = second["id"]!.GetValue<string>();
        (await SyncAsync(secondId)).Failed.ShouldBeFalse();
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{host.Slug}/slots?from=2027-03-16&to=2027-03-16&timeZone=UTC")).ExpectAsync(200);
        var starts = slots["slots"]!.AsArray().Select(x => x!["start"]!.GetValue<string>()).ToList();
        starts.ShouldNotContain("2027-03-16T13:00:00Z");
        starts.ShouldContain("2027-03-16T11:00:00Z");

        var (id, _) = await BookAndSyncAsync(host, "2027-03-16T09:00:00Z");
        (await ObjectsAsync(inOther)).ShouldHaveSingleItem().CalendarData.ShouldContain("UID:dentist");

        // The second becomes the booking connection; the first is unmarked.
        var marked = await (await host.Client.PutJsonAsync($"/api/v1/calendar-connections/{secondId}", new
        {
            url = secondUrl, username = Radicale.User, bookingCalendarUrl = other, isBookingConnection = true,
        })).ExpectAsync(200);
        marked["isBookingConnection"]!.GetValue<bool>().ShouldBeTrue();
        (await (await host.Client.GetAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(200))
            ["isBookingConnection"]!.GetValue<bool>().ShouldBeFalse();

        // The booking's next change moves its event from the old booking calendar to the new one.
        await (await host.Client.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-16T11:00:00Z" })).ExpectAsync(200);
        await DrainOutboxAsync();
        (await ObjectsAsync(host)).ShouldBeEmpty();
        var ours = (await ObjectsAsync(inOther)).Single(o => !o.CalendarData.Contains("UID:dentist", StringComparison.Ordinal));
        (await SyncAsync(host.ConnectionId)).Canceled.ShouldBe(0);
        (await SyncAsync(secondId)).Rescheduled.ShouldBe(0);

        // Now a deletion in the new booking calendar is the one that cancels.
        using (var client = Radicale.Client())
        {
            await client.DeleteAsync(ours.Href, ours.ETag);
        }

        (await SyncAsync(secondId)).Canceled.ShouldBe(1);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("canceled");
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task Deleting_our_event_before_any_sync_round_saw_it_cancels_the_booking(string server)
    {
        // One connection already synced (the next round asks for changes since its token), one never synced (the next
        // round lists everything): in both, the event we wrote and the host deleted at once must count as deleted.
        var synced = await HostWithCalendarAsync(server, cancelOnDelete: true, updateOnMove: false);
        (await SyncAsync(synced.ConnectionId)).Failed.ShouldBeFalse();
        var fresh = await HostWithCalendarAsync(server, cancelOnDelete: true, updateOnMove: false);
        foreach (var host in new[] { synced, fresh })
        {
            var id = (await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-16T10:00:00Z"))["id"]!.GetValue<string>();
            await DrainOutboxAsync();
            var ours = (await ObjectsAsync(host)).ShouldHaveSingleItem();
            using (var client = host.Server.Client())
            {
                (await client.DeleteAsync(ours.Href, ours.ETag)).Succeeded.ShouldBeTrue();
            }

            var report = await SyncAsync(host.ConnectionId);
            report.Failed.ShouldBeFalse(report.Error);
            report.Canceled.ShouldBe(1);
            var booking = await BookingAsync(host, id);
            booking["status"]!.GetValue<string>().ShouldBe("canceled");
            booking["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by User (in calendar)");
            (await OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.canceled"]);
            (await SyncAsync(host.ConnectionId)).Canceled.ShouldBe(0);
        }
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task Moving_our_event_before_any_sync_round_saw_it_reschedules_the_booking(string server)
    {
        var host = await HostWithCalendarAsync(server, cancelOnDelete: false, updateOnMove: true);
        (await SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        var from = Instant.FromUtc(2027, 3, 17, 10, 0);
        var to = Instant.FromUtc(2027, 3, 17, 14, 0);
        var id = (await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-17T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainOutboxAsync();
        var ours = (await ObjectsAsync(host)).ShouldHaveSingleItem();
        using (var client = host.Server.Client())
        {
            (await client.UpdateObjectAsync(ours.Href, Moved(ours.CalendarData, from, to), ours.ETag!)).Succeeded.ShouldBeTrue();
        }

        (await SyncAsync(host.ConnectionId)).Rescheduled.ShouldBe(1);
        var booking = await BookingAsync(host, id);
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-17T14:00:00Z");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by User (in calendar)");
    }

    [Theory]
    [CalDavServerData(CalDavServers.Radicale)]
    [CalDavServerData(CalDavServers.Xandikos)]
    [CalDavServerData(CalDavServers.Cyrus)]
    public async Task A_move_onto_time_the_host_already_holds_is_refused_and_the_event_goes_back_to_the_bookings_time(string server)
    {
        var host = await HostWithCalendarAsync(server, cancelOnDelete: false, updateOnMove: true);
        var from = Instant.FromUtc(2027, 3, 18, 10, 0);
        var taken = Instant.FromUtc(2027, 3, 18, 14, 0);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-18T10:00:00Z");
        await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-18T14:00:00Z");
        await DrainOutboxAsync();
        (await SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        using (var client = host.Server.Client())
        {
            (await client.UpdateObjectAsync(ev.Href, Moved(ev.CalendarData, from, taken), ev.ETag!)).Succeeded.ShouldBeTrue();
        }

        var report = await SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        report.Rescheduled.ShouldBe(0);
        var booking = await BookingAsync(host, id);
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-18T10:00:00Z");
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        // Only the calendar writer is asked to act: nobody else hears of a refused move.
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created", CalendarWriter.RestoreType]);

        await DrainOutboxAsync();
        var back = (await ObjectsAsync(host)).Single(o => o.CalendarData.Contains(Guid.Parse(id).ToString("N"), StringComparison.Ordinal));
        ICalendarReader.Parse(back.CalendarData).Events[0].Start!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(from);
        // Putting it back is our own write: the next round sees an echo, not a move.
        var again = await SyncAsync(host.ConnectionId);
        (again.Rescheduled + again.Canceled + again.Deferred).ShouldBe(0);
        (await OutboxTypesAsync(id)).Length.ShouldBe(2);
    }

    [SyncFact]
    public async Task A_write_the_server_refuses_is_logged_with_its_answer_and_shown_in_the_connections_health()
    {
        var host = await HostWithCalendarAsync(true, true);
        // Only the event objects are refused; the calendar itself still answers, so polling stays healthy.
        var fragment = new Uri(host.BookingCalendar).AbsolutePath + "rendezvous-";
        SpoilingHandlerFactory.Faults[fragment] = 403;
        try
        {
            await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-19T09:00:00Z");
            await app.WithScopeAsync(sp => sp.GetRequiredService<OutboxProcessor>().ProcessBatchAsync(50, CancellationToken.None));
            (await SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();

            var state = await (await host.Client.GetAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(200);
            state["health"]!.GetValue<string>().ShouldBe("failing");
            state["canAcceptBookings"]!.GetValue<bool>().ShouldBeTrue();
            var error = state["lastWriteError"]!.GetValue<string>();
            error.ShouldContain("403");
            error.ShouldContain("The server said: \"fault\"");
            state["lastError"]!.GetValue<string>().ShouldBe(error);
            state["lastWriteFailureAt"].ShouldNotBeNull();
        }
        finally
        {
            SpoilingHandlerFactory.Faults.TryRemove(fragment, out _);
        }

        await DrainOutboxWhenRetriesAreDueAsync();

        (await ObjectsAsync(host)).Count.ShouldBe(1);
        var healed = await (await host.Client.GetAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(200);
        healed["health"]!.GetValue<string>().ShouldBe("healthy");
        healed["lastWriteError"].ShouldBeNull();
        healed["lastError"].ShouldBeNull();
    }

    [SyncFact]
    public async Task Choosing_another_booking_calendar_moves_our_events_there_and_syncing_goes_on()
    {
        var host = await HostWithCalendarAsync(cancelOnDelete: true, updateOnMove: false);
        var (id, _) = await BookAndSyncAsync(host, "2027-03-23T09:00:00Z");
        var other = await host.Server.NewCalendarAsync("work");
        await (await host.Client.PutJsonAsync($"/api/v1/calendar-connections/{host.ConnectionId}", new
        {
            url = host.Server.Url,
            username = host.Server.User,
            bookingCalendarUrl = other,
            cancelBookingOnDelete = true,
            updateBookingOnMove = false,
        })).ExpectAsync(200);
        var moved = host with { BookingCalendar = other };

        (await SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        await (await host.Client.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-23T11:00:00Z" })).ExpectAsync(200);
        await DrainOutboxAsync();

        (await ObjectsAsync(host)).ShouldBeEmpty();
        var ev = ICalendarReader.Parse((await ObjectsAsync(moved)).ShouldHaveSingleItem().CalendarData).Events[0];
        ev.Start!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2027, 3, 23, 11, 0));
        var report = await SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        (report.Canceled + report.Rescheduled + report.Deferred).ShouldBe(0);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("rescheduled");
    }
}

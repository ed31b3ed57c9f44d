using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Features.Reminders;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>
/// Seed 000 rules that are built but had no test of their own, end to end against Radicale: a panel's primary moving the
/// event moves it for every member; a change in an additional (non-booking) calendar is disregarded; reminders follow a
/// move made in the calendar.
/// </summary>
public sealed class CalendarSyncSeedTests(CalendarSyncApp app) : IClassFixture<CalendarSyncApp>
{
    private sealed record Host(string UserId, HttpClient Client, string Slug, string ConnectionId, string BookingCalendar, CalDavServer Server);

    private async Task<Host> HostAsync(bool updateOnMove, Action<JsonObject>? page = null, string[]? additional = null, bool secondAccount = false)
    {
        var server = CalDavServers.Get(CalDavServers.Radicale, secondAccount);
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, "Synced Host", timeZone: "UTC");
        var client = app.Client(await Scenario.CreateKeyAsync(admin, userId));
        var slug = await Scenario.CreatePageAsync(client, page);
        var calendar = await server.NewCalendarAsync("bookings");
        var connection = await (await client.PostJsonAsync("/api/v1/calendar-connections", new
        {
            url = server.Url,
            username = server.User,
            password = server.Password,
            bookingCalendarUrl = calendar,
            additionalCalendarUrls = additional ?? [],
            cancelBookingOnDelete = true,
            updateBookingOnMove = updateOnMove,
        })).ExpectAsync(201);
        return new Host(userId, client, slug, connection["id"]!.GetValue<string>(), calendar, server);
    }

    private async Task DrainOutboxAsync() => await app.WithScopeAsync(async sp =>
    {
        var processor = sp.GetRequiredService<OutboxProcessor>();
        while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
        {
        }

        return 0;
    });

    private Task<SyncReport> SyncAsync(Host host) =>
        app.WithScopeAsync(sp => sp.GetRequiredService<CalendarSyncEngine>().SyncAsync(Guid.Parse(host.ConnectionId), CancellationToken.None));

    private static async Task<IReadOnlyList<CalendarObject>> ObjectsAsync(CalDavServer server, string calendar)
    {
        using var client = server.Client();
        var href = new Uri(calendar).AbsolutePath;
        var listing = await client.ListObjectsAsync(href);
        return listing.Count == 0 ? [] : (await client.MultigetAsync(href, listing.Select(o => o.Href))).Objects;
    }

    private static async Task<CalendarObject> EventOfAsync(Host host, string bookingId) =>
        (await ObjectsAsync(host.Server, host.BookingCalendar)).Single(o => o.CalendarData.Contains(Guid.Parse(bookingId).ToString("N"), StringComparison.Ordinal));

    private static Instant StartOf(CalendarObject o) =>
        ICalendarReader.Parse(o.CalendarData).Events.ShouldHaveSingleItem().Start!.Value.ToInstant(DateTimeZone.Utc);

    private async Task<JsonNode> BookingAsync(string id) => await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);

    private static string Moved(string ics, Instant from, Instant to)
    {
        var pattern = NodaTime.Text.InstantPattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss'Z'");
        return ics.Replace(pattern.Format(from), pattern.Format(to), StringComparison.Ordinal)
            .Replace(pattern.Format(from + Duration.FromMinutes(30)), pattern.Format(to + Duration.FromMinutes(30)), StringComparison.Ordinal);
    }

    private async Task MoveAsync(Host host, string bookingId, Instant from, Instant to)
    {
        var ev = await EventOfAsync(host, bookingId);
        using var client = host.Server.Client();
        (await client.UpdateObjectAsync(ev.Href, Moved(ev.CalendarData, from, to), ev.ETag!)).Succeeded.ShouldBeTrue();
    }

    // Seed 000: "if the Primary team member moves a booking in their connected calendar, the booking is automatically
    // rescheduled for all Panel members". The move reaches every member's hold and every member's calendar; a member
    // moving their copy changes nothing.
    [SyncFact]
    public async Task A_panel_primary_moving_the_event_reschedules_it_for_every_member_and_a_member_moving_it_does_not()
    {
        var primary = await HostAsync(updateOnMove: true);
        var member = await HostAsync(updateOnMove: true, secondAccount: true);
        var panelSlug = await Scenario.CreatePageAsync(primary.Client, p =>
        {
            p["schedulingOption"] = "panel";
            p["panelMemberIds"] = new JsonArray(member.UserId);
        });
        var id = (await Scenario.BookAsync(app.Anonymous(), panelSlug, "2027-03-23T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainOutboxAsync();
        await SyncAsync(primary);
        await SyncAsync(member);
        var from = Instant.FromUtc(2027, 3, 23, 10, 0);
        var to = Instant.FromUtc(2027, 3, 23, 14, 0);

        await MoveAsync(primary, id, from, to);
        (await SyncAsync(primary)).Rescheduled.ShouldBe(1);
        var booking = await BookingAsync(id);
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-23T14:00:00Z");
        booking["status"]!.GetValue<string>().ShouldBe("rescheduled");
        // Every host's hold moved with it (the no-double-booking rows).
        var holds = await app.WithDbAsync(db => db.Database.SqlQuery<Instant>(
            $"SELECT lower(during) AS \"Value\" FROM booking_hosts WHERE booking_id = {Guid.Parse(id)} AND active").ToListAsync());
        holds.Count.ShouldBe(2);
        holds.ShouldAllBe(h => h == to);

        // The writer brings the member's calendar along.
        await DrainOutboxAsync();
        StartOf(await EventOfAsync(member, id)).ShouldBe(to);
        StartOf(await EventOfAsync(primary, id)).ShouldBe(to);

        // An additional member moving their copy is not the primary: the booking stays where it is.
        await MoveAsync(member, id, to, Instant.FromUtc(2027, 3, 23, 16, 0));
        (await SyncAsync(member)).Rescheduled.ShouldBe(0);
        (await BookingAsync(id))["start"]!.GetValue<string>().ShouldBe("2027-03-23T14:00:00Z");
    }

    // Seed 000: "The reschedule functionality will only work when events are modified in the same calendar. Modifications in
    // Additional booking calendars are disregarded." The booking's event turning up, moved, in an additional calendar (and
    // then deleted there) neither moves nor cancels the booking, with both toggles on.
    [SyncFact]
    public async Task A_change_in_an_additional_calendar_is_disregarded()
    {
        var extra = await CalDavServers.Get(CalDavServers.Radicale).NewCalendarAsync("extra");
        var host = await HostAsync(updateOnMove: true, additional: [extra]);
        var id = (await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-24T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainOutboxAsync();
        (await SyncAsync(host)).Failed.ShouldBeFalse();
        var ours = await EventOfAsync(host, id);

        using (var client = host.Server.Client())
        {
            var copy = new Uri(extra).AbsolutePath + "copy-of-booking.ics";
            (await client.CreateObjectAsync(copy,
                Moved(ours.CalendarData, Instant.FromUtc(2027, 3, 24, 10, 0), Instant.FromUtc(2027, 3, 24, 15, 0)))).Succeeded.ShouldBeTrue();
            var report = await SyncAsync(host);
            (report.Rescheduled, report.Canceled, report.Deferred).ShouldBe((0, 0, 0));
            var listed = (await client.ListObjectsAsync(new Uri(extra).AbsolutePath)).Single();
            (await client.DeleteAsync(listed.Href, listed.ETag)).Succeeded.ShouldBeTrue();
        }

        var after = await SyncAsync(host);
        (after.Rescheduled, after.Canceled).ShouldBe((0, 0));
        var booking = await BookingAsync(id);
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-24T10:00:00Z");
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type != "booking.created").ToListAsync()))
            .ShouldNotContain(m => m.Payload.Contains(id, StringComparison.Ordinal));
    }

    // Seed 000, toggle ON: "All reminders are sent on schedule" after a move in the calendar: the reminder is planned again
    // from the new time; nothing goes out at the old time.
    [SyncFact]
    public async Task Reminders_follow_a_move_made_in_the_calendar()
    {
        var host = await HostAsync(updateOnMove: true, page: p => p["reminders"] = new JsonArray(new JsonObject { ["offsetMinutes"] = 1440 }));
        var id = (await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-25T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainOutboxAsync();
        await SyncAsync(host);
        (await PendingRemindersAsync(id)).ShouldBe([Instant.FromUtc(2027, 3, 24, 10, 0)]);

        await MoveAsync(host, id, Instant.FromUtc(2027, 3, 25, 10, 0), Instant.FromUtc(2027, 3, 26, 14, 0));
        (await SyncAsync(host)).Rescheduled.ShouldBe(1);
        await DrainOutboxAsync();
        (await PendingRemindersAsync(id)).ShouldBe([Instant.FromUtc(2027, 3, 25, 14, 0)]);

        var sender = app.Services.GetRequiredService<ReminderSender>();
        app.Clock.Reset(Instant.FromUtc(2027, 3, 24, 10, 1));
        try
        {
            await sender.SendDueAsync(CancellationToken.None);
            (await PendingRemindersAsync(id)).ShouldBe([Instant.FromUtc(2027, 3, 25, 14, 0)]);

            app.Clock.Reset(Instant.FromUtc(2027, 3, 25, 14, 1));
            await sender.SendDueAsync(CancellationToken.None);
            (await PendingRemindersAsync(id)).ShouldBeEmpty();
            var sent = await app.WithDbAsync(db => db.Database.SqlQuery<Instant>(
                $"SELECT due_at AS \"Value\" FROM reminders WHERE booking_id = {Guid.Parse(id)} AND status = 'Sent'").ToListAsync());
            sent.ShouldBe([Instant.FromUtc(2027, 3, 25, 14, 0)]);
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }
    }

    private async Task<List<Instant>> PendingRemindersAsync(string bookingId) =>
        await app.WithDbAsync(db => db.Database.SqlQuery<Instant>(
            $"SELECT due_at AS \"Value\" FROM reminders WHERE booking_id = {Guid.Parse(bookingId)} AND status = 'Pending' ORDER BY due_at").ToListAsync());
}

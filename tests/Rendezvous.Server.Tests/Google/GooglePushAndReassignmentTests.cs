using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Emulators.Google;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Google;

/// <summary>
/// Push notifications through events.watch channels (https://developers.google.com/calendar/api/guides/push), and seed
/// 001's reassignment between two hosts whose pages are connected to Google Calendar.
/// </summary>
public sealed class GooglePushAndReassignmentTests(GoogleSyncApp app) : IClassFixture<GoogleSyncApp>
{
    private GoogleCalendarEmulator Google => app.Google;

    private Task<Instant> NextSyncAtAsync(GoogleHost host) =>
        app.WithDbAsync(db => db.CalendarConnections.Where(c => c.Id == Guid.Parse(host.ConnectionId)).Select(c => c.NextSyncAt).SingleAsync());

    private Task PostponeAsync(GoogleHost host) =>
        app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync(
            $"UPDATE calendar_connections SET next_sync_at = {app.Clock.GetCurrentInstant() + Duration.FromHours(1)} WHERE id = {Guid.Parse(host.ConnectionId)}"));

    [DbFact]
    public async Task A_change_in_google_wakes_the_connections_sync_at_once_and_a_wrong_token_wakes_nothing()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (_, eventId) = await app.BookAndSyncAsync(host, "2027-03-02T10:00:00Z");
        var channel = Google.ChannelsOn(host.Account).ShouldHaveSingleItem();
        await Google.DeliveredAsync();
        // The channel's opening "sync" message was acknowledged and woke nothing.
        Google.SentNotifications.ShouldContain(n => n.ChannelId == channel && n.ResourceState == "sync" && n.Status == 200);

        // A forged notification (right channel, wrong token) is acknowledged but wakes nothing.
        await PostponeAsync(host);
        using (var forged = new HttpRequestMessage(HttpMethod.Post, "/api/v1/calendar-push/google"))
        {
            forged.Headers.Add("X-Goog-Channel-ID", channel);
            forged.Headers.Add("X-Goog-Channel-Token", "not-the-token");
            forged.Headers.Add("X-Goog-Resource-State", "exists");
            forged.Headers.Add("X-Goog-Message-Number", "99");
            ((int)(await app.Anonymous().SendAsync(forged)).StatusCode).ShouldBe(200);
        }

        (await NextSyncAtAsync(host)).ShouldBeGreaterThan(app.Clock.GetCurrentInstant());

        // The host deletes the event in Google: the notification brings the connection's next sync forward to now.
        Google.DeleteEvent(host.Account, eventId);
        await Google.DeliveredAsync();
        Google.SentNotifications.ShouldContain(n => n.ChannelId == channel && n.ResourceState == "exists" && n.Status == 200);
        (await NextSyncAtAsync(host)).ShouldBe(app.Clock.GetCurrentInstant());
        (await app.SyncAsync(host.ConnectionId)).Canceled.ShouldBe(1);
    }

    [DbFact]
    public async Task A_channel_is_replaced_before_it_expires_and_stopped_when_the_connection_is_deleted()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        (await app.SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        var first = Google.ChannelsOn(host.Account).ShouldHaveSingleItem();

        // Six and a half days later (the channel lives a week), the next round opens a new channel and stops the old one.
        app.Clock.Advance(Duration.FromHours(156));
        try
        {
            (await app.SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
            var second = Google.ChannelsOn(host.Account).ShouldHaveSingleItem();
            second.ShouldNotBe(first);
            Google.Requests.ShouldContain(r => r == "POST /calendar/v3/channels/stop");

            // Disconnecting stops the channel: Google stops calling us.
            await (await host.Client.DeleteAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(204);
            Google.ChannelsOn(host.Account).ShouldBeEmpty();
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }
    }

    [DbFact]
    public async Task Reassigning_a_booking_moves_its_event_from_the_old_hosts_google_calendar_to_the_new_hosts()
    {
        var ada = await app.HostAsync(cancelOnDelete: true, updateOnMove: true, name: "Ada Google");
        var bob = await app.HostAsync(cancelOnDelete: true, updateOnMove: true, name: "Bob Google");
        var pages = await (await app.Client().GetAsync("/api/v1/booking-pages")).ExpectAsync(200);
        var bobPage = pages.AsArray().Single(p => p!["slug"]!.GetValue<string>() == bob.Slug)!["id"]!.GetValue<string>();
        var (id, eventId) = await app.BookAndSyncAsync(ada, "2027-03-03T10:00:00Z");
        (await app.SyncAsync(bob.ConnectionId)).Failed.ShouldBeFalse();

        // Both pages are connected to Google Calendar, which seed 001 allows: Bob's page is a target.
        var targets = await (await app.Client().GetAsync($"/api/v1/bookings/{id}/reassignment-targets")).ExpectAsync(200);
        targets["eligible"]!.GetValue<bool>().ShouldBeTrue();
        var target = targets["targets"]!.AsArray().Single(t => t!["bookingPageId"]!.GetValue<string>() == bobPage)!;
        target["calendar"]!.GetValue<string>().ShouldBe("google");
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reassign", new { bookingPageId = bobPage, reason = "holiday" })).ExpectAsync(200);
        await app.DrainOutboxAsync();

        Google.Events(ada.Account).ShouldNotContain(e => (string?)e["id"] == eventId);
        Google.Event(ada.Account, eventId)!["status"]!.GetValue<string>().ShouldBe("cancelled");
        var moved = Google.Event(bob.Account, eventId)!;
        moved["status"]!.GetValue<string>().ShouldBe("confirmed");
        moved["start"]!["dateTime"]!.GetValue<string>().ShouldBe("2027-03-03T10:00:00Z");

        // Neither calendar's next sync acts on the move: the deletion in Ada's was ours, the event in Bob's is our own write.
        var adaSync = await app.SyncAsync(ada.ConnectionId);
        (adaSync.Failed, adaSync.Canceled, adaSync.Rescheduled).ShouldBe((false, 0, 0));
        var bobSync = await app.SyncAsync(bob.ConnectionId);
        (bobSync.Failed, bobSync.Canceled, bobSync.Rescheduled).ShouldBe((false, 0, 0));
        var after = await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        (after["status"]!.GetValue<string>(), after["ownerId"]!.GetValue<string>()).ShouldBe(("scheduled", bob.UserId));

        // Now Bob's calendar is the one that counts: deleting the event there cancels the booking.
        Google.DeleteEvent(bob.Account, eventId);
        (await app.SyncAsync(bob.ConnectionId)).Canceled.ShouldBe(1);
    }
}

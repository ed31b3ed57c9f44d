using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Emulators.Google;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Google;

/// <summary>
/// Two-way sync with Google Calendar, against the emulator of the Calendar API v3 and Google's OAuth endpoints: the
/// seed-000 scenarios of the CalDAV tests, through the same provider-neutral sync rules.
/// </summary>
public sealed class GoogleCalendarSyncTests(GoogleSyncApp app) : IClassFixture<GoogleSyncApp>
{
    private GoogleCalendarEmulator Google => app.Google;

    [DbFact]
    public async Task Connecting_through_oauth_stores_the_refresh_token_encrypted_and_bookings_appear_in_the_primary_calendar()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var connection = await app.ConnectionAsync(host);
        (connection["provider"]!.GetValue<string>(), connection["synced"]!.GetValue<bool>(), connection["username"]!.GetValue<string>())
            .ShouldBe(("google", true, host.Account));
        connection["bookingCalendarUrl"]!.GetValue<string>().ShouldBe(host.Account);
        var stored = await app.WithDbAsync(db => db.CalendarConnections.Where(c => c.Id == Guid.Parse(host.ConnectionId)).Select(c => c.ProtectedPassword).SingleAsync());
        stored.ShouldNotStartWith("1//");
        stored.Length.ShouldBeGreaterThan(40);

        var (id, eventId) = await app.BookAndSyncAsync(host, "2027-03-02T10:00:00Z");
        var ev = Google.Event(host.Account, eventId)!;
        ev["start"]!["dateTime"]!.GetValue<string>().ShouldBe("2027-03-02T10:00:00Z");
        ev["end"]!["dateTime"]!.GetValue<string>().ShouldBe("2027-03-02T10:30:00Z");
        ev["attendees"]!.AsArray().ShouldHaveSingleItem()!["email"]!.GetValue<string>().ShouldContain("@example.com");
        ev["extendedProperties"]!["private"]!["rendezvousBookingId"]!.GetValue<string>().ShouldBe(Guid.Parse(id).ToString());
        Google.Requests.ShouldContain(r => r.StartsWith("POST /calendar/v3/calendars/", StringComparison.Ordinal) && r.Contains("sendUpdates=none", StringComparison.Ordinal));

        // Syncing again changes nothing: no echo of our own write.
        (await app.SyncAsync(host.ConnectionId)).Changed.ShouldBe(0);
        (await app.OutboxTypesAsync(id)).ShouldBe(["booking.created"]);

        // Writing again (a retry whose first attempt is unknown) creates no second event: the insert gets 409 and updates.
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE outbox_messages SET processed_at = NULL, handled_by = ARRAY[]::text[]"));
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE booking_event_links SET etag = NULL"));
        await app.DrainOutboxAsync();
        Google.Events(host.Account).Count(e => (string?)e["id"] == eventId).ShouldBe(1);
        Google.Events(host.Account).Count.ShouldBe(1);
    }

    [DbFact]
    public async Task Deleting_event_cancels_booking_when_toggle_on()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: false);
        var (id, eventId) = await app.BookAndSyncAsync(host, "2027-03-03T10:00:00Z");
        Google.DeleteEvent(host.Account, eventId);

        var report = await app.SyncAsync(host.ConnectionId);
        report.Canceled.ShouldBe(1);
        var booking = await app.BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("canceled");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by User (in calendar)");
        booking["history"]!.AsArray().Last()!["actor"]!.GetValue<string>().ShouldBe("calendarSync");
        (await app.OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.canceled"]);
        (await app.SlotStartsAsync(host.Slug, "2027-03-03")).ShouldContain("2027-03-03T10:00:00Z");
        await app.DrainOutboxAsync();
        Google.Events(host.Account).ShouldBeEmpty();
    }

    [DbFact]
    public async Task Deleting_event_changes_nothing_when_toggle_off()
    {
        var host = await app.HostAsync(cancelOnDelete: false, updateOnMove: true);
        var (id, eventId) = await app.BookAndSyncAsync(host, "2027-03-04T10:00:00Z");
        Google.DeleteEvent(host.Account, eventId);

        (await app.SyncAsync(host.ConnectionId)).Canceled.ShouldBe(0);
        (await app.BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await app.OutboxTypesAsync(id)).ShouldBe(["booking.created"]);
    }

    [DbFact]
    public async Task Moving_event_reschedules_booking_when_toggle_on_and_the_rewrite_is_not_seen_as_a_change()
    {
        var host = await app.HostAsync(cancelOnDelete: false, updateOnMove: true);
        var (id, eventId) = await app.BookAndSyncAsync(host, "2027-03-05T10:00:00Z");
        Google.MoveEvent(host.Account, eventId, Duration.FromHours(4));

        (await app.SyncAsync(host.ConnectionId)).Rescheduled.ShouldBe(1);
        var booking = await app.BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("rescheduled");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by User (in calendar)");
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-05T14:00:00Z");
        (await app.OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.rescheduled"]);

        // The writer updates the event with If-Match on the etag it last saw; the next sync sees only our echo.
        await app.DrainOutboxAsync();
        Google.Requests.ShouldContain(r => r.StartsWith("PUT ", StringComparison.Ordinal) && r.Contains(eventId, StringComparison.Ordinal));
        Google.Event(host.Account, eventId)!["start"]!["dateTime"]!.GetValue<string>().ShouldBe("2027-03-05T14:00:00Z");
        var again = await app.SyncAsync(host.ConnectionId);
        (again.Rescheduled + again.Canceled + again.Deferred).ShouldBe(0);
        (await app.OutboxTypesAsync(id)).Length.ShouldBe(2);
    }

    [DbFact]
    public async Task Moving_event_with_toggle_off_is_remembered_for_the_next_reminder()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: false);
        var (id, eventId) = await app.BookAndSyncAsync(host, "2027-03-08T10:00:00Z");
        Google.MoveEvent(host.Account, eventId, Duration.FromHours(5));

        (await app.SyncAsync(host.ConnectionId)).Deferred.ShouldBe(1);
        var booking = await app.BookingAsync(host, id);
        (booking["start"]!.GetValue<string>(), booking["status"]!.GetValue<string>()).ShouldBe(("2027-03-08T10:00:00Z", "scheduled"));
        (await app.OutboxTypesAsync(id)).ShouldBe(["booking.created"]);
        var link = await app.WithDbAsync(db => db.BookingEventLinks.SingleAsync(l => l.BookingId == new Domain.BookingId(Guid.Parse(id))));
        link.PendingStart.ShouldBe(Instant.FromUtc(2027, 3, 8, 15, 0));
        (await app.SyncAsync(host.ConnectionId)).Deferred.ShouldBe(0);
    }

    [DbFact]
    public async Task Panel_primary_deleting_cancels_for_everyone_but_an_additional_member_deleting_does_not()
    {
        var primary = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var member = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var panelSlug = await Scenario.CreatePageAsync(primary.Client, p =>
        {
            p["schedulingOption"] = "panel";
            p["panelMemberIds"] = new JsonArray(member.UserId);
        });

        async Task<(string Id, string EventId)> BookPanel(string start)
        {
            var id = (await Scenario.BookAsync(app.Anonymous(), panelSlug, start))["id"]!.GetValue<string>();
            await app.DrainOutboxAsync();
            await app.SyncAsync(primary.ConnectionId);
            await app.SyncAsync(member.ConnectionId);
            return (id, "rdv" + Guid.Parse(id).ToString("N"));
        }

        var first = await BookPanel("2027-03-09T10:00:00Z");
        Google.Event(member.Account, first.EventId).ShouldNotBeNull();
        Google.DeleteEvent(member.Account, first.EventId);
        (await app.SyncAsync(member.ConnectionId)).Canceled.ShouldBe(0);
        (await app.BookingAsync(primary, first.Id))["status"]!.GetValue<string>().ShouldBe("scheduled");

        var second = await BookPanel("2027-03-09T12:00:00Z");
        Google.DeleteEvent(primary.Account, second.EventId);
        (await app.SyncAsync(primary.ConnectionId)).Canceled.ShouldBe(1);
        (await app.BookingAsync(primary, second.Id))["status"]!.GetValue<string>().ShouldBe("canceled");
        await app.DrainOutboxAsync();
        Google.Events(member.Account).ShouldNotContain(e => (string?)e["id"] == second.EventId);
    }

    [DbFact]
    public async Task Busy_time_comes_from_every_selected_calendar_with_series_expanded_and_free_or_declined_events_ignored()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var family = Google.AddCalendar(host.Account, "Family", accessRole: "reader");
        await (await host.Client.PutJsonAsync($"/api/v1/calendar-connections/{host.ConnectionId}", new { additionalCalendarUrls = new[] { family } })).ExpectAsync(200);
        var calendars = await (await host.Client.GetAsync($"/api/v1/calendar-connections/{host.ConnectionId}/calendars")).ExpectAsync(200);
        calendars.AsArray().Select(c => (c!["id"]!.GetValue<string>(), c["canWrite"]!.GetValue<bool>())).ShouldBe([(host.Account, true), (family, false)]);

        // Mondays 15:00-16:00 London, ten times (GMT in early March, BST from the 28th).
        Google.CreateEvent(family, new JsonObject
        {
            ["summary"] = "School run",
            ["start"] = new JsonObject { ["dateTime"] = "2027-03-01T15:00:00+00:00", ["timeZone"] = "Europe/London" },
            ["end"] = new JsonObject { ["dateTime"] = "2027-03-01T16:00:00+00:00", ["timeZone"] = "Europe/London" },
            ["recurrence"] = new JsonArray("RRULE:FREQ=WEEKLY;COUNT=10"),
        });
        Google.CreateEvent(host.Account, new JsonObject
        {
            ["summary"] = "Reminder (free)",
            ["transparency"] = "transparent",
            ["start"] = new JsonObject { ["dateTime"] = "2027-03-02T09:00:00Z" },
            ["end"] = new JsonObject { ["dateTime"] = "2027-03-02T10:00:00Z" },
        });
        Google.CreateEvent(host.Account, new JsonObject
        {
            ["summary"] = "Declined invitation",
            ["start"] = new JsonObject { ["dateTime"] = "2027-03-02T11:00:00Z" },
            ["end"] = new JsonObject { ["dateTime"] = "2027-03-02T12:00:00Z" },
            ["attendees"] = new JsonArray(new JsonObject { ["email"] = host.Account, ["self"] = true, ["responseStatus"] = "declined" }),
        });
        Google.CreateEvent(host.Account, new JsonObject
        {
            ["summary"] = "Tentative",
            ["status"] = "tentative",
            ["start"] = new JsonObject { ["dateTime"] = "2027-03-02T13:00:00Z" },
            ["end"] = new JsonObject { ["dateTime"] = "2027-03-02T14:00:00Z" },
        });

        var report = await app.SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);

        (await app.SlotStartsAsync(host.Slug, "2027-03-08")).ShouldNotContain("2027-03-08T15:00:00Z");
        (await app.SlotStartsAsync(host.Slug, "2027-03-08")).ShouldNotContain("2027-03-08T15:30:00Z");
        (await app.SlotStartsAsync(host.Slug, "2027-03-29")).ShouldNotContain("2027-03-29T14:00:00Z");
        (await app.SlotStartsAsync(host.Slug, "2027-03-29")).ShouldContain("2027-03-29T15:00:00Z");
        var tuesday = await app.SlotStartsAsync(host.Slug, "2027-03-02");
        tuesday.ShouldContain("2027-03-02T09:00:00Z");
        tuesday.ShouldContain("2027-03-02T11:00:00Z");
        tuesday.ShouldNotContain("2027-03-02T13:00:00Z");
    }

    [DbFact]
    public async Task Our_event_copied_into_an_additional_calendar_is_ignored_for_moves_and_busy_time()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var other = Google.AddCalendar(host.Account, "Other");
        await (await host.Client.PutJsonAsync($"/api/v1/calendar-connections/{host.ConnectionId}", new { additionalCalendarUrls = new[] { other } })).ExpectAsync(200);
        var (id, _) = await app.BookAndSyncAsync(host, "2027-03-10T10:00:00Z");
        // A copy of the booking's event, at another time, in the additional calendar.
        Google.CreateEvent(other, new JsonObject
        {
            ["summary"] = "Copy",
            ["start"] = new JsonObject { ["dateTime"] = "2027-03-10T13:00:00Z" },
            ["end"] = new JsonObject { ["dateTime"] = "2027-03-10T13:30:00Z" },
            ["extendedProperties"] = new JsonObject { ["private"] = new JsonObject { ["rendezvousBookingId"] = Guid.Parse(id).ToString() } },
        });

        var report = await app.SyncAsync(host.ConnectionId);
        (report.Failed, report.Rescheduled, report.Deferred, report.Canceled).ShouldBe((false, 0, 0, 0));
        (await app.BookingAsync(host, id))["start"]!.GetValue<string>().ShouldBe("2027-03-10T10:00:00Z");
        (await app.SlotStartsAsync(host.Slug, "2027-03-10")).ShouldContain("2027-03-10T13:00:00Z");
    }

    [DbFact]
    public async Task A_forgotten_sync_token_leads_to_a_full_resync_that_misses_no_deletion()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        Google.MaxPageSize = 2;
        try
        {
            var (id, eventId) = await app.BookAndSyncAsync(host, "2027-03-11T10:00:00Z");
            var busy = Google.CreateEvent(host.Account, new JsonObject
            {
                ["summary"] = "Dentist",
                ["start"] = new JsonObject { ["dateTime"] = "2027-03-11T14:00:00Z" },
                ["end"] = new JsonObject { ["dateTime"] = "2027-03-11T15:00:00Z" },
            });
            for (var i = 0; i < 3; i++)
            {
                Google.CreateEvent(host.Account, new JsonObject
                {
                    ["summary"] = "Filler " + i,
                    ["start"] = new JsonObject { ["dateTime"] = $"2027-04-0{i + 1}T09:00:00Z" },
                    ["end"] = new JsonObject { ["dateTime"] = $"2027-04-0{i + 1}T09:30:00Z" },
                });
            }

            (await app.SyncAsync(host.ConnectionId)).Changed.ShouldBe(4);
            (await app.SlotStartsAsync(host.Slug, "2027-03-11")).ShouldNotContain("2027-03-11T14:00:00Z");

            // Google forgets our token (410 Gone); meanwhile both the booking's event and the busy event are deleted.
            Google.InvalidateSyncTokens(host.Account);
            Google.DeleteEvent(host.Account, eventId);
            Google.DeleteEvent(host.Account, busy["id"]!.GetValue<string>());
            var resync = await app.SyncAsync(host.ConnectionId);
            resync.Failed.ShouldBeFalse(resync.Error);
            resync.Canceled.ShouldBe(1);
            (await app.BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("canceled");
            (await app.SlotStartsAsync(host.Slug, "2027-03-11")).ShouldContain("2027-03-11T14:00:00Z");
            Google.Requests.ShouldContain(r => r.Contains("pageToken=", StringComparison.Ordinal));
        }
        finally
        {
            Google.MaxPageSize = 2500;
        }
    }

    [DbFact]
    public async Task A_stale_etag_on_write_rereads_the_event_and_the_booking_wins()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: false);
        var (id, eventId) = await app.BookAndSyncAsync(host, "2027-03-12T09:00:00Z");
        Google.UpdateEvent(host.Account, eventId, e => e["summary"] = "Edited by the host");

        await (await host.Client.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-12T11:00:00Z" })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        Google.Event(host.Account, eventId)!["start"]!["dateTime"]!.GetValue<string>().ShouldBe("2027-03-12T11:00:00Z");
        var report = await app.SyncAsync(host.ConnectionId);
        (report.Canceled + report.Rescheduled + report.Deferred).ShouldBe(0);
    }

    [DbFact]
    public async Task An_expired_access_token_is_refreshed_without_anyone_noticing()
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (id, eventId) = await app.BookAndSyncAsync(host, "2027-03-15T09:00:00Z");
        Google.ExpireAccessTokens();
        Google.DeleteEvent(host.Account, eventId);

        var report = await app.SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        report.Canceled.ShouldBe(1);
        (await app.BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("canceled");
    }

    [DbTheory]
    [InlineData(429, "rateLimitExceeded")]
    [InlineData(403, "userRateLimitExceeded")]
    [InlineData(403, "rateLimitExceeded")]
    [InlineData(500, "backendError")]
    [InlineData(503, "backendError")]
    public async Task Throttling_and_server_errors_are_retried_with_backoff_within_the_round(int status, string reason)
    {
        var host = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (id, eventId) = await app.BookAndSyncAsync(host, "2027-03-16T09:00:00Z");
        Google.DeleteEvent(host.Account, eventId);
        Google.Fault(new GoogleFault(host.Account, status, reason, RetryAfter: status == 429 ? 1 : null, Times: 2));

        var report = await app.SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        report.Canceled.ShouldBe(1);
        (await app.BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("canceled");
    }

    [DbTheory]
    [InlineData(429, "rateLimitExceeded", "not answering")]
    [InlineData(500, "backendError", "not answering")]
    [InlineData(403, "forbidden", "refused")]
    [InlineData(0, null, "not answering")]
    public async Task A_failing_google_leaves_the_booking_as_it_was_shows_in_health_and_never_stops_others(int status, string? reason, string error)
    {
        var broken = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var healthy = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (brokenBooking, brokenEvent) = await app.BookAndSyncAsync(broken, "2027-03-17T09:00:00Z");
        var (healthyBooking, healthyEvent) = await app.BookAndSyncAsync(healthy, "2027-03-17T09:00:00Z");
        Google.DeleteEvent(broken.Account, brokenEvent);
        // A status of 0 is a server that does not answer within the request timeout.
        Google.Fault(new GoogleFault(broken.Account, status, reason, RetryAfter: status == 429 ? 600 : null, Times: 100,
            Delay: status == 0 ? TimeSpan.FromSeconds(5) : null));
        try
        {
            var before = app.Clock.GetCurrentInstant();
            (await app.SyncAsync(broken.ConnectionId)).Failed.ShouldBeTrue();
            var state = await app.ConnectionAsync(broken);
            state["health"]!.GetValue<string>().ShouldBe("failing");
            state["lastError"]!.GetValue<string>().ShouldContain(error);
            var next = await app.WithDbAsync(db => db.CalendarConnections.Where(c => c.Id == Guid.Parse(broken.ConnectionId)).Select(c => c.NextSyncAt).SingleAsync());
            (next - before).ShouldBeGreaterThan(Duration.FromSeconds(1));
            (await app.BookingAsync(broken, brokenBooking))["status"]!.GetValue<string>().ShouldBe("scheduled");

            Google.DeleteEvent(healthy.Account, healthyEvent);
            (await app.SyncAsync(healthy.ConnectionId)).Canceled.ShouldBe(1);
            (await app.BookingAsync(healthy, healthyBooking))["status"]!.GetValue<string>().ShouldBe("canceled");
        }
        finally
        {
            Google.ClearFaults();
        }

        // Once Google answers again the connection recovers and the deletion is acted on.
        (await app.SyncAsync(broken.ConnectionId)).Canceled.ShouldBe(1);
        (await app.ConnectionAsync(broken))["health"]!.GetValue<string>().ShouldBe("healthy");
    }

    [DbFact]
    public async Task A_revoked_grant_shows_needs_reconnecting_and_connecting_again_heals_it()
    {
        var revoked = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var healthy = await app.HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (id, eventId) = await app.BookAndSyncAsync(revoked, "2027-03-18T09:00:00Z");
        Google.RevokeGrant(revoked.Account);
        Google.DeleteEvent(revoked.Account, eventId);

        (await app.SyncAsync(revoked.ConnectionId)).Failed.ShouldBeTrue();
        var state = await app.ConnectionAsync(revoked);
        state["health"]!.GetValue<string>().ShouldBe("failing");
        state["lastError"]!.GetValue<string>().ShouldStartWith("Needs reconnecting");
        (await app.BookingAsync(revoked, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
        // Nothing else stops: other connections sync, the page still takes bookings.
        (await app.SyncAsync(healthy.ConnectionId)).Failed.ShouldBeFalse();
        await Scenario.BookAsync(app.Anonymous(), revoked.Slug, "2027-03-18T13:00:00Z");

        var again = await app.ConnectAsync(revoked.Client, revoked.Account, cancelOnDelete: true, updateOnMove: true);
        again["id"]!.GetValue<string>().ShouldBe(revoked.ConnectionId);
        again["health"]!.GetValue<string>().ShouldBe("healthy");
        (await app.SyncAsync(revoked.ConnectionId)).Canceled.ShouldBe(1);
    }
}

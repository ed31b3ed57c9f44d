using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Emulators.Graph;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.MicrosoftGraph;

/// <summary>
/// Two-way sync with Microsoft 365 through Microsoft Graph, against the local emulator: the seed-000 scenarios of the
/// CalDAV tests (delete and move with each toggle, panels, additional calendars, busy time, a lost cursor) plus what is
/// particular to Graph: OAuth sign-in and refresh, a withdrawn consent, throttling with Retry-After, change keys, and
/// change notifications with their lifecycle. The emulator follows the Graph documentation pages cited in its handlers.
/// </summary>
public sealed class GraphSyncTests(GraphSyncApp app) : IClassFixture<GraphSyncApp>
{
    private GraphEmulator Emulator => app.Emulator;

    private sealed record Host(string UserId, HttpClient Client, string Slug, string ConnectionId, EmulatedMailbox Mailbox)
    {
        public string Calendar => Mailbox.DefaultCalendarId;
    }

    private async Task<Host> HostAsync(bool cancelOnDelete, bool updateOnMove, Action<JsonObject>? page = null, Func<EmulatedMailbox, string[]>? additional = null)
    {
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, "Outlook Host", timeZone: "UTC");
        var client = app.Client(await Scenario.CreateKeyAsync(admin, userId));
        var slug = await Scenario.CreatePageAsync(client, page);
        var mailbox = Emulator.AddMailbox($"host.{Guid.NewGuid():N}@contoso.example");
        var connectionId = await app.ConnectAsync(client, userId, mailbox);
        var settings = await (await client.PutJsonAsync($"/api/v1/calendar-connections/{connectionId}", new
        {
            cancelBookingOnDelete = cancelOnDelete,
            updateBookingOnMove = updateOnMove,
            additionalCalendarUrls = additional?.Invoke(mailbox) ?? [],
        })).ExpectAsync(200);
        settings["provider"]!.GetValue<string>().ShouldBe("office365");
        settings["synced"]!.GetValue<bool>().ShouldBeTrue();
        settings["bookingCalendarUrl"]!.GetValue<string>().ShouldBe(mailbox.DefaultCalendarId);
        return new Host(userId, client, slug, connectionId, mailbox);
    }

    private async Task<JsonNode> BookingAsync(Host host, string id) => await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);

    private async Task<string[]> OutboxTypesAsync(string bookingId) =>
        [.. (await app.WithDbAsync(db => db.OutboxMessages.OrderBy(m => m.Id).ToListAsync()))
            .Where(m => m.Payload.Contains(bookingId, StringComparison.Ordinal)).Select(m => m.Type)];

    private static EmulatedEvent OurEvent(Host host, string bookingId) =>
        host.Mailbox.EventsIn(host.Calendar).Single(e => e.TransactionId?.Contains(Guid.Parse(bookingId).ToString("N"), StringComparison.Ordinal) == true);

    /// <summary>Books, writes the event out, and runs a first sync (which must see only our own write).</summary>
    private async Task<(string BookingId, EmulatedEvent Event)> BookAndSyncAsync(Host host, string start, string? slug = null)
    {
        var id = (await Scenario.BookAsync(app.Anonymous(), slug ?? host.Slug, start))["id"]!.GetValue<string>();
        await app.DrainOutboxAsync();
        var ours = OurEvent(host, id);
        var report = await app.SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        (report.Canceled + report.Rescheduled + report.Deferred).ShouldBe(0);
        return (id, ours);
    }

    private async Task<List<string>> StartsAsync(Host host, string day)
    {
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{host.Slug}/slots?from={day}&to={day}&timeZone=UTC")).ExpectAsync(200);
        return [.. slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>())];
    }

    private static DateTimeOffset At(int day, int hour, int minute = 0) => new(2027, 3, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public async Task Booking_appears_in_outlook_with_the_customer_and_our_write_is_not_an_external_change()
    {
        var host = await HostAsync(true, true);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-02T10:00:00Z");

        ev.Start.ShouldBe(At(2, 10));
        ev.End.ShouldBe(At(2, 10, 30));
        ev.ShowAs.ShouldBe("busy");
        ev.Attendees.ShouldHaveSingleItem().Type.ShouldBe("required");
        ev.Subject.ShouldContain("Grace Hopper");

        // The refresh token is stored encrypted (inside MSAL's cache), never in clear.
        var stored = await app.WithDbAsync(db => db.CalendarConnections.Where(c => c.Id == Guid.Parse(host.ConnectionId)).Select(c => c.ProtectedPassword).SingleAsync());
        Emulator.LiveTokens.ShouldNotBeEmpty();
        Emulator.LiveTokens.ShouldAllBe(token => !stored.Contains(token, StringComparison.Ordinal));

        (await app.SyncAsync(host.ConnectionId)).Changed.ShouldBe(0);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created"]);

        // Writing again (a retry) never creates a second event.
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE outbox_messages SET processed_at = NULL, handled_by = ARRAY[]::text[]"));
        await app.DrainOutboxAsync();
        host.Mailbox.EventsIn(host.Calendar).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Deleting_event_in_outlook_cancels_booking_when_toggle_on()
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: false);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-03T10:00:00Z");

        await host.Mailbox.DeleteAsync(ev.Id);
        (await app.SyncAsync(host.ConnectionId)).Canceled.ShouldBe(1);
        var booking = await BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("canceled");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by User (in calendar)");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.canceled"]);
        (await StartsAsync(host, "2027-03-03")).ShouldContain("2027-03-03T10:00:00Z");
        await app.DrainOutboxAsync();
        host.Mailbox.EventsIn(host.Calendar).ShouldBeEmpty();
    }

    [Fact]
    public async Task Deleting_event_in_outlook_changes_nothing_when_toggle_off()
    {
        var host = await HostAsync(cancelOnDelete: false, updateOnMove: true);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-04T10:00:00Z");

        await host.Mailbox.DeleteAsync(ev.Id);
        (await app.SyncAsync(host.ConnectionId)).Canceled.ShouldBe(0);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created"]);
    }

    [Fact]
    public async Task Moving_event_in_outlook_reschedules_booking_when_toggle_on()
    {
        var host = await HostAsync(cancelOnDelete: false, updateOnMove: true);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-05T10:00:00Z");

        await host.Mailbox.MoveAsync(ev.Id, At(5, 14), At(5, 14, 30));
        (await app.SyncAsync(host.ConnectionId)).Rescheduled.ShouldBe(1);
        var booking = await BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("rescheduled");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by User (in calendar)");
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-05T14:00:00Z");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.rescheduled"]);

        // Our rewrite of the event comes back as an echo only.
        await app.DrainOutboxAsync();
        var again = await app.SyncAsync(host.ConnectionId);
        (again.Rescheduled + again.Canceled + again.Deferred).ShouldBe(0);
        OurEvent(host, id).Start.ShouldBe(At(5, 14));
    }

    [Fact]
    public async Task Moving_event_in_outlook_with_toggle_off_is_kept_for_the_next_reminder()
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: false);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-08T10:00:00Z");

        await host.Mailbox.MoveAsync(ev.Id, At(8, 15), At(8, 15, 30));
        (await app.SyncAsync(host.ConnectionId)).Deferred.ShouldBe(1);
        var booking = await BookingAsync(host, id);
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-08T10:00:00Z");
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created"]);
        var link = await app.WithDbAsync(db => db.BookingEventLinks.SingleAsync(l => l.BookingId == new Domain.BookingId(Guid.Parse(id))));
        link.PendingStart.ShouldBe(Instant.FromUtc(2027, 3, 8, 15, 0));
        (await app.SyncAsync(host.ConnectionId)).Deferred.ShouldBe(0);
    }

    [Fact]
    public async Task Panel_only_the_primary_members_outlook_counts()
    {
        var primary = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var member = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var panelSlug = await Scenario.CreatePageAsync(primary.Client, p =>
        {
            p["schedulingOption"] = "panel";
            p["panelMemberIds"] = new JsonArray(member.UserId);
        });

        async Task<string> BookPanel(string start)
        {
            var id = (await Scenario.BookAsync(app.Anonymous(), panelSlug, start))["id"]!.GetValue<string>();
            await app.DrainOutboxAsync();
            (await app.SyncAsync(primary.ConnectionId)).Failed.ShouldBeFalse();
            (await app.SyncAsync(member.ConnectionId)).Failed.ShouldBeFalse();
            return id;
        }

        var first = await BookPanel("2027-03-09T10:00:00Z");
        // An additional member moving or deleting their copy changes nothing.
        await member.Mailbox.MoveAsync(OurEvent(member, first).Id, At(9, 13), At(9, 13, 30));
        var moved = await app.SyncAsync(member.ConnectionId);
        (moved.Rescheduled + moved.Deferred).ShouldBe(0);
        await member.Mailbox.DeleteAsync(OurEvent(member, first).Id);
        (await app.SyncAsync(member.ConnectionId)).Canceled.ShouldBe(0);
        var unchanged = await BookingAsync(primary, first);
        unchanged["status"]!.GetValue<string>().ShouldBe("scheduled");
        unchanged["start"]!.GetValue<string>().ShouldBe("2027-03-09T10:00:00Z");

        var second = await BookPanel("2027-03-09T12:00:00Z");
        await primary.Mailbox.MoveAsync(OurEvent(primary, second).Id, At(9, 15), At(9, 15, 30));
        (await app.SyncAsync(primary.ConnectionId)).Rescheduled.ShouldBe(1);
        (await BookingAsync(primary, second))["start"]!.GetValue<string>().ShouldBe("2027-03-09T15:00:00Z");
        // The move is written to every member's calendar.
        await app.DrainOutboxAsync();
        OurEvent(member, second).Start.ShouldBe(At(9, 15));

        await primary.Mailbox.DeleteAsync(OurEvent(primary, second).Id);
        (await app.SyncAsync(primary.ConnectionId)).Canceled.ShouldBe(1);
        (await BookingAsync(primary, second))["status"]!.GetValue<string>().ShouldBe("canceled");
        await app.DrainOutboxAsync();
        member.Mailbox.EventsIn(member.Calendar).ShouldNotContain(e => e.TransactionId!.Contains(Guid.Parse(second).ToString("N"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_copy_of_our_event_moved_or_deleted_in_an_additional_calendar_is_disregarded()
    {
        string shared = "";
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: true, additional: m => [shared = m.AddCalendar("Shared")]);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-18T09:00:00Z");
        // The user copies the booking's event into another of their calendars, then moves the copy and deletes it.
        var copy = await host.Mailbox.CreateAsync(shared, ev.Subject, ev.Start, ev.End);
        await host.Mailbox.ChangeAsync(copy, e => e.TransactionId = ev.TransactionId);
        (await app.SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        await host.Mailbox.MoveAsync(copy, At(18, 14), At(18, 14, 30));
        var moved = await app.SyncAsync(host.ConnectionId);
        (moved.Rescheduled + moved.Deferred + moved.Canceled).ShouldBe(0);
        await host.Mailbox.DeleteAsync(copy);
        (await app.SyncAsync(host.ConnectionId)).Canceled.ShouldBe(0);
        var booking = await BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-18T09:00:00Z");
    }

    [Fact]
    public async Task Busy_time_comes_from_every_selected_calendar_with_series_expanded_and_free_time_ignored()
    {
        string family = "";
        var host = await HostAsync(true, true, additional: m => [family = m.AddCalendar("Family")]);
        // Mondays 15:00-16:00 in the family calendar, ten weeks; a free reminder; a tentative hold; a cancelled meeting.
        await host.Mailbox.CreateAsync(family, "School run", At(1, 15), At(1, 16), recurrence: new EmulatedRecurrence("weekly", 1, 5, null));
        await host.Mailbox.CreateAsync(family, "Free reminder", At(2, 9), At(2, 10), showAs: "free");
        await host.Mailbox.CreateAsync(host.Calendar, "Maybe lunch", At(3, 12), At(3, 13), showAs: "tentative");
        var cancelled = await host.Mailbox.CreateAsync(host.Calendar, "Called off", At(4, 9), At(4, 10));
        await host.Mailbox.ChangeAsync(cancelled, e => e.IsCancelled = true);
        Emulator.MaxPageSize = 3;
        try
        {
            var report = await app.SyncAsync(host.ConnectionId);
            report.Failed.ShouldBeFalse(report.Error);
        }
        finally
        {
            Emulator.MaxPageSize = 50;
        }

        (await StartsAsync(host, "2027-03-08")).ShouldNotContain("2027-03-08T15:00:00Z");
        (await StartsAsync(host, "2027-03-08")).ShouldNotContain("2027-03-08T15:30:00Z");
        (await StartsAsync(host, "2027-03-29")).ShouldNotContain("2027-03-29T15:00:00Z");
        (await StartsAsync(host, "2027-04-05")).ShouldContain("2027-04-05T15:00:00Z");
        (await StartsAsync(host, "2027-03-02")).ShouldContain("2027-03-02T09:00:00Z");
        (await StartsAsync(host, "2027-03-03")).ShouldNotContain("2027-03-03T12:00:00Z");
        (await StartsAsync(host, "2027-03-04")).ShouldContain("2027-03-04T09:00:00Z");

        // Marked free later in Outlook: the time opens up with the next round.
        var series = host.Mailbox.EventsIn(family).Single(e => e.Subject == "School run");
        await host.Mailbox.ChangeAsync(series.Id, e => e.ShowAs = "free");
        (await app.SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        (await StartsAsync(host, "2027-03-08")).ShouldContain("2027-03-08T15:00:00Z");
    }

    [Theory]
    [InlineData("syncStateNotFound")]
    [InlineData("resyncRequired")]
    public async Task A_delta_link_the_service_forgot_leads_to_a_full_resync_that_misses_no_deletion(string code)
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var meeting = await host.Mailbox.CreateAsync(host.Calendar, "Dentist", At(10, 9), At(10, 10));
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-10T14:00:00Z");
        (await StartsAsync(host, "2027-03-10")).ShouldNotContain("2027-03-10T09:00:00Z");

        // Both are deleted while the service forgets every delta link it gave out.
        await host.Mailbox.DeleteAsync(meeting);
        await host.Mailbox.DeleteAsync(ev.Id);
        host.Mailbox.InvalidateDeltaTokens(code);

        var report = await app.SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        report.Deleted.ShouldBe(2);
        report.Canceled.ShouldBe(1);
        (await StartsAsync(host, "2027-03-10")).ShouldContain("2027-03-10T09:00:00Z");
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("canceled");
        Emulator.Requests.ShouldContain(r => r.Contains("/calendarView/delta", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_callback_acts_only_on_a_state_this_server_signed_for_one_user_of_one_organization()
    {
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, "Outlook Host", timeZone: "UTC");
        var client = app.Client(await Scenario.CreateKeyAsync(admin, userId));
        var start = await client.GetAsync($"/api/v1/calendar-connections/microsoft/authorize?userId={userId}");
        start.StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        var state = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(start.Headers.Location!.Query)["state"].ToString();
        state.ShouldNotBeNullOrEmpty();

        // A state changed by one character, one made up, and none at all are refused before any code is redeemed.
        var tampered = state[..^2] + (state[^2] == 'A' ? 'B' : 'A') + state[^1];
        foreach (var forged in new[] { tampered, "made-up", "" })
        {
            var before = Emulator.TokenRequests;
            (await (await app.Anonymous().GetAsync($"/api/v1/calendar-connections/microsoft/callback?code=stolen&state={Uri.EscapeDataString(forged)}"))
                .ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("state");
            Emulator.TokenRequests.ShouldBe(before);
        }

        // Another organization's administrator cannot start a sign-in for this user.
        var other = app.Client(await app.CreateOrganizationAsync("initech-" + Guid.NewGuid().ToString("N")[..6]));
        (await other.GetAsync($"/api/v1/calendar-connections/microsoft/authorize?userId={userId}")).IsSuccessStatusCode.ShouldBeFalse();
    }

    [Fact]
    public async Task An_expired_access_token_is_refreshed_without_the_user_noticing()
    {
        var host = await HostAsync(true, true);
        var before = Emulator.TokenRequests;
        Emulator.ExpireAccessTokens();
        var report = await app.SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        Emulator.TokenRequests.ShouldBeGreaterThan(before);
        (await (await host.Client.GetAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(200))["health"]!.GetValue<string>().ShouldBe("healthy");
    }

    [Fact]
    public async Task A_withdrawn_consent_shows_the_connection_needs_reconnecting_and_nothing_else_stops()
    {
        var revoked = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var healthy = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (bookingId, ev) = await BookAndSyncAsync(revoked, "2027-03-11T09:00:00Z");
        var (otherBooking, otherEvent) = await BookAndSyncAsync(healthy, "2027-03-11T11:00:00Z");

        Emulator.RevokeGrant(revoked.Mailbox.Email);
        await revoked.Mailbox.DeleteAsync(ev.Id);
        (await app.SyncAsync(revoked.ConnectionId)).Failed.ShouldBeTrue();
        var state = await (await revoked.Client.GetAsync($"/api/v1/calendar-connections/{revoked.ConnectionId}")).ExpectAsync(200);
        state["needsReconnecting"]!.GetValue<bool>().ShouldBeTrue(state.ToJsonString());
        state["health"]!.GetValue<string>().ShouldBe("failing");
        state["lastError"]!.GetValue<string>().ShouldStartWith("Needs reconnecting");
        (await BookingAsync(revoked, bookingId))["status"]!.GetValue<string>().ShouldBe("scheduled");

        // Another user's Outlook keeps working.
        await healthy.Mailbox.DeleteAsync(otherEvent.Id);
        (await app.SyncAsync(healthy.ConnectionId)).Canceled.ShouldBe(1);
        (await BookingAsync(healthy, otherBooking))["status"]!.GetValue<string>().ShouldBe("canceled");

        // Signing in again picks up where it left off: the deletion made meanwhile is seen.
        var again = await app.ConnectAsync(revoked.Client, revoked.UserId, revoked.Mailbox);
        again.ShouldBe(revoked.ConnectionId);
        (await app.SyncAsync(revoked.ConnectionId)).Canceled.ShouldBe(1);
        (await (await revoked.Client.GetAsync($"/api/v1/calendar-connections/{revoked.ConnectionId}")).ExpectAsync(200))["needsReconnecting"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Theory]
    [InlineData(429, 1)]
    [InlineData(503, 1)]
    [InlineData(500, 2)]
    public async Task A_short_throttle_or_outage_is_retried_within_the_call(int status, int times)
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-12T09:00:00Z");
        await host.Mailbox.DeleteAsync(ev.Id);
        var fault = new EmulatedFault { PathContains = host.Calendar + "/calendarView/delta", Status = status, RetryAfter = TimeSpan.FromSeconds(1), Times = times };
        Emulator.Faults.Enqueue(fault);

        var report = await app.SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        fault.Hits.ShouldBe(times);
        report.Canceled.ShouldBe(1);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("canceled");
    }

    [Theory]
    [InlineData(429, "throttling")]
    [InlineData(503, "unavailable")]
    [InlineData(500, "unavailable")]
    [InlineData(0, "timed out")]
    [InlineData(403, "refused")]
    public async Task A_lasting_failure_leaves_the_booking_as_it_was_and_shows_in_the_connections_health(int status, string error)
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-15T09:00:00Z");
        await host.Mailbox.MoveAsync(ev.Id, At(15, 13), At(15, 13, 30));
        var fault = new EmulatedFault
        {
            PathContains = host.Calendar + "/calendarView/delta",
            Status = status,
            RetryAfter = status == 429 ? TimeSpan.FromSeconds(1) : null,
            Delay = status == 0 ? TimeSpan.FromSeconds(3) : TimeSpan.Zero,
            Times = 10,
        };
        Emulator.Faults.Enqueue(fault);
        try
        {
            var report = await app.SyncAsync(host.ConnectionId);
            report.Failed.ShouldBeTrue();
            var state = await (await host.Client.GetAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(200);
            state["health"]!.GetValue<string>().ShouldBe("failing");
            state["lastError"]!.GetValue<string>().ShouldContain(error);
            state["needsReconnecting"]!.GetValue<bool>().ShouldBeFalse();
            (await BookingAsync(host, id))["start"]!.GetValue<string>().ShouldBe("2027-03-15T09:00:00Z");
        }
        finally
        {
            fault.Times = 0;
        }

        (await app.SyncAsync(host.ConnectionId)).Rescheduled.ShouldBe(1);
        (await (await host.Client.GetAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(200))["health"]!.GetValue<string>().ShouldBe("healthy");
    }

    [Fact]
    public async Task A_write_over_an_event_changed_in_outlook_meanwhile_still_lands()
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: false);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-16T09:00:00Z");
        // The user edits the title; our stored change key is now stale, so the conditional update gets 412.
        await host.Mailbox.ChangeAsync(ev.Id, e => e.Subject = "Edited in Outlook");

        await (await host.Client.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-16T11:00:00Z" })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        var now = OurEvent(host, id);
        now.Start.ShouldBe(At(16, 11), string.Join("\n", Emulator.Writes.TakeLast(2)));
        host.Mailbox.EventsIn(host.Calendar).Count.ShouldBe(1);
        Emulator.Requests.Count(r => r.StartsWith("PATCH /v1.0/me/events/" + ev.Id, StringComparison.Ordinal)).ShouldBe(2);
        var report = await app.SyncAsync(host.ConnectionId);
        (report.Canceled + report.Rescheduled + report.Deferred).ShouldBe(0);
    }

    [Fact]
    public async Task Change_notifications_wake_the_sync_and_their_lifecycle_keeps_the_subscription_alive()
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (id, ev) = await BookAndSyncAsync(host, "2027-03-17T09:00:00Z");

        // The first round subscribed, after Graph's validation handshake with our endpoint.
        var subscription = Emulator.Subscriptions.Single(s => s.MailboxEmail == host.Mailbox.Email);
        subscription.Resource.ShouldBe($"/me/calendars/{host.Calendar}/events");
        subscription.NotificationUrl.ToString().ShouldBe("http://localhost/api/v1/calendar-push/microsoft");
        subscription.ExpirationDateTime.ShouldBeLessThanOrEqualTo(app.Clock.GetCurrentInstant().ToDateTimeOffset() + GraphEmulator.MaxSubscriptionLifetime);
        Emulator.Delivered.ShouldContain(d => d.Kind == "validation" && d.Status == 200);

        async Task<DateTime?> WokenAt() => await app.WithDbAsync(db => db.Database.SqlQuery<DateTime?>(
            $"SELECT woken_at AS \"Value\" FROM calendar_connections WHERE id = {Guid.Parse(host.ConnectionId)}").SingleAsync());

        // A move in Outlook is notified; the notification wakes this connection at once.
        (await WokenAt()).ShouldBeNull();
        await host.Mailbox.MoveAsync(ev.Id, At(17, 13), At(17, 13, 30));
        Emulator.Delivered.ShouldContain(d => d.SubscriptionId == subscription.Id && d.Kind == "updated" && d.Status == 202);
        (await WokenAt()).ShouldNotBeNull();
        (await app.SyncAsync(host.ConnectionId)).Rescheduled.ShouldBe(1);

        // A notification without the subscription's secret wakes nothing.
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"UPDATE calendar_connections SET woken_at = NULL WHERE id = {Guid.Parse(host.ConnectionId)}"));
        var forged = await app.Anonymous().PostRawAsync("/api/v1/calendar-push/microsoft",
            $$"""{"value":[{"subscriptionId":"{{subscription.Id}}","clientState":"guess","changeType":"updated"}]}""");
        ((int)forged.StatusCode).ShouldBe(202);
        (await WokenAt()).ShouldBeNull();

        // reauthorizationRequired: the next round renews the subscription.
        var patchesBefore = Emulator.Requests.Count(r => r == "PATCH /v1.0/subscriptions/" + subscription.Id);
        await Emulator.SendLifecycleAsync(subscription.Id, "reauthorizationRequired");
        (await WokenAt()).ShouldNotBeNull();
        (await app.SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        Emulator.Requests.Count(r => r == "PATCH /v1.0/subscriptions/" + subscription.Id).ShouldBe(patchesBefore + 1);

        // subscriptionRemoved: the next round subscribes again.
        await Emulator.SendLifecycleAsync(subscription.Id, "subscriptionRemoved");
        (await app.SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        var renewed = Emulator.Subscriptions.Single(s => s.MailboxEmail == host.Mailbox.Email);
        renewed.Id.ShouldNotBe(subscription.Id);

        // Close to expiry, a round renews it before Graph would drop it.
        app.Clock.Advance(Duration.FromDays(3) - Duration.FromHours(6));
        try
        {
            (await app.SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
            Emulator.Requests.ShouldContain("PATCH /v1.0/subscriptions/" + renewed.Id);
            Emulator.Subscriptions.Single(s => s.Id == renewed.Id).ExpirationDateTime.ShouldBeGreaterThan(app.Clock.GetCurrentInstant().ToDateTimeOffset() + TimeSpan.FromDays(2));
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        // Disconnecting ends the subscription.
        await (await host.Client.DeleteAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(204);
        Emulator.Subscriptions.ShouldNotContain(s => s.MailboxEmail == host.Mailbox.Email);
        _ = id;
    }

    [Fact]
    public async Task A_connection_deleted_while_its_round_waits_for_graph_ends_the_round_without_a_failure()
    {
        var host = await HostAsync(true, true);
        var (id, _) = await BookAndSyncAsync(host, "2027-03-02T10:00:00Z");
        // Graph answers too late for every attempt of the round (the app allows 2 s per request and 2 retries), so the
        // round is still waiting when the user disconnects, whatever the machine's speed.
        var slow = new EmulatedFault { PathContains = host.Calendar + "/calendarView/delta", Method = "GET", Delay = TimeSpan.FromSeconds(2.5), Times = 3 };
        Emulator.Faults.Enqueue(slow);

        var round = app.SyncAsync(host.ConnectionId);
        for (var i = 0; i < 500 && slow.Hits == 0; i++)
        {
            await Task.Delay(10);
        }

        slow.Hits.ShouldBeGreaterThan(0);
        await (await host.Client.DeleteAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(204);
        var report = await round;

        // The failed round finds no connection to record its failure on: it ends there instead of crashing the worker.
        report.Failed.ShouldBeFalse();
        report.Error.ShouldBe("gone");
        (await app.WithDbAsync(db => db.CalendarConnections.IgnoreQueryFilters().CountAsync(c => c.Id == Guid.Parse(host.ConnectionId)))).ShouldBe(0);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
    }
}

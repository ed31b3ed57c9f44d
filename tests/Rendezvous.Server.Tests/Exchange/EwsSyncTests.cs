using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Calendars.Ews;
using Rendezvous.Emulators.Ews;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Exchange;

/// <summary>
/// Two-way sync with an on-premises Exchange Server over EWS, against the local emulator: the seed-000 scenarios the
/// CalDAV, Google and Microsoft 365 tests run (delete and move with each toggle, panels, additional calendars, busy time,
/// a lost sync state) plus what is particular to EWS: connecting by Autodiscover, the password encrypted at rest,
/// ChangeKeys, ErrorServerBusy and refused credentials shown in the connection's health.
/// </summary>
public sealed class EwsSyncTests(EwsSyncApp app) : IClassFixture<EwsSyncApp>
{
    private EwsEmulator Emulator => app.Emulator;

    private sealed record Host(string UserId, HttpClient Client, string Slug, string ConnectionId, EmulatedMailbox Mailbox)
    {
        public string Calendar => Mailbox.DefaultCalendar.Id;
    }

    private async Task<Host> HostAsync(bool cancelOnDelete, bool updateOnMove, Action<JsonObject>? page = null, Func<EmulatedMailbox, string[]>? additional = null,
        bool autodiscover = false)
    {
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, "Exchange Host", timeZone: "UTC");
        var client = app.Client(await Scenario.CreateKeyAsync(admin, userId));
        var slug = await Scenario.CreatePageAsync(client, page);
        var email = $"host.{Guid.NewGuid():N}@contoso.example";
        var mailbox = Emulator.AddMailbox(email, "Exch@nge-" + Guid.NewGuid().ToString("N")[..8]);
        var created = await (await client.PostJsonAsync("/api/v1/calendar-connections", new
        {
            provider = "exchange",
            url = autodiscover ? null : Emulator.EwsUrl.ToString(),
            username = email,
            password = mailbox.Password,
            bookingCalendarUrl = mailbox.DefaultCalendar.Id,
            additionalCalendarUrls = additional?.Invoke(mailbox) ?? [],
            cancelBookingOnDelete = cancelOnDelete,
            updateBookingOnMove = updateOnMove,
        })).ExpectAsync(201);
        created["provider"]!.GetValue<string>().ShouldBe("exchange");
        created["synced"]!.GetValue<bool>().ShouldBeTrue();
        created["url"]!.GetValue<string>().ShouldBe(Emulator.EwsUrl.ToString());
        return new Host(userId, client, slug, created["id"]!.GetValue<string>(), mailbox);
    }

    private async Task<JsonNode> BookingAsync(Host host, string id) => await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);

    private async Task<string[]> OutboxTypesAsync(string bookingId) =>
        [.. (await app.WithDbAsync(db => db.OutboxMessages.OrderBy(m => m.Id).ToListAsync()))
            .Where(m => m.Payload.Contains(bookingId, StringComparison.Ordinal)).Select(m => m.Type)];

    private static bool IsOurs(EmulatedItem item, string bookingId) =>
        item.ExtendedProperties.TryGetValue(EwsXml.BookingIdPropertyName, out var value) && Guid.Parse(value) == Guid.Parse(bookingId);

    private static EmulatedItem OurItem(Host host, string bookingId) => host.Mailbox.ItemsIn(host.Calendar).Single(i => IsOurs(i, bookingId));

    /// <summary>Books, writes the event out, and runs a first sync (which must see only our own write).</summary>
    private async Task<(string BookingId, EmulatedItem Item)> BookAndSyncAsync(Host host, string start, string? slug = null)
    {
        var id = (await Scenario.BookAsync(app.Anonymous(), slug ?? host.Slug, start))["id"]!.GetValue<string>();
        await app.DrainOutboxAsync();
        var ours = OurItem(host, id);
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
    public async Task Booking_appears_in_exchange_with_the_customer_and_our_write_is_not_an_external_change()
    {
        var host = await HostAsync(true, true);
        var (id, item) = await BookAndSyncAsync(host, "2027-03-02T10:00:00Z");

        item.Start.ShouldBe(At(2, 10));
        item.End.ShouldBe(At(2, 10, 30));
        item.FreeBusy.ShouldBe("Busy");
        item.RequiredAttendees.ShouldHaveSingleItem().Email.ShouldNotBeNullOrEmpty();
        item.Subject.ShouldContain("Grace Hopper");

        // The password is stored encrypted, never in clear.
        var stored = await app.WithDbAsync(db => db.CalendarConnections.Where(c => c.Id == Guid.Parse(host.ConnectionId)).Select(c => c.ProtectedPassword).SingleAsync());
        stored.ShouldNotContain(host.Mailbox.Password);

        (await app.SyncAsync(host.ConnectionId)).Changed.ShouldBe(0);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created"]);

        // Writing again (a retry) never creates a second item.
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE outbox_messages SET processed_at = NULL, handled_by = ARRAY[]::text[]"));
        await app.DrainOutboxAsync();
        host.Mailbox.ItemsIn(host.Calendar).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Deleting_the_item_in_exchange_cancels_the_booking_when_toggle_on()
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: false);
        var (id, item) = await BookAndSyncAsync(host, "2027-03-03T10:00:00Z");

        host.Mailbox.Delete(item.Id);
        (await app.SyncAsync(host.ConnectionId)).Canceled.ShouldBe(1);
        var booking = await BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("canceled");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by User (in calendar)");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.canceled"]);
        (await StartsAsync(host, "2027-03-03")).ShouldContain("2027-03-03T10:00:00Z");
        await app.DrainOutboxAsync();
        host.Mailbox.ItemsIn(host.Calendar).ShouldBeEmpty();
    }

    [Fact]
    public async Task Deleting_the_item_in_exchange_changes_nothing_when_toggle_off()
    {
        var host = await HostAsync(cancelOnDelete: false, updateOnMove: true);
        var (id, item) = await BookAndSyncAsync(host, "2027-03-04T10:00:00Z");

        host.Mailbox.Delete(item.Id);
        (await app.SyncAsync(host.ConnectionId)).Canceled.ShouldBe(0);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created"]);
    }

    [Fact]
    public async Task Moving_the_item_in_exchange_reschedules_the_booking_when_toggle_on()
    {
        var host = await HostAsync(cancelOnDelete: false, updateOnMove: true);
        var (id, item) = await BookAndSyncAsync(host, "2027-03-05T10:00:00Z");

        host.Mailbox.Move(item.Id, At(5, 14));
        (await app.SyncAsync(host.ConnectionId)).Rescheduled.ShouldBe(1);
        var booking = await BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("rescheduled");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by User (in calendar)");
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-05T14:00:00Z");
        (await OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.rescheduled"]);

        // Our rewrite of the item comes back as an echo only.
        await app.DrainOutboxAsync();
        var again = await app.SyncAsync(host.ConnectionId);
        (again.Rescheduled + again.Canceled + again.Deferred).ShouldBe(0);
        OurItem(host, id).Start.ShouldBe(At(5, 14));
    }

    [Fact]
    public async Task Moving_the_item_in_exchange_with_toggle_off_is_kept_for_the_next_reminder()
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: false);
        var (id, item) = await BookAndSyncAsync(host, "2027-03-08T10:00:00Z");

        host.Mailbox.Move(item.Id, At(8, 15));
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
    public async Task Panel_only_the_primary_members_exchange_calendar_counts()
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
        member.Mailbox.Move(OurItem(member, first).Id, At(9, 13));
        var moved = await app.SyncAsync(member.ConnectionId);
        (moved.Rescheduled + moved.Deferred).ShouldBe(0);
        member.Mailbox.Delete(OurItem(member, first).Id);
        (await app.SyncAsync(member.ConnectionId)).Canceled.ShouldBe(0);
        var unchanged = await BookingAsync(primary, first);
        unchanged["status"]!.GetValue<string>().ShouldBe("scheduled");
        unchanged["start"]!.GetValue<string>().ShouldBe("2027-03-09T10:00:00Z");

        var second = await BookPanel("2027-03-09T12:00:00Z");
        primary.Mailbox.Move(OurItem(primary, second).Id, At(9, 15));
        (await app.SyncAsync(primary.ConnectionId)).Rescheduled.ShouldBe(1);
        (await BookingAsync(primary, second))["start"]!.GetValue<string>().ShouldBe("2027-03-09T15:00:00Z");
        // The move is written to every member's calendar.
        await app.DrainOutboxAsync();
        OurItem(member, second).Start.ShouldBe(At(9, 15));

        primary.Mailbox.Delete(OurItem(primary, second).Id);
        (await app.SyncAsync(primary.ConnectionId)).Canceled.ShouldBe(1);
        (await BookingAsync(primary, second))["status"]!.GetValue<string>().ShouldBe("canceled");
        await app.DrainOutboxAsync();
        member.Mailbox.ItemsIn(member.Calendar).ShouldNotContain(i => IsOurs(i, second));
    }

    [Fact]
    public async Task A_copy_of_our_item_moved_or_deleted_in_an_additional_calendar_is_disregarded()
    {
        EmulatedFolder? shared = null;
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: true, additional: m => [(shared = m.AddCalendar("Shared")).Id]);
        var (id, item) = await BookAndSyncAsync(host, "2027-03-18T09:00:00Z");
        // The user copies the booking's item into another of their calendars (the extended property goes with it),
        // then moves the copy and deletes it.
        var copy = host.Mailbox.AddItem(shared!.Id, item.Subject, item.Start, item.End);
        host.Mailbox.Change(copy.Id, c => c.ExtendedProperties[EwsXml.BookingIdPropertyName] = item.ExtendedProperties[EwsXml.BookingIdPropertyName]);
        (await app.SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        host.Mailbox.Move(copy.Id, At(18, 14));
        var moved = await app.SyncAsync(host.ConnectionId);
        (moved.Rescheduled + moved.Deferred + moved.Canceled).ShouldBe(0);
        host.Mailbox.Delete(copy.Id);
        (await app.SyncAsync(host.ConnectionId)).Canceled.ShouldBe(0);
        var booking = await BookingAsync(host, id);
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-18T09:00:00Z");
    }

    [Fact]
    public async Task Busy_time_comes_from_every_selected_calendar_with_series_expanded_and_free_time_ignored()
    {
        EmulatedFolder? family = null;
        var host = await HostAsync(true, true, additional: m => [(family = m.AddCalendar("Family")).Id]);
        // Daily 15:00-16:00 in the family calendar for a week; a free reminder; a tentative hold; a cancelled meeting.
        var series = host.Mailbox.AddItem(family!.Id, "School run", At(8, 15), At(8, 16), dailyOccurrences: 5);
        host.Mailbox.AddItem(family.Id, "Free reminder", At(2, 9), At(2, 10), "Free");
        host.Mailbox.AddItem(host.Calendar, "Maybe lunch", At(3, 12), At(3, 13), "Tentative");
        var cancelled = host.Mailbox.AddItem(host.Calendar, "Called off", At(4, 9), At(4, 10));
        host.Mailbox.Change(cancelled.Id, i => i.IsCancelled = true);

        var report = await app.SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);

        (await StartsAsync(host, "2027-03-08")).ShouldNotContain("2027-03-08T15:00:00Z");
        (await StartsAsync(host, "2027-03-10")).ShouldNotContain("2027-03-10T15:30:00Z");
        (await StartsAsync(host, "2027-03-15")).ShouldContain("2027-03-15T15:00:00Z");
        (await StartsAsync(host, "2027-03-02")).ShouldContain("2027-03-02T09:00:00Z");
        (await StartsAsync(host, "2027-03-03")).ShouldNotContain("2027-03-03T12:00:00Z");
        (await StartsAsync(host, "2027-03-04")).ShouldContain("2027-03-04T09:00:00Z");

        // Marked free later in Outlook: the time opens up with the next round.
        host.Mailbox.Change(series.Id, i => i.FreeBusy = "Free");
        (await app.SyncAsync(host.ConnectionId)).Failed.ShouldBeFalse();
        (await StartsAsync(host, "2027-03-08")).ShouldContain("2027-03-08T15:00:00Z");
    }

    [Fact]
    public async Task A_sync_state_exchange_no_longer_accepts_leads_to_a_full_resync_that_misses_no_deletion()
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var meeting = host.Mailbox.AddItem(host.Calendar, "Dentist", At(10, 9), At(10, 10));
        var (id, item) = await BookAndSyncAsync(host, "2027-03-10T14:00:00Z");
        (await StartsAsync(host, "2027-03-10")).ShouldNotContain("2027-03-10T09:00:00Z");

        // Both are deleted while Exchange forgets every sync state it gave out.
        host.Mailbox.Delete(meeting.Id);
        host.Mailbox.Delete(item.Id);
        Emulator.InvalidateSyncStates();

        var report = await app.SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        report.Deleted.ShouldBe(2);
        report.Canceled.ShouldBe(1);
        (await StartsAsync(host, "2027-03-10")).ShouldContain("2027-03-10T09:00:00Z");
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("canceled");
    }

    [Fact]
    public async Task Connecting_with_only_the_email_address_finds_the_server_by_autodiscover()
    {
        var host = await HostAsync(true, true, autodiscover: true);

        Emulator.Requests.ShouldContain("Autodiscover " + host.Mailbox.Email);
        var (_, item) = await BookAndSyncAsync(host, "2027-03-11T10:00:00Z");
        item.Start.ShouldBe(At(11, 10));
    }

    [Fact]
    public async Task A_changed_password_shows_in_the_connections_health_and_leaves_the_booking_as_it_was()
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (id, item) = await BookAndSyncAsync(host, "2027-03-12T10:00:00Z");
        host.Mailbox.Password = "changed-" + Guid.NewGuid().ToString("N");
        host.Mailbox.Delete(item.Id);

        var report = await app.SyncAsync(host.ConnectionId);

        report.Failed.ShouldBeTrue();
        var connection = await (await host.Client.GetAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(200);
        connection["lastError"]!.GetValue<string>().ShouldContain("refused the sign-in");
        connection["consecutiveFailures"]!.GetValue<int>().ShouldBe(1);
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");
    }

    [Fact]
    public async Task Exchange_busy_past_our_patience_is_retried_later_and_shows_in_health()
    {
        var host = await HostAsync(cancelOnDelete: true, updateOnMove: true);
        var (id, item) = await BookAndSyncAsync(host, "2027-03-15T10:00:00Z");
        host.Mailbox.Delete(item.Id);
        Emulator.Faults.Enqueue(new EmulatedFault("SyncFolderItems", "ErrorServerBusy") { BackOffMilliseconds = 300_000 });

        var busy = await app.SyncAsync(host.ConnectionId);
        busy.Failed.ShouldBeTrue();
        busy.Error!.ShouldContain("ErrorServerBusy");
        (await BookingAsync(host, id))["status"]!.GetValue<string>().ShouldBe("scheduled");

        var recovered = await app.SyncAsync(host.ConnectionId);
        recovered.Failed.ShouldBeFalse(recovered.Error);
        recovered.Canceled.ShouldBe(1);
    }
}

using NodaTime;
using Rendezvous.Calendars.Providers;
using Rendezvous.Domain;
using Rendezvous.Emulators.Ews;

namespace Rendezvous.Calendars.Ews.Tests;

public sealed class EwsProviderTests : EwsTestBase
{
    [Fact]
    public async Task Calendars_are_the_default_calendar_and_the_calendar_folders_below_it()
    {
        var team = Alice.AddCalendar("Team");
        using var session = Open();

        var calendars = await session.ListCalendarsAsync(default);

        calendars.Select(c => c.Name).ShouldBe(["Calendar", "Team"]);
        calendars[0].Id.ShouldBe(Alice.DefaultCalendar.Id);
        calendars[1].Id.ShouldBe(team.Id);
    }

    [Fact]
    public async Task Busy_time_honours_free_and_tentative_and_expands_series_on_the_server()
    {
        var calendar = Alice.DefaultCalendar.Id;
        var busy = Alice.AddItem(calendar, "Busy", At(5, 9), At(5, 10));
        var free = Alice.AddItem(calendar, "Free", At(5, 11), At(5, 12), "Free");
        var tentative = Alice.AddItem(calendar, "Maybe", At(5, 13), At(5, 14), "Tentative");
        var series = Alice.AddItem(calendar, "Standup", At(6, 8), At(6, 9), dailyOccurrences: 3);
        using var session = Open();

        var changes = await session.GetChangesAsync(calendar, Query(null), default);

        changes.Outcome.ShouldBe(ChangesOutcome.Completed);
        changes.Listed!.ShouldBe([busy.Id, free.Id, tentative.Id, series.Id], ignoreOrder: true);
        changes.Changed.Single(i => i.ItemId == busy.Id).Busy.ShouldBe([new Interval(Instant.FromUtc(2027, 1, 5, 9, 0), Instant.FromUtc(2027, 1, 5, 10, 0))]);
        changes.Changed.Single(i => i.ItemId == free.Id).Busy.ShouldBeEmpty();
        changes.Changed.Single(i => i.ItemId == tentative.Id).Busy.Count.ShouldBe(1);
        changes.Changed.Single(i => i.ItemId == series.Id).Busy.Select(b => b.Start).ShouldBe(
            [Instant.FromUtc(2027, 1, 6, 8, 0), Instant.FromUtc(2027, 1, 7, 8, 0), Instant.FromUtc(2027, 1, 8, 8, 0)]);
        Exchange.Requests.ShouldContain(r => r.StartsWith("FindItem", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_booking_event_carries_our_id_the_customer_and_the_link_and_sends_no_invitation_of_its_own()
    {
        var id = BookingId.New();
        using var session = Open();

        var written = await session.UpsertBookingEventAsync(Alice.DefaultCalendar.Id, Booking(id, Monday + Duration.FromHours(33)), null, default);

        var item = Alice.Find(written.ItemId).ShouldNotBeNull();
        written.Version.ShouldBe(item.ChangeKey);
        item.ExtendedProperties[EwsXml.BookingIdPropertyName].ShouldBe(id.ToString());
        item.RequiredAttendees.ShouldBe([("Carol Customer", "carol@example.test")]);
        item.Location.ShouldBe("https://meet.example.test/abc");
        item.Body!.ShouldContain("https://meet.example.test/abc");
        item.Start.ShouldBe(At(5, 9));
        Exchange.Details.ShouldContain(d => d.StartsWith("CreateItem version=Exchange2016 anchor=alice@contoso.test", StringComparison.Ordinal)
            && d.EndsWith("send=SendToNone", StringComparison.Ordinal));

        // The sync recognises it as ours, not as busy time.
        var listed = await session.GetChangesAsync(Alice.DefaultCalendar.Id, Query(null), default);
        var mine = listed.Changed.Single();
        mine.BookingId.ShouldBe(id);
        mine.Busy.ShouldBeEmpty();
        mine.Event!.Start.ShouldBe(Monday + Duration.FromHours(33));
    }

    [Fact]
    public async Task A_retried_create_finds_the_first_attempts_item_instead_of_making_a_second()
    {
        var id = BookingId.New();
        using var session = Open();
        await session.UpsertBookingEventAsync(Alice.DefaultCalendar.Id, Booking(id, Monday + Duration.FromHours(33)), null, default);

        // The first answer was lost: nothing was recorded, so the write comes again with no previous item.
        var again = await session.UpsertBookingEventAsync(Alice.DefaultCalendar.Id, Booking(id, Monday + Duration.FromHours(34), 1), null, default);

        Alice.ItemsIn(Alice.DefaultCalendar.Id).Count.ShouldBe(1);
        Alice.Find(again.ItemId)!.Start.ShouldBe(At(5, 10));
    }

    [Fact]
    public async Task An_update_after_an_attendees_answer_changed_the_ChangeKey_reads_again_and_the_booking_wins()
    {
        var id = BookingId.New();
        using var session = Open();
        var written = await session.UpsertBookingEventAsync(Alice.DefaultCalendar.Id, Booking(id, Monday + Duration.FromHours(33)), null, default);
        Alice.Change(written.ItemId, item => item.Subject = "Renamed in Outlook");

        var updated = await session.UpsertBookingEventAsync(Alice.DefaultCalendar.Id, Booking(id, Monday + Duration.FromHours(35), 1), written, default);

        var item = Alice.Find(written.ItemId)!;
        updated.ItemId.ShouldBe(written.ItemId);
        updated.Version.ShouldBe(item.ChangeKey);
        updated.Version.ShouldNotBe(written.Version);
        item.Subject.ShouldBe("Intro call");
        item.Start.ShouldBe(At(5, 11));
        var updates = Exchange.Details.Where(d => d.StartsWith("UpdateItem", StringComparison.Ordinal)).ToList();
        updates.Count.ShouldBe(2);
        updates.ShouldAllBe(d => d.Contains("conflict=NeverOverwrite", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_update_of_an_item_deleted_in_Outlook_writes_it_again()
    {
        var id = BookingId.New();
        using var session = Open();
        var written = await session.UpsertBookingEventAsync(Alice.DefaultCalendar.Id, Booking(id, Monday + Duration.FromHours(33)), null, default);
        Alice.Delete(written.ItemId);

        var again = await session.UpsertBookingEventAsync(Alice.DefaultCalendar.Id, Booking(id, Monday + Duration.FromHours(33), 1), written, default);

        again.ItemId.ShouldNotBe(written.ItemId);
        Alice.ItemsIn(Alice.DefaultCalendar.Id).Single().Id.ShouldBe(again.ItemId);
    }

    [Fact]
    public async Task Deleting_removes_the_item_and_an_item_already_gone_is_fine()
    {
        using var session = Open();
        var written = await session.UpsertBookingEventAsync(Alice.DefaultCalendar.Id, Booking(BookingId.New(), Monday + Duration.FromHours(33)), null, default);

        await session.DeleteBookingEventAsync(Alice.DefaultCalendar.Id, written, default);
        await session.DeleteBookingEventAsync(Alice.DefaultCalendar.Id, written, default);

        Alice.ItemsIn(Alice.DefaultCalendar.Id).ShouldBeEmpty();
        Exchange.Details.Where(d => d.StartsWith("DeleteItem", StringComparison.Ordinal)).ShouldAllBe(d => d.EndsWith("send=SendToNone", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Incremental_changes_report_moves_deletions_and_our_own_writes_with_their_ChangeKey()
    {
        var calendar = Alice.DefaultCalendar.Id;
        var other = Alice.AddItem(calendar, "Dentist", At(5, 9), At(5, 10));
        using var session = Open();
        var mine = await session.UpsertBookingEventAsync(calendar, Booking(BookingId.New(), Monday + Duration.FromHours(36)), null, default);
        var first = await session.GetChangesAsync(calendar, Query(null), default);

        Alice.Move(mine.ItemId, At(6, 15));
        Alice.Delete(other.Id);
        var second = await session.GetChangesAsync(calendar, Query(first.Cursor, new Dictionary<string, string?> { [mine.ItemId] = mine.Version }), default);

        second.Listed.ShouldBeNull();
        second.Deleted.ShouldBe([other.Id]);
        var moved = second.Changed.Single();
        moved.ItemId.ShouldBe(mine.ItemId);
        moved.Version.ShouldNotBe(mine.Version);
        moved.Event!.Start.ShouldBe(Instant.FromUtc(2027, 1, 6, 15, 0));

        var third = await session.GetChangesAsync(calendar, Query(second.Cursor), default);
        third.Changed.ShouldBeEmpty();
        third.Deleted.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_full_listing_pages_through_SyncFolderItems_512_changes_at_a_time()
    {
        var calendar = Alice.DefaultCalendar.Id;
        for (var i = 0; i < 1100; i++)
        {
            Alice.AddItem(calendar, "Item " + i, At(5, 9).AddMinutes(i), At(5, 9).AddMinutes(i + 1));
        }

        using var session = Open();
        var changes = await session.GetChangesAsync(calendar, Query(null), default);

        changes.Listed!.Count.ShouldBe(1100);
        Exchange.Requests.Count(r => r.StartsWith("SyncFolderItems", StringComparison.Ordinal)).ShouldBe(3);
    }

    [Fact]
    public async Task A_sync_state_the_server_no_longer_accepts_asks_for_a_full_listing()
    {
        var calendar = Alice.DefaultCalendar.Id;
        var dentist = Alice.AddItem(calendar, "Dentist", At(5, 9), At(5, 10));
        using var session = Open();
        var first = await session.GetChangesAsync(calendar, Query(null), default);
        Exchange.InvalidateSyncStates();
        Alice.Delete(dentist.Id);

        var stale = await session.GetChangesAsync(calendar, Query(first.Cursor), default);
        var full = await session.GetChangesAsync(calendar, Query(null), default);

        stale.Outcome.ShouldBe(ChangesOutcome.CursorInvalid);
        // The full listing no longer names the deleted item, so the engine treats it as deleted: nothing is missed.
        full.Listed!.ShouldBeEmpty();
    }

    [Fact]
    public async Task An_expired_sync_state_is_refused_like_an_invalid_one()
    {
        var now = new DateTimeOffset(2027, 1, 4, 0, 0, 0, TimeSpan.Zero);
        Exchange.Now = () => now;
        Exchange.SyncStateLifetime = TimeSpan.FromDays(1);
        using var session = Open();
        var first = await session.GetChangesAsync(Alice.DefaultCalendar.Id, Query(null), default);

        now = now.AddDays(2);
        var stale = await session.GetChangesAsync(Alice.DefaultCalendar.Id, Query(first.Cursor), default);

        stale.Outcome.ShouldBe(ChangesOutcome.CursorInvalid);
    }

    [Fact]
    public async Task ErrorServerBusy_is_retried_after_the_servers_back_off()
    {
        var fault = new EmulatedFault("SyncFolderItems", "ErrorServerBusy") { BackOffMilliseconds = 50, Times = 2 };
        Exchange.Faults.Enqueue(fault);
        using var session = Open();

        var changes = await session.GetChangesAsync(Alice.DefaultCalendar.Id, Query(null), default);

        changes.Outcome.ShouldBe(ChangesOutcome.Completed);
        fault.Hits.ShouldBe(2);
    }

    [Fact]
    public async Task ErrorServerBusy_as_a_SOAP_fault_is_retried_too()
    {
        var fault = new EmulatedFault("SyncFolderItems", "ErrorServerBusy") { BackOffMilliseconds = 20, AsSoapFault = true };
        Exchange.Faults.Enqueue(fault);
        using var session = Open();

        (await session.GetChangesAsync(Alice.DefaultCalendar.Id, Query(null), default)).Outcome.ShouldBe(ChangesOutcome.Completed);
        fault.Hits.ShouldBe(1);
    }

    [Fact]
    public async Task A_back_off_longer_than_the_limit_fails_the_call_as_unavailable_without_waiting_it_out()
    {
        Exchange.Faults.Enqueue(new EmulatedFault("SyncFolderItems", "ErrorServerBusy") { BackOffMilliseconds = 600_000 });
        using var session = Open();

        var failure = await Should.ThrowAsync<CalendarProviderException>(() => session.GetChangesAsync(Alice.DefaultCalendar.Id, Query(null), default));

        failure.Failure.ShouldBe(CalendarFailure.Unavailable);
        failure.Message.ShouldContain("ErrorServerBusy");
    }

    [Theory]
    [InlineData("ErrorAccessDenied", false, CalendarFailure.AccessDenied)]
    [InlineData("ErrorMailboxMoveInProgress", false, CalendarFailure.Unavailable)]
    [InlineData("ErrorItemNotFound", false, CalendarFailure.NotFound)]
    [InlineData("ErrorInternalServerError", true, CalendarFailure.Protocol)]
    public async Task Exchange_errors_become_the_connections_health(string code, bool soapFault, CalendarFailure expected)
    {
        Exchange.Faults.Enqueue(new EmulatedFault("SyncFolderItems", code) { AsSoapFault = soapFault, Times = 10 });
        using var session = Open();

        var failure = await Should.ThrowAsync<CalendarProviderException>(() => session.GetChangesAsync(Alice.DefaultCalendar.Id, Query(null), default));

        failure.Failure.ShouldBe(expected);
        failure.Message.ShouldContain(code);
    }

    [Fact]
    public async Task A_wrong_or_expired_password_is_access_denied()
    {
        using var session = Provider.Open(Account(password: "old-password"));

        var failure = await Should.ThrowAsync<CalendarProviderException>(() => session.ListCalendarsAsync(default));

        failure.Failure.ShouldBe(CalendarFailure.AccessDenied);
        Exchange.Requests.ShouldContain("401");
    }

    [Fact]
    public async Task Basic_credentials_are_sent_with_every_request_when_chosen()
    {
        using var session = Open(new EwsAccountState(EwsAuth.Basic, null, false));

        await session.ListCalendarsAsync(default);

        Exchange.Requests.ShouldNotContain("401");
    }

    [Fact]
    public void Plain_http_is_refused_unless_the_host_is_allowed()
    {
        Options.AllowedHttpHosts.Clear();

        var failure = Should.Throw<CalendarProviderException>(() => Provider.Open(Account()));

        failure.Failure.ShouldBe(CalendarFailure.AccessDenied);
        failure.Message.ShouldContain("https");
        Exchange.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_service_account_with_the_impersonation_role_acts_on_another_mailbox()
    {
        var service = Exchange.AddMailbox("svc-rendezvous@contoso.test", "service-password");
        service.MayImpersonate = true;
        Alice.AddItem(Alice.DefaultCalendar.Id, "Dentist", At(5, 9), At(5, 10));
        using var session = Provider.Open(Account("svc-rendezvous@contoso.test", "service-password",
            new EwsAccountState(EwsAuth.Basic, "alice@contoso.test", true)));

        var changes = await session.GetChangesAsync("calendar", Query(null), default);

        changes.Listed!.Count.ShouldBe(1);
        Exchange.Requests.ShouldContain("SyncFolderItems alice@contoso.test");
        Exchange.Details.ShouldContain(d => d.Contains("anchor=alice@contoso.test", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Impersonation_without_the_role_is_access_denied()
    {
        Exchange.AddMailbox("bob@contoso.test", "bob-password");
        using var session = Provider.Open(Account("bob@contoso.test", "bob-password", new EwsAccountState(EwsAuth.Basic, "alice@contoso.test", true)));

        var failure = await Should.ThrowAsync<CalendarProviderException>(() => session.ListCalendarsAsync(default));

        failure.Failure.ShouldBe(CalendarFailure.AccessDenied);
        failure.Message.ShouldContain("ErrorImpersonateUserDenied");
    }
}

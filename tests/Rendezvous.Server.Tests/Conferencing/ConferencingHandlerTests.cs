using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data.Conferencing;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Conferencing;

/// <summary>
/// Meetings made, moved, handed over and removed from the outbox, against the local fake of the vendors' APIs: one meeting
/// per booking whatever the retries, and reassignment moving ownership within one service (seed 001).
/// </summary>
public sealed class ConferencingHandlerTests(ConferencingApp app) : IClassFixture<ConferencingApp>
{
    private const string Meeting = "2027-03-15T10:00:00Z";

    private FakeConferencingServer Fake => app.Fake;

    private sealed record Host(string Id, string FakeUser, string Slug, string PageId, string AccessToken);

    private async Task<Host> HostAsync(string name, string provider, bool connect = true)
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, name);
        var fakeUser = ConferencingScenario.FakeUser(name);
        var access = connect ? await ConferencingScenario.ConnectAsync(admin, Fake, id, provider, fakeUser) : "";
        var (slug, pageId) = await ConferencingScenario.PageAsync(admin, id, provider);
        return new Host(id, fakeUser, slug, pageId, access);
    }

    private async Task<string> BookAsync(Host host, string start = Meeting) =>
        (await Scenario.BookAsync(app.Anonymous(), host.Slug, start))["id"]!.GetValue<string>();

    private Task<BookingConferencing?> RowAsync(string bookingId)
    {
        var id = new BookingId(Guid.Parse(bookingId));
        return app.WithDbAsync(db => db.BookingConferencing.AsNoTracking().FirstOrDefaultAsync(c => c.BookingId == id));
    }

    private async Task DrainAsync(string bookingId) => (await app.DrainOutboxAsync(bookingId)).ShouldBeEmpty();

    private async Task ReassignAsync(string bookingId, Host to) =>
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/reassign", new { bookingPageId = to.PageId })).ExpectAsync(200);

    // Zoom rotates refresh tokens (developers.zoom.us/docs/integrations/oauth/): a second refresh with the spent one is
    // refused with invalid_grant, so only a single refresh lets every concurrent caller come away with a working token.
    [DbFact]
    public async Task Concurrent_refreshes_of_one_account_spend_its_refresh_token_once_and_all_get_the_new_token()
    {
        var ada = await HostAsync("Ada", "zoom");
        var tokens = app.Services.GetRequiredService<Rendezvous.Integrations.Conferencing.IConferencingTokens>();
        var opened = await tokens.OpenAsync(new UserId(Guid.Parse(ada.Id)), Rendezvous.Domain.Conferencing.ConferencingProvider.Zoom, CancellationToken.None);
        var sessions = Enumerable.Range(0, 6)
            .Select(_ => new Rendezvous.Integrations.Conferencing.ConferencingSession(opened.AccountId, opened.UserId, opened.Provider, opened.AccessToken, opened.ExternalUserId))
            .ToList();

        await Task.WhenAll(sessions.Select(s => tokens.RefreshAsync(s, CancellationToken.None)));

        var renewed = sessions.Select(s => s.AccessToken).Distinct().ShouldHaveSingleItem();
        renewed.ShouldNotBe(ada.AccessToken);
        (await tokens.OpenAsync(opened.UserId, opened.Provider, CancellationToken.None)).AccessToken.ShouldBe(renewed);
    }

    [DbFact]
    public async Task A_booking_on_a_zoom_page_gets_one_meeting_in_its_owners_account_which_follows_moves_and_goes_on_cancel()
    {
        var ada = await HostAsync("Ada", "zoom");
        var bookingId = await BookAsync(ada);
        await DrainAsync(bookingId);

        var meeting = Fake.MeetingsOf("zoom", ada.FakeUser).ShouldHaveSingleItem();
        (meeting.Start, meeting.Duration).ShouldBe(("2027-03-15T10:00:00Z", 30));
        meeting.Topic.ShouldStartWith("Intro call with ");
        meeting.Agenda.ShouldContain("rdv:" + Guid.Parse(bookingId).ToString("N"));
        var row = (await RowAsync(bookingId)).ShouldNotBeNull();
        (row.MeetingId, row.JoinUrl, row.HostUserId.ToString(), row.CreateAttempts).ShouldBe((meeting.Id, meeting.JoinUrl, ada.Id, 1));

        // A repeat of the same events changes nothing.
        await app.WithScopeAsync(async sp =>
        {
            await sp.GetRequiredService<Rendezvous.Integrations.Conferencing.ConferencingHandler>().ReconcileAsync(row.BookingId, CancellationToken.None);
            return 0;
        });
        Fake.MeetingsOf("zoom", ada.FakeUser).ShouldHaveSingleItem();

        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/reschedule", new { start = "2027-03-16T11:00:00Z" })).ExpectAsync(200);
        await DrainAsync(bookingId);
        (meeting.Start, meeting.Duration).ShouldBe(("2027-03-16T11:00:00Z", 30));

        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/cancel", new { reason = "ill" })).ExpectAsync(200);
        await DrainAsync(bookingId);
        meeting.Deleted.ShouldBeTrue();
        (await RowAsync(bookingId))!.Deleted.ShouldBeTrue();
        Fake.MeetingsOf("zoom", ada.FakeUser).ShouldBeEmpty();
    }

    [DbFact]
    public async Task A_quiet_move_from_the_hosts_calendar_applied_at_its_reminder_leaves_the_meeting_alone()
    {
        var ada = await HostAsync("Ada", "zoom");
        var bookingId = await BookAsync(ada, "2027-03-22T10:00:00Z");
        await DrainAsync(bookingId);
        var meeting = Fake.MeetingsOf("zoom", ada.FakeUser).ShouldHaveSingleItem();

        // What the reminder sender does with a move made in the host's calendar while "changing the time updates the
        // booking" is off: the booking takes the new time quietly, and integrations are not updated (seed 000).
        var id = new BookingId(Guid.Parse(bookingId));
        await app.WithDbAsync(async db =>
        {
            var booking = await db.Bookings.IgnoreQueryFilters().SingleAsync(b => b.Id == id);
            booking.Reschedule(Instant.FromUtc(2027, 3, 22, 13, 0), Actor.FromCalendar(booking.OwnerId), "Moved in the host's calendar (applied at the reminder)",
                app.Clock.GetCurrentInstant(), quiet: true).IsSuccess.ShouldBeTrue();
            return await db.SaveChangesAsync();
        });
        await DrainAsync(bookingId);

        (meeting.Start, meeting.Duration).ShouldBe(("2027-03-22T10:00:00Z", 30));
        Fake.MeetingsOf("zoom", ada.FakeUser).ShouldHaveSingleItem();
        (await RowAsync(bookingId))!.MeetingId.ShouldBe(meeting.Id);
    }

    [DbFact]
    public async Task A_create_whose_answer_was_lost_is_found_on_the_retry_and_not_made_twice()
    {
        var ada = await HostAsync("Ada", "gotomeeting");
        // The fake makes the meeting, then answers 502 as if the answer never arrived.
        Fake.Fail(new FakeFault("goto", "POST", "/G2M/rest/v2/meetings", 502, ProcessFirst: true));
        var bookingId = await BookAsync(ada);

        var errors = await app.DrainOutboxAsync(bookingId);
        errors.ShouldHaveSingleItem().ShouldContain("conferencing: ConferencingTransientException");
        Fake.MeetingsOf("goto", ada.FakeUser).ShouldHaveSingleItem();
        (await RowAsync(bookingId))!.LastError.ShouldNotBeNull().ShouldContain("GoTo Meeting failed (502)");

        app.Clock.Advance(Duration.FromMinutes(2));
        await DrainAsync(bookingId);
        var meeting = Fake.MeetingsOf("goto", ada.FakeUser).ShouldHaveSingleItem();
        var row = (await RowAsync(bookingId))!;
        (row.MeetingId, row.JoinUrl, row.CreateAttempts, row.LastError).ShouldBe((meeting.Id, meeting.JoinUrl, 1, null));
        Fake.RequestsOf("goto").Count(r => r.User == ada.FakeUser && r.Method == "POST").ShouldBe(1);
    }

    [DbFact]
    public async Task An_expired_token_is_refreshed_and_the_new_tokens_are_kept_encrypted()
    {
        var ada = await HostAsync("Ada", "webex");
        Fake.Expire(ada.AccessToken);
        var before = await app.WithDbAsync(db => db.ConferencingAccounts.AsNoTracking().SingleAsync(a => a.UserId == new UserId(Guid.Parse(ada.Id))));
        var bookingId = await BookAsync(ada);
        await DrainAsync(bookingId);

        Fake.MeetingsOf("webex", ada.FakeUser).ShouldHaveSingleItem();
        var after = await app.WithDbAsync(db => db.ConferencingAccounts.AsNoTracking().SingleAsync(a => a.UserId == new UserId(Guid.Parse(ada.Id))));
        var secrets = app.Services.GetRequiredService<Secrets>();
        var access = secrets.UnprotectConferencingToken(after.ProtectedAccessToken);
        access.ShouldNotBe(ada.AccessToken);
        after.ProtectedAccessToken.ShouldNotContain(access);
        secrets.UnprotectConferencingToken(after.ProtectedRefreshToken!).ShouldNotBe(secrets.UnprotectConferencingToken(before.ProtectedRefreshToken!));
        after.AccessTokenExpiresAt.ShouldBe(app.Clock.GetCurrentInstant() + Duration.FromSeconds(3599));

        // The API never shows a token.
        var listed = await (await app.Client().GetAsync("/api/v1/conferencing-accounts")).ExpectAsync(200);
        listed.ToJsonString().ShouldNotContain(access);
        listed.AsArray().Single(a => a!["userId"]!.GetValue<string>() == ada.Id)!["hasRefreshToken"]!.GetValue<bool>().ShouldBeTrue();
    }

    [DbFact]
    public async Task Without_an_account_the_booking_stands_and_the_meeting_is_made_once_one_is_connected()
    {
        var ada = await HostAsync("Ada", "zoom", connect: false);
        var bookingId = await BookAsync(ada);
        (await app.DrainOutboxAsync(bookingId)).ShouldHaveSingleItem().ShouldContain("has no Zoom account connected");
        (await (await app.Client().GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("scheduled");

        await ConferencingScenario.ConnectAsync(app.Client(), Fake, ada.Id, "zoom", ada.FakeUser);
        app.Clock.Advance(Duration.FromMinutes(2));
        await DrainAsync(bookingId);
        Fake.MeetingsOf("zoom", ada.FakeUser).ShouldHaveSingleItem();
    }

    [DbFact]
    public async Task Reassigning_between_zoom_pages_makes_the_new_owner_the_host_of_the_same_meeting()
    {
        var ada = await HostAsync("Ada", "zoom");
        var bob = await HostAsync("Bob", "zoom");
        Fake.GrantSchedulingPrivilege(ada.FakeUser, bob.FakeUser);
        var bookingId = await BookAsync(ada);
        await DrainAsync(bookingId);
        var meeting = Fake.MeetingsOf("zoom", ada.FakeUser).ShouldHaveSingleItem();

        await ReassignAsync(bookingId, bob);
        await DrainAsync(bookingId);

        Fake.MeetingsOf("zoom", ada.FakeUser).ShouldBeEmpty();
        Fake.MeetingsOf("zoom", bob.FakeUser).ShouldHaveSingleItem().ShouldBeSameAs(meeting);
        var row = (await RowAsync(bookingId))!;
        (row.HostUserId.ToString(), row.MeetingId, row.JoinUrl).ShouldBe((bob.Id, meeting.Id, meeting.JoinUrl));
        Fake.RequestsOf("zoom").ShouldContain(r => r.Method == "PATCH" && r.User == ada.FakeUser && r.Body.Contains("schedule_for", StringComparison.Ordinal));

        // Bob's later cancel removes it from his account.
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/cancel", new { })).ExpectAsync(200);
        await DrainAsync(bookingId);
        meeting.Deleted.ShouldBeTrue();
    }

    [DbFact]
    public async Task Without_scheduling_privilege_zoom_ownership_moves_by_making_the_meeting_again_for_the_new_owner()
    {
        var ada = await HostAsync("Ada", "zoom");
        var bob = await HostAsync("Bob", "zoom");
        var bookingId = await BookAsync(ada);
        await DrainAsync(bookingId);
        var old = Fake.MeetingsOf("zoom", ada.FakeUser).ShouldHaveSingleItem();

        await ReassignAsync(bookingId, bob);
        await DrainAsync(bookingId);

        old.Deleted.ShouldBeTrue();
        var moved = Fake.MeetingsOf("zoom", bob.FakeUser).ShouldHaveSingleItem();
        moved.Start.ShouldBe("2027-03-15T10:00:00Z");
        var row = (await RowAsync(bookingId))!;
        (row.HostUserId.ToString(), row.MeetingId, row.JoinUrl, row.PreviousMeetingId).ShouldBe((bob.Id, moved.Id, moved.JoinUrl, null));
    }

    [DbFact]
    public async Task Reassigning_between_goto_pages_moves_the_meeting_into_the_new_owners_account_even_after_a_failure_half_way()
    {
        var ada = await HostAsync("Ada", "gotomeeting");
        var bob = await HostAsync("Bob", "gotomeeting");
        var bookingId = await BookAsync(ada);
        await DrainAsync(bookingId);
        var old = Fake.MeetingsOf("goto", ada.FakeUser).ShouldHaveSingleItem();

        // The new meeting is made, then deleting the old one fails for a while: the retry finishes the job without a second meeting.
        for (var i = 0; i < 4; i++)
        {
            Fake.Fail(new FakeFault("goto", "DELETE", "/meetings/" + old.Id, 503));
        }

        await ReassignAsync(bookingId, bob);
        (await app.DrainOutboxAsync(bookingId)).ShouldHaveSingleItem().ShouldContain("GoTo Meeting failed (503)");
        var moved = Fake.MeetingsOf("goto", bob.FakeUser).ShouldHaveSingleItem();
        old.Deleted.ShouldBeFalse();
        (await RowAsync(bookingId))!.PreviousMeetingId.ShouldBe(old.Id);

        app.Clock.Advance(Duration.FromMinutes(2));
        await DrainAsync(bookingId);
        old.Deleted.ShouldBeTrue();
        Fake.MeetingsOf("goto", bob.FakeUser).ShouldHaveSingleItem().ShouldBeSameAs(moved);
        var row = (await RowAsync(bookingId))!;
        (row.HostUserId.ToString(), row.MeetingId, row.JoinUrl, row.PreviousMeetingId).ShouldBe((bob.Id, moved.Id, moved.JoinUrl, null));
    }

    [DbFact]
    public async Task Reassigning_to_another_service_or_between_webex_pages_leaves_the_meeting_alone_until_the_booking_is_canceled()
    {
        var ada = await HostAsync("Ada", "zoom");
        var bob = await HostAsync("Bob", "gotomeeting");
        var bookingId = await BookAsync(ada);
        await DrainAsync(bookingId);
        var meeting = Fake.MeetingsOf("zoom", ada.FakeUser).ShouldHaveSingleItem();

        await ReassignAsync(bookingId, bob);
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/reschedule", new { start = "2027-03-17T10:00:00Z" })).ExpectAsync(200);
        await DrainAsync(bookingId);
        Fake.MeetingsOf("goto", bob.FakeUser).ShouldBeEmpty();
        (meeting.Deleted, meeting.Host, meeting.Start).ShouldBe((false, ada.FakeUser, "2027-03-15T10:00:00Z"));
        (await (await app.Client().GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200))["locationWithheld"]!.GetValue<bool>().ShouldBeTrue();

        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/cancel", new { })).ExpectAsync(200);
        await DrainAsync(bookingId);
        meeting.Deleted.ShouldBeTrue();

        var gil = await HostAsync("Gil", "webex");
        var hal = await HostAsync("Hal", "webex");
        var webexBooking = await BookAsync(gil);
        await DrainAsync(webexBooking);
        var webex = Fake.MeetingsOf("webex", gil.FakeUser).ShouldHaveSingleItem();
        await ReassignAsync(webexBooking, hal);
        await DrainAsync(webexBooking);
        Fake.MeetingsOf("webex", hal.FakeUser).ShouldBeEmpty();
        (webex.Deleted, webex.Host).ShouldBe((false, gil.FakeUser));
    }
}

using Microsoft.Playwright;
using Rendezvous.Browser.Tests.Infrastructure;
using Rendezvous.Calendars.CalDav;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// The calendar connections screen with several connections of one user: the list with each one's service, account,
/// calendars, booking connection and health, and the actions on one connection among several.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ConnectionsTests(RendezvousServer server)
{
    /// <summary>
    /// A member with three connections: Microsoft 365 (the first, so the booking connection) whose consent was withdrawn,
    /// a Google account whose last booking write was refused, and a real CalDAV calendar in the test server. The OAuth
    /// ones are recorded through the API and given their state in the database (this server has no Google or Microsoft
    /// client configured), with their next sync far away so the worker leaves that state alone.
    /// </summary>
    private async Task<Member> MemberWithThreeConnectionsAsync()
    {
        var (memberId, email) = await Arrange.UserAsync(server, "Connie Several", password: "member password 1");
        var microsoft = await server.PostJsonAsync("/api/v1/calendar-connections", new { userId = memberId, provider = "office365" });
        var mailbox = $"{Arrange.Unique("connie")}@contoso.example";
        await server.ExecuteAsync("""
            UPDATE calendar_connections SET username = @account, protected_password = 'unused by this test', booking_calendar_url = 'AAMkADcalendar',
              health = 'Failing', consecutive_failures = 2, last_success_at = now() - interval '3 hours', last_failure_at = now() - interval '5 minutes',
              last_error = 'Needs reconnecting: AADSTS65001: The user or administrator has not consented to use the application.',
              next_sync_at = now() + interval '300 days'
            WHERE id = @id
            """, ("account", mailbox), ("id", Guid.Parse(microsoft["id"]!.GetValue<string>())));

        var google = await server.PostJsonAsync("/api/v1/calendar-connections", new { userId = memberId, provider = "google" });
        var account = $"{Arrange.Unique("connie")}@gmail.example";
        await server.ExecuteAsync("""
            UPDATE calendar_connections SET username = @account, protected_password = 'unused by this test', booking_calendar_url = @account,
              additional_calendar_urls = '{family@group.calendar.google.example}', health = 'Failing', last_success_at = now() - interval '2 minutes',
              last_write_error = 'Writing a booking into the calendar failed: 403 Forbidden (requiredAccessLevel): You need to have writer access to this calendar.',
              last_write_failure_at = now() - interval '1 minute',
              last_error = 'Writing a booking into the calendar failed: 403 Forbidden (requiredAccessLevel): You need to have writer access to this calendar.',
              next_sync_at = now() + interval '300 days'
            WHERE id = @id
            """, ("account", account), ("id", Guid.Parse(google["id"]!.GetValue<string>())));

        var user = TestEnvironment.CalDavUser ?? throw new InvalidOperationException("RENDEZVOUS_TEST_CALDAV_USER is not set.");
        var password = TestEnvironment.CalDavPassword ?? throw new InvalidOperationException("RENDEZVOUS_TEST_CALDAV_PASSWORD is not set.");
        var serverUrl = TestEnvironment.CalDavUrl ?? throw new InvalidOperationException("RENDEZVOUS_TEST_CALDAV_URL is not set.");
        var work = Arrange.Unique("work");
        var holidays = Arrange.Unique("holidays");
        using (var caldav = new CalDavClient(new CalDavClientOptions { ServerUri = new Uri(serverUrl), UserName = user, Password = password }))
        {
            await caldav.CreateCalendarAsync($"/{user}/{work}/", "Work " + work, ["VEVENT"]);
            await caldav.CreateCalendarAsync($"/{user}/{holidays}/", "Holidays " + holidays, ["VEVENT"]);
        }

        var caldavConnection = await server.PostJsonAsync("/api/v1/calendar-connections", new
        {
            userId = memberId, url = serverUrl, username = user, password, bookingCalendarUrl = $"/{user}/{work}/",
        });
        return new Member(memberId, email, microsoft["id"]!.GetValue<string>(), mailbox, google["id"]!.GetValue<string>(), account,
            caldavConnection["id"]!.GetValue<string>(), user, $"/{user}/{holidays}/");
    }

    private static ILocator Card(IPage page, string connectionId) => page.Locator($"li[data-connection='{connectionId}']");

    [BrowserCalDavFact]
    public async Task An_administrator_sees_every_connection_of_a_team_member_with_its_health()
    {
        var member = await MemberWithThreeConnectionsAsync();
        // The CalDAV connection syncs for real: wait for its first successful round.
        for (var i = 0; i < 100; i++)
        {
            var state = await server.GetJsonAsync($"/api/v1/calendar-connections/{member.CalDavId}");
            if (state["lastSuccessAt"] is not null)
            {
                break;
            }

            await Task.Delay(200);
        }

        var page = await server.SignedInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Calendar connections" }).ClickAsync();
        await page.GetByLabel("Team member").SelectOptionAsync(new SelectOptionValue { Label = "Connie Several" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Calendar connections of Connie Several" })).ToBeVisibleAsync();
        (await page.Locator("li[data-connection]").CountAsync()).ShouldBe(3);

        // Microsoft 365, the booking connection, needs reconnecting.
        var microsoft = Card(page, member.MicrosoftId);
        await Expect(microsoft.GetByRole(AriaRole.Heading)).ToContainTextAsync($"Microsoft 365: {member.Mailbox}");
        await Expect(microsoft.GetByRole(AriaRole.Heading)).ToContainTextAsync("Booking connection");
        await Expect(microsoft.GetByRole(AriaRole.Alert)).ToContainTextAsync("Needs reconnecting");
        await Expect(microsoft).ToContainTextAsync("AADSTS65001");
        await Expect(microsoft.GetByRole(AriaRole.Button, new() { Name = "Sign in to Microsoft again" })).ToBeVisibleAsync();
        await Expect(microsoft.GetByRole(AriaRole.Button, new() { Name = "Make this the booking connection" })).ToHaveCountAsync(0);

        // Google: its calendars, and the write the calendar refused.
        var google = Card(page, member.GoogleId);
        await Expect(google.GetByRole(AriaRole.Heading)).ToContainTextAsync($"Google Calendar: {member.GoogleAccount}");
        await Expect(google.GetByRole(AriaRole.Heading)).Not.ToContainTextAsync("Booking connection");
        await Expect(google.Locator("dd").Filter(new() { HasText = "family@group.calendar.google.example" })).ToBeVisibleAsync();
        await Expect(google).ToContainTextAsync("Last write error");
        await Expect(google).ToContainTextAsync("You need to have writer access to this calendar.");
        await Expect(google.Locator(".badge.failing")).ToBeVisibleAsync();
        await Expect(google.GetByRole(AriaRole.Button, new() { Name = "Reconnect Google Calendar" })).ToBeVisibleAsync();

        // CalDAV: healthy, synced, with its server and account.
        var caldav = Card(page, member.CalDavId);
        await Expect(caldav.GetByRole(AriaRole.Heading)).ToContainTextAsync($"CalDAV: {member.CalDavUser}");
        await Expect(caldav.Locator(".badge.healthy")).ToBeVisibleAsync();
        await Expect(caldav.Locator("dt", new() { HasText = "Last successful sync" }).Locator("xpath=following-sibling::dd[1]")).Not.ToHaveTextAsync("not yet");
        await Expect(caldav.GetByRole(AriaRole.Button, new() { Name = "Make this the booking connection" })).ToBeVisibleAsync();

        // Connecting another one is offered for every service.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Connect another calendar" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Connect Google Calendar", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Connect Microsoft 365", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Find my calendars" })).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "calendar-connections");
    }

    [BrowserCalDavFact]
    public async Task A_member_chooses_the_booking_connection_and_busy_calendars_and_disconnects_one_of_several()
    {
        var member = await MemberWithThreeConnectionsAsync();
        var page = await server.SignedInAsync(member.Email, "member password 1");
        await page.GotoAsync("/app/calendar-connection");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Calendar connections", Exact = true })).ToBeVisibleAsync();

        // The CalDAV calendar becomes the booking connection; the badge moves to it.
        await Card(page, member.CalDavId).GetByRole(AriaRole.Button, new() { Name = "Make this the booking connection" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("New bookings now go to CalDAV");
        await Expect(Card(page, member.CalDavId).GetByRole(AriaRole.Heading)).ToContainTextAsync("Booking connection");
        await Expect(Card(page, member.MicrosoftId).GetByRole(AriaRole.Heading)).Not.ToContainTextAsync("Booking connection");

        // Its calendars: the holidays calendar is checked for busy time too.
        await Card(page, member.CalDavId).GetByRole(AriaRole.Button, new() { Name = "Choose calendars" }).ClickAsync();
        await page.Locator($"input[name='AdditionalCalendarUrls'][value$='{member.HolidaysHref}']").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save calendars" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The calendars are saved.");
        await Expect(Card(page, member.CalDavId)).ToContainTextAsync(member.HolidaysHref);

        // The Google connection is disconnected; the others stay.
        var google = Card(page, member.GoogleId);
        await google.GetByText("Disconnect…").ClickAsync();
        await google.GetByRole(AriaRole.Button, new() { Name = "Disconnect" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The calendar is disconnected.");
        (await page.Locator("li[data-connection]").CountAsync()).ShouldBe(2);

        var mine = (await server.GetJsonAsync("/api/v1/calendar-connections")).AsArray()
            .Where(c => c!["userId"]!.GetValue<string>() == member.Id).ToDictionary(c => c!["id"]!.GetValue<string>());
        mine.Keys.ShouldBe([member.MicrosoftId, member.CalDavId], ignoreOrder: true);
        mine[member.CalDavId]!["isBookingConnection"]!.GetValue<bool>().ShouldBeTrue();
        mine[member.MicrosoftId]!["isBookingConnection"]!.GetValue<bool>().ShouldBeFalse();
        mine[member.CalDavId]!["additionalCalendarUrls"]!.AsArray().Select(u => u!.GetValue<string>()).ShouldContain(u => u.EndsWith(member.HolidaysHref, StringComparison.Ordinal));
        // The Microsoft connection still waits for its user to sign in again.
        mine[member.MicrosoftId]!["needsReconnecting"]!.GetValue<bool>().ShouldBeTrue();
    }

    private sealed record Member(string Id, string Email, string MicrosoftId, string Mailbox, string GoogleId, string GoogleAccount, string CalDavId,
        string CalDavUser, string HolidaysHref);
}

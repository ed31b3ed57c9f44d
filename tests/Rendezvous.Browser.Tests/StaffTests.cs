using Microsoft.Playwright;
using Npgsql;
using Rendezvous.Browser.Tests.Infrastructure;
using Rendezvous.Calendars.CalDav;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>Team members at work: the activity stream and its details pane, a no-show, reassignment, and the calendar sync toggles.</summary>
[Collection(BrowserCollection.Name)]
public sealed class StaffTests(RendezvousServer server)
{
    /// <summary>A booking of a host of its own whose meeting started ten minutes ago (no request can book the past).</summary>
    private async Task<(string PageId, string BookingId, string Customer)> MeetingUnderWayAsync()
    {
        var (hostId, _) = await Arrange.UserAsync(server, "Harriet Host");
        var bookingPage = await Arrange.PageAsync(server, "Strategy session", ownerId: hostId);
        var slug = bookingPage["slug"]!.GetValue<string>();
        var slots = await server.GetJsonAsync($"/api/v1/booking-pages/{slug}/slots?from={Today()}&to={Today(2)}&timeZone=UTC");
        var start = slots["slots"]![0]!["start"]!.GetValue<string>();
        var customer = "Noel " + Arrange.Unique("noshow")[7..];
        var booking = await server.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start, customer = new { name = customer, email = $"{Arrange.Unique("noshow")}@example.com", timeZone = "Europe/Berlin" } });
        var id = Guid.Parse(booking["id"]!.GetValue<string>());
        await server.ExecuteAsync("""
            UPDATE bookings SET start_at = now() - interval '10 minutes', end_at = now() + interval '20 minutes' WHERE id = @id;
            UPDATE booking_hosts SET start_at = now() - interval '10 minutes', end_at = now() + interval '20 minutes' WHERE booking_id = @id;
            """, ("id", id));
        return (bookingPage["id"]!.GetValue<string>(), id.ToString(), customer);
    }

    [BrowserFact]
    public async Task An_administrator_opens_a_booking_from_the_activity_stream_and_marks_a_no_show()
    {
        var (pageId, bookingId, customer) = await MeetingUnderWayAsync();
        var page = await server.SignedInAsync();
        await page.GotoAsync($"/app/activity?page={pageId}");
        var row = page.Locator($"tr[data-booking-row='{bookingId}']");
        await Expect(row).ToContainTextAsync(customer);
        await Expect(row).ToContainTextAsync("Scheduled");

        // The details pane opens beside the list (the script fetches it; the address keeps it for a reload).
        await row.GetByRole(AriaRole.Link).First.ClickAsync();
        var pane = page.Locator("#pane");
        await Expect(pane.GetByRole(AriaRole.Heading, new() { Name = $"Strategy session: {customer}" })).ToBeVisibleAsync();
        await Expect(pane.GetByText("Scheduled by Customer", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"open={bookingId}"));
        await Screens.SaveAsync(page, "activity-stream-details", fullPage: false);

        await pane.GetByText("Mark as no-show…").ClickAsync();
        await pane.GetByLabel("Note").FillAsync("Did not join the call");
        await pane.GetByRole(AriaRole.Button, new() { Name = "Mark as no-show" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The booking is marked as a no-show.");
        await Expect(page.Locator("#pane")).ToContainTextAsync("No-show by User");

        var booking = await server.GetJsonAsync($"/api/v1/bookings/{bookingId}");
        booking["status"]!.GetValue<string>().ShouldBe("noShow");
        booking["reason"]!.GetValue<string>().ShouldBe("Did not join the call");
    }

    [BrowserFact]
    public async Task An_administrator_reassigns_a_booking_to_another_team_member()
    {
        var (newHostId, _) = await Arrange.UserAsync(server, "Rita Receiver");
        var bookingPage = await Arrange.PageAsync(server, "Reassignable call");
        var ritasPage = await Arrange.PageAsync(server, "Rita's call", ownerId: newHostId);
        var slug = bookingPage["slug"]!.GetValue<string>();
        var slots = await server.GetJsonAsync($"/api/v1/booking-pages/{slug}/slots?from={Today(1)}&to={Today(3)}&timeZone=UTC");
        var booking = await server.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new
        {
            start = slots["slots"]![0]!["start"]!.GetValue<string>(),
            customer = new { name = "Rene Reassigned", email = $"{Arrange.Unique("reassign")}@example.com" },
        });
        var bookingId = booking["id"]!.GetValue<string>();

        var page = await server.SignedInAsync();
        await page.GotoAsync($"/app/activity?open={bookingId}&from={Today(1)}");
        await page.Locator("#pane").GetByRole(AriaRole.Link, new() { Name = "Reassign booking…" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reassign Reassignable call with Rene Reassigned" })).ToBeVisibleAsync();
        var target = page.Locator($"input[name='TargetPageId'][value='{ritasPage["id"]}']");
        await Expect(target.Locator("xpath=..")).ToContainTextAsync("Rita Receiver");
        await Expect(target.Locator("xpath=..")).ToContainTextAsync("Available");
        await target.CheckAsync();
        await page.GetByLabel("Reason").FillAsync("Ada is on leave");
        await Screens.SaveAsync(page, "reassign-booking");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reassign" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The booking is reassigned to Rita Receiver (Rita's call).");
        await Expect(page.Locator("#pane")).ToContainTextAsync("Rita Receiver");

        var after = await server.GetJsonAsync($"/api/v1/bookings/{bookingId}");
        after["ownerId"]!.GetValue<string>().ShouldBe(newHostId);
        after["bookingPageId"]!.GetValue<string>().ShouldBe(ritasPage["id"]!.GetValue<string>());
    }

    [BrowserCalDavFact]
    public async Task A_user_connects_a_caldav_calendar_and_turns_on_a_sync_toggle()
    {
        // A calendar of the test CalDAV server of its own.
        var name = Arrange.Unique("web");
        var user = TestEnvironment.CalDavUser ?? throw new InvalidOperationException("RENDEZVOUS_TEST_CALDAV_USER is not set.");
        var password = TestEnvironment.CalDavPassword ?? throw new InvalidOperationException("RENDEZVOUS_TEST_CALDAV_PASSWORD is not set.");
        var serverUrl = TestEnvironment.CalDavUrl ?? throw new InvalidOperationException("RENDEZVOUS_TEST_CALDAV_URL is not set.");
        using (var caldav = new CalDavClient(new CalDavClientOptions { ServerUri = new Uri(serverUrl), UserName = user, Password = password }))
        {
            await caldav.CreateCalendarAsync($"/{user}/{name}/", "Browser " + name, ["VEVENT"]);
        }

        var (memberId, email) = await Arrange.UserAsync(server, "Cal Member", password: "member password 1");
        var page = await server.SignedInAsync(email, "member password 1");
        await page.GetByRole(AriaRole.Link, new() { Name = "Calendar connection" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Connect a CalDAV calendar" })).ToBeVisibleAsync();
        // The CalDAV form (the page also offers Exchange Server's, with fields of the same names).
        var form = page.Locator("form", new() { Has = page.GetByRole(AriaRole.Button, new() { Name = "Find my calendars" }) });
        await form.GetByLabel("Server address").FillAsync(serverUrl);
        await form.GetByLabel("User name", new() { Exact = true }).FillAsync(user);
        await form.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Find my calendars" }).ClickAsync();

        // Discovery lists the calendars; ours becomes the booking calendar. Both toggles start off.
        var ours = page.Locator($"input[name='BookingCalendarUrl'][value$='/{user}/{name}/']");
        await ours.CheckAsync();
        await Expect(page.GetByLabel("Deleting an event in my calendar cancels the booking")).Not.ToBeCheckedAsync();
        await Expect(page.GetByLabel("Changing the time in my calendar updates the booking")).Not.ToBeCheckedAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The calendar is connected.");
        await Expect(page.Locator("li[data-connection]").GetByRole(AriaRole.Heading)).ToContainTextAsync("Booking connection");
        await Expect(page.Locator("li[data-connection] .badge.healthy")).ToBeVisibleAsync();

        await page.GetByLabel("Deleting an event in my calendar cancels the booking").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save sync settings" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The sync settings are saved.");
        await Expect(page.GetByLabel("Deleting an event in my calendar cancels the booking")).ToBeCheckedAsync();
        await Screens.SaveAsync(page, "calendar-connection");

        var connection = (await server.GetJsonAsync("/api/v1/calendar-connections")).AsArray()
            .Single(c => c!["userId"]!.GetValue<string>() == memberId)!;
        connection["cancelBookingOnDelete"]!.GetValue<bool>().ShouldBeTrue();
        connection["updateBookingOnMove"]!.GetValue<bool>().ShouldBeFalse();
        connection["bookingCalendarUrl"]!.GetValue<string>().ShouldEndWith($"/{user}/{name}/");
    }

    private static string Today(int days = 0) => Arrange.Today(days);
}

using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Npgsql;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>Spaces in the web application: administration, the day timeline and the events team's queue.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SpacesTests(RendezvousServer server)
{
    [BrowserFact]
    public async Task An_administrator_adds_a_space_and_the_events_team_confirms_a_request_seeing_its_conflicts_first()
    {
        var page = await server.SignedInAsync();
        var hall = "Hall " + Arrange.Unique("h")[2..];

        // Spaces administration: a Rendezvous-managed room, added through the form.
        await page.GotoAsync("/app/admin/spaces");
        await page.GetByLabel("Name").FillAsync(hall);
        await page.GetByLabel("Capacity").FillAsync("120");
        await page.GetByLabel("Features").FillAsync("stage, projector");
        await page.GetByLabel("Administration").SelectOptionAsync("rendezvousManaged");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add space" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"{hall} is added.");
        await Expect(page.Locator("table")).ToContainTextAsync("Rendezvous (events team)");
        await Screens.SaveAsync(page, "spaces-administration");

        var spaces = await server.GetJsonAsync("/api/v1/spaces");
        var hallId = spaces.AsArray().Single(s => s!["name"]!.GetValue<string>() == hall)!["id"]!.GetValue<string>();
        var tokyo = await server.PostJsonAsync("/api/v1/spaces", new
        {
            name = "Tokyo studio " + Arrange.Unique("t")[2..],
            capacity = 8,
            timeZone = "Asia/Tokyo",
            administration = "autoAccept",
        });

        // Two overlapping requests for the hall the day after tomorrow, and one for the Tokyo studio.
        var day = Day(2);
        var gala = await RequestAsync(hallId, "Spring gala", $"{day}T10:00:00Z", $"{day}T13:00:00Z", "gala@outside.example");
        var rehearsal = await RequestAsync(hallId, "Choir rehearsal", $"{day}T12:00:00Z", $"{day}T14:00:00Z", "choir@outside.example");
        await RequestAsync(tokyo["id"]!.GetValue<string>(), "Product launch", $"{day}T08:00:00Z", $"{day}T09:30:00Z", "launch@outside.example");

        // The day timeline: spaces as rows, pending and confirmed events on them.
        await page.GotoAsync($"/app/spaces?date={day}");
        var hallRow = page.Locator($"[data-space-row='{hallId}']");
        await Expect(hallRow.Locator($"[data-request='{gala}']")).ToContainTextAsync("prospect");
        await Expect(hallRow.Locator($"[data-request='{rehearsal}']")).ToContainTextAsync("Choir rehearsal");
        await Expect(page.Locator($"[data-space-row='{tokyo["id"]}']")).ToContainTextAsync("Asia/Tokyo");
        await Screens.SaveAsync(page, "spaces-timeline");

        // The queue shows the conflict before confirming, then confirming declines the other request.
        await page.GotoAsync("/app/spaces/queue");
        var card = page.Locator($"[data-request-row='{gala}']");
        await Expect(card).ToContainTextAsync("Declined on confirming: Choir rehearsal");
        await Screens.SaveAsync(page, "spaces-queue");
        await card.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("\"Spring gala\" is now confirmed.");
        await Expect(page.Locator($"[data-request-row='{rehearsal}']")).ToHaveCountAsync(0);

        (await server.GetJsonAsync($"/api/v1/spaces/requests/{rehearsal}"))["state"]!.GetValue<string>().ShouldBe("declined");
        await page.GotoAsync($"/app/spaces?date={day}");
        await Expect(page.Locator($"[data-request='{gala}']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("confirmed"));
    }

    [BrowserFact]
    public async Task An_administrator_edits_every_field_of_a_space_on_its_own_screen()
    {
        var (moderatorId, _) = await Arrange.UserAsync(server, "Mona Moderator");
        var name = "Boardroom " + Arrange.Unique("b")[2..];
        var made = await server.PostJsonAsync("/api/v1/spaces", new { name, capacity = 10, timeZone = "Europe/London", administration = "autoAccept" });
        var id = made["id"]!.GetValue<string>();
        var page = await server.SignedInAsync();

        await page.GotoAsync("/app/admin/spaces");
        await page.GetByRole(AriaRole.Link, new() { Name = $"Edit {name}" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = name })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Capacity")).ToHaveValueAsync("10");

        var renamed = name + " East";
        await page.GetByLabel("Name").FillAsync(renamed);
        await page.GetByLabel("Kind").SelectOptionAsync("other");
        await page.GetByLabel("Capacity").FillAsync("14");
        await page.GetByLabel("Features").FillAsync("whiteboard, video");
        await page.GetByLabel("Time zone").SelectOptionAsync("America/New_York");
        await page.GetByLabel("Administration").SelectOptionAsync("moderated");
        await page.GetByLabel("Moderator").SelectOptionAsync(moderatorId);
        await page.GetByLabel("Resource calendar", new() { Exact = true }).SelectOptionAsync("imip");
        await page.GetByLabel("Resource calendar address").FillAsync("boardroom@rooms.example");
        await page.GetByLabel("Also put the event on the organizer's calendar").UncheckAsync();
        await page.GetByLabel("Fallback calendar").SelectOptionAsync(moderatorId);
        await Screens.SaveAsync(page, "spaces-edit");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"{renamed} is saved.");

        var saved = await server.GetJsonAsync($"/api/v1/spaces/{id}");
        saved["name"]!.GetValue<string>().ShouldBe(renamed);
        saved["kind"]!.GetValue<string>().ShouldBe("other");
        saved["capacity"]!.GetValue<int>().ShouldBe(14);
        saved["features"]!.AsArray().Select(f => f!.GetValue<string>()).ShouldBe(["whiteboard", "video"]);
        saved["timeZone"]!.GetValue<string>().ShouldBe("America/New_York");
        saved["administration"]!.GetValue<string>().ShouldBe("moderated");
        saved["moderatorId"]!.GetValue<string>().ShouldBe(moderatorId);
        saved["resourceCalendarKind"]!.GetValue<string>().ShouldBe("imip");
        saved["resourceCalendarAddress"]!.GetValue<string>().ShouldBe("boardroom@rooms.example");
        saved["writeToOrganizerCalendar"]!.GetValue<bool>().ShouldBeFalse();
        saved["fallbackCalendarUserId"]!.GetValue<string>().ShouldBe(moderatorId);

        // A moderated space without a moderator is refused on the form, naming the field.
        await page.GotoAsync($"/app/admin/spaces/{id}");
        await page.GetByLabel("Moderator").SelectOptionAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(page.Locator("#f-moderator")).ToHaveAttributeAsync("aria-invalid", "true");
        (await server.GetJsonAsync($"/api/v1/spaces/{id}"))["moderatorId"]!.GetValue<string>().ShouldBe(moderatorId);
    }

    [BrowserFact]
    public async Task Deleting_a_space_is_refused_while_it_has_requests_to_come_and_done_once_they_are_canceled()
    {
        var name = "Annex " + Arrange.Unique("a")[2..];
        var id = (await server.PostJsonAsync("/api/v1/spaces", new { name, capacity = 6, timeZone = "Europe/London", administration = "autoAccept" }))["id"]!
            .GetValue<string>();
        var day = Day(3);
        var request = await RequestAsync(id, "Budget review", $"{day}T09:00:00Z", $"{day}T10:00:00Z", "budget@outside.example");
        var page = await server.SignedInAsync();

        await page.GotoAsync($"/app/admin/spaces/{id}");
        var delete = page.Locator("[data-delete-space]");
        await Expect(delete).ToContainTextAsync("cannot be deleted while it has 1 confirmed or open request to come");
        await Expect(delete.Locator("[data-upcoming]")).ToContainTextAsync("Budget review");
        await Expect(delete.GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
        await Screens.SaveAsync(page, "spaces-delete-refused");

        await server.PostJsonAsync($"/api/v1/spaces/requests/{request}/cancel", new { reason = "Moved online" });
        await page.ReloadAsync();
        await delete.GetByRole(AriaRole.Button, new() { Name = $"Delete {name}" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"{name} is deleted.");
        await Expect(page.Locator($"[data-space='{id}']")).ToHaveCountAsync(0);
    }

    [BrowserFact]
    public async Task A_moderator_accepts_and_declines_the_requests_of_their_space_on_their_own_screen_seeing_conflicts_first()
    {
        var (moderatorId, email) = await Arrange.UserAsync(server, "Mo Derator", password: "moderator password 1");
        var name = "Studio " + Arrange.Unique("s")[2..];
        var id = (await server.PostJsonAsync("/api/v1/spaces", new
        {
            name, capacity = 12, timeZone = "Europe/London", administration = "moderated", moderatorId,
        }))["id"]!.GetValue<string>();
        var day = Day(4);
        var podcast = await RequestAsync(id, "Podcast recording", $"{day}T10:00:00Z", $"{day}T11:00:00Z", "podcast@outside.example");
        var photo = await RequestAsync(id, "Photo shoot", $"{day}T10:30:00Z", $"{day}T12:00:00Z", "photo@outside.example");
        var page = await server.SignedInAsync(email, "moderator password 1");

        await page.GotoAsync("/app/spaces/queue");
        await page.GetByRole(AriaRole.Link, new() { Name = "Requests you moderate" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Requests you moderate" })).ToBeVisibleAsync();
        var card = page.Locator($"[data-request-row='{podcast}']");
        await Expect(card).ToContainTextAsync("pending");
        await Expect(card).ToContainTextAsync("Declined on confirming: Photo shoot");
        await Expect(card.GetByRole(AriaRole.Button, new() { Name = "Confirm" })).ToHaveCountAsync(0);
        await Screens.SaveAsync(page, "spaces-moderation");

        await card.GetByRole(AriaRole.Button, new() { Name = "Accept" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("\"Podcast recording\" is now confirmed.");
        // Still on the moderator's screen; the overlapping request was declined by the acceptance.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Requests you moderate" })).ToBeVisibleAsync();
        await Expect(page.Locator($"[data-request-row='{photo}']")).ToHaveCountAsync(0);
        (await server.GetJsonAsync($"/api/v1/spaces/requests/{podcast}"))["state"]!.GetValue<string>().ShouldBe("confirmed");
        (await server.GetJsonAsync($"/api/v1/spaces/requests/{photo}"))["state"]!.GetValue<string>().ShouldBe("declined");

        var late = await RequestAsync(id, "Late rehearsal", $"{day}T15:00:00Z", $"{day}T16:00:00Z", "late@outside.example");
        await page.ReloadAsync();
        var lateCard = page.Locator($"[data-request-row='{late}']");
        await lateCard.GetByLabel("Reason (optional)").FillAsync("The studio is being cleaned then");
        await lateCard.GetByRole(AriaRole.Button, new() { Name = "Decline" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("\"Late rehearsal\" is now declined.");
        var declined = await server.GetJsonAsync($"/api/v1/spaces/requests/{late}");
        declined["state"]!.GetValue<string>().ShouldBe("declined");
        declined["lastReason"]!.GetValue<string>().ShouldBe("The studio is being cleaned then");
    }

    [BrowserFact]
    public async Task The_timeline_shows_a_space_in_another_time_zone_in_its_own_zone_and_the_viewers()
    {
        var name = "Sydney loft " + Arrange.Unique("y")[2..];
        var id = (await server.PostJsonAsync("/api/v1/spaces", new { name, capacity = 20, timeZone = "Australia/Sydney", administration = "rendezvousManaged" }))["id"]!
            .GetValue<string>();
        var day = Day(5);
        // 14:00-15:30 UTC: afternoon for the viewer in London, past midnight in Sydney.
        var launch = await RequestAsync(id, "Harbour launch", $"{day}T14:00:00Z", $"{day}T15:30:00Z", "launch@outside.example");
        // The administrator's own zone is Europe/London: the viewer's zone for the timeline.
        var page = await server.SignedInAsync();

        await page.GotoAsync($"/app/spaces?date={day}");
        var row = page.Locator($"[data-space-row='{id}']");
        await Expect(row).ToContainTextAsync("Australia/Sydney");
        var expected = await server.GetJsonAsync($"/api/v1/spaces/requests/{launch}?timeZone=Europe/London");
        var viewer = expected["startTimes"]!["inViewerZone"]!.GetValue<string>()[11..16];
        var own = expected["startTimes"]!["inSpaceZone"]!.GetValue<string>()[11..16];
        viewer.ShouldNotBe(own);
        var box = row.Locator($"[data-request='{launch}']");
        await Expect(box.Locator("[data-zone='viewer']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex($"^{viewer}–"));
        await Expect(box.Locator("[data-zone='space']")).ToContainTextAsync($"{own}–");
        await Expect(box.Locator("[data-zone='space']")).ToContainTextAsync("Australia/Sydney");
        await Expect(box.Locator("[data-zone='space']")).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "spaces-timeline-zones");
    }

    private async Task<string> RequestAsync(string spaceId, string summary, string start, string end, string organizer)
    {
        var made = await server.PostJsonAsync("/api/v1/spaces/requests", new { spaceIds = new[] { spaceId }, summary, start, end, organizerEmail = organizer });
        return made.AsArray()[0]!["id"]!.GetValue<string>();
    }

    private static string Day(int plusDays)
    {
        // The server's clock is the machine's; "today" comes from the database rather than the system clock.
        var builder = new NpgsqlDataSourceBuilder(TestEnvironment.Database);
        builder.UseNodaTime();
        using var dataSource = builder.Build();
        using var cmd = dataSource.CreateCommand("SELECT (now() AT TIME ZONE 'UTC')::date");
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return reader.GetFieldValue<NodaTime.LocalDate>(0).PlusDays(plusDays).ToString("uuuu-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
    }
}

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

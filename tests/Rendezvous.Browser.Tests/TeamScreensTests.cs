using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// The team screens (docs/TEAMS.md) end to end: an administrator sets up a round-robin and a collective page and a
/// routing form on the staff screens, visitors book and are routed on the public ones, and customers and staff
/// reschedule a booking into another appointment type. Every new screen is checked with axe as well.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class TeamScreensTests(RendezvousServer server)
{
    [BrowserFact]
    public async Task An_administrator_sets_up_round_robin_and_collective_pages_and_visitors_get_only_free_members()
    {
        var (roryId, _) = await Arrange.UserAsync(server, "Rory Robin");
        var (tessId, _) = await Arrange.UserAsync(server, "Tess Team");
        var roundRobin = await Arrange.PageAsync(server, "Support call");
        var collective = await Arrange.PageAsync(server, "Joint review");
        var day = Arrange.Today(2);

        // Rory is busy at 10:00 and Tess at 11:00 that day, each with a booking of their own page.
        await BookAsync(await Arrange.PageAsync(server, "Rory's own call", ownerId: roryId), $"{day}T10:00:00Z");
        await BookAsync(await Arrange.PageAsync(server, "Tess's own call", ownerId: tessId), $"{day}T11:00:00Z");

        // Round-robin by priority: Rory (9) before Tess (2) whenever both are free.
        var staff = await server.SignedInAsync();
        await staff.GotoAsync($"/app/pages/{roundRobin["id"]}");
        await staff.GetByLabel("Round-robin team").CheckAsync();
        await staff.GetByRole(AriaRole.Checkbox, new() { NameRegex = new Regex("^Rory Robin") }).CheckAsync();
        await staff.GetByRole(AriaRole.Checkbox, new() { NameRegex = new Regex("^Tess Team") }).CheckAsync();
        await staff.GetByLabel("Priority of Rory Robin").FillAsync("9");
        await staff.GetByLabel("Priority of Tess Team").FillAsync("2");
        await staff.GetByLabel("Balance round-robin bookings by").SelectOptionAsync("priority");
        await Expect(staff.GetByLabel("Balance window")).ToBeVisibleAsync();
        (await Axe.SeriousViolationsAsync(staff)).ShouldBeEmpty();
        await staff.Locator("fieldset#f-teamMembers, fieldset[id$='teamMembers']").First.ScrollIntoViewIfNeededAsync();
        await Screens.SaveAsync(staff, "team-page-editor", fullPage: false);
        await staff.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved.");

        var saved = await server.GetJsonAsync($"/api/v1/booking-pages/{roundRobin["id"]}");
        saved["schedulingOption"]!.GetValue<string>().ShouldBe("roundRobin");
        saved["roundRobinBalance"]!.GetValue<string>().ShouldBe("priority");
        Priorities(saved).ShouldBe(new Dictionary<string, int> { [roryId] = 9, [tessId] = 2 });

        // Collective: both must be free.
        await staff.GotoAsync($"/app/pages/{collective["id"]}");
        await staff.GetByLabel("Collective team").CheckAsync();
        await staff.GetByRole(AriaRole.Checkbox, new() { NameRegex = new Regex("^Rory Robin") }).CheckAsync();
        await staff.GetByRole(AriaRole.Checkbox, new() { NameRegex = new Regex("^Tess Team") }).CheckAsync();
        await staff.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved.");
        (await server.GetJsonAsync($"/api/v1/booking-pages/{collective["id"]}"))["schedulingOption"]!.GetValue<string>().ShouldBe("collective");

        // The round-robin page offers 10:00 and 11:00 (someone is free); a visitor books 10:00 and gets Tess, the free
        // one, although Rory has the higher priority; 12:00 goes to Rory.
        var visitor = await server.NewPageAsync(timeZone: "UTC");
        await visitor.GotoAsync($"{Arrange.PathOf(roundRobin)}?tz=UTC&date={day}");
        await Expect(Slot(visitor, "11:00")).ToBeVisibleAsync();
        (await Axe.SeriousViolationsAsync(visitor)).ShouldBeEmpty();
        var atTen = await BookInBrowserAsync(visitor, roundRobin, day, "10:00");
        var atNoon = await BookInBrowserAsync(visitor, roundRobin, day, "12:00");
        atTen["ownerId"]!.GetValue<string>().ShouldBe(tessId);
        atNoon["ownerId"]!.GetValue<string>().ShouldBe(roryId);

        // The staff screen says who holds it.
        await staff.GotoAsync($"/app/bookings/{atTen["id"]}");
        await Expect(staff.Locator("main")).ToContainTextAsync("Tess Team");

        // The collective page leaves out every time either member is busy (10:00 Rory, 11:00 Tess, 12:00 Rory now).
        await visitor.GotoAsync($"{Arrange.PathOf(collective)}?tz=UTC&date={day}");
        await Expect(Slot(visitor, "13:00")).ToBeVisibleAsync();
        foreach (var busy in new[] { "10:00", "11:00", "12:00" })
        {
            await Expect(Slot(visitor, busy)).ToHaveCountAsync(0);
        }

        await Expect(Slot(visitor, "09:30")).ToBeVisibleAsync();
        var both = await BookInBrowserAsync(visitor, collective, day, "13:00");
        both["hosts"]!.AsArray().Select(h => h!["userId"]!.GetValue<string>()).ShouldBe([roryId, tessId], ignoreOrder: true);
    }

    [BrowserFact]
    public async Task An_administrator_builds_a_routing_form_and_visitors_land_on_the_page_or_member_their_answers_choose()
    {
        var (maraId, _) = await Arrange.UserAsync(server, "Mara Member");
        var (nilsId, _) = await Arrange.UserAsync(server, "Nils Member");
        var sales = await Arrange.PageAsync(server, "Sales conversation");
        var support = await server.PostJsonAsync("/api/v1/booking-pages", new
        {
            slug = Arrange.Unique("pg"),
            title = "Support session",
            durationMinutes = 30,
            timeZone = "UTC",
            weeklyHours = Arrange.AlwaysOpen(),
            schedulingOption = "roundRobin",
            teamMembers = new[] { new { userId = maraId, priority = 5 }, new { userId = nilsId, priority = 5 } },
        });
        var slug = Arrange.Unique("rf");

        var staff = await server.SignedInAsync();
        await staff.GetByRole(AriaRole.Link, new() { Name = "Routing forms" }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Heading, new() { Name = "Routing forms", Level = 1 })).ToBeVisibleAsync();
        (await Axe.SeriousViolationsAsync(staff)).ShouldBeEmpty();
        await staff.GetByRole(AriaRole.Link, new() { Name = "New routing form" }).ClickAsync();

        await staff.Locator("#title").FillAsync("Which call fits?");
        await staff.Locator("#slug").FillAsync(slug);
        await staff.Locator("#q0-id").FillAsync("topic");
        await staff.Locator("#q0-label").FillAsync("What would you like to talk about?");
        await staff.Locator("#q0-kind").SelectOptionAsync("choice");
        await staff.Locator("#q0-options").FillAsync("Buying\nA problem\nSomething else");
        await staff.Locator("input[name='Questions[0].Required'][type=checkbox]").CheckAsync();

        await staff.Locator("#r0-question").FillAsync("topic");
        await staff.Locator("#r0-value").FillAsync("Buying");
        await staff.Locator("#r0-target").SelectOptionAsync("page");
        await staff.Locator("#r0-page").SelectOptionAsync(sales["id"]!.GetValue<string>());

        await staff.Locator("#r1-question").FillAsync("topic");
        await staff.Locator("#r1-value").FillAsync("A problem");
        await staff.Locator("#r1-target").SelectOptionAsync("member");
        await staff.Locator("#r1-page").SelectOptionAsync(support["id"]!.GetValue<string>());
        await staff.Locator("#r1-member").SelectOptionAsync(nilsId);
        await staff.GetByLabel("When no rule matches, show").FillAsync("Write to hello@browser.example and we will find the right person.");
        await staff.GetByRole(AriaRole.Button, new() { Name = "Save routing form" }).ClickAsync();
        await staff.WaitForURLAsync(new Regex("/app/admin/routing-forms/[0-9a-f-]{36}$"));
        await Expect(staff.Locator("#r1-member")).ToHaveValueAsync(nilsId);
        (await Axe.SeriousViolationsAsync(staff)).ShouldBeEmpty();
        await Screens.SaveAsync(staff, "routing-form-editor");

        await staff.GotoAsync("/app/admin/routing-forms");
        await Expect(staff.GetByRole(AriaRole.Link, new() { Name = $"/route/{RendezvousServer.Organization}/{slug}" })).ToBeVisibleAsync();
        await Screens.SaveAsync(staff, "routing-forms");

        // A visitor who is buying lands on the sales page.
        var visitor = await server.NewPageAsync(timeZone: "UTC");
        var form = $"/route/{RendezvousServer.Organization}/{slug}";
        await visitor.GotoAsync(form);
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "Which call fits?" })).ToBeVisibleAsync();
        (await Axe.SeriousViolationsAsync(visitor)).ShouldBeEmpty();
        await visitor.GetByLabel("Buying").CheckAsync();
        await Screens.SaveAsync(visitor, "routing-form-public");
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await visitor.WaitForURLAsync(new Regex(Regex.Escape(Arrange.PathOf(sales)) + @"(\?|$)"));
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "Sales conversation" })).ToBeVisibleAsync();

        // One with a problem lands on the support page with Nils chosen, and the booking goes to Nils.
        await visitor.GotoAsync(form);
        await visitor.GetByLabel("A problem").CheckAsync();
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await visitor.WaitForURLAsync(new Regex(Regex.Escape(Arrange.PathOf(support)) + @"\?.*member=" + nilsId));
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "Support session" })).ToBeVisibleAsync();
        await visitor.Locator(".slots a").First.ClickAsync();
        await visitor.GetByLabel("Your name").FillAsync("Rita Routed");
        await visitor.GetByLabel("Email").FillAsync($"{Arrange.Unique("routed")}@example.com");
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "You are booked" })).ToBeVisibleAsync();
        var routed = (await server.GetJsonAsync($"/api/v1/bookings?bookingPageId={support["id"]}")).AsArray().Single()!;
        routed["ownerId"]!.GetValue<string>().ShouldBe(nilsId);

        // Anything else: the fallback message, on the form, which stays where it is.
        await visitor.GotoAsync(form);
        await visitor.GetByLabel("Something else").CheckAsync();
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Status)).ToContainTextAsync("Write to hello@browser.example and we will find the right person.");
        new Uri(visitor.Url).AbsolutePath.ShouldBe(form);

        // No answer at all: the required question says so.
        await visitor.GotoAsync(form);
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Expect(visitor.Locator(".error-summary")).ToBeVisibleAsync();
        (await Axe.SeriousViolationsAsync(visitor)).ShouldBeEmpty();
    }

    [BrowserFact]
    public async Task A_customer_and_a_team_member_reschedule_a_booking_into_another_appointment_type()
    {
        var (hostId, _) = await Arrange.UserAsync(server, "Hana Host");
        var intro = await Arrange.PageAsync(server, "Intro call", ownerId: hostId);
        var deepDive = await Arrange.PageAsync(server, "Deep dive", ownerId: hostId, durationMinutes: 60);
        var deepDiveId = deepDive["id"]!.GetValue<string>();

        // The customer, from the link in their confirmation email.
        var email = $"{Arrange.Unique("typed")}@example.com";
        var first = await BookAsync(intro, $"{Arrange.Today(2)}T09:00:00Z", email);
        var link = Mail.ManageLink(await Mail.WaitForAsync(email, "confirmation"), server.BaseUrl);
        var customer = await server.NewPageAsync(timeZone: "UTC");
        await customer.GotoAsync(link);
        await customer.GetByRole(AriaRole.Link, new() { Name = "Reschedule" }).ClickAsync();
        await Expect(customer.GetByRole(AriaRole.Heading, new() { Name = "Reschedule your appointment" })).ToBeVisibleAsync();
        await customer.GetByLabel("Reschedule as").SelectOptionAsync(deepDiveId);
        await customer.GetByRole(AriaRole.Button, new() { Name = "Show its times" }).ClickAsync();
        await Expect(customer.GetByLabel("Reschedule as")).ToHaveValueAsync(deepDiveId);
        (await Axe.SeriousViolationsAsync(customer)).ShouldBeEmpty();
        await Screens.SaveAsync(customer, "manage-reschedule-type");
        await customer.GotoAsync(Arrange.OnDay(customer.Url, Arrange.Today(4), deepDiveId));
        await customer.Locator(".slots a").Nth(2).ClickAsync();
        await Expect(customer.GetByRole(AriaRole.Heading, new() { Name = "Move your appointment?" })).ToBeVisibleAsync();
        await Expect(customer.Locator("dl.details")).ToContainTextAsync("Deep dive (60 minutes)");
        (await Axe.SeriousViolationsAsync(customer)).ShouldBeEmpty();
        await customer.GetByRole(AriaRole.Button, new() { Name = "Move my appointment" }).ClickAsync();
        await Expect(customer.GetByRole(AriaRole.Heading, new() { Name = "Your appointment is moved" })).ToBeVisibleAsync();
        await Expect(customer.Locator("main")).ToContainTextAsync("Deep dive");
        await AssertMovedAsync(first, deepDiveId);

        // A team member, from the staff reschedule screen.
        var second = await BookAsync(intro, $"{Arrange.Today(3)}T09:00:00Z");
        var staff = await server.SignedInAsync();
        await staff.GotoAsync($"/app/bookings/{second["id"]}/reschedule?tz=UTC");
        await staff.GetByLabel("Reschedule as").SelectOptionAsync(deepDiveId);
        await staff.GetByRole(AriaRole.Button, new() { Name = "Show its times" }).ClickAsync();
        await Expect(staff.GetByLabel("Reschedule as")).ToHaveValueAsync(deepDiveId);
        (await Axe.SeriousViolationsAsync(staff)).ShouldBeEmpty();
        await Screens.SaveAsync(staff, "staff-reschedule-type");
        await staff.GotoAsync(Arrange.OnDay(staff.Url, Arrange.Today(5), deepDiveId));
        await Expect(staff.GetByLabel("Reschedule as")).ToHaveValueAsync(deepDiveId);
        await staff.Locator(".slots a").Nth(2).ClickAsync();
        await Expect(staff.Locator("#f-type")).ToContainTextAsync("Appointment type: Deep dive (60 minutes)");
        (await Axe.SeriousViolationsAsync(staff)).ShouldBeEmpty();
        await staff.GetByRole(AriaRole.Button, new() { Name = "Reschedule", Exact = true }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync("Moved to");
        await AssertMovedAsync(second, deepDiveId);
        await staff.GotoAsync($"/app/bookings/{second["id"]}");
        await Expect(staff.Locator("main")).ToContainTextAsync("Deep dive");
    }

    private async Task AssertMovedAsync(JsonNode before, string pageId)
    {
        var after = await server.GetJsonAsync($"/api/v1/bookings/{before["id"]}");
        after["bookingPageId"]!.GetValue<string>().ShouldBe(pageId);
        after["status"]!.GetValue<string>().ShouldBe("rescheduled");
        after["start"]!.GetValue<string>().ShouldNotBe(before["start"]!.GetValue<string>());
        (DateTimeOffset.Parse(after["end"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse(after["start"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(TimeSpan.FromHours(1));
    }

    private static ILocator Slot(IPage page, string time) =>
        page.Locator(".slots a").Filter(new() { HasTextRegex = new Regex($@"^\s*{Regex.Escape(time)}\s*$") });

    /// <summary>Books <paramref name="bookingPage"/> at <paramref name="time"/> on <paramref name="day"/> as a visitor does, and returns the booking.</summary>
    private async Task<JsonNode> BookInBrowserAsync(IPage visitor, JsonNode bookingPage, string day, string time)
    {
        var email = $"{Arrange.Unique("teamvisitor")}@example.com";
        await visitor.GotoAsync($"{Arrange.PathOf(bookingPage)}?tz=UTC&date={day}");
        await Slot(visitor, time).ClickAsync();
        await visitor.GetByLabel("Your name").FillAsync("Vera Visitor");
        await visitor.GetByLabel("Email").FillAsync(email);
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "You are booked" })).ToBeVisibleAsync();
        var bookings = (await server.GetJsonAsync($"/api/v1/bookings?bookingPageId={bookingPage["id"]}")).AsArray();
        return bookings.Single(b => b!["start"]!.GetValue<string>().StartsWith($"{day}T{time}", StringComparison.Ordinal))!;
    }

    private async Task<JsonNode> BookAsync(JsonNode bookingPage, string start, string? email = null) =>
        await server.PostJsonAsync($"/api/v1/booking-pages/{bookingPage["slug"]}/bookings", new
        {
            start,
            customer = new { name = "Cora Customer", email = email ?? $"{Arrange.Unique("teamcustomer")}@example.com", timeZone = "UTC" },
        });

    private static Dictionary<string, int> Priorities(JsonNode page) =>
        page["teamMembers"]!.AsArray().ToDictionary(m => m!["userId"]!.GetValue<string>(), m => m!["priority"]!.GetValue<int>());
}

using Microsoft.Playwright;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// The main screens, visited as people use them: each renders, every form control on it has a label, and a screenshot
/// of it is kept (docs/screenshots when RENDEZVOUS_UPDATE_SCREENSHOTS=1).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class TourTests(RendezvousServer server)
{
    /// <summary>Names the visible form controls that have no label (none is the goal: screen readers announce each one).</summary>
    private static async Task<IReadOnlyList<string>> UnlabelledAsync(IPage page) =>
        await page.EvaluateAsync<string[]>("""
            () => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
              .filter(el => el.offsetParent !== null)
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
              .map(el => el.outerHTML.slice(0, 120))
            """);

    private static async Task CheckAsync(IPage page, string screenshot, bool fullPage = true)
    {
        (await UnlabelledAsync(page)).ShouldBeEmpty($"every control on {page.Url} has a label");
        (await page.Locator("h1").CountAsync()).ShouldBe(1, $"{page.Url} has one main heading");
        await Screens.SaveAsync(page, screenshot, fullPage);
    }

    [BrowserFact]
    public async Task The_main_screens_render_with_labelled_controls_on_a_desktop_and_a_phone()
    {
        // Something to look at: a page that asks a question and needs approval, and a booking in the calendar.
        var approval = await server.PostJsonAsync("/api/v1/booking-pages", new
        {
            slug = Arrange.Unique("tour"), title = "Design review", durationMinutes = 45, timeZone = "Europe/London",
            weeklyHours = Arrange.AlwaysOpen(), requiresApproval = true, bufferAfterMinutes = 15,
            questions = new object[] { new { id = "project", label = "Which project?", required = true } },
        });
        var regular = await Arrange.PageAsync(server, "Coffee chat");
        var visitor = await server.NewPageAsync(timeZone: "Europe/London");
        await visitor.GotoAsync(Arrange.PathOf(regular) + "?tz=Europe/London");
        await visitor.Locator(".slots a").First.ClickAsync();
        await visitor.GetByLabel("Your name").FillAsync("Tom Tourist");
        await visitor.GetByLabel("Email").FillAsync($"{Arrange.Unique("tour")}@example.com");
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "You are booked" })).ToBeVisibleAsync();

        // The public side on a phone.
        var phone = await server.NewPageAsync(timeZone: "Asia/Tokyo", width: 390, height: 844);
        await phone.GotoAsync(Arrange.PathOf(approval));
        await Expect(phone.Locator("#tz")).ToHaveValueAsync("Asia/Tokyo");
        await CheckAsync(phone, "booking-page-phone");
        await phone.Locator(".slots a").First.ClickAsync();
        await Expect(phone.GetByLabel("Which project?")).ToBeVisibleAsync();
        await CheckAsync(phone, "booking-form-phone");
        await phone.GotoAsync($"/portal/{RendezvousServer.Organization}");
        await CheckAsync(phone, "portal-sign-in");

        // The staff side.
        var signIn = await server.NewPageAsync();
        await signIn.GotoAsync("/app/sign-in");
        await CheckAsync(signIn, "staff-sign-in");

        var staff = await server.SignedInAsync();
        await CheckAsync(staff, "activity-stream");
        await staff.GetByRole(AriaRole.Link, new() { Name = "My calendar" }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Heading, new() { Name = "My calendar" })).ToBeVisibleAsync();
        (await staff.Locator(".week .event").CountAsync()).ShouldBeGreaterThan(0);
        await CheckAsync(staff, "my-calendar");

        await staff.GetByRole(AriaRole.Link, new() { Name = "Booking pages" }).ClickAsync();
        await CheckAsync(staff, "booking-pages");
        await staff.GetByRole(AriaRole.Link, new() { Name = "Design review (edit)" }).ClickAsync();
        await Expect(staff.GetByLabel("Title")).ToHaveValueAsync("Design review");
        await Expect(staff.GetByLabel("Question 1", new() { Exact = true })).ToHaveValueAsync("Which project?");
        // A mistake is named next to its field.
        await staff.Locator("#f-hours-monday").FillAsync("9 to 5");
        await staff.Locator("#f-durationMinutes").FillAsync("2");
        await staff.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(staff.Locator(".error-summary")).ToContainTextAsync("Monday hours must be written like 09:00-17:00");
        await Expect(staff.Locator(".error-summary")).ToContainTextAsync("The duration must be between 5 and 1440 minutes");
        await Expect(staff.Locator("#f-durationMinutes")).ToHaveAttributeAsync("aria-invalid", "true");
        await CheckAsync(staff, "booking-page-editor");
        await staff.Locator("#f-hours-monday").FillAsync("08:00-12:00, 13:00-18:00");
        await staff.Locator("#f-durationMinutes").FillAsync("45");
        await staff.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved.");
        var saved = await server.GetJsonAsync($"/api/v1/booking-pages/{approval["id"]}");
        saved["weeklyHours"]!.AsArray().Count(h => h!["day"]!.GetValue<string>() == "monday").ShouldBe(2);

        await staff.GotoAsync("/app/calendar-connection");
        await CheckAsync(staff, "calendar-connection-new");
        await staff.GotoAsync("/app/admin/users");
        await CheckAsync(staff, "admin-users");
        await staff.GotoAsync("/app/admin/templates");
        await CheckAsync(staff, "admin-email-templates");
        await staff.GotoAsync("/app/admin/templates/confirmation/customer");
        await CheckAsync(staff, "admin-email-template");

        await staff.GotoAsync("/app/admin/webhooks");
        await staff.GetByLabel("URL").FillAsync("http://127.0.0.1:9/tour-hook");
        await staff.GetByLabel("Every event").CheckAsync();
        await staff.GetByLabel("Description").FillAsync("Automation for the tour");
        await staff.GetByRole(AriaRole.Button, new() { Name = "Subscribe" }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Heading, new() { Name = "Signing secret" })).ToBeVisibleAsync();
        await CheckAsync(staff, "admin-webhook");

        // The activity stream on a phone, with the request opened.
        var small = await server.SignedInAsync();
        await small.SetViewportSizeAsync(390, 844);
        await small.GotoAsync("/app/activity");
        await CheckAsync(small, "activity-stream-phone");
    }
}

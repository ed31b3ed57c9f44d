using Microsoft.Playwright;
using Npgsql;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// Accessibility (docs/ACCESSIBILITY.md): axe-core finds no serious or critical violation on any public or staff screen,
/// and a visitor and a team member can do their work with the keyboard alone.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AccessibilityTests(RendezvousServer server)
{
    private static string Today(int days = 0) => Arrange.Today(days);

    private async Task<(string BookingId, string CustomerEmail, string Slug)> BookAsync(string title)
    {
        var bookingPage = await Arrange.PageAsync(server, title);
        var slug = bookingPage["slug"]!.GetValue<string>();
        var slots = await server.GetJsonAsync($"/api/v1/booking-pages/{slug}/slots?from={Today(2)}&to={Today(3)}&timeZone=UTC");
        var email = $"{Arrange.Unique("a11y")}@example.com";
        var booking = await server.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new
        {
            start = slots["slots"]![0]!["start"]!.GetValue<string>(),
            customer = new { name = "Alex Access", email, timeZone = "UTC" },
        });
        return (booking["id"]!.GetValue<string>(), email, slug);
    }

    [BrowserFact]
    public async Task Every_public_and_staff_screen_has_no_serious_or_critical_axe_violation()
    {
        var (bookingId, customerEmail, slug) = await BookAsync("Accessible call");
        var (userId, _) = await Arrange.UserAsync(server, "Ida Inclusive");
        var pagePath = $"/{RendezvousServer.Organization}/{slug}";
        var found = new List<string>();

        // The public side, in English and in German, on a desktop and a phone.
        var visitor = await server.NewPageAsync();
        await visitor.GotoAsync(pagePath + "?tz=UTC");
        await Axe.CollectAsync(visitor, found);
        await visitor.Locator(".slots a").First.ClickAsync();
        await Axe.CollectAsync(visitor, found);
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        await Expect(visitor.Locator(".error-summary")).ToBeVisibleAsync();
        await Axe.CollectAsync(visitor, found);
        await visitor.GetByLabel("Your name").FillAsync("Alex Access");
        await visitor.GetByLabel("Email", new() { Exact = true }).FillAsync($"{Arrange.Unique("a11y")}@example.com");
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "You are booked" })).ToBeVisibleAsync();
        await Axe.CollectAsync(visitor, found);
        await visitor.GotoAsync($"/{RendezvousServer.Organization}/no-such-page");
        await Axe.CollectAsync(visitor, found);

        var german = await server.NewPageAsync(locale: "de-DE", width: 390, height: 844);
        await german.GotoAsync(pagePath + "?tz=UTC");
        await Axe.CollectAsync(german, found);

        var link = Mail.ManageLink(await Mail.WaitForAsync(customerEmail, "confirmation"), server.BaseUrl);
        var customer = await server.NewPageAsync();
        await customer.GotoAsync(link);
        await Axe.CollectAsync(customer, found);
        await customer.GetByRole(AriaRole.Link, new() { Name = "Reschedule" }).ClickAsync();
        await Expect(customer.GetByRole(AriaRole.Heading, new() { Name = "Reschedule your appointment" })).ToBeVisibleAsync();
        await Axe.CollectAsync(customer, found);
        await customer.Locator(".slots a").Nth(1).ClickAsync();
        await Expect(customer.GetByRole(AriaRole.Heading, new() { Name = "Move your appointment?" })).ToBeVisibleAsync();
        await Axe.CollectAsync(customer, found);
        await customer.GotoAsync(link);
        await customer.GetByRole(AriaRole.Link, new() { Name = "Cancel appointment" }).ClickAsync();
        await Expect(customer.GetByRole(AriaRole.Heading, new() { Name = "Cancel this appointment?" })).ToBeVisibleAsync();
        await Axe.CollectAsync(customer, found);
        await customer.GotoAsync($"/portal/{RendezvousServer.Organization}");
        await Axe.CollectAsync(customer, found);

        // The staff side.
        var signIn = await server.NewPageAsync();
        await signIn.GotoAsync("/app/sign-in");
        await Axe.CollectAsync(signIn, found);
        var staff = await server.SignedInAsync();
        var pageId = (await server.GetJsonAsync("/api/v1/booking-pages")).AsArray()
            .First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();
        string[] screens =
        [
            "/app/activity", "/app/calendar", $"/app/bookings/{bookingId}",
            $"/app/bookings/{bookingId}/reschedule", $"/app/bookings/{bookingId}/cancel", $"/app/bookings/{bookingId}/reassign",
            "/app/pages", "/app/pages/new", $"/app/pages/{pageId}", "/app/calendar-connection", "/app/profile", "/app/spaces",
            "/app/spaces/queue", "/app/spaces/queue?moderating=true", "/app/automations", "/app/admin/users", $"/app/admin/users/{userId}",
            "/app/admin/customers", "/app/admin/templates", "/app/admin/templates/confirmation/customer", "/app/admin/webhooks",
            "/app/admin/spaces", "/app/admin/outbox",
        ];
        foreach (var screen in screens)
        {
            var response = await staff.GotoAsync(screen);
            response!.Ok.ShouldBeTrue($"{screen} answered {response.Status}");
            await Axe.CollectAsync(staff, found);
        }

        found.ShouldBeEmpty("axe-core found serious or critical violations:\n" + string.Join("\n", found));
    }

    /// <summary>Presses Tab until the focused element matches <paramref name="selector"/> (at most 80 times).</summary>
    private static async Task TabToAsync(IPage page, string selector)
    {
        for (var i = 0; i < 80; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<bool>("s => document.activeElement !== null && document.activeElement.matches(s)", selector))
            {
                return;
            }
        }

        throw new InvalidOperationException($"Tab never reached {selector} on {page.Url}.");
    }

    [BrowserFact]
    public async Task A_visitor_books_with_the_keyboard_alone()
    {
        var bookingPage = await Arrange.PageAsync(server, "Keyboard call");
        var visitor = await server.NewPageAsync(timeZone: "UTC");
        await visitor.GotoAsync(Arrange.PathOf(bookingPage));
        await Expect(visitor.Locator("#tz")).ToHaveValueAsync("UTC");

        // The zone picker: arrows change it, and the page shows the times in the new zone.
        await TabToAsync(visitor, "#tz");
        await visitor.Keyboard.PressAsync("ArrowUp");
        await visitor.WaitForURLAsync(u => u.Contains("tz=", StringComparison.Ordinal) && !u.EndsWith("tz=UTC", StringComparison.Ordinal));
        await visitor.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(visitor.Locator("#tz")).Not.ToHaveValueAsync("UTC");

        // A day, then a time, then the form: Tab, Enter and typing only.
        await TabToAsync(visitor, ".month td a");
        await visitor.Keyboard.PressAsync("Enter");
        await visitor.WaitForURLAsync(u => u.Contains("date=", StringComparison.Ordinal));
        await TabToAsync(visitor, ".slots a");
        await visitor.Keyboard.PressAsync("Enter");
        await visitor.WaitForURLAsync(u => u.Contains("/book?", StringComparison.Ordinal));
        await Expect(visitor.GetByLabel("Your name")).ToBeVisibleAsync();
        await TabToAsync(visitor, "#f-name");
        await visitor.Keyboard.TypeAsync("Kim Keys");
        await visitor.Keyboard.PressAsync("Tab");
        await visitor.Keyboard.TypeAsync($"{Arrange.Unique("keys")}@example.com");
        await TabToAsync(visitor, "button[type=submit]");
        await visitor.Keyboard.PressAsync("Space");
        await visitor.WaitForURLAsync(u => u.Contains("/booked/", StringComparison.Ordinal));
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "You are booked" })).ToBeVisibleAsync();

        // The confirmation's own controls are reachable too.
        await TabToAsync(visitor, "a[href^='/manage/']:not([download])");
        await visitor.Keyboard.PressAsync("Enter");
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "Your appointment" })).ToBeVisibleAsync();
    }

    [BrowserFact]
    public async Task A_team_member_signs_in_and_cancels_a_booking_with_the_keyboard_alone()
    {
        var (bookingId, _, _) = await BookAsync("Keyboard staff call");
        var page = await server.NewPageAsync();
        await page.GotoAsync("/app/sign-in");
        await TabToAsync(page, "input[type=email]");
        await page.Keyboard.TypeAsync(RendezvousServer.AdminEmail);
        await TabToAsync(page, "input[type=password]");
        await page.Keyboard.TypeAsync(RendezvousServer.AdminPassword);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync("**/app/activity**");

        await page.GotoAsync($"/app/bookings/{bookingId}");
        await TabToAsync(page, $"a[href^='/app/bookings/{bookingId}/cancel']");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("[data-cancel-warning]")).ToBeVisibleAsync();
        await TabToAsync(page, "#f-reason");
        await page.Keyboard.TypeAsync("Typed without a mouse");
        await TabToAsync(page, "button.danger");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Status)).ToBeVisibleAsync();
        (await server.GetJsonAsync($"/api/v1/bookings/{bookingId}"))["status"]!.GetValue<string>().ShouldBe("canceled");
    }
}

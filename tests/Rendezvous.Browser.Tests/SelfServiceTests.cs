using Microsoft.Playwright;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>A customer follows the link in their confirmation email to reschedule, then to cancel.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SelfServiceTests(RendezvousServer server)
{
    [BrowserFact]
    public async Task A_customer_reschedules_and_cancels_through_the_emailed_link()
    {
        var bookingPage = await Arrange.PageAsync(server, "Follow-up call");
        var slug = bookingPage["slug"]!.GetValue<string>();
        var email = $"{Arrange.Unique("customer")}@example.com";

        // Booked through the page like any visitor.
        var visitor = await server.NewPageAsync(timeZone: "Europe/Paris");
        await visitor.GotoAsync(Arrange.PathOf(bookingPage) + "?tz=Europe/Paris");
        await visitor.Locator(".slots a").First.ClickAsync();
        await visitor.GetByLabel("Your name").FillAsync("Carla Customer");
        await visitor.GetByLabel("Email").FillAsync(email);
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "You are booked" })).ToBeVisibleAsync();
        var booking = (await server.GetJsonAsync($"/api/v1/bookings?bookingPageId={bookingPage["id"]}")).AsArray().Single()!;
        var originalStart = booking["start"]!.GetValue<string>();

        // The confirmation email carries the signed link.
        var confirmation = await Mail.WaitForAsync(email, "confirmation");
        var link = Mail.ManageLink(confirmation, server.BaseUrl);

        var page = await server.NewPageAsync(timeZone: "Europe/Paris");
        await page.GotoAsync(link);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your appointment" })).ToBeVisibleAsync();
        await Expect(page.GetByText("Follow-up call").First).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "manage-appointment");

        // Reschedule: the same picker, another time, a confirmation step.
        await page.GetByRole(AriaRole.Link, new() { Name = "Reschedule" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reschedule your appointment" })).ToBeVisibleAsync();
        await page.GotoAsync(Arrange.OnDay(page.Url, Arrange.Today(3)));
        var slots = page.Locator(".slots a");
        (await slots.CountAsync()).ShouldBeGreaterThan(1);
        await slots.Nth(1).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Move your appointment?" })).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "manage-reschedule-confirm");
        await page.GetByRole(AriaRole.Button, new() { Name = "Move my appointment" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your appointment is moved" })).ToBeVisibleAsync();
        var moved = (await server.GetJsonAsync($"/api/v1/bookings/{booking["id"]}"))!;
        moved["status"]!.GetValue<string>().ShouldBe("rescheduled");
        moved["start"]!.GetValue<string>().ShouldNotBe(originalStart);

        // Cancel: from the same link, with a confirmation step and a reason.
        await page.GotoAsync(link);
        await page.GetByRole(AriaRole.Link, new() { Name = "Cancel appointment" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Cancel this appointment?" })).ToBeVisibleAsync();
        await page.GetByLabel("Reason").FillAsync("Something came up");
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, cancel the appointment" }).ClickAsync();
        await Expect(page.GetByText("Follow-up call with Ada Admin is canceled")).ToBeVisibleAsync();

        var canceled = await server.GetJsonAsync($"/api/v1/bookings/{booking["id"]}");
        canceled["status"]!.GetValue<string>().ShouldBe("canceled");
        canceled["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by Customer");
        canceled["reason"]!.GetValue<string>().ShouldBe("Something came up");

        // The link is dead now, and says so.
        var dead = await page.GotoAsync(link);
        dead!.Status.ShouldBe(404);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "This link is no longer valid" })).ToBeVisibleAsync();
        slug.ShouldNotBeNullOrEmpty();
    }
}

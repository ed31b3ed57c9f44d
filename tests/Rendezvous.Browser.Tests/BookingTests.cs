using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>A visitor books from the public page in their own time zone; a second visitor racing for the same time is told it was just taken.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BookingTests(RendezvousServer server)
{
    [BrowserFact]
    public async Task A_visitor_books_a_slot_end_to_end()
    {
        var bookingPage = await Arrange.PageAsync(server, "Intro call",
            questions: new object[] { new { id = "company", label = "Company", required = true } });
        var path = Arrange.PathOf(bookingPage);
        var page = await server.NewPageAsync(timeZone: "America/New_York");

        // The script notices the visitor's zone and shows the times in it.
        await page.GotoAsync(path);
        await Expect(page.Locator("#tz")).ToHaveValueAsync("America/New_York");
        await Expect(page).ToHaveURLAsync(new Regex("tz=America%2FNew_York"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Intro call", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByText("30 minutes")).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "booking-page");

        // Keyboard: focus the first free time and press Enter.
        var first = page.Locator(".slots a").First;
        var label = (await first.GetAttributeAsync("aria-label"))!;
        await first.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(new Regex("/book\\?"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your time" })).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "booking-form");

        // Sending the form empty names every missing field next to it.
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        await Expect(page.Locator(".error-summary")).ToContainTextAsync("Your name is required");
        await Expect(page.Locator(".error-summary")).ToContainTextAsync("Company is required");
        await Expect(page.GetByLabel("Company")).ToHaveAttributeAsync("aria-invalid", "true");
        await Screens.SaveAsync(page, "booking-form-errors");

        var email = $"{Arrange.Unique("visitor")}@example.com";
        await page.GetByLabel("Your name").FillAsync("Vera Visitor");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Phone").FillAsync("+1 212 555 0100");
        await page.GetByLabel("Company").FillAsync("Initech");
        await page.GetByLabel("Notes").FillAsync("Looking forward to it.");
        await page.GetByLabel("Guests").FillAsync("colleague@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You are booked" })).ToBeVisibleAsync();
        await Expect(page.GetByText($"A confirmation is on its way to {email}")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Change or cancel" })).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "booking-confirmation");

        // "Add to calendar" downloads the booking as an iCalendar file.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Add to calendar (.ics)" }).ClickAsync());
        var file = await download.PathAsync();
        var ics = await File.ReadAllTextAsync(file!);
        ics.ShouldContain("BEGIN:VCALENDAR");
        ics.ShouldContain("SUMMARY:Intro call with Ada Admin");

        var bookings = (await server.GetJsonAsync($"/api/v1/bookings?bookingPageId={bookingPage["id"]}")).AsArray();
        var booking = bookings.Single(b => b!["customer"]!["email"]!.GetValue<string>() == email)!;
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        booking["customer"]!["timeZone"]!.GetValue<string>().ShouldBe("America/New_York");
        booking["answers"]!["company"]!.GetValue<string>().ShouldBe("Initech");
        booking["answers"]!["guests"]!.GetValue<string>().ShouldBe("colleague@example.com");
        // The time booked is the one the visitor chose, as shown in their zone.
        label.ShouldStartWith("Book ");
    }

    [BrowserFact]
    public async Task A_second_visitor_racing_for_the_same_slot_is_told_it_was_just_taken()
    {
        var bookingPage = await Arrange.PageAsync(server, "Consultation");
        var path = Arrange.PathOf(bookingPage);
        var first = await server.NewPageAsync(timeZone: "Europe/London");
        var second = await server.NewPageAsync(timeZone: "Europe/London");

        // Both open the form for the same time.
        await first.GotoAsync(path + "?tz=Europe/London");
        var slot = await first.Locator(".slots a").First.GetAttributeAsync("href");
        await first.GotoAsync(slot!);
        await second.GotoAsync(slot!);

        await first.GetByLabel("Your name").FillAsync("First Fay");
        await first.GetByLabel("Email").FillAsync($"{Arrange.Unique("first")}@example.com");
        await first.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        await Expect(first.GetByRole(AriaRole.Heading, new() { Name = "You are booked" })).ToBeVisibleAsync();

        await second.GetByLabel("Your name").FillAsync("Second Sam");
        await second.GetByLabel("Email").FillAsync($"{Arrange.Unique("second")}@example.com");
        await second.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        await Expect(second.GetByRole(AriaRole.Alert)).ToContainTextAsync("that time was just taken by someone else. Please pick another time.");
        await Expect(second.GetByRole(AriaRole.Heading, new() { Name = "Consultation", Level = 1 })).ToBeVisibleAsync();
        // The taken time is no longer offered, and others are.
        (await second.Locator($".slots a[href='{slot}']").CountAsync()).ShouldBe(0);
        (await second.Locator(".slots a").CountAsync()).ShouldBeGreaterThan(0);
        await Screens.SaveAsync(second, "booking-slot-taken");

        (await server.GetJsonAsync($"/api/v1/bookings?bookingPageId={bookingPage["id"]}")).AsArray().Count.ShouldBe(1);
    }
}

using Microsoft.Playwright;
using Npgsql;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// Seed 003 for staff: rescheduling and canceling from their own confirmation email while signed out, a warning before
/// any staff cancellation, and the portal access screen.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class StaffActionsTests(RendezvousServer server)
{
    private async Task<(string BookingId, string HostEmail, string Customer)> BookWithOwnHostAsync(string hostName, string title)
    {
        var (hostId, hostEmail) = await Arrange.UserAsync(server, hostName);
        var bookingPage = await Arrange.PageAsync(server, title, ownerId: hostId);
        var slug = bookingPage["slug"]!.GetValue<string>();
        var slots = await server.GetJsonAsync($"/api/v1/booking-pages/{slug}/slots?from={Today(2)}&to={Today(3)}&timeZone=UTC");
        var customer = "Carla " + Arrange.Unique("c")[2..8];
        var booking = await server.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new
        {
            start = slots["slots"]![0]!["start"]!.GetValue<string>(),
            customer = new { name = customer, email = $"{Arrange.Unique("staffmail")}@example.com", timeZone = "UTC" },
        });
        return (booking["id"]!.GetValue<string>(), hostEmail, customer);
    }

    [BrowserFact]
    public async Task A_host_reschedules_and_cancels_from_their_own_confirmation_email_while_signed_out()
    {
        var (bookingId, hostEmail, customer) = await BookWithOwnHostAsync("Sol Staff", "Planning call");
        var link = Mail.ManageLink(await Mail.WaitForAsync(hostEmail, "confirmation"), server.BaseUrl);

        // A browser with no session at all: the signed link is enough.
        var page = await server.NewPageAsync();
        await page.GotoAsync(link);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Planning call with {customer}" })).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "staff-email-link");

        await page.GetByRole(AriaRole.Link, new() { Name = "Reschedule" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reschedule this booking" })).ToBeVisibleAsync();
        await page.Locator(".slots a").Nth(1).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Move this booking?" })).ToBeVisibleAsync();
        await page.GetByLabel("Reason").FillAsync("My train is late");
        await page.GetByRole(AriaRole.Button, new() { Name = "Move the booking" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "The booking is moved" })).ToBeVisibleAsync();
        var moved = await server.GetJsonAsync($"/api/v1/bookings/{bookingId}");
        moved["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by User");
        moved["reason"]!.GetValue<string>().ShouldBe("My train is late");

        await page.GotoAsync(link);
        await page.GetByRole(AriaRole.Link, new() { Name = "Cancel appointment" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Cancel this booking?" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("It cannot be undone.");
        await page.GetByLabel("Reason").FillAsync("I am unwell");
        await Screens.SaveAsync(page, "staff-email-cancel");
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, cancel the booking" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("the customer is told by email");
        var canceled = await server.GetJsonAsync($"/api/v1/bookings/{bookingId}");
        canceled["status"]!.GetValue<string>().ShouldBe("canceled");
        canceled["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by User");
    }

    [BrowserFact]
    public async Task Canceling_from_the_activity_stream_warns_and_asks_for_confirmation_first()
    {
        var (bookingId, _, customer) = await BookWithOwnHostAsync("Kim Keeper", "Review call");
        var page = await server.SignedInAsync();
        await page.GotoAsync($"/app/activity?open={bookingId}&from={Today(1)}");
        await page.Locator("#pane").GetByRole(AriaRole.Link, new() { Name = "Cancel booking…" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Cancel Review call with {customer}?" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("frees the time and emails the customer. It cannot be undone.");
        await Screens.SaveAsync(page, "staff-cancel-confirm");

        // "No" keeps it.
        await page.GetByRole(AriaRole.Link, new() { Name = "No, keep it" }).ClickAsync();
        (await server.GetJsonAsync($"/api/v1/bookings/{bookingId}"))["status"]!.GetValue<string>().ShouldBe("scheduled");

        await page.Locator("#pane").GetByRole(AriaRole.Link, new() { Name = "Cancel booking…" }).ClickAsync();
        await page.GetByLabel("Reason").FillAsync("Double-booked");
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, cancel the booking" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The booking is canceled; the customer is told by email.");
        var canceled = await server.GetJsonAsync($"/api/v1/bookings/{bookingId}");
        canceled["status"]!.GetValue<string>().ShouldBe("canceled");
        canceled["reason"]!.GetValue<string>().ShouldBe("Double-booked");
    }

    [BrowserFact]
    public async Task An_administrator_groups_contacts_in_a_company_and_grants_it_portal_access()
    {
        var (_, _, customer) = await BookWithOwnHostAsync("Pia Portal", "Onboarding call");
        var company = "Globex " + Arrange.Unique("co")[3..9];
        var page = await server.SignedInAsync();
        await page.GotoAsync("/app/admin/customers");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Customers and portal access" })).ToBeVisibleAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(company);
        await page.GetByLabel("Grant portal access to its contacts").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add company" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Company {company} added.");

        await page.GetByLabel("Name or email").FillAsync(customer);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.GetByLabel($"Company of {customer}").SelectOptionAsync(new SelectOptionValue { Label = company });
        await page.GetByRole(AriaRole.Button, new() { Name = $"Save {customer}" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"{customer}: can use the portal, contact of {company}.");
        await Expect(page.Locator($"tr[data-company='{company}']")).ToContainTextAsync(customer);
        await Screens.SaveAsync(page, "portal-access");

        var contacts = await server.GetJsonAsync($"/api/v1/customers?search={Uri.EscapeDataString(customer)}");
        contacts.AsArray().Single()!["companyName"]!.GetValue<string>().ShouldBe(company);
    }

    private static string Today(int days = 0) => Arrange.Today(days);
}

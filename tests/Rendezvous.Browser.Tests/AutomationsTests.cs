using System.Diagnostics;
using Microsoft.Playwright;
using Npgsql;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// The automations screen: a page owner builds a rule for their page, sends themselves a sample, switches it off, and sees
/// the recent runs of a rule that already acted (the server's own outbox ran it).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AutomationsBrowserTests(RendezvousServer server)
{
    private const string Password = "owner-password-for-automations";

    [BrowserFact]
    public async Task A_page_owner_builds_a_rule_sends_a_sample_switches_it_off_and_sees_recent_runs()
    {
        var (ownerId, ownerEmail) = await Arrange.UserAsync(server, "Olive Owner", password: Password);
        var bookingPage = await Arrange.PageAsync(server, "Discovery call", ownerId: ownerId);
        var pageId = bookingPage["id"]!.GetValue<string>();
        var slug = bookingPage["slug"]!.GetValue<string>();

        // A rule that already acted, made through the API: its run shows on the screen.
        var confirm = await server.PostJsonAsync("/api/v1/automations", new
        {
            name = "Tell the team",
            bookingPageId = pageId,
            trigger = "booked",
            action = new { kind = "email", to = "address", address = $"{Arrange.Unique("team")}@example.com", subject = "New: {{customer.name}}", message = "{{booking.when}}" },
        });
        var slots = await server.GetJsonAsync($"/api/v1/booking-pages/{slug}/slots?from={Today(1)}&to={Today(3)}&timeZone=UTC");
        var customer = "Carmen " + Arrange.Unique("auto")[5..];
        await server.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new
        {
            start = slots["slots"]![0]!["start"]!.GetValue<string>(),
            customer = new { name = customer, email = $"{Arrange.Unique("carmen")}@example.com" },
        });
        await WaitForRunAsync(confirm["id"]!.GetValue<string>());

        var page = await server.SignedInAsync(ownerEmail, Password);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Automations" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Automations", Level = 1 })).ToBeVisibleAsync();
        // Members build rules for their own pages only: no organization-wide choice.
        await Expect(page.GetByLabel("Applies to").Locator("option", new() { HasText = "Whole organization" })).ToHaveCountAsync(0);

        await page.GetByLabel("Name").FillAsync("Thank-you note");
        await page.GetByLabel("Applies to").SelectOptionAsync(new SelectOptionValue { Label = "Discovery call" });
        await page.GetByLabel("Trigger").SelectOptionAsync(new SelectOptionValue { Label = "After the end" });
        await page.GetByLabel("How long before or after").FillAsync("2");
        await page.GetByLabel("Unit").SelectOptionAsync("hours");
        await page.GetByLabel("Action", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "Send an email" });
        await page.GetByLabel("Template", new() { Exact = true }).SelectOptionAsync("followUp");
        await page.GetByLabel("Own subject").FillAsync("Thanks for your time, {{customer.name}}");
        await page.GetByLabel("Own message").FillAsync("It was good to speak with you.\n\n{{host.name}}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create automation" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Automation \"Thank-you note\" created and switched on.");

        var row = page.Locator("tr", new() { HasText = "Thank-you note" });
        await Expect(row).ToContainTextAsync("2 hours after the end: email the customer");
        await Expect(row.GetByRole(AriaRole.Switch)).ToHaveAttributeAsync("aria-checked", "true");

        // The sample goes to the signed-in owner, with the latest booking on the page.
        await row.GetByRole(AriaRole.Button, new() { Name = "Send me a sample" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Sample sent: Emailed {ownerEmail} (sample).");
        var sample = await Mail.WaitForAsync(ownerEmail, "followUp");
        sample.Header("Subject").ShouldBe($"Thanks for your time, {customer}");

        await row.GetByRole(AriaRole.Switch).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("\"Thank-you note\" is off.");
        await Expect(page.Locator("tr", new() { HasText = "Thank-you note" }).GetByRole(AriaRole.Switch)).ToHaveAttributeAsync("aria-checked", "false");

        var ran = page.Locator("tr", new() { HasText = "Tell the team" });
        await Expect(ran).ToContainTextAsync("Succeeded");
        await Expect(ran).ToContainTextAsync("Emailed team-");
        await Screens.SaveAsync(page, "automations");
    }

    private async Task WaitForRunAsync(string automationId)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            var runs = (await server.GetJsonAsync($"/api/v1/automations/{automationId}/runs")).AsArray();
            if (runs.Any(r => r!["status"]!.GetValue<string>() == "Succeeded"))
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException("The automation did not run within 60 seconds.");
    }

    private static string Today(int days = 0) => Arrange.Today(days);
}

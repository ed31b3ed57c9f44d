using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Npgsql;
using Rendezvous.Browser.Tests.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// What only the API could set up before, now on screens: the sites that may embed the booking pages, a page's CRM
/// (with the Activity Events switch), conferencing accounts, the PayPal app, a refund on a paid booking; and the
/// customer portal's calendar of appointments.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SetupScreensTests(RendezvousServer server)
{
    [BrowserFact]
    public async Task An_administrator_allows_a_site_to_embed_and_copies_a_pages_snippet()
    {
        var bookingPage = await Arrange.PageAsync(server, "Showroom visit");
        var slug = bookingPage["slug"]!.GetValue<string>();
        var page = await server.SignedInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Embeds" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Embeds", Level = 1 })).ToBeVisibleAsync();

        await page.GetByLabel("Allowed sites").FillAsync("https://www.bakery.example\nnot a site");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.Locator(".error-summary")).ToContainTextAsync("\"not\" must be an origin");

        await page.GetByLabel("Allowed sites").FillAsync("https://www.bakery.example\nhttps://bakery.example/");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved: 2 sites may embed the booking pages.");
        await Expect(page.GetByLabel("Allowed sites")).ToHaveValueAsync("https://www.bakery.example\nhttps://bakery.example");

        var card = page.Locator($"[data-embed-page='{slug}']");
        await Expect(card.GetByLabel("Inline (in the page)")).ToHaveValueAsync(
            $"<div data-rendezvous-page=\"{RendezvousServer.Organization}/{slug}\"></div>\n<script src=\"{server.BaseUrl}/embed.js\" async></script>");
        await Expect(card.GetByLabel("Pop-up (a button that opens it)")).ToHaveValueAsync(new Regex("data-rendezvous-mode=\"popup\""));
        await card.ScrollIntoViewIfNeededAsync();
        await Screens.SaveAsync(page, "embeds-admin");

        var settings = await server.GetJsonAsync("/api/v1/embed-settings");
        settings["allowedOrigins"]!.AsArray().Select(o => o!.GetValue<string>()).ShouldBe(["https://www.bakery.example", "https://bakery.example"]);
        // Leave the organization's list as the other tests expect to find it: theirs to set.
        await server.PostJsonAsync("/api/v1/embed-settings", new { allowedOrigins = Array.Empty<string>() }, "PUT");
    }

    [BrowserFact]
    public async Task A_page_owner_turns_off_Activity_Events_for_Salesforce_and_sets_Keap_tags()
    {
        var bookingPage = await Arrange.PageAsync(server, "Sales demo");
        var id = bookingPage["id"]!.GetValue<string>();
        var page = await server.SignedInAsync();
        await page.GotoAsync($"/app/pages/{id}");
        await page.GetByRole(AriaRole.Link, new() { Name = "CRM (Salesforce, Keap)…" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "CRM for Sales demo" })).ToBeVisibleAsync();

        var salesforce = page.Locator("[data-crm='salesforce']");
        await Expect(salesforce.GetByLabel("Create Activity Events for bookings")).ToBeCheckedAsync();
        await salesforce.GetByLabel("Create Activity Events for bookings").UncheckAsync();
        await salesforce.GetByLabel("Lead source").FillAsync("Website demo");
        await salesforce.GetByRole(AriaRole.Button, new() { Name = "Save Salesforce settings" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The Salesforce settings are saved.");
        await Expect(salesforce.GetByLabel("Create Activity Events for bookings")).Not.ToBeCheckedAsync();
        // This server has no Salesforce app, so the screen says why it cannot be connected instead of offering to.
        await Expect(salesforce).ToContainTextAsync("This server has no Salesforce app configured");

        var keap = page.Locator("[data-crm='infusionsoft']");
        await keap.Locator("#f-tagIds-scheduled").FillAsync("abc");
        await keap.GetByRole(AriaRole.Button, new() { Name = "Save Keap tags" }).ClickAsync();
        await Expect(page.Locator(".error-summary")).ToContainTextAsync("must be a Keap tag id");
        await keap.Locator("#f-tagIds-scheduled").FillAsync("1234");
        await keap.GetByRole(AriaRole.Button, new() { Name = "Save Keap tags" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The Keap tags are saved.");
        await Screens.SaveAsync(page, "crm-settings");

        var sf = await server.GetJsonAsync($"/api/v1/booking-pages/{id}/salesforce");
        sf["createActivityEvents"]!.GetValue<bool>().ShouldBeFalse();
        sf["leadSource"]!.GetValue<string>().ShouldBe("Website demo");
        var kp = await server.GetJsonAsync($"/api/v1/booking-pages/{id}/infusionsoft");
        kp["tags"]!["scheduled"]!["id"]!.GetValue<long>().ShouldBe(1234);
    }

    [BrowserFact]
    public async Task A_team_member_connects_and_disconnects_a_conferencing_account()
    {
        var page = await server.SignedInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Conferencing" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Conferencing accounts" })).ToBeVisibleAsync();

        await page.GetByLabel("Service", new() { Exact = true }).SelectOptionAsync("webex");
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect", Exact = true }).ClickAsync();
        await Expect(page.Locator(".error-summary")).ToContainTextAsync("The access token is required");

        await page.GetByLabel("Service", new() { Exact = true }).SelectOptionAsync("webex");
        await page.GetByLabel("Access token", new() { Exact = true }).FillAsync("webex-access-token-from-the-console");
        await page.GetByLabel("Access token lifetime in seconds").FillAsync("3600");
        await page.GetByLabel("The account's user id or email in the service").FillAsync("ada@webex.example");
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is connected");
        var row = page.Locator("tr[data-conferencing-account='webex']");
        await Expect(row).ToContainTextAsync("ada@webex.example");
        await Expect(row).ToContainTextAsync("Connected");
        // The token is never shown again.
        (await page.ContentAsync()).ShouldNotContain("webex-access-token-from-the-console");
        await Screens.SaveAsync(page, "conferencing-accounts");

        var accounts = (await server.GetJsonAsync("/api/v1/conferencing-accounts")).AsArray();
        accounts.Single(a => a!["provider"]!.GetValue<string>() == "webex")!["externalUserId"]!.GetValue<string>().ShouldBe("ada@webex.example");

        await row.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Disconnect") }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The account is disconnected");
        (await server.GetJsonAsync("/api/v1/conferencing-accounts")).AsArray().Any(a => a!["provider"]!.GetValue<string>() == "webex").ShouldBeFalse();
    }

    [BrowserFact]
    public async Task An_administrator_saves_the_organizations_PayPal_app_and_refunds_part_of_a_paid_booking()
    {
        var page = await server.SignedInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Payments" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Payments", Level = 1 })).ToBeVisibleAsync();
        await page.GetByLabel("Client id").FillAsync("paypal-client-id-browser");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save PayPal app" }).ClickAsync();
        await Expect(page.Locator(".error-summary")).ToContainTextAsync("is required the first time");
        await page.GetByLabel("Secret").FillAsync("paypal-secret-browser");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save PayPal app" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The PayPal app is saved");
        await Expect(page.GetByText("Client id paypal-client-id-browser")).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "payments-paypal");
        var account = await server.GetJsonAsync("/api/v1/payments/paypal");
        account["configured"]!.GetValue<bool>().ShouldBeTrue();
        account["clientId"]!.GetValue<string>().ShouldBe("paypal-client-id-browser");

        // A booking paid through PayPal (arranged in the database: no PayPal answers here).
        var bookingPage = await Arrange.PageAsync(server, "Paid consultation");
        var slug = bookingPage["slug"]!.GetValue<string>();
        var slots = await server.GetJsonAsync($"/api/v1/booking-pages/{slug}/slots?from={Today(1)}&to={Today(3)}&timeZone=UTC");
        var booking = await server.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new
        {
            start = slots["slots"]![0]!["start"]!.GetValue<string>(),
            customer = new { name = "Paula Payer", email = $"{Arrange.Unique("payer")}@example.com" },
        });
        var bookingId = Guid.Parse(booking["id"]!.GetValue<string>());
        await server.ExecuteAsync("""
            INSERT INTO booking_payments (booking_id, amount, currency, status, due_at, provider, order_id, capture_id, paid_at)
            VALUES (@id, 40.00, 'EUR', 'Paid', now(), 'paypal', 'ORDER-BROWSER', 'CAPTURE-BROWSER', now())
            """, ("id", bookingId));

        await page.GotoAsync($"/app/bookings/{bookingId}");
        var payment = page.Locator("[data-payment]");
        await Expect(payment).ToContainTextAsync("40.00 EUR");
        await page.GetByText("Refund…").ClickAsync();
        await page.Locator($"#refund-amount-{bookingId}").FillAsync("15");
        await page.Locator($"#refund-reason-{bookingId}").FillAsync("Started late");
        await page.GetByRole(AriaRole.Button, new() { Name = "Refund", Exact = true }).ClickAsync();
        // PayPal cannot be reached from here, so the refund is recorded and waits for (or is refused by) PayPal.
        await Expect(page.Locator(".flash, .notice.bad").First).ToBeVisibleAsync();
        await Expect(page.Locator("[data-payment]")).ToContainTextAsync("15.00 EUR");
        await Expect(page.Locator("[data-payment]")).ToContainTextAsync("Started late");
        await Screens.SaveAsync(page, "booking-refund");
        var refunds = await CountAsync("SELECT count(*) FROM booking_refunds WHERE booking_id = @id AND amount = 15.00", bookingId);
        refunds.ShouldBe(1);
    }

    [BrowserFact]
    public async Task A_customer_sees_their_appointments_as_a_month_and_a_week_and_opens_one_with_the_keyboard()
    {
        var bookingPage = await Arrange.PageAsync(server, "Piano lesson");
        var slug = bookingPage["slug"]!.GetValue<string>();
        var email = $"{Arrange.Unique("calendar")}@example.com";
        var slots = (await server.GetJsonAsync($"/api/v1/booking-pages/{slug}/slots?from={Today(2)}&to={Today(2)}&timeZone=UTC"))["slots"]!.AsArray();
        var start = slots[20]!["start"]!.GetValue<string>();
        await server.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start, customer = new { name = "Carla Calendar", email, timeZone = "UTC" } });

        var page = await server.NewPageAsync(timeZone: "UTC");
        await page.GotoAsync($"/portal/{RendezvousServer.Organization}");
        await page.GetByLabel("Email address you booked with").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send the link" }).ClickAsync();
        await page.GotoAsync(await PortalLinkAsync(email));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your appointments" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Month", Exact = true }).ClickAsync();
        var day = start[..10];
        var cell = page.Locator($"td[data-date='{day}']");
        var time = start.Substring(11, 5);
        var appointment = cell.GetByRole(AriaRole.Link, new() { NameRegex = new Regex($"^{time} Piano lesson with Ada Admin") });
        await Expect(appointment).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Month", Exact = true })).ToHaveAttributeAsync("aria-current", "page");
        await Screens.SaveAsync(page, "portal-calendar");

        await page.GetByRole(AriaRole.Link, new() { Name = "Week", Exact = true }).ClickAsync();
        await Expect(page.Locator($"td[data-date='{day}']").GetByRole(AriaRole.Link, new() { NameRegex = new Regex("Piano lesson") })).ToBeVisibleAsync();
        await Expect(page.Locator(".calendar-grid tbody tr")).ToHaveCountAsync(1);

        // Keyboard: Tab reaches the appointment, Enter opens it to change or cancel.
        var link = page.Locator($"td[data-date='{day}'] a").First;
        for (var i = 0; i < 40 && !await link.EvaluateAsync<bool>("a => document.activeElement === a"); i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        await Expect(link).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(new Regex("/manage/"));
        await Expect(page.GetByText("Piano lesson").First).ToBeVisibleAsync();
    }

    /// <summary>The portal's sign-in link from the email sent to <paramref name="email"/>.</summary>
    private async Task<string> PortalLinkAsync(string email)
    {
        var dir = TestEnvironment.Maildir ?? throw new InvalidOperationException("RENDEZVOUS_TEST_MAILDIR is not set.");
        var pattern = new Regex(Regex.Escape(server.BaseUrl) + "/portal/[a-z0-9-]+/sign-in/[A-Za-z0-9_-]+");
        for (var look = 0; look < 240; look++)
        {
            foreach (var file in new[] { "new", "cur" }.Select(s => Path.Combine(dir, s)).Where(Directory.Exists).SelectMany(Directory.GetFiles))
            {
                string text;
                try
                {
                    text = await File.ReadAllTextAsync(file);
                }
                catch (IOException)
                {
                    continue;
                }

                if (text.Contains(email, StringComparison.OrdinalIgnoreCase) && text.Contains("Sign in to", StringComparison.Ordinal)
                    && pattern.Match(MimePart.Parse(text).Single("text/plain").Text) is { Success: true } m)
                {
                    return m.Value;
                }
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"No portal sign-in email to {email} arrived.");
    }

    private async Task<long> CountAsync(string sql, Guid id)
    {
        await using var conn = new NpgsqlConnection(server.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("id", id);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static string Today(int days = 0) => Arrange.Today(days);
}

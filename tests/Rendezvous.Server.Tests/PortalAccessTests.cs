using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>
/// Portal access is a grant (seed 003: "If the Contact/Company has Portal Access"): an organization opens its portal to
/// every customer with an appointment, or only to contacts granted access, themselves or through their company; a
/// company's contacts see its appointments together.
/// </summary>
public sealed class PortalAccessTests(PortalApp app) : IClassFixture<PortalApp>
{
    private HttpClient Browser() => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>Asks for a sign-in link and follows it; null when no link was sent (the address learns nothing either way).</summary>
    private async Task<HttpClient?> SignInAsync(string email)
    {
        var before = app.Mailer.Sent.Count(s => s.Email == email);
        var browser = Browser();
        await (await browser.PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email })).ExpectAsync(202);
        if (app.Mailer.Sent.Count(s => s.Email == email) == before)
        {
            return null;
        }

        var signIn = await browser.GetAsync(new Uri(app.Mailer.Sent.Last(s => s.Email == email).Url).AbsolutePath);
        ((int)signIn.StatusCode).ShouldBe(302);
        return browser;
    }

    private async Task<string> ContactIdAsync(string email) =>
        (await (await app.Client().GetAsync($"/api/v1/customers?search={Uri.EscapeDataString(email)}")).ExpectAsync(200)).AsArray()
            .Single()!["id"]!.GetValue<string>();

    private async Task SetModeAsync(string mode) =>
        (await (await app.Client().PutJsonAsync("/api/v1/portal-settings", new { mode })).ExpectAsync(200))["mode"]!.GetValue<string>().ShouldBe(mode);

    private static string NewEmail(string who) => $"{who}.{Guid.NewGuid():N}@example.com";

    [DbFact]
    public async Task With_access_by_grant_only_granted_contacts_sign_in_and_revoking_access_ends_their_session()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var granted = NewEmail("granted");
        var other = NewEmail("other");
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-16T10:00:00Z", new { name = "Pat", email = granted });
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-16T11:00:00Z", new { name = "Sam", email = other });
        await SetModeAsync("granted");
        try
        {
            (await SignInAsync(granted)).ShouldBeNull();
            var id = await ContactIdAsync(granted);
            var contact = await (await app.Client().GetAsync($"/api/v1/customers/{id}")).ExpectAsync(200);
            contact["canUsePortal"]!.GetValue<bool>().ShouldBeFalse();

            contact = await (await app.Client().PutJsonAsync($"/api/v1/customers/{id}", new { portalAccess = true })).ExpectAsync(200);
            contact["portalAccess"]!.GetValue<bool>().ShouldBeTrue();
            contact["canUsePortal"]!.GetValue<bool>().ShouldBeTrue();
            var browser = (await SignInAsync(granted)).ShouldNotBeNull();
            (await (await browser.GetAsync("/api/v1/portal/acme/appointments")).ExpectAsync(200)).AsArray().Count.ShouldBe(1);
            (await SignInAsync(other)).ShouldBeNull();

            // Revoking takes effect on the next request of a session already open.
            await (await app.Client().PutJsonAsync($"/api/v1/customers/{id}", new { portalAccess = false })).ExpectAsync(200);
            await (await browser.GetAsync("/api/v1/portal/acme/me")).ExpectAsync(401);
            await (await browser.GetAsync("/api/v1/portal/acme/appointments")).ExpectAsync(401);

            // Only administrators manage access.
            var member = app.Client(await Scenario.CreateKeyAsync(app.Client(), await Scenario.CreateUserAsync(app.Client(), "Plain Member")));
            await (await member.PutJsonAsync("/api/v1/portal-settings", new { mode = "open" })).ExpectAsync(403);
            await (await member.PutJsonAsync($"/api/v1/customers/{id}", new { portalAccess = true })).ExpectAsync(403);
            (await (await app.Client().PutJsonAsync("/api/v1/portal-settings", new { mode = "closed" })).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("mode");
        }
        finally
        {
            await SetModeAsync("open");
        }

        // The open portal takes every customer with an appointment.
        (await SignInAsync(other)).ShouldNotBeNull();
    }

    [DbFact]
    public async Task Another_organization_can_neither_see_nor_change_acmes_contacts_companies_or_portal_setting()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var email = NewEmail("isolated");
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-18T10:00:00Z", new { name = "Iso Contact", email });
        var contactId = await ContactIdAsync(email);
        var companyId = (await (await app.Client().PostJsonAsync("/api/v1/companies", new { name = "Acme Partners " + Guid.NewGuid().ToString("N")[..6] }))
            .ExpectAsync(201))["id"]!.GetValue<string>();
        var other = app.Client(await app.CreateOrganizationAsync("umbrella-" + Guid.NewGuid().ToString("N")[..6]));

        (await (await other.GetAsync("/api/v1/customers")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        (await (await other.GetAsync("/api/v1/companies")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        await (await other.GetAsync($"/api/v1/customers/{contactId}")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/customers/{contactId}", new { portalAccess = true })).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/companies/{companyId}")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/companies/{companyId}", new { portalAccess = true })).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/companies/{companyId}")).ExpectAsync(404);
        // Nor put Acme's contact into its own company.
        var theirs = (await (await other.PostJsonAsync("/api/v1/companies", new { name = "Umbrella" })).ExpectAsync(201))["id"]!.GetValue<string>();
        (await (await app.Client().PutJsonAsync($"/api/v1/customers/{contactId}", new { companyId = theirs })).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("companyId");
        (await (await other.PutJsonAsync("/api/v1/portal-settings", new { mode = "granted" })).ExpectAsync(200))["mode"]!.GetValue<string>().ShouldBe("granted");

        // Acme is untouched.
        (await (await app.Client().GetAsync("/api/v1/portal-settings")).ExpectAsync(200))["mode"]!.GetValue<string>().ShouldBe("open");
        var contact = await (await app.Client().GetAsync($"/api/v1/customers/{contactId}")).ExpectAsync(200);
        contact["portalAccess"]!.GetValue<bool>().ShouldBeFalse();
        contact["companyId"].ShouldBeNull();
        (await (await app.Client().GetAsync($"/api/v1/companies/{companyId}")).ExpectAsync(200))["portalAccess"]!.GetValue<bool>().ShouldBeFalse();
    }

    [DbFact]
    public async Task A_company_groups_contacts_who_see_and_manage_its_appointments_and_its_grant_covers_each_contact()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var alice = NewEmail("alice");
        var bob = NewEmail("bob");
        var outsider = NewEmail("outsider");
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-17T10:00:00Z", new { name = "Alice", email = alice });
        var bobsBooking = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-17T11:00:00Z", new { name = "Bob", email = bob }))["id"]!.GetValue<string>();
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-17T12:00:00Z", new { name = "Olga", email = outsider });

        var company = await (await app.Client().PostJsonAsync("/api/v1/companies", new { name = "Initech " + Guid.NewGuid().ToString("N")[..6], portalAccess = true }))
            .ExpectAsync(201);
        var companyId = company["id"]!.GetValue<string>();
        (await (await app.Client().PostJsonAsync("/api/v1/companies", new { name = company["name"]!.GetValue<string>().ToUpperInvariant() })).ExpectAsync(409))
            ["code"]!.GetValue<string>().ShouldBe("company_exists");
        foreach (var email in new[] { alice, bob })
        {
            var contact = await (await app.Client().PutJsonAsync($"/api/v1/customers/{await ContactIdAsync(email)}", new { companyId })).ExpectAsync(200);
            contact["companyId"]!.GetValue<string>().ShouldBe(companyId);
        }

        (await (await app.Client().PutJsonAsync($"/api/v1/customers/{await ContactIdAsync(outsider)}", new { companyId = "not-an-id" })).ExpectAsync(400))
            ["field"]!.GetValue<string>().ShouldBe("companyId");
        var listed = await (await app.Client().GetAsync($"/api/v1/companies/{companyId}")).ExpectAsync(200);
        listed["contacts"]!.AsArray().Select(c => c!["email"]!.GetValue<string>()).Order().ShouldBe(new[] { alice, bob }.Order());

        await SetModeAsync("granted");
        try
        {
            // The company's grant lets each contact in; each sees the company's appointments, not the outsider's.
            var browser = (await SignInAsync(alice)).ShouldNotBeNull();
            var appointments = (await (await browser.GetAsync("/api/v1/portal/acme/appointments")).ExpectAsync(200)).AsArray();
            appointments.Select(a => a!["view"]!["booking"]!["customerName"]!.GetValue<string>()).Order().ShouldBe(["Alice", "Bob"]);
            (await SignInAsync(outsider)).ShouldBeNull();
            var portalPage = await (await browser.GetAsync("/portal/acme")).Content.ReadAsStringAsync();
            portalPage.ShouldContain("For Bob");
            portalPage.ShouldNotContain("Olga");

            // Alice cancels Bob's appointment from the company's portal, through the same self-service path.
            var bobs = appointments.Single(a => a!["bookingId"]!.GetValue<string>() == bobsBooking)!;
            await (await browser.PostJsonAsync($"/api/v1/self-service/{bobs["view"]!["cancelToken"]!.GetValue<string>()}/cancel", new { reason = "Bob is away" }))
                .ExpectAsync(200);
            (await (await app.Client().GetAsync($"/api/v1/bookings/{bobsBooking}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("canceled");

            // Without the company's grant (or once the company is gone), its contacts have no access of their own.
            await (await app.Client().PutJsonAsync($"/api/v1/companies/{companyId}", new { portalAccess = false })).ExpectAsync(200);
            await (await browser.GetAsync("/api/v1/portal/acme/me")).ExpectAsync(401);
            await (await app.Client().PutJsonAsync($"/api/v1/companies/{companyId}", new { portalAccess = true })).ExpectAsync(200);
            await (await browser.GetAsync("/api/v1/portal/acme/me")).ExpectAsync(200);
            await (await app.Client().DeleteAsync($"/api/v1/companies/{companyId}")).ExpectAsync(204);
            await (await browser.GetAsync("/api/v1/portal/acme/me")).ExpectAsync(401);
            (await (await app.Client().GetAsync($"/api/v1/customers/{await ContactIdAsync(alice)}")).ExpectAsync(200))["companyId"].ShouldBeNull();
        }
        finally
        {
            await SetModeAsync("open");
        }
    }
}

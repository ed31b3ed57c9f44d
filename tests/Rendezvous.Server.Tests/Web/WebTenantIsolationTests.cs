using System.Net;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Web;

/// <summary>
/// The web application shows each organization its own data only: another organization's bookings, pages, users,
/// webhooks and calendar connections are "not found" to a signed-in administrator, and their actions change nothing.
/// </summary>
public sealed class WebTenantIsolationTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task An_administrator_of_another_organization_sees_and_changes_nothing_of_acme()
    {
        // Acme's data.
        var acme = app.Client();
        var acmeUser = await Scenario.CreateUserAsync(acme, "Acme Host");
        var slug = await Scenario.CreatePageAsync(acme, p => p["ownerId"] = acmeUser);
        var pageId = (await (await acme.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray()
            .First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-22T09:00:00Z", Scenario.Customer("Acme Customer Zed"));
        var bookingId = booking["id"]!.GetValue<string>();
        var hookId = (await (await acme.PostJsonAsync("/api/v1/webhooks", new { url = "http://127.0.0.1:9/acme-web", events = new[] { "*" } })).ExpectAsync(201))["id"]!.GetValue<string>();
        await (await acme.PostJsonAsync("/api/v1/calendar-connections",
            new { userId = acmeUser, url = "http://127.0.0.1:9/", username = "acme-secret-user", password = "p", bookingCalendarUrl = "/acme/" })).ExpectAsync(201);

        // Another organization's administrator, signed in to the web application.
        var otherSlug = "umbrella-" + Guid.NewGuid().ToString("N")[..6];
        var otherKey = await app.CreateOrganizationAsync(otherSlug);
        var other = app.Client(otherKey);
        var otherAdmin = (await (await other.GetAsync("/api/v1/users")).ExpectAsync(200)).AsArray().Single()!;
        await other.PutJsonAsync($"/api/v1/users/{otherAdmin["id"]}/password", new { password = "other admin password" });
        var web = new WebSession(app);
        (await web.SignInAsync(otherAdmin["email"]!.GetValue<string>(), "other admin password")).StatusCode.ShouldBe(HttpStatusCode.Redirect);

        (await web.GetAsync($"/app/bookings/{bookingId}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await web.GetAsync($"/app/bookings/{bookingId}?handler=Pane")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await web.GetAsync($"/app/bookings/{bookingId}/reschedule")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await web.GetAsync($"/app/bookings/{bookingId}/reassign")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await web.GetAsync($"/app/bookings/{bookingId}/cancel")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await web.GetAsync($"/app/pages/{pageId}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await web.GetAsync($"/app/admin/users/{acmeUser}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await web.GetAsync($"/app/admin/webhooks/{hookId}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        await web.GetAsync("/app/activity?from=2027-03-01");
        web.LastHtml.ShouldNotContain("Acme Customer Zed");
        await web.GetAsync($"/app/activity?from=2027-03-01&open={bookingId}");
        web.LastHtml.ShouldNotContain("Acme Customer Zed");
        await web.GetAsync("/app/calendar?week=2027-03-22&user=" + acmeUser);
        web.LastHtml.ShouldNotContain("Acme Customer Zed");
        await web.GetAsync("/app/pages");
        web.LastHtml.ShouldNotContain(slug);
        await web.GetAsync("/app/admin/users");
        web.LastHtml.ShouldNotContain("Acme Host");
        await web.GetAsync("/app/admin/webhooks");
        web.LastHtml.ShouldNotContain("acme-web");
        await web.GetAsync("/app/admin/customers?search=Zed");
        web.LastHtml.ShouldNotContain("Acme Customer Zed");
        await web.GetAsync("/app/calendar-connection?user=" + acmeUser);
        web.LastHtml.ShouldNotContain("acme-secret-user");

        // Acting on Acme's booking through the web application does nothing.
        await web.GetAsync("/app/activity");
        foreach (var handler in new[] { "Cancel", "NoShow", "Decline", "Approve" })
        {
            await web.PostAsync($"/app/bookings/{bookingId}?handler={handler}", [new("reason", "not yours")], tokenFrom: "/app/activity");
        }

        await web.PostAsync($"/app/bookings/{bookingId}/reschedule", [new("Start", "2027-03-22T11:00:00Z")], tokenFrom: "/app/activity");
        await web.PostAsync($"/app/bookings/{bookingId}/reassign", [new("TargetPageId", pageId)], tokenFrom: "/app/activity");
        await web.PostAsync($"/app/bookings/{bookingId}/cancel", [new("Reason", "not yours")], tokenFrom: "/app/activity");
        var after = await (await acme.GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200);
        after["status"]!.GetValue<string>().ShouldBe("scheduled");
        after["history"]!.AsArray().Count.ShouldBe(1);

        // Acme's public page is not reachable under the other organization's address.
        (await web.GetAsync($"/{otherSlug}/{slug}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await web.GetAsync($"/acme/{slug}")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // And the other organization cannot set Acme users' passwords through the API.
        await (await other.PutJsonAsync($"/api/v1/users/{acmeUser}/password", new { password = "taken over password" })).ExpectAsync(404);
    }
}

using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Spaces;

/// <summary>Another organization sees none of a space, its requests or a page's space pool, and cannot act on them.</summary>
public sealed class SpaceTenantIsolationTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task Another_organization_cannot_see_or_touch_spaces_requests_or_space_pools()
    {
        var acme = app.Client();
        var other = app.Client(await app.CreateOrganizationAsync("other-" + Guid.NewGuid().ToString("N")[..8]));
        var space = (await (await acme.PostJsonAsync("/api/v1/spaces", new { name = "Hall", timeZone = "Europe/London", administration = "rendezvousManaged" }))
            .ExpectAsync(201))["id"]!.GetValue<string>();
        var request = (await (await acme.PostJsonAsync("/api/v1/spaces/requests", new { spaceIds = new[] { space }, start = "2027-03-02T10:00:00Z", end = "2027-03-02T11:00:00Z" }))
            .ExpectAsync(201))[0]!["id"]!.GetValue<string>();
        var slug = await Scenario.CreatePageAsync(acme);
        var pageId = (await (await acme.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray().First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();
        await (await acme.PutJsonAsync($"/api/v1/booking-pages/{pageId}/space-pool", new { spaceIds = new[] { space } })).ExpectAsync(200);

        (await (await other.GetAsync("/api/v1/spaces")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        await (await other.GetAsync($"/api/v1/spaces/{space}")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/spaces/{space}", new { name = "Mine" })).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/spaces/{space}")).ExpectAsync(404);
        (await (await other.GetAsync("/api/v1/spaces/timeline?date=2027-03-02")).ExpectAsync(200))["spaces"]!.AsArray().ShouldBeEmpty();
        (await (await other.GetAsync("/api/v1/spaces/requests")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        await (await other.GetAsync($"/api/v1/spaces/requests/{request}")).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/spaces/requests/{request}/conflicts")).ExpectAsync(404);
        await (await other.PostJsonAsync($"/api/v1/spaces/requests/{request}/confirm", new { })).ExpectAsync(404);
        await (await other.PostJsonAsync("/api/v1/spaces/requests", new { spaceIds = new[] { space }, start = "2027-03-02T12:00:00Z", end = "2027-03-02T13:00:00Z" }))
            .ExpectAsync(400);
        await (await other.PostJsonAsync("/api/v1/spaces", new { name = "Other hall", timeZone = "Europe/London" })).ExpectAsync(201);
        await (await other.GetAsync($"/api/v1/booking-pages/{pageId}/space-pool")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/booking-pages/{pageId}/space-pool", new { spaceIds = Array.Empty<string>() })).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/booking-pages/{pageId}/space-pool")).ExpectAsync(404);
        (await (await acme.GetAsync($"/api/v1/spaces/requests/{request}")).ExpectAsync(200))["state"]!.GetValue<string>().ShouldBe("prospect");
    }
}

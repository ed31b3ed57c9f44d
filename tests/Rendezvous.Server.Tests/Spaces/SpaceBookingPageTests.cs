using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Domain.Spaces;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Notifications;
using Shouldly;

namespace Rendezvous.Server.Tests.Spaces;

/// <summary>Booking pages that need a space: the host and one space of the page's pool, held in one transaction.</summary>
public sealed class SpaceBookingPageTests(EmailApp app) : IClassFixture<EmailApp>
{
    private async Task<string> SpaceAsync(HttpClient admin, int capacity, params string[] features)
    {
        var made = await (await admin.PostJsonAsync("/api/v1/spaces", new
        {
            name = "Room " + Guid.NewGuid().ToString("N")[..8],
            capacity,
            features,
            timeZone = "Europe/London",
            administration = "autoAccept",
        })).ExpectAsync(201);
        return made["id"]!.GetValue<string>();
    }

    private static async Task<string> PageIdAsync(HttpClient admin, string slug) =>
        (await (await admin.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray()
            .First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();

    private static async Task<string[]> SlotStartsAsync(HttpClient client, string slug) =>
        [.. (await (await client.GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-02&to=2027-03-02&timeZone=Europe/London")).ExpectAsync(200))
            ["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>())];

    private static Task<JsonNode> TakeAsync(HttpClient admin, string spaceId, string start, string end) =>
        admin.PostJsonAsync("/api/v1/spaces/requests", new { spaceIds = new[] { spaceId }, start, end, summary = "Other event" })
            .ContinueWith(t => t.Result.ExpectAsync(201)).Unwrap();

    [DbFact]
    public async Task A_slot_is_offered_only_when_the_host_and_a_fitting_space_of_the_pool_are_free()
    {
        var admin = app.Client();
        var fitting = await SpaceAsync(admin, 10, "projector");
        var tooSmall = await SpaceAsync(admin, 4, "projector");
        var noProjector = await SpaceAsync(admin, 20);
        var slug = await Scenario.CreatePageAsync(admin);
        var pool = await (await admin.PutJsonAsync($"/api/v1/booking-pages/{await PageIdAsync(admin, slug)}/space-pool",
            new { spaceIds = new[] { fitting, tooSmall, noProjector }, minimumCapacity = 8, requiredFeatures = new[] { "Projector" } })).ExpectAsync(200);
        pool["requiredFeatures"]!.AsArray().Single()!.GetValue<string>().ShouldBe("projector");

        // The two spaces that do not fit are free all day; only the fitting one matters.
        await TakeAsync(admin, fitting, "2027-03-02T10:00:00Z", "2027-03-02T11:00:00Z");

        var starts = await SlotStartsAsync(app.Anonymous(), slug);
        starts.ShouldContain("2027-03-02T09:30:00Z");
        starts.ShouldNotContain("2027-03-02T10:00:00Z");
        starts.ShouldNotContain("2027-03-02T10:30:00Z");
        starts.ShouldContain("2027-03-02T11:00:00Z");
        await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-02T10:00:00Z", customer = Scenario.Customer() })).ExpectAsync(409);
    }

    [DbFact]
    public async Task A_booking_holds_its_space_in_the_same_transaction_and_frees_it_when_canceled()
    {
        var admin = app.Client();
        var space = await SpaceAsync(admin, 6);
        var slug = await Scenario.CreatePageAsync(admin);
        await (await admin.PutJsonAsync($"/api/v1/booking-pages/{await PageIdAsync(admin, slug)}/space-pool", new { spaceIds = new[] { space } }))
            .ExpectAsync(200);

        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-02T13:00:00Z");

        var bookingId = booking["id"]!.GetValue<string>();
        var held = (await (await admin.GetAsync($"/api/v1/spaces/requests?spaceId={space}")).ExpectAsync(200)).AsArray().Single()!;
        held["bookingId"]!.GetValue<string>().ShouldBe(bookingId);
        held["state"]!.GetValue<string>().ShouldBe("confirmed");
        held["start"]!.GetValue<string>().ShouldBe("2027-03-02T13:00:00Z");
        // The space is taken now: an auto-accept request for it at that time is refused.
        await (await admin.PostJsonAsync("/api/v1/spaces/requests",
            new { spaceIds = new[] { space }, start = "2027-03-02T13:00:00Z", end = "2027-03-02T13:30:00Z" })).ExpectAsync(409);

        await (await admin.PostJsonAsync($"/api/v1/bookings/{bookingId}/cancel", new { reason = "Off" })).ExpectAsync(200);
        (await app.DrainOutboxAsync()).ShouldBeEmpty();

        var state = await app.WithDbAsync(db => db.SpaceRequests.Where(r => r.SpaceId == Guid.Parse(space)).Select(r => r.State).SingleAsync());
        state.ShouldBe(SpaceRequestState.Canceled);
        (await SlotStartsAsync(app.Anonymous(), slug)).ShouldContain("2027-03-02T13:00:00Z");
    }

    [DbFact]
    public async Task When_every_space_of_the_pool_is_taken_no_slot_is_offered()
    {
        var admin = app.Client();
        var space = await SpaceAsync(admin, 6);
        var slug = await Scenario.CreatePageAsync(admin);
        await (await admin.PutJsonAsync($"/api/v1/booking-pages/{await PageIdAsync(admin, slug)}/space-pool", new { spaceIds = new[] { space } }))
            .ExpectAsync(200);

        await TakeAsync(admin, space, "2027-03-02T08:00:00Z", "2027-03-02T18:00:00Z");

        (await SlotStartsAsync(app.Anonymous(), slug)).ShouldBeEmpty();
    }
}

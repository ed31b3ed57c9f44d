using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>Round-robin and collective team pages, on a real PostgreSQL (decision 0033).</summary>
public sealed class TeamSchedulingTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private static JsonArray Team(params (string Id, int Priority)[] members) =>
        [.. members.Select(m => (JsonNode)new JsonObject { ["userId"] = m.Id, ["priority"] = m.Priority })];

    private async Task<List<string>> SlotStartsAsync(string slug, string day, string? member = null)
    {
        var url = $"/api/v1/booking-pages/{slug}/slots?from={day}&to={day}&timeZone=UTC" + (member is null ? "" : "&member=" + member);
        var slots = await (await app.Anonymous().GetAsync(url)).ExpectAsync(200);
        return [.. slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>())];
    }

    private async Task BusyAsync(string userId, string start, string end) =>
        await (await app.Client().PostJsonAsync($"/api/v1/users/{userId}/busy-blocks", new { start, end, note = "Synced busy time" })).ExpectAsync(201);

    private async Task<string> PageIdAsync(string slug) =>
        (await (await app.Client().GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray()
            .First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();

    [DbFact]
    public async Task Round_robin_offers_a_time_any_member_has_free_and_balances_by_fewest_bookings()
    {
        var admin = app.Client();
        var ann = await Scenario.CreateUserAsync(admin, "Ann Round");
        var bob = await Scenario.CreateUserAsync(admin, "Bob Round");
        var slug = await Scenario.CreatePageAsync(admin, p =>
        {
            p["schedulingOption"] = "roundRobin";
            p["teamMembers"] = Team((ann, 5), (bob, 5));
        });
        await BusyAsync(ann, "2027-03-09T11:00:00Z", "2027-03-09T11:30:00Z");
        await BusyAsync(bob, "2027-03-09T12:00:00Z", "2027-03-09T12:30:00Z");
        await BusyAsync(ann, "2027-03-09T13:00:00Z", "2027-03-09T13:30:00Z");
        await BusyAsync(bob, "2027-03-09T13:00:00Z", "2027-03-09T13:30:00Z");

        var starts = await SlotStartsAsync(slug, "2027-03-09");
        starts.ShouldContain("2027-03-09T11:00:00Z");
        starts.ShouldContain("2027-03-09T12:00:00Z");
        starts.ShouldNotContain("2027-03-09T13:00:00Z");
        (await SlotStartsAsync(slug, "2027-03-09", ann)).ShouldNotContain("2027-03-09T11:00:00Z");

        // Only the free member can take a time one of them holds; with both free, the one with fewer bookings gets it.
        (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T11:00:00Z"))["ownerId"]!.GetValue<string>().ShouldBe(bob);
        (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T09:00:00Z"))["ownerId"]!.GetValue<string>().ShouldBe(ann);
        (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T09:30:00Z"))["ownerId"]!.GetValue<string>().ShouldBe(ann);
        var fourth = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T10:00:00Z");
        fourth["ownerId"]!.GetValue<string>().ShouldBe(bob);
        fourth["hosts"]!.AsArray().Count.ShouldBe(1);

        // A canceled booking no longer counts: Bob's cancellation leaves him with one, Ann with two.
        await (await admin.PostJsonAsync($"/api/v1/bookings/{fourth["id"]}/cancel", new { reason = "x" })).ExpectAsync(200);
        (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T14:00:00Z"))["ownerId"]!.GetValue<string>().ShouldBe(bob);
    }

    [DbFact]
    public async Task Round_robin_by_priority_gives_the_highest_priority_free_member_and_a_chosen_member_only_their_times()
    {
        var admin = app.Client();
        var low = await Scenario.CreateUserAsync(admin, "Lou Low");
        var high = await Scenario.CreateUserAsync(admin, "Hal High");
        var slug = await Scenario.CreatePageAsync(admin, p =>
        {
            p["schedulingOption"] = "roundRobin";
            p["roundRobinBalance"] = "priority";
            p["teamMembers"] = Team((low, 2), (high, 8));
        });

        (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T09:00:00Z"))["ownerId"]!.GetValue<string>().ShouldBe(high);
        (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T09:30:00Z"))["ownerId"]!.GetValue<string>().ShouldBe(high);
        await BusyAsync(high, "2027-03-10T10:00:00Z", "2027-03-10T11:00:00Z");
        (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z"))["ownerId"]!.GetValue<string>().ShouldBe(low);

        // A routing form's member: the booking goes to them, and a time only another member has is refused.
        var chosen = await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-10T11:00:00Z", customer = Scenario.Customer(), memberId = low })).ExpectAsync(201);
        chosen["ownerId"]!.GetValue<string>().ShouldBe(low);
        await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-10T10:00:00Z", customer = Scenario.Customer(), memberId = high })).ExpectAsync(409);
        (await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-10T12:00:00Z", customer = Scenario.Customer(), memberId = Guid.NewGuid().ToString() })).ExpectAsync(400))
            ["errors"]!["memberId"].ShouldNotBeNull();
        (await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-10&to=2027-03-10&member=nobody")).ExpectAsync(400))
            ["errors"]!["member"].ShouldNotBeNull();
    }

    [DbFact]
    public async Task Collective_offers_only_times_every_member_has_free_and_holds_them_all()
    {
        var admin = app.Client();
        var cat = await Scenario.CreateUserAsync(admin, "Cat Collective");
        var dan = await Scenario.CreateUserAsync(admin, "Dan Collective");
        var danKey = await Scenario.CreateKeyAsync(admin, dan);
        var danPage = await Scenario.CreatePageAsync(app.Client(danKey));
        await Scenario.BookAsync(app.Anonymous(), danPage, "2027-03-11T11:00:00Z");
        await BusyAsync(cat, "2027-03-11T12:00:00Z", "2027-03-11T12:30:00Z");
        var slug = await Scenario.CreatePageAsync(admin, p =>
        {
            p["schedulingOption"] = "collective";
            p["teamMembers"] = Team((cat, 5), (dan, 5));
        });

        var starts = await SlotStartsAsync(slug, "2027-03-11");
        starts.ShouldNotContain("2027-03-11T11:00:00Z");
        starts.ShouldNotContain("2027-03-11T12:00:00Z");
        starts.ShouldContain("2027-03-11T13:00:00Z");

        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T13:00:00Z");
        booking["ownerId"]!.GetValue<string>().ShouldBe(cat);
        booking["hosts"]!.AsArray().Select(h => h!["userId"]!.GetValue<string>()).ShouldBe([cat, dan], ignoreOrder: true);
        (await SlotStartsAsync(danPage, "2027-03-11")).ShouldNotContain("2027-03-11T13:00:00Z");

        // Collective meetings, like panels, are not one-on-one: reassignment refuses them.
        var page = await Scenario.CreatePageAsync(admin);
        (await (await admin.PostJsonAsync($"/api/v1/bookings/{booking["id"]}/reassign", new { bookingPageId = await PageIdAsync(page) })).ExpectAsync(409))
            ["code"]!.GetValue<string>().ShouldBe("not_one_on_one");
    }

    [DbFact]
    public async Task Racers_for_the_last_free_member_get_that_member_once_and_409_otherwise_never_a_double_booking()
    {
        var admin = app.Client();
        var eve = await Scenario.CreateUserAsync(admin, "Eve Race");
        var fay = await Scenario.CreateUserAsync(admin, "Fay Race");
        var eveKey = await Scenario.CreateKeyAsync(admin, eve);
        var evePage = await Scenario.CreatePageAsync(app.Client(eveKey));
        var slug = await Scenario.CreatePageAsync(admin, p =>
        {
            p["schedulingOption"] = "roundRobin";
            p["teamMembers"] = Team((eve, 5), (fay, 5));
        });
        await BusyAsync(fay, "2027-03-12T09:00:00Z", "2027-03-12T17:00:00Z");

        // Eve is the last free member at 10:00: racers on the team page and on her own page all want her.
        var racers = Enumerable.Range(0, 8).Select(i => app.Anonymous().PostJsonAsync(
            $"/api/v1/booking-pages/{(i % 2 == 0 ? slug : evePage)}/bookings", new { start = "2027-03-12T10:00:00Z", customer = Scenario.Customer() }));
        var answers = await Task.WhenAll(racers);
        answers.Count(r => r.StatusCode == HttpStatusCode.Created).ShouldBe(1);
        answers.Count(r => r.StatusCode == HttpStatusCode.Conflict).ShouldBe(7);

        // With both free at 15:00, two racers get one member each and the rest 409.
        await (await admin.DeleteAsync($"/api/v1/users/{fay}/busy-blocks/{await BlockIdAsync(fay)}")).ExpectAsync(204);
        var second = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => app.Anonymous().PostJsonAsync(
            $"/api/v1/booking-pages/{slug}/bookings", new { start = "2027-03-12T15:00:00Z", customer = Scenario.Customer() })));
        var won = second.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        won.Count.ShouldBe(2);
        second.Count(r => r.StatusCode == HttpStatusCode.Conflict).ShouldBe(4);
        var owners = await Task.WhenAll(won.Select(async r => (await r.ExpectAsync(201))["ownerId"]!.GetValue<string>()));
        owners.ShouldBe([eve, fay], ignoreOrder: true);

        // The database agrees: no member holds two overlapping meetings.
        var overlaps = await app.WithDbAsync(db => db.Database.SqlQueryRaw<int>("""
            SELECT count(*)::int AS "Value" FROM booking_hosts a JOIN booking_hosts b
              ON a.user_id = b.user_id AND a.booking_id < b.booking_id AND a.active AND b.active AND a.during && b.during
            """).SingleAsync());
        overlaps.ShouldBe(0);
    }

    private async Task<string> BlockIdAsync(string user) =>
        (await (await app.Client().GetAsync($"/api/v1/users/{user}/busy-blocks")).ExpectAsync(200)).AsArray()[0]!["id"]!.GetValue<string>();

    [DbFact]
    public async Task A_round_robin_booking_belongs_to_its_member_and_can_be_reassigned_like_a_one_on_one()
    {
        var admin = app.Client();
        var gus = await Scenario.CreateUserAsync(admin, "Gus Assign");
        var hal = await Scenario.CreateUserAsync(admin, "Hal Assign");
        var halKey = await Scenario.CreateKeyAsync(admin, hal);
        var halPage = await Scenario.CreatePageAsync(app.Client(halKey));
        var slug = await Scenario.CreatePageAsync(admin, p =>
        {
            p["schedulingOption"] = "roundRobin";
            p["teamMembers"] = Team((gus, 5));
        });
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T09:00:00Z");
        booking["ownerId"]!.GetValue<string>().ShouldBe(gus);

        var moved = await (await admin.PostJsonAsync($"/api/v1/bookings/{booking["id"]}/reassign", new { bookingPageId = await PageIdAsync(halPage) })).ExpectAsync(200);
        moved["booking"]!["ownerId"]!.GetValue<string>().ShouldBe(hal);
    }

    [DbFact]
    public async Task Team_pages_need_known_members_and_an_administrator()
    {
        var admin = app.Client();
        var ida = await Scenario.CreateUserAsync(admin, "Ida Team");
        var idaKey = await Scenario.CreateKeyAsync(admin, ida);
        var body = new JsonObject
        {
            ["slug"] = "team-" + Guid.NewGuid().ToString("N")[..8], ["title"] = "Team", ["durationMinutes"] = 30, ["timeZone"] = "Europe/London",
            ["schedulingOption"] = "collective", ["teamMembers"] = Team((ida, 5)),
        };
        (await (await admin.PostJsonAsync("/api/v1/booking-pages", body)).ExpectAsync(400))["errors"]!["teamMembers"].ShouldNotBeNull();
        body["teamMembers"] = Team((ida, 5), (Guid.NewGuid().ToString(), 5));
        (await (await admin.PostJsonAsync("/api/v1/booking-pages", body)).ExpectAsync(400))["errors"]!["teamMembers"].ShouldNotBeNull();
        body["schedulingOption"] = "roundRobin";
        body["teamMembers"] = Team((ida, 11));
        (await (await admin.PostJsonAsync("/api/v1/booking-pages", body)).ExpectAsync(400))["errors"]!["teamMembers[0].priority"].ShouldNotBeNull();
        body["teamMembers"] = Team((ida, 3));
        await (await app.Client(idaKey).PostJsonAsync("/api/v1/booking-pages", body)).ExpectAsync(403);
        var created = await (await admin.PostJsonAsync("/api/v1/booking-pages", body)).ExpectAsync(201);
        created["roundRobinBalance"]!.GetValue<string>().ShouldBe("fewestBookings");
        created["teamMembers"]![0]!["priority"]!.GetValue<int>().ShouldBe(3);
    }
}

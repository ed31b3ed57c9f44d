using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Domain.Spaces;
using Rendezvous.Server.Features.SelfService;
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

    private static async Task<string[]> SlotStartsAsync(HttpClient client, string slug, string day = "2027-03-02") =>
        [.. (await (await client.GetAsync($"/api/v1/booking-pages/{slug}/slots?from={day}&to={day}&timeZone=Europe/London")).ExpectAsync(200))
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

    private async Task<string> PoolPageAsync(HttpClient owner, HttpClient admin, string[] spaceIds, Action<JsonObject>? customize = null)
    {
        var slug = await Scenario.CreatePageAsync(owner, customize);
        await (await admin.PutJsonAsync($"/api/v1/booking-pages/{await PageIdAsync(admin, slug)}/space-pool", new { spaceIds })).ExpectAsync(200);
        return slug;
    }

    private Task<List<(Guid Space, string State, string Start)>> HoldsAsync(string bookingId) =>
        app.WithDbAsync(async db => (await db.SpaceRequests.Where(r => r.Uid == $"booking-{bookingId}@rendezvous").OrderBy(r => r.CreatedAt).ToListAsync())
            .Select(r => (r.SpaceId, r.State.ToString(), r.Start.ToString())).ToList());

    [DbFact]
    public async Task Rescheduling_onto_a_time_when_its_space_is_taken_moves_the_hold_to_another_free_space_of_the_pool_in_the_same_transaction()
    {
        var admin = app.Client();
        var small = await SpaceAsync(admin, 6);
        var large = await SpaceAsync(admin, 12);
        var slug = await PoolPageAsync(admin, admin, [small, large]);
        var booking = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-03T09:00:00Z"))["id"]!.GetValue<string>();
        (await HoldsAsync(booking)).Single().Space.ShouldBe(Guid.Parse(small));
        await TakeAsync(admin, small, "2027-03-03T11:00:00Z", "2027-03-03T12:00:00Z");

        // The new time is offered: the host is free and one space of the pool (the large one) is free then.
        var token = app.Services.GetRequiredService<SelfServiceLinks>().CreateToken(new Domain.BookingId(Guid.Parse(booking)), LinkPurpose.Reschedule);
        var offered = await (await app.Anonymous().GetAsync($"/api/v1/self-service/{token}/slots?from=2027-03-03&to=2027-03-03&timeZone=UTC")).ExpectAsync(200);
        offered["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ShouldContain(x => x.StartsWith("2027-03-03T11:00", StringComparison.Ordinal));

        await (await app.Anonymous().PostJsonAsync($"/api/v1/self-service/{token}/reschedule", new { start = "2027-03-03T11:00:00Z" })).ExpectAsync(200);

        // Moved in the reschedule's own commit, before any outbox message is handled.
        var holds = await HoldsAsync(booking);
        holds.Count.ShouldBe(2);
        holds.ShouldContain(h => h.Space == Guid.Parse(small) && h.State == "Canceled");
        holds.ShouldContain(h => h.Space == Guid.Parse(large) && h.State == "Confirmed" && h.Start == "2027-03-03T11:00:00Z");
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        (await HoldsAsync(booking)).Count(h => h.State == "Confirmed").ShouldBe(1);
        var reason = await app.WithDbAsync(db => db.SpaceRequests.Where(r => r.SpaceId == Guid.Parse(small) && r.Uid == $"booking-{booking}@rendezvous")
            .Select(r => r.LastReason).SingleAsync());
        reason.ShouldNotBeNull().ShouldContain("now holds");

        // To a time when the large space is taken and the small one free again: back to the small one, whose earlier
        // request for this booking revives (a space has one request per event).
        await TakeAsync(admin, large, "2027-03-03T14:00:00Z", "2027-03-03T15:00:00Z");
        await (await admin.PostJsonAsync($"/api/v1/bookings/{booking}/reschedule", new { start = "2027-03-03T14:00:00Z" })).ExpectAsync(200);
        holds = await HoldsAsync(booking);
        holds.Count.ShouldBe(2);
        holds.Single(h => h.State == "Confirmed").Space.ShouldBe(Guid.Parse(small));
    }

    [DbFact]
    public async Task Rescheduling_is_refused_with_a_reason_when_no_space_of_the_pool_is_free_at_the_new_time_and_the_hold_stays()
    {
        var admin = app.Client();
        var small = await SpaceAsync(admin, 6);
        var large = await SpaceAsync(admin, 12);
        var slug = await PoolPageAsync(admin, admin, [small, large]);
        var booking = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-04T09:00:00Z"))["id"]!.GetValue<string>();
        await TakeAsync(admin, small, "2027-03-04T15:00:00Z", "2027-03-04T16:00:00Z");
        await TakeAsync(admin, large, "2027-03-04T15:00:00Z", "2027-03-04T16:00:00Z");

        // Not offered to the customer...
        var token = app.Services.GetRequiredService<SelfServiceLinks>().CreateToken(new Domain.BookingId(Guid.Parse(booking)), LinkPurpose.Reschedule);
        var offered = await (await app.Anonymous().GetAsync($"/api/v1/self-service/{token}/slots?from=2027-03-04&to=2027-03-04&timeZone=UTC")).ExpectAsync(200);
        offered["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ShouldNotContain(x => x.StartsWith("2027-03-04T15:00", StringComparison.Ordinal));

        // ...and refused to staff, who may otherwise move outside the page's hours, with problem+json saying why.
        var refused = await admin.PostJsonAsync($"/api/v1/bookings/{booking}/reschedule", new { start = "2027-03-04T15:00:00Z" });
        refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await refused.ExpectAsync(409);
        problem["code"]?.GetValue<string>().ShouldBe("space_unavailable");
        problem["detail"]!.GetValue<string>().ShouldContain("no other space of this page's pool");

        var hold = (await HoldsAsync(booking)).Single();
        (hold.Space, hold.State, hold.Start).ShouldBe((Guid.Parse(small), "Confirmed", "2027-03-04T09:00:00Z"));
        var start = (await (await admin.GetAsync($"/api/v1/bookings/{booking}")).ExpectAsync(200))["start"]!.GetValue<string>();
        start.ShouldContain("09:00:00");
    }

    [DbFact]
    public async Task Two_concurrent_reschedules_racing_for_the_last_free_space_one_wins_and_the_other_is_refused()
    {
        var admin = app.Client();
        var small = await SpaceAsync(admin, 6);
        var large = await SpaceAsync(admin, 12);
        // Two hosts (so the hosts never collide), two pages sharing one pool.
        var other = app.Client(await Scenario.CreateKeyAsync(admin, await Scenario.CreateUserAsync(admin, "Second Host")));
        var first = await PoolPageAsync(admin, admin, [small, large]);
        var second = await PoolPageAsync(other, admin, [small, large]);
        var a = (await Scenario.BookAsync(app.Anonymous(), first, "2027-03-05T09:00:00Z"))["id"]!.GetValue<string>();
        var b = (await Scenario.BookAsync(app.Anonymous(), second, "2027-03-05T10:00:00Z"))["id"]!.GetValue<string>();
        // At 13:00 the small space is taken: the large one is the last free space.
        await TakeAsync(admin, small, "2027-03-05T13:00:00Z", "2027-03-05T14:00:00Z");

        var moves = await Task.WhenAll(
            admin.PostJsonAsync($"/api/v1/bookings/{a}/reschedule", new { start = "2027-03-05T13:00:00Z" }),
            other.PostJsonAsync($"/api/v1/bookings/{b}/reschedule", new { start = "2027-03-05T13:00:00Z" }));

        moves.Count(m => (int)m.StatusCode == 200).ShouldBe(1);
        var loser = moves.Single(m => (int)m.StatusCode != 200);
        ((int)loser.StatusCode).ShouldBe(409);
        (await loser.ReadJsonAsync())["code"]?.GetValue<string>().ShouldBe("space_unavailable");
        var at13 = await app.WithDbAsync(db => db.SpaceRequests
            .Where(r => r.SpaceId == Guid.Parse(large) && r.State == SpaceRequestState.Confirmed).Select(r => r.Uid).ToListAsync());
        at13.Count.ShouldBe(1);
        var winner = (int)moves[0].StatusCode == 200 ? a : b;
        var lost = winner == a ? b : a;
        at13.Single().ShouldBe($"booking-{winner}@rendezvous");
        // The loser keeps its booking and its space where they were.
        (await HoldsAsync(lost)).Single().State.ShouldBe("Confirmed");
        (await HoldsAsync(lost)).Single().Start.ShouldNotContain("T13:00");
    }

    [DbFact]
    public async Task A_group_session_holds_one_space_for_all_its_seats_that_seats_them_and_the_last_cancellation_releases_it()
    {
        var admin = app.Client();
        var tooSmall = await SpaceAsync(admin, 2);
        var seatsAll = await SpaceAsync(admin, 4);
        var slug = await PoolPageAsync(admin, admin, [tooSmall, seatsAll], p =>
        {
            p["schedulingOption"] = "groupSession";
            p["seatsPerSlot"] = 3;
        });

        var prefix = $"session-{Guid.Parse(await PageIdAsync(admin, slug)):N}-";
        var seat1 = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z"))["id"]!.GetValue<string>();
        var seat2 = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z"))["id"]!.GetValue<string>();
        var seat3 = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z"))["id"]!.GetValue<string>();

        // One request for the session, on the space that seats three (not the smaller one), held for every seat.
        var holds = await app.WithDbAsync(db => db.SpaceRequests.Where(r => r.Uid.StartsWith(prefix)).ToListAsync());
        var hold = holds.ShouldHaveSingleItem();
        hold.SpaceId.ShouldBe(Guid.Parse(seatsAll));
        hold.State.ShouldBe(SpaceRequestState.Confirmed);
        hold.Start.ToString().ShouldBe("2027-03-08T10:00:00Z");

        // The last seat's cancellation releases it, not the earlier ones.
        await (await admin.PostJsonAsync($"/api/v1/bookings/{seat1}/cancel", new { reason = "Off" })).ExpectAsync(200);
        await (await admin.PostJsonAsync($"/api/v1/bookings/{seat2}/cancel", new { reason = "Off" })).ExpectAsync(200);
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        (await app.WithDbAsync(db => db.SpaceRequests.Where(r => r.Id == hold.Id).Select(r => r.State).SingleAsync())).ShouldBe(SpaceRequestState.Confirmed);
        await (await admin.PostJsonAsync($"/api/v1/bookings/{seat3}/cancel", new { reason = "Off" })).ExpectAsync(200);
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        (await app.WithDbAsync(db => db.SpaceRequests.Where(r => r.Id == hold.Id).Select(r => r.State).SingleAsync())).ShouldBe(SpaceRequestState.Canceled);

        // Booked again, the session holds its space again (the same request, revived).
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z");
        (await app.WithDbAsync(db => db.SpaceRequests.Where(r => r.Id == hold.Id).Select(r => r.State).SingleAsync())).ShouldBe(SpaceRequestState.Confirmed);
    }

    [DbFact]
    public async Task A_group_session_is_not_offered_when_no_space_seats_it_and_a_held_session_stays_offered_for_its_other_seats()
    {
        var admin = app.Client();
        var seatsAll = await SpaceAsync(admin, 5);
        var slug = await PoolPageAsync(admin, admin, [seatsAll, await SpaceAsync(admin, 3)], p =>
        {
            p["schedulingOption"] = "groupSession";
            p["seatsPerSlot"] = 4;
        });
        var prefix = $"session-{Guid.Parse(await PageIdAsync(admin, slug)):N}-";
        await TakeAsync(admin, seatsAll, "2027-03-09T12:00:00Z", "2027-03-09T13:00:00Z");

        var starts = await SlotStartsAsync(app.Anonymous(), slug, "2027-03-09");
        // The only space that seats four is taken at 12:00; the three-seat room does not count.
        starts.ShouldNotContain("2027-03-09T12:00:00Z");
        starts.ShouldContain("2027-03-09T10:00:00Z");

        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T10:00:00Z");
        // The session's own hold does not hide it from the next seats.
        (await SlotStartsAsync(app.Anonymous(), slug, "2027-03-09")).ShouldContain("2027-03-09T10:00:00Z");
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T10:00:00Z");
        (await app.WithDbAsync(db => db.SpaceRequests.CountAsync(r => r.Uid.StartsWith(prefix) && r.State == SpaceRequestState.Confirmed))).ShouldBe(1);
    }

    [DbFact]
    public async Task Moving_a_seat_joins_the_new_sessions_space_and_the_old_session_keeps_its_space_until_its_last_seat_leaves()
    {
        var admin = app.Client();
        var space = await SpaceAsync(admin, 3);
        var slug = await PoolPageAsync(admin, admin, [space], p =>
        {
            p["schedulingOption"] = "groupSession";
            p["seatsPerSlot"] = 2;
        });
        var pageId = Guid.Parse(await PageIdAsync(admin, slug));
        var seat1 = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z"))["id"]!.GetValue<string>();
        var seat2 = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z"))["id"]!.GetValue<string>();

        Task<Dictionary<string, SpaceRequestState>> SessionsAsync() => app.WithDbAsync(db => db.SpaceRequests
            .Where(r => r.Uid.StartsWith($"session-{pageId:N}-")).ToDictionaryAsync(r => r.Start.ToString(), r => r.State));

        await (await admin.PostJsonAsync($"/api/v1/bookings/{seat1}/reschedule", new { start = "2027-03-10T11:00:00Z" })).ExpectAsync(200);
        var sessions = await SessionsAsync();
        sessions["2027-03-10T10:00:00Z"].ShouldBe(SpaceRequestState.Confirmed);
        sessions["2027-03-10T11:00:00Z"].ShouldBe(SpaceRequestState.Confirmed);

        await (await admin.PostJsonAsync($"/api/v1/bookings/{seat2}/reschedule", new { start = "2027-03-10T11:00:00Z" })).ExpectAsync(200);
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        sessions = await SessionsAsync();
        sessions["2027-03-10T10:00:00Z"].ShouldBe(SpaceRequestState.Canceled);
        sessions["2027-03-10T11:00:00Z"].ShouldBe(SpaceRequestState.Confirmed);
        sessions.Count.ShouldBe(2);
    }
}

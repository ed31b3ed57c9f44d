using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

public sealed class BookingApiTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task Visitor_books_a_free_slot_and_it_disappears_from_the_slots()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var visitor = app.Anonymous();

        var slots = await (await visitor.GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-02&to=2027-03-02&timeZone=Europe/London")).ExpectAsync(200);
        slots["timeZone"]!.GetValue<string>().ShouldBe("Europe/London");
        var all = slots["slots"]!.AsArray();
        all.Count.ShouldBe(16);
        all[0]!["start"]!.GetValue<string>().ShouldBe("2027-03-02T09:00:00Z");
        all[0]!["end"]!.GetValue<string>().ShouldBe("2027-03-02T09:30:00Z");
        all[0]!["seatsLeft"]!.GetValue<int>().ShouldBe(1);

        var booking = await Scenario.BookAsync(visitor, slug, "2027-03-02T09:00:00Z");
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Scheduled by Customer");
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-02T09:00:00Z");
        booking["end"]!.GetValue<string>().ShouldBe("2027-03-02T09:30:00Z");
        booking["customer"]!["name"]!.GetValue<string>().ShouldBe("Grace Hopper");

        var after = await (await visitor.GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-02&to=2027-03-02&timeZone=Europe/London")).ExpectAsync(200);
        after["slots"]!.AsArray().Count.ShouldBe(15);
        after["slots"]!.AsArray().ShouldNotContain(s => s!["start"]!.GetValue<string>() == "2027-03-02T09:00:00Z");
    }

    [DbFact]
    public async Task Slots_are_shown_with_the_offset_of_the_requested_zone()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-16&to=2027-03-16&timeZone=America/New_York")).ExpectAsync(200);
        // New York is already on daylight time (-04:00) while London is still on GMT: 09:00 London is 05:00 there.
        slots["slots"]!.AsArray()[0]!["start"]!.GetValue<string>().ShouldBe("2027-03-16T05:00:00-04:00");
    }

    [DbFact]
    public async Task Second_booking_of_a_taken_slot_gets_409_and_nothing_changes()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var visitor = app.Anonymous();
        await Scenario.BookAsync(visitor, slug, "2027-03-03T10:00:00Z");

        var second = await visitor.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new { start = "2027-03-03T10:00:00Z", customer = Scenario.Customer("Alan") });
        var problem = await second.ExpectAsync(409);
        problem["code"]!.GetValue<string>().ShouldBe("slot_unavailable");

        var count = await app.WithDbAsync(db => db.Bookings.CountAsync(b => b.Start == Instant.FromUtc(2027, 3, 3, 10, 0)));
        count.ShouldBe(1);
    }

    [DbFact]
    public async Task Fifty_parallel_requests_for_one_slot_produce_exactly_one_booking()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var tasks = Enumerable.Range(0, 50).Select(async i =>
        {
            using var client = app.Anonymous();
            var response = await client.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
                new { start = "2027-03-04T11:00:00Z", customer = Scenario.Customer($"Racer {i}", $"racer{i}@example.com") });
            return response.StatusCode;
        }).ToList();
        var statuses = await Task.WhenAll(tasks);

        statuses.Count(s => s == HttpStatusCode.Created).ShouldBe(1);
        statuses.Count(s => s == HttpStatusCode.Conflict).ShouldBe(49);
        var count = await app.WithDbAsync(db => db.Bookings.CountAsync(b => b.Start == Instant.FromUtc(2027, 3, 4, 11, 0)));
        count.ShouldBe(1);
    }

    [DbFact]
    public async Task The_database_refuses_a_host_double_booked_through_two_pages()
    {
        var admin = app.Client();
        var pageA = await Scenario.CreatePageAsync(admin);
        var pageB = await Scenario.CreatePageAsync(admin, p => p["durationMinutes"] = 60);

        // Race the two pages of one host for overlapping times: the per-page locks do not serialise them,
        // so only the exclusion constraint can keep the host single-booked.
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var client = app.Anonymous();
            var (slug, start) = i % 2 == 0 ? (pageA, "2027-03-05T13:30:00Z") : (pageB, "2027-03-05T13:00:00Z");
            var response = await client.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new { start, customer = Scenario.Customer($"P{i}", $"p{i}@example.com") });
            return response.StatusCode;
        }));

        results.Count(s => s == HttpStatusCode.Created).ShouldBe(1);
        results.Count(s => s == HttpStatusCode.Conflict).ShouldBe(19);
    }

    [DbFact]
    public async Task Idempotency_key_replays_the_first_result()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var visitor = app.Anonymous();
        var body = new { start = "2027-03-08T12:00:00Z", customer = Scenario.Customer("Ida", "ida@example.com") };

        async Task<HttpResponseMessage> Send(object b)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/booking-pages/{slug}/bookings")
            {
                Content = System.Net.Http.Json.JsonContent.Create(b, options: RendezvousApp.Json),
            };
            request.Headers.Add("Idempotency-Key", "key-123");
            return await visitor.SendAsync(request);
        }

        var first = await (await Send(body)).ExpectAsync(201);
        var again = await (await Send(body)).ExpectAsync(201);
        again["id"]!.GetValue<string>().ShouldBe(first["id"]!.GetValue<string>());

        var different = await (await Send(new { start = "2027-03-08T13:00:00Z", customer = Scenario.Customer("Ida", "ida@example.com") })).ExpectAsync(409);
        different["code"]!.GetValue<string>().ShouldBe("idempotency_key_reused");
        (await app.WithDbAsync(db => db.Bookings.CountAsync(b => b.Answers != null && b.Start >= Instant.FromUtc(2027, 3, 8, 0, 0) && b.Start < Instant.FromUtc(2027, 3, 9, 0, 0))))
            .ShouldBe(1);
    }

    [DbTheory]
    [InlineData("{", "body")]
    [InlineData("{\"start\": 5, \"customer\": {\"name\": \"A\", \"email\": \"a@example.com\"}}", "start")]
    [InlineData("{\"start\": \"tomorrow\", \"customer\": {\"name\": \"A\", \"email\": \"a@example.com\"}}", "start")]
    [InlineData("{\"start\": \"2027-03-09T10:00:00\", \"customer\": {\"name\": \"A\", \"email\": \"a@example.com\"}}", "start")]
    [InlineData("{\"start\": \"2027-03-09T10:00:00Z\", \"customer\": {\"name\": \"A\", \"email\": \"not-an-email\"}}", "customer.email")]
    [InlineData("{\"start\": \"2027-03-09T10:00:00Z\", \"customer\": {\"name\": \"\", \"email\": \"a@example.com\"}}", "customer.name")]
    [InlineData("{\"start\": \"2027-03-09T10:00:00Z\", \"customer\": {\"name\": \"A\", \"email\": \"a@example.com\", \"timeZone\": \"Mars/Olympus\"}}", "customer.timeZone")]
    [InlineData("{\"start\": \"2027-03-09T10:00:00Z\"}", "customer")]
    [InlineData("[]", "body")]
    public async Task Bad_booking_input_is_a_400_naming_the_field(string json, string field)
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var response = await app.Anonymous().PostRawAsync($"/api/v1/booking-pages/{slug}/bookings", json);
        var problem = await response.ExpectAsync(400);
        var errors = problem["errors"]?.AsObject().Select(kv => kv.Key).ToList() ?? [];
        var named = problem["field"]?.GetValue<string>();
        (named == field || errors.Contains(field)).ShouldBeTrue($"expected field {field} in {problem.ToJsonString()}");
        (await app.WithDbAsync(db => db.Bookings.CountAsync(b => b.Start == Instant.FromUtc(2027, 3, 9, 10, 0)))).ShouldBe(0);
    }

    [DbFact]
    public async Task Unknown_page_is_404_and_bad_slot_queries_are_400()
    {
        var visitor = app.Anonymous();
        await (await visitor.GetAsync("/api/v1/booking-pages/no-such-page/slots?from=2027-03-02&to=2027-03-02")).ExpectAsync(404);
        await (await visitor.PostJsonAsync("/api/v1/booking-pages/no-such-page/bookings", new { start = "2027-03-02T09:00:00Z", customer = Scenario.Customer() })).ExpectAsync(404);

        var slug = await Scenario.CreatePageAsync(app.Client());
        var p1 = await (await visitor.GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-05&to=2027-03-02")).ExpectAsync(400);
        p1["errors"]!["to"].ShouldNotBeNull();
        var p2 = await (await visitor.GetAsync($"/api/v1/booking-pages/{slug}/slots?from=March&to=2027-03-02&timeZone=Nowhere/Land")).ExpectAsync(400);
        p2["errors"]!["from"].ShouldNotBeNull();
        p2["errors"]!["timeZone"].ShouldNotBeNull();
        await (await visitor.GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-01&to=2027-06-30")).ExpectAsync(400);
    }

    [DbFact]
    public async Task Time_outside_hours_or_notice_is_refused()
    {
        var slug = await Scenario.CreatePageAsync(app.Client(), p => p["minimumNoticeMinutes"] = 24 * 60);
        var visitor = app.Anonymous();
        // 08:00 is before opening; 2027-03-01 10:00 is inside the 24-hour notice.
        (await (await visitor.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new { start = "2027-03-03T08:00:00Z", customer = Scenario.Customer() })).ExpectAsync(409))["code"]!
            .GetValue<string>().ShouldBe("slot_unavailable");
        await (await visitor.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new { start = "2027-03-01T10:00:00Z", customer = Scenario.Customer() })).ExpectAsync(409);
        await (await visitor.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new { start = "2027-03-03T09:10:00Z", customer = Scenario.Customer() })).ExpectAsync(409);
    }

    [DbFact]
    public async Task Returning_customer_is_recognised_by_email()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var visitor = app.Anonymous();
        var a = await Scenario.BookAsync(visitor, slug, "2027-03-10T09:00:00Z", new { name = "Kate", email = "KATE@Example.com", timeZone = "Europe/Paris" });
        var b = await Scenario.BookAsync(visitor, slug, "2027-03-10T10:00:00Z", new { name = "Katherine", email = "kate@example.com" });
        b["customer"]!["id"]!.GetValue<string>().ShouldBe(a["customer"]!["id"]!.GetValue<string>());
        b["customer"]!["name"]!.GetValue<string>().ShouldBe("Katherine");
        b["customer"]!["email"]!.GetValue<string>().ShouldBe("kate@example.com");
    }

    [DbFact]
    public async Task Buffers_keep_time_free_around_the_pages_meetings_and_busy_blocks_hide_slots()
    {
        var admin = app.Client();
        var memberId = await Scenario.CreateUserAsync(admin, "Buffered Host");
        var member = app.Client(await Scenario.CreateKeyAsync(admin, memberId));
        var slug = await Scenario.CreatePageAsync(member, p => p["bufferAfterMinutes"] = 15);
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-17T10:00:00Z");

        async Task<List<string>> Starts()
        {
            var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-17&to=2027-03-17&timeZone=UTC")).ExpectAsync(200);
            return [.. slots["slots"]!.AsArray().Select(x => x!["start"]!.GetValue<string>())];
        }

        var starts = await Starts();
        // 09:30 would end at 10:00 and its own 15 minutes after would run into the 10:00 meeting.
        starts.ShouldContain("2027-03-17T09:00:00Z");
        starts.ShouldNotContain("2027-03-17T09:30:00Z");
        starts.ShouldNotContain("2027-03-17T10:00:00Z");
        starts.ShouldNotContain("2027-03-17T10:30:00Z");
        starts.ShouldContain("2027-03-17T11:00:00Z");

        var block = await (await member.PostJsonAsync($"/api/v1/users/{memberId}/busy-blocks", new { start = "2027-03-17T13:00:00Z", end = "2027-03-17T14:00:00Z", note = "Dentist" })).ExpectAsync(201);
        starts = await Starts();
        starts.ShouldNotContain("2027-03-17T13:00:00Z");
        starts.ShouldNotContain("2027-03-17T13:30:00Z");
        starts.ShouldContain("2027-03-17T14:00:00Z");

        (await member.DeleteAsync($"/api/v1/users/{memberId}/busy-blocks/{block["id"]}")).StatusCode.ShouldBe(System.Net.HttpStatusCode.NoContent);
        (await Starts()).ShouldContain("2027-03-17T13:00:00Z");
        var bad = await (await member.PostJsonAsync($"/api/v1/users/{memberId}/busy-blocks", new { start = "2027-03-17T13:00:00Z", end = "2027-03-17T12:00:00Z" })).ExpectAsync(400);
        bad["field"]!.GetValue<string>().ShouldBe("end");
    }
}

using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Domain;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>Routing forms, and rescheduling into another appointment type (seed 003), on a real PostgreSQL.</summary>
public sealed class RoutingAndTypeSwitchTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private async Task<string> PageIdAsync(string slug) =>
        (await (await app.Client().GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray()
            .First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();

    private string Token(string bookingId, LinkPurpose purpose) =>
        app.Services.GetRequiredService<SelfServiceLinks>().CreateToken(new BookingId(Guid.Parse(bookingId)), purpose);

    [DbFact]
    public async Task Routing_rules_send_a_visitor_to_a_page_a_member_or_a_message()
    {
        var admin = app.Client();
        var kim = await Scenario.CreateUserAsync(admin, "Kim Route");
        var lee = await Scenario.CreateUserAsync(admin, "Lee Route");
        var sales = await Scenario.CreatePageAsync(admin);
        var team = await Scenario.CreatePageAsync(admin, p =>
        {
            p["schedulingOption"] = "roundRobin";
            p["teamMembers"] = new JsonArray(new JsonObject { ["userId"] = kim }, new JsonObject { ["userId"] = lee });
        });
        var formSlug = "route-" + Guid.NewGuid().ToString("N")[..8];
        var form = new
        {
            slug = formSlug,
            title = "Who should you talk to?",
            questions = new object[]
            {
                new { id = "size", label = "Company size", kind = "choice", options = new[] { "1-10", "11-500", "500+" }, required = true },
                new { id = "topic", label = "What is it about?", kind = "text" },
            },
            rules = new object[]
            {
                new { questionId = "topic", match = "contains", value = "invoice", target = "message", message = "Please write to billing@acme.example." },
                new { questionId = "size", value = "500+", target = "member", bookingPageId = await PageIdAsync(team), userId = lee },
                new { questionId = "size", value = "11-500", target = "page", bookingPageId = await PageIdAsync(team) },
                new { questionId = "size", value = "1-10", target = "page", bookingPageId = await PageIdAsync(sales) },
            },
            fallbackMessage = "We will get back to you.",
        };
        var created = await (await admin.PostJsonAsync("/api/v1/routing-forms", form)).ExpectAsync(201);
        created["url"]!.GetValue<string>().ShouldEndWith("/" + formSlug);

        async Task<JsonNode> Route(object answers) =>
            await (await app.Anonymous().PostJsonAsync($"/api/v1/routing/{formSlug}", new { answers })).ExpectAsync(200);

        var member = await Route(new { size = "500+" });
        member["target"]!.GetValue<string>().ShouldBe("member");
        member["memberId"]!.GetValue<string>().ShouldBe(lee);
        member["url"]!.GetValue<string>().ShouldBe($"/acme/{team}?member={lee}");
        (await Route(new { size = "11-500" }))["url"]!.GetValue<string>().ShouldBe($"/acme/{team}");
        (await Route(new { size = "1-10", topic = "An INVOICE question" }))["message"]!.GetValue<string>().ShouldBe("Please write to billing@acme.example.");
        (await Route(new { size = "1-10" }))["bookingPageSlug"]!.GetValue<string>().ShouldBe(sales);

        // Bad answers name the field; the public form shows its questions; bad rules are refused when saved.
        (await (await app.Anonymous().PostJsonAsync($"/api/v1/routing/{formSlug}", new { answers = new { size = "huge" } })).ExpectAsync(400))
            ["errors"]!["answers.size"].ShouldNotBeNull();
        (await (await app.Anonymous().PostJsonAsync($"/api/v1/routing/{formSlug}", new { answers = new { } })).ExpectAsync(400))
            ["errors"]!["answers.size"].ShouldNotBeNull();
        (await (await app.Anonymous().GetAsync($"/api/v1/routing/{formSlug}")).ExpectAsync(200))["questions"]!.AsArray().Count.ShouldBe(2);
        // The web form is for visitors, who have no account: no sign-in, no API key.
        var visitor = new Web.WebSession(app);
        (await visitor.GetAsync($"/route/acme/{formSlug}")).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        visitor.LastHtml.ShouldContain("Who should you talk to?");
        var bad = await (await admin.PostJsonAsync("/api/v1/routing-forms", form with { })).ExpectAsync(409);
        bad["code"]!.GetValue<string>().ShouldBe("slug_taken");
        var wrongMember = await (await admin.PostJsonAsync("/api/v1/routing-forms", new
        {
            slug = formSlug + "-x", title = "x", questions = form.questions, fallbackMessage = "x",
            rules = new object[] { new { questionId = "size", value = "500+", target = "member", bookingPageId = await PageIdAsync(sales), userId = lee } },
        })).ExpectAsync(400);
        wrongMember["errors"]!["rules[0].userId"].ShouldNotBeNull();

        // When nothing matches after the team page is gone from the rules' reach, the visitor still reads a message.
        await (await admin.DeleteAsync($"/api/v1/routing-forms/{created["id"]}")).ExpectAsync(204);
        await (await app.Anonymous().GetAsync($"/api/v1/routing/{formSlug}")).ExpectAsync(404);
    }

    [DbFact]
    public async Task Staff_reschedule_into_another_type_takes_its_duration_and_is_told_as_a_reschedule()
    {
        var admin = app.Client();
        var adminId = await Scenario.MyIdAsync(admin);
        var shortCall = await Scenario.CreatePageAsync(admin);
        var longCall = await Scenario.CreatePageAsync(admin, p => { p["title"] = "Deep dive"; p["durationMinutes"] = 60; });
        var other = await Scenario.CreateUserAsync(admin, "Other Owner");
        var otherKey = await Scenario.CreateKeyAsync(admin, other);
        var otherPage = await Scenario.CreatePageAsync(app.Client(otherKey));
        var booking = await Scenario.BookAsync(app.Anonymous(), shortCall, "2027-03-16T09:00:00Z");
        var id = booking["id"]!.GetValue<string>();

        var types = await (await admin.GetAsync($"/api/v1/bookings/{id}/reschedule-types")).ExpectAsync(200);
        var slugs = types.AsArray().Select(t => t!["slug"]!.GetValue<string>()).ToList();
        slugs[0].ShouldBe(shortCall);
        slugs.ShouldContain(longCall);
        slugs.ShouldNotContain(otherPage);

        var moved = await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule",
            new { start = "2027-03-16T14:00:00Z", reason = "Needs longer", bookingPageId = await PageIdAsync(longCall) })).ExpectAsync(200);
        moved["bookingPageId"]!.GetValue<string>().ShouldBe(await PageIdAsync(longCall));
        moved["end"]!.GetValue<string>().ShouldBe("2027-03-16T15:00:00Z");
        moved["ownerId"]!.GetValue<string>().ShouldBe(adminId);
        moved["status"]!.GetValue<string>().ShouldBe("rescheduled");
        var last = moved["history"]!.AsArray()[^1]!;
        last["previousBookingPageId"]!.GetValue<string>().ShouldBe(await PageIdAsync(shortCall));

        var events = await app.WithDbAsync(db => db.OutboxMessages.OrderBy(m => m.Id).ToListAsync());
        events.Where(m => m.Payload.Contains(id, StringComparison.Ordinal)).Select(m => m.Type).ShouldContain("booking.rescheduled");

        // The whole hour is held: the long page no longer offers 14:30, and another owner's type is refused.
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{shortCall}/slots?from=2027-03-16&to=2027-03-16&timeZone=UTC")).ExpectAsync(200);
        slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ShouldNotContain("2027-03-16T14:30:00Z");
        (await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule",
            new { start = "2027-03-17T09:00:00Z", bookingPageId = await PageIdAsync(otherPage) })).ExpectAsync(409))
            ["code"]!.GetValue<string>().ShouldBe("type_not_available");
    }

    [DbFact]
    public async Task A_customer_reschedules_into_another_type_only_at_a_time_that_type_offers()
    {
        var admin = app.Client();
        var shortCall = await Scenario.CreatePageAsync(admin);
        var longCall = await Scenario.CreatePageAsync(admin, p =>
        {
            p["durationMinutes"] = 60;
            p["weeklyHours"] = new JsonArray(new JsonObject { ["day"] = "thursday", ["start"] = "13:00", ["end"] = "17:00" });
        });
        var booking = await Scenario.BookAsync(app.Anonymous(), shortCall, "2027-03-18T09:00:00Z");
        var id = booking["id"]!.GetValue<string>();
        var token = Token(id, LinkPurpose.Reschedule);
        var longId = await PageIdAsync(longCall);

        var types = await (await app.Anonymous().GetAsync($"/api/v1/self-service/{token}/types")).ExpectAsync(200);
        types.AsArray().Select(t => t!["bookingPageId"]!.GetValue<string>()).ShouldContain(longId);
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/self-service/{token}/slots?from=2027-03-18&to=2027-03-18&timeZone=UTC&bookingPageId={longId}")).ExpectAsync(200);
        var starts = slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ToList();
        starts.ShouldContain("2027-03-18T13:00:00Z");
        starts.ShouldNotContain("2027-03-18T10:00:00Z");

        await (await app.Anonymous().PostJsonAsync($"/api/v1/self-service/{token}/reschedule",
            new { start = "2027-03-18T10:00:00Z", bookingPageId = longId })).ExpectAsync(409);
        await (await app.Anonymous().PostJsonAsync($"/api/v1/self-service/{token}/reschedule",
            new { start = "2027-03-18T13:00:00Z", bookingPageId = longId })).ExpectAsync(200);
        var after = await (await admin.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        after["bookingPageId"]!.GetValue<string>().ShouldBe(longId);
        after["end"]!.GetValue<string>().ShouldBe("2027-03-18T14:00:00Z");
        after["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by Customer");
    }
}

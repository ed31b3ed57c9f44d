using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>Customers act on a booking from the signed link in their confirmation email, without signing in (seed 003).</summary>
public sealed class SelfServiceTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private string Token(string bookingId, LinkPurpose purpose) =>
        app.Services.GetRequiredService<SelfServiceLinks>().CreateToken(new BookingId(Guid.Parse(bookingId)), purpose);

    [DbFact]
    public async Task Customer_views_and_cancels_through_the_link_and_the_links_die_with_the_booking()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z", new { name = "Ada", email = "ada@example.com", timeZone = "America/New_York" }))["id"]!.GetValue<string>();
        var visitor = app.Anonymous();
        var view = await (await visitor.GetAsync($"/api/v1/self-service/{Token(id, LinkPurpose.View)}")).ExpectAsync(200);
        view["booking"]!["start"]!.GetValue<string>().ShouldBe("2027-03-10T05:00:00-05:00");
        view["booking"]!["timeZone"]!.GetValue<string>().ShouldBe("America/New_York");
        view["canCancel"]!.GetValue<bool>().ShouldBeTrue();
        var cancelToken = view["cancelToken"]!.GetValue<string>();

        // The view link cannot cancel: each link carries one purpose.
        (await (await visitor.PostJsonAsync($"/api/v1/self-service/{Token(id, LinkPurpose.View)}/cancel", new { reason = "x" })).ExpectAsync(404))
            ["code"]!.GetValue<string>().ShouldBe("link_invalid");

        var canceled = await (await visitor.PostJsonAsync($"/api/v1/self-service/{cancelToken}/cancel", new { reason = "Found another time" })).ExpectAsync(200);
        canceled["booking"]!["status"]!.GetValue<string>().ShouldBe("canceled");
        var booking = await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by Customer");
        booking["reason"]!.GetValue<string>().ShouldBe("Found another time");

        await (await visitor.GetAsync($"/api/v1/self-service/{Token(id, LinkPurpose.View)}")).ExpectAsync(404);
        await (await visitor.PostJsonAsync($"/api/v1/self-service/{cancelToken}/cancel", new { })).ExpectAsync(404);
    }

    [DbFact]
    public async Task Customer_reschedules_from_live_availability_within_policy()
    {
        var slug = await Scenario.CreatePageAsync(app.Client(), p => p["reschedulePolicy"] = new System.Text.Json.Nodes.JsonObject { ["kind"] = "upTo", ["minutesBefore"] = 1440 });
        var other = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T11:00:00Z");
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T10:00:00Z"))["id"]!.GetValue<string>();
        var token = Token(id, LinkPurpose.Reschedule);
        var visitor = app.Anonymous();

        var slots = await (await visitor.GetAsync($"/api/v1/self-service/{token}/slots?from=2027-03-11&to=2027-03-11&timeZone=UTC")).ExpectAsync(200);
        var starts = slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ToList();
        starts.ShouldContain("2027-03-11T10:00:00Z");
        starts.ShouldNotContain("2027-03-11T11:00:00Z");

        (await (await visitor.PostJsonAsync($"/api/v1/self-service/{token}/reschedule", new { start = "2027-03-11T11:00:00Z" })).ExpectAsync(409))
            ["code"]!.GetValue<string>().ShouldBe("slot_unavailable");
        var moved = await (await visitor.PostJsonAsync($"/api/v1/self-service/{token}/reschedule", new { start = "2027-03-11T14:00:00Z" })).ExpectAsync(200);
        moved["booking"]!["status"]!.GetValue<string>().ShouldBe("rescheduled");
        (await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by Customer");

        // Inside the 24-hour window the customer is told why and whom to contact.
        app.Clock.Reset(Instant.FromUtc(2027, 3, 10, 20, 0));
        try
        {
            var view = await (await visitor.GetAsync($"/api/v1/self-service/{token}")).ExpectAsync(200);
            view["canReschedule"]!.GetValue<bool>().ShouldBeFalse();
            view["rescheduleMessage"]!.GetValue<string>().ShouldContain("24 hours");
            view["rescheduleMessage"]!.GetValue<string>().ShouldContain("admin@acme.example");
            var refused = await (await visitor.PostJsonAsync($"/api/v1/self-service/{token}/reschedule", new { start = "2027-03-11T15:00:00Z" })).ExpectAsync(422);
            refused["code"]!.GetValue<string>().ShouldBe("reschedule_policy");
            refused["detail"]!.GetValue<string>().ShouldContain("admin@acme.example");
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        other["status"]!.GetValue<string>().ShouldBe("scheduled");
    }

    [DbFact]
    public async Task Tampered_expired_or_made_up_links_change_nothing()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T10:00:00Z"))["id"]!.GetValue<string>();
        var token = Token(id, LinkPurpose.Cancel);
        var tampered = token[..^4] + (token[^4] == 'A' ? "BBBB" : "AAAA");
        var visitor = app.Anonymous();
        await (await visitor.PostJsonAsync($"/api/v1/self-service/{tampered}/cancel", new { })).ExpectAsync(404);
        await (await visitor.PostJsonAsync("/api/v1/self-service/not-a-token/cancel", new { })).ExpectAsync(404);

        var page = await visitor.GetAsync($"/manage/{tampered}");
        ((int)page.StatusCode).ShouldBe(404);
        (await page.Content.ReadAsStringAsync()).ShouldContain("This link is no longer valid");

        // After the meeting is over the link is dead too.
        app.Clock.Reset(Instant.FromUtc(2027, 3, 12, 11, 0));
        try
        {
            await (await visitor.PostJsonAsync($"/api/v1/self-service/{token}/cancel", new { })).ExpectAsync(404);
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        (await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("scheduled");
    }

    [DbFact]
    public async Task The_link_pages_let_a_customer_reschedule_and_cancel_with_a_confirmation_step()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T10:00:00Z", new { name = "Bo", email = "bo@example.com", timeZone = "Europe/London" }))["id"]!.GetValue<string>();
        var visitor = app.Anonymous();
        var manage = await (await visitor.GetAsync($"/manage/{Token(id, LinkPurpose.View)}")).Content.ReadAsStringAsync();
        manage.ShouldContain("Intro call");
        manage.ShouldContain("Monday 15 March 2027, 10:00");
        var reschedulePath = System.Text.RegularExpressions.Regex.Match(manage, "href=\"(/manage/[^\"]+/reschedule)\"").Groups[1].Value;
        var cancelPath = System.Text.RegularExpressions.Regex.Match(manage, "href=\"(/manage/[^\"]+/cancel)\"").Groups[1].Value;

        var picker = await (await visitor.GetAsync(reschedulePath + "?from=2027-03-16")).Content.ReadAsStringAsync();
        picker.ShouldContain("Tuesday 16 March");
        var form = new FormUrlEncodedContent([new("start", "2027-03-16T13:00:00Z")]);
        var moved = await visitor.PostAsync(reschedulePath, form);
        ((int)moved.StatusCode).ShouldBe(200);
        (await moved.Content.ReadAsStringAsync()).ShouldContain("Your appointment is moved");

        var confirm = await (await visitor.GetAsync(cancelPath)).Content.ReadAsStringAsync();
        confirm.ShouldContain("Yes, cancel the appointment");
        var canceled = await visitor.PostAsync(cancelPath, new FormUrlEncodedContent([new("reason", "Travelling")]));
        (await canceled.Content.ReadAsStringAsync()).ShouldContain("is canceled");
        var booking = await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        booking["status"]!.GetValue<string>().ShouldBe("canceled");
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-16T13:00:00Z");
    }
}

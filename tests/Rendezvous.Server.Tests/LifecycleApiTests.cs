using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

public sealed class LifecycleApiTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private static string[] Types(IEnumerable<Data.OutboxMessage> messages) => [.. messages.Select(m => m.Type)];

    private async Task<string[]> OutboxTypesAsync(string bookingId) =>
        Types((await app.WithDbAsync(db => db.OutboxMessages.OrderBy(m => m.Id).ToListAsync())).Where(m => m.Payload.Contains(bookingId, StringComparison.Ordinal)));

    [DbFact]
    public async Task User_cancels_with_a_reason_and_the_time_is_free_again()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-02T14:00:00Z");
        var id = booking["id"]!.GetValue<string>();

        var canceled = await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "Host is ill" })).ExpectAsync(200);
        canceled["status"]!.GetValue<string>().ShouldBe("canceled");
        canceled["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by User");
        canceled["reason"]!.GetValue<string>().ShouldBe("Host is ill");
        var history = canceled["history"]!.AsArray();
        history.Count.ShouldBe(2);
        history[1]!["action"]!.GetValue<string>().ShouldBe("cancel");
        history[1]!["actor"]!.GetValue<string>().ShouldBe("user");
        history[1]!["reason"]!.GetValue<string>().ShouldBe("Host is ill");

        (await OutboxTypesAsync(id)).ShouldBe(["booking.created", "booking.canceled"]);

        // The slot is offered again and can be booked by someone else.
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-02T14:00:00Z");

        // A canceled booking cannot be canceled again: 409 with a clear code, nothing changes.
        var again = await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "twice" })).ExpectAsync(409);
        again["code"]!.GetValue<string>().ShouldBe("illegal_transition");
        (await OutboxTypesAsync(id)).Length.ShouldBe(2);
    }

    [DbFact]
    public async Task User_reschedules_and_the_status_becomes_rescheduled()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-03T14:00:00Z"))["id"]!.GetValue<string>();

        var moved = await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-03T15:30:00+00:00", reason = "Clash" })).ExpectAsync(200);
        moved["status"]!.GetValue<string>().ShouldBe("rescheduled");
        moved["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by User");
        moved["start"]!.GetValue<string>().ShouldBe("2027-03-03T15:30:00Z");
        moved["end"]!.GetValue<string>().ShouldBe("2027-03-03T16:00:00Z");

        var outbox = (await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type == "booking.rescheduled").ToListAsync()))
            .Single(m => m.Payload.Contains(id, StringComparison.Ordinal));
        var payload = JsonNode.Parse(outbox.Payload)!;
        payload["previousStart"]!.GetValue<string>().ShouldBe("2027-03-03T14:00:00Z");
        payload["start"]!.GetValue<string>().ShouldBe("2027-03-03T15:30:00Z");

        // The old time is free, the new one is taken.
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-03&to=2027-03-03&timeZone=UTC")).ExpectAsync(200);
        var starts = slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ToList();
        starts.ShouldContain("2027-03-03T14:00:00Z");
        starts.ShouldNotContain("2027-03-03T15:30:00Z");

        // Moving onto another booking's time is refused by the database: 409, booking unchanged.
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-03T10:00:00Z");
        var clash = await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-03T10:15:00Z" })).ExpectAsync(409);
        clash["code"]!.GetValue<string>().ShouldBe("slot_taken");
        (await (await admin.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["start"]!.GetValue<string>().ShouldBe("2027-03-03T15:30:00Z");

        (await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "soon" })).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("start");
    }

    [DbFact]
    public async Task Approval_pages_hold_requests_until_a_user_approves_or_declines()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin, p => p["requiresApproval"] = true);
        var first = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-04T09:00:00Z");
        first["status"]!.GetValue<string>().ShouldBe("requested");
        var second = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-04T10:00:00Z");

        // A request holds its time.
        await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new { start = "2027-03-04T09:00:00Z", customer = Scenario.Customer() })).ExpectAsync(409);

        var approved = await (await admin.PostJsonAsync($"/api/v1/bookings/{first["id"]}/approve", new { })).ExpectAsync(200);
        approved["status"]!.GetValue<string>().ShouldBe("scheduled");
        approved["detailedStatus"]!.GetValue<string>().ShouldBe("Scheduled (Approved by User)");

        var declined = await (await admin.PostJsonAsync($"/api/v1/bookings/{second["id"]}/decline", new { reason = "Fully booked that day" })).ExpectAsync(200);
        declined["status"]!.GetValue<string>().ShouldBe("canceled");
        declined["detailedStatus"]!.GetValue<string>().ShouldBe("Declined by User");

        await (await admin.PostJsonAsync($"/api/v1/bookings/{first["id"]}/approve", new { })).ExpectAsync(409);
        (await OutboxTypesAsync(first["id"]!.GetValue<string>())).ShouldBe(["booking.requested", "booking.approved"]);
        (await OutboxTypesAsync(second["id"]!.GetValue<string>())).ShouldBe(["booking.requested", "booking.declined"]);
    }

    [DbFact]
    public async Task No_show_is_recorded_only_after_the_start_and_completion_after_the_end()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-01T12:00:00Z"))["id"]!.GetValue<string>();
        var other = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-01T13:00:00Z"))["id"]!.GetValue<string>();

        (await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/no-show", new { })).ExpectAsync(409))["code"]!.GetValue<string>().ShouldBe("not_started");

        app.Clock.Reset(Instant.FromUtc(2027, 3, 1, 12, 5));
        try
        {
            var noShow = await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/no-show", new { reason = "Did not join" })).ExpectAsync(200);
            noShow["status"]!.GetValue<string>().ShouldBe("noShow");
            noShow["detailedStatus"]!.GetValue<string>().ShouldBe("No-show by User");

            app.Clock.Reset(Instant.FromUtc(2027, 3, 1, 14, 0));
            var completed = await app.WithScopeAsync(sp => sp.GetRequiredService<Workers.BookingCompletion>().CompleteDueAsync(100, CancellationToken.None));
            completed.ShouldBeGreaterThanOrEqualTo(1);
            var done = await (await admin.GetAsync($"/api/v1/bookings/{other}")).ExpectAsync(200);
            done["status"]!.GetValue<string>().ShouldBe("completed");
            done["detailedStatus"]!.GetValue<string>().ShouldBe("Completed");
            (await OutboxTypesAsync(other)).ShouldBe(["booking.created", "booking.completed"]);

            // The no-show stays a no-show; a completed meeting may still be marked as a no-show.
            (await (await admin.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("noShow");
            (await (await admin.PostJsonAsync($"/api/v1/bookings/{other}/no-show", new { })).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("noShow");
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }
    }

    [DbFact]
    public async Task Group_session_seats_fill_up_and_then_the_slot_is_gone()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin, p =>
        {
            p["schedulingOption"] = "groupSession";
            p["seatsPerSlot"] = 3;
            p["durationMinutes"] = 60;
        });

        for (var i = 0; i < 3; i++)
        {
            await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-05T10:00:00Z", Scenario.Customer($"Seat {i}"));
            var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-05&to=2027-03-05&timeZone=UTC")).ExpectAsync(200);
            var slot = slots["slots"]!.AsArray().FirstOrDefault(s => s!["start"]!.GetValue<string>() == "2027-03-05T10:00:00Z");
            if (i < 2)
            {
                slot!["seatsLeft"]!.GetValue<int>().ShouldBe(2 - i);
            }
            else
            {
                slot.ShouldBeNull();
            }
        }

        var full = await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new { start = "2027-03-05T10:00:00Z", customer = Scenario.Customer("Late") })).ExpectAsync(409);
        full["code"]!.GetValue<string>().ShouldBe("slot_unavailable");
    }

    [DbFact]
    public async Task Group_session_seats_are_counted_under_a_lock()
    {
        var slug = await Scenario.CreatePageAsync(app.Client(), p =>
        {
            p["schedulingOption"] = "groupSession";
            p["seatsPerSlot"] = 5;
        });
        var statuses = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            using var client = app.Anonymous();
            return (await client.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
                new { start = "2027-03-05T15:00:00Z", customer = Scenario.Customer($"G{i}", $"g{i}@example.com") })).StatusCode;
        }));
        statuses.Count(s => s == System.Net.HttpStatusCode.Created).ShouldBe(5);
        statuses.Count(s => s == System.Net.HttpStatusCode.Conflict).ShouldBe(25);
    }

    [DbFact]
    public async Task Session_package_books_every_session_and_each_lives_on_its_own()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin, p =>
        {
            p["schedulingOption"] = "sessionPackage";
            p["sessionCount"] = 3;
        });
        var visitor = app.Anonymous();

        var tooFew = await (await visitor.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { starts = new[] { "2027-03-08T09:00:00Z" }, customer = Scenario.Customer() })).ExpectAsync(400);
        tooFew["field"]!.GetValue<string>().ShouldBe("starts");

        var package = await (await visitor.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { starts = new[] { "2027-03-15T09:00:00Z", "2027-03-08T09:00:00Z", "2027-03-22T09:00:00Z" }, customer = Scenario.Customer() })).ExpectAsync(201);
        var sessions = package["sessions"]!.AsArray();
        sessions.Count.ShouldBe(3);
        sessions.Select(s => s!["packageId"]!.GetValue<string>()).Distinct().Count().ShouldBe(1);
        sessions.Select(s => s!["sessionNumber"]!.GetValue<int>()).ShouldBe([1, 2, 3]);
        sessions[0]!["start"]!.GetValue<string>().ShouldBe("2027-03-08T09:00:00Z");

        var second = sessions[1]!["id"]!.GetValue<string>();
        await (await admin.PostJsonAsync($"/api/v1/bookings/{second}/cancel", new { reason = "Holiday" })).ExpectAsync(200);
        (await (await admin.GetAsync($"/api/v1/bookings/{sessions[0]!["id"]}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("scheduled");
        (await (await admin.GetAsync($"/api/v1/bookings/{sessions[2]!["id"]}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("scheduled");

        // One taken session refuses the whole package: nothing is booked.
        var clash = await (await visitor.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { starts = new[] { "2027-03-09T09:00:00Z", "2027-03-22T09:00:00Z", "2027-03-23T09:00:00Z" }, customer = Scenario.Customer() })).ExpectAsync(409);
        clash["code"]!.GetValue<string>().ShouldBe("slot_unavailable");
        (await app.WithDbAsync(db => db.Bookings.CountAsync(b => b.Start == Instant.FromUtc(2027, 3, 9, 9, 0)))).ShouldBe(0);
    }

    [DbFact]
    public async Task Panel_needs_every_member_free_and_holds_all_of_them()
    {
        var admin = app.Client();
        var member = await Scenario.CreateUserAsync(admin, "Panel Member");
        var memberKey = await Scenario.CreateKeyAsync(admin, member);
        var memberPage = await Scenario.CreatePageAsync(app.Client(memberKey));
        await Scenario.BookAsync(app.Anonymous(), memberPage, "2027-03-09T11:00:00Z");

        var panel = await Scenario.CreatePageAsync(admin, p =>
        {
            p["schedulingOption"] = "panel";
            p["panelMemberIds"] = new JsonArray(member);
        });

        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{panel}/slots?from=2027-03-09&to=2027-03-09&timeZone=UTC")).ExpectAsync(200);
        var starts = slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ToList();
        starts.ShouldNotContain("2027-03-09T11:00:00Z");
        starts.ShouldContain("2027-03-09T12:00:00Z");

        var booking = await Scenario.BookAsync(app.Anonymous(), panel, "2027-03-09T12:00:00Z");
        booking["hosts"]!.AsArray().Count.ShouldBe(2);

        // The member's own page no longer offers that time, and the member sees the booking in their stream.
        var memberSlots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{memberPage}/slots?from=2027-03-09&to=2027-03-09&timeZone=UTC")).ExpectAsync(200);
        memberSlots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ShouldNotContain("2027-03-09T12:00:00Z");
        var stream = await (await app.Client(memberKey).GetAsync("/api/v1/bookings?from=2027-03-09&to=2027-03-09")).ExpectAsync(200);
        stream.AsArray().Select(b => b!["id"]!.GetValue<string>()).ShouldContain(booking["id"]!.GetValue<string>());
    }

    [DbFact]
    public async Task Activity_stream_filters_by_status_date_and_page()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var pageId = (await (await admin.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray().First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();
        var a = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T09:00:00Z");
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T09:00:00Z");
        await (await admin.PostJsonAsync($"/api/v1/bookings/{a["id"]}/cancel", new { reason = "x" })).ExpectAsync(200);

        var canceled = await (await admin.GetAsync($"/api/v1/bookings?status=canceled&bookingPageId={pageId}")).ExpectAsync(200);
        canceled.AsArray().Select(b => b!["id"]!.GetValue<string>()).ShouldBe([a["id"]!.GetValue<string>()]);
        var day = await (await admin.GetAsync($"/api/v1/bookings?from=2027-03-11&to=2027-03-11&bookingPageId={pageId}")).ExpectAsync(200);
        day.AsArray().Count.ShouldBe(1);
        (await (await admin.GetAsync("/api/v1/bookings?status=lost")).ExpectAsync(400))["errors"]!["status"].ShouldNotBeNull();
        (await (await admin.GetAsync("/api/v1/bookings?limit=0")).ExpectAsync(400))["errors"]!["limit"].ShouldNotBeNull();
    }

    [DbFact]
    public async Task Rebooking_after_a_cancel_links_the_replacement()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var customer = Scenario.Customer("Rita", "rita@example.com");
        var first = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T09:00:00Z", customer);
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{first["id"]}/cancel", new { reason = "wrong day" })).ExpectAsync(200);

        var second = await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-12T11:00:00Z", customer, replacesBookingId = first["id"]!.GetValue<string>() })).ExpectAsync(201);
        second["replacesBookingId"]!.GetValue<string>().ShouldBe(first["id"]!.GetValue<string>());
        var old = await (await app.Client().GetAsync($"/api/v1/bookings/{first["id"]}")).ExpectAsync(200);
        old["replacedByBookingId"]!.GetValue<string>().ShouldBe(second["id"]!.GetValue<string>());
    }
}

using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Conferencing;

/// <summary>
/// The reassignment API (seed 001): which bookings can move, to which pages, what the owner's availability shows, and what a
/// reassignment changes (page, owner, hold, detailed status, history, outbox, reminders).
/// </summary>
public sealed class ReassignmentApiTests(ConferencingApp app) : IClassFixture<ConferencingApp>
{
    private const string Meeting = "2027-03-15T10:00:00Z";

    private sealed record Person(string Id, HttpClient Client);

    private async Task<Person> PersonAsync(string name, string role = "member")
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, name, role);
        return new Person(id, app.Client(await Scenario.CreateKeyAsync(admin, id)));
    }

    private async Task<(string Slug, string Id)> PageAsync(Person owner, string? conferencing = null, string? location = null, Action<JsonObject>? customize = null) =>
        await ConferencingScenario.PageAsync(app.Client(), owner.Id, conferencing, location, customize);

    private async Task<string> BookAsync(string slug, string start = Meeting) =>
        (await Scenario.BookAsync(app.Anonymous(), slug, start))["id"]!.GetValue<string>();

    private async Task ConnectCalendarAsync(Person user, string provider, bool inError = false)
    {
        var body = provider switch
        {
            "caldav" or "icloud" => (object)new { userId = user.Id, provider, url = "http://127.0.0.1:9/", username = "u", password = "p", bookingCalendarUrl = "/u/cal/" },
            "exchange" => new { userId = user.Id, provider, url = "https://127.0.0.1:9/EWS/Exchange.asmx", username = "u", password = "p" },
            _ => new { userId = user.Id, provider },
        };
        var created = await (await app.Client().PostJsonAsync("/api/v1/calendar-connections", body)).ExpectAsync(201);
        created["provider"]!.GetValue<string>().ShouldBe(provider);
        created["synced"]!.GetValue<bool>().ShouldBe(provider is "caldav" or "icloud" or "exchange");
        if (inError)
        {
            var id = Guid.Parse(created["id"]!.GetValue<string>());
            await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"UPDATE calendar_connections SET health = 'Error' WHERE id = {id}"));
        }
    }

    private async Task<JsonNode> TargetsAsync(string bookingId) =>
        await (await app.Client().GetAsync($"/api/v1/bookings/{bookingId}/reassignment-targets")).ExpectAsync(200);

    private Task<HttpResponseMessage> ReassignAsync(string bookingId, string pageId, string? reason = null, HttpClient? client = null) =>
        (client ?? app.Client()).PostJsonAsync($"/api/v1/bookings/{bookingId}/reassign", new { bookingPageId = pageId, reason });

    private static JsonNode? Target(JsonNode targets, string pageId) =>
        targets["targets"]!.AsArray().FirstOrDefault(t => t!["bookingPageId"]!.GetValue<string>() == pageId);

    private static string[] ExcludedCodes(JsonNode targets, string pageId) =>
        [.. targets["excluded"]!.AsArray().Single(t => t!["bookingPageId"]!.GetValue<string>() == pageId)!["reasons"]!.AsArray()
            .Select(r => r!["code"]!.GetValue<string>())];

    [DbFact]
    public async Task Targets_are_one_on_one_pages_without_a_calendar_or_with_google_each_showing_whether_its_owner_is_busy()
    {
        var ada = await PersonAsync("Ada");
        var (adaSlug, adaPage) = await PageAsync(ada);
        var bookingId = await BookAsync(adaSlug);

        var bob = await PersonAsync("Bob");
        var (_, bobPage) = await PageAsync(bob);
        await (await app.Client().PostJsonAsync($"/api/v1/users/{bob.Id}/busy-blocks", new { start = "2027-03-15T09:30:00Z", end = "2027-03-15T10:15:00Z" })).ExpectAsync(201);
        var cara = await PersonAsync("Cara");
        var (caraSlug, caraPage) = await PageAsync(cara);
        await BookAsync(caraSlug);
        var fay = await PersonAsync("Fay");
        await ConnectCalendarAsync(fay, "google");
        var (_, fayPage) = await PageAsync(fay);
        var dan = await PersonAsync("Dan");
        await ConnectCalendarAsync(dan, "caldav");
        var (_, danPage) = await PageAsync(dan);
        var oli = await PersonAsync("Oli");
        await ConnectCalendarAsync(oli, "office365");
        var (_, oliPage) = await PageAsync(oli);
        var eve = await PersonAsync("Eve");
        await ConnectCalendarAsync(eve, "google", inError: true);
        var (_, evePage) = await PageAsync(eve);
        var (_, groupPage) = await PageAsync(bob, customize: p => { p["schedulingOption"] = "groupSession"; p["seatsPerSlot"] = 5; });
        var (_, panelPage) = await PageAsync(bob, customize: p => { p["schedulingOption"] = "panel"; p["panelMemberIds"] = new JsonArray(cara.Id); });

        var targets = await TargetsAsync(bookingId);
        targets["eligible"]!.GetValue<bool>().ShouldBeTrue();
        targets["refusals"]!.AsArray().ShouldBeEmpty();
        (targets["start"]!.GetValue<string>(), targets["end"]!.GetValue<string>()).ShouldBe((Meeting, "2027-03-15T10:30:00Z"));

        // Available or busy at the meeting time; reassignment is offered either way.
        var bobTarget = Target(targets, bobPage).ShouldNotBeNull();
        bobTarget["availability"]!.GetValue<string>().ShouldBe("busy");
        bobTarget["busyWith"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["busyTime"]);
        bobTarget["ownerId"]!.GetValue<string>().ShouldBe(bob.Id);
        bobTarget["ownerName"]!.GetValue<string>().ShouldBe("Bob");
        var caraTarget = Target(targets, caraPage).ShouldNotBeNull();
        caraTarget["availability"]!.GetValue<string>().ShouldBe("busy");
        caraTarget["busyWith"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["booking"]);
        var fayTarget = Target(targets, fayPage).ShouldNotBeNull();
        fayTarget["availability"]!.GetValue<string>().ShouldBe("available");
        fayTarget["calendar"]!.GetValue<string>().ShouldBe("google");
        fayTarget["location"]!["outcome"]!.GetValue<string>().ShouldBe("noLocation");

        // Not offered, each with the rule that keeps it out.
        Target(targets, adaPage).ShouldBeNull();
        ExcludedCodes(targets, adaPage).ShouldBe(["target_is_current_page"]);
        ExcludedCodes(targets, danPage).ShouldBe(["target_calendar_not_supported"]);
        ExcludedCodes(targets, oliPage).ShouldBe(["target_calendar_not_supported"]);
        targets["excluded"]!.AsArray().Single(t => t!["bookingPageId"]!.GetValue<string>() == danPage)!["reasons"]![0]!["message"]!.GetValue<string>()
            .ShouldContain("a CalDAV calendar");
        ExcludedCodes(targets, evePage).ShouldBe(["target_unavailable"]);
        ExcludedCodes(targets, groupPage).ShouldBe(["target_not_one_on_one"]);
        ExcludedCodes(targets, panelPage).ShouldBe(["target_not_one_on_one"]);

        // Busy is a notice, not a rule: a reassignment to a page whose owner has time off goes through.
        var moved = await (await ReassignAsync(bookingId, bobPage)).ExpectAsync(200);
        moved["booking"]!["ownerId"]!.GetValue<string>().ShouldBe(bob.Id);
    }

    [DbFact]
    public async Task Targets_say_what_happens_to_the_location_and_mark_webex_as_not_supported()
    {
        var gil = await PersonAsync("Gil");
        var (webexSlug, _) = await PageAsync(gil, conferencing: "webex");
        var (zoomSlug, _) = await PageAsync(gil, conferencing: "zoom");
        var webexBooking = await BookAsync(webexSlug);
        var zoomBooking = await BookAsync(zoomSlug, "2027-03-15T11:00:00Z");
        var hal = await PersonAsync("Hal");
        var (_, halWebex) = await PageAsync(hal, conferencing: "webex");
        var (_, halZoom) = await PageAsync(hal, conferencing: "zoom");
        var (_, halRoom) = await PageAsync(hal, location: "Room 4");

        var fromWebex = await TargetsAsync(webexBooking);
        var webexToWebex = Target(fromWebex, halWebex)!["location"]!;
        webexToWebex["conferencing"]!.GetValue<string>().ShouldBe("webex");
        webexToWebex["outcome"]!.GetValue<string>().ShouldBe("webexNotSupported");
        webexToWebex["locationWithheld"]!.GetValue<bool>().ShouldBeTrue();
        webexToWebex["notice"]!.GetValue<string>().ShouldContain("does not support Webex");
        Target(fromWebex, halZoom)!["location"]!["outcome"]!.GetValue<string>().ShouldBe("locationNotUpdated");

        var fromZoom = await TargetsAsync(zoomBooking);
        var zoomToZoom = Target(fromZoom, halZoom)!["location"]!;
        zoomToZoom["outcome"]!.GetValue<string>().ShouldBe("transferOwnership");
        zoomToZoom["locationWithheld"]!.GetValue<bool>().ShouldBeFalse();
        zoomToZoom["notice"]!.GetValue<string>().ShouldContain("Zoom meeting moves to the new owner");
        var zoomToRoom = Target(fromZoom, halRoom)!["location"]!;
        zoomToRoom["outcome"]!.GetValue<string>().ShouldBe("locationNotUpdated");
        zoomToRoom["notice"]!.GetValue<string>().ShouldContain("later customer notifications leave location details out");

        // The answer to the reassignment says the same.
        var reassigned = await (await ReassignAsync(webexBooking, halWebex)).ExpectAsync(200);
        reassigned["location"]!["outcome"]!.GetValue<string>().ShouldBe("webexNotSupported");
        reassigned["booking"]!["locationWithheld"]!.GetValue<bool>().ShouldBeTrue();
    }

    [DbFact]
    public async Task Only_administrators_may_reassign()
    {
        var ada = await PersonAsync("Ada");
        var (slug, _) = await PageAsync(ada);
        var bookingId = await BookAsync(slug);
        var bob = await PersonAsync("Bob");
        var (_, bobPage) = await PageAsync(bob);

        // Even the member who hosts the booking.
        var refused = await (await ada.Client.GetAsync($"/api/v1/bookings/{bookingId}/reassignment-targets")).ExpectAsync(403);
        refused["code"]!.GetValue<string>().ShouldBe("administrator_required");
        var post = await (await ReassignAsync(bookingId, bobPage, client: ada.Client)).ExpectAsync(403);
        post["code"]!.GetValue<string>().ShouldBe("administrator_required");
        post["refusals"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()).ShouldBe(["administrator_required"]);
        await (await ReassignAsync(bookingId, bobPage, client: bob.Client)).ExpectAsync(403);

        // Another administrator may.
        var boss = await PersonAsync("Boss", "administrator");
        await (await ReassignAsync(bookingId, bobPage, client: boss.Client)).ExpectAsync(200);
    }

    [DbFact]
    public async Task Reassigning_keeps_the_time_moves_page_owner_and_hold_and_records_it_everywhere()
    {
        var ada = await PersonAsync("Ada");
        var (slug, adaPage) = await PageAsync(ada);
        var bookingId = await BookAsync(slug);
        var bob = await PersonAsync("Bob");
        var (_, bobPage) = await PageAsync(bob, customize: p => p["reminders"] = new JsonArray());
        var cara = await PersonAsync("Cara");
        var (_, caraPage) = await PageAsync(cara);
        (await app.DrainOutboxAsync(bookingId)).ShouldBeEmpty();
        var remindersBefore = await PendingRemindersAsync(bookingId);
        remindersBefore.ShouldHaveSingleItem().ShouldBe(Instant(2027, 3, 14, 10));

        var answer = await (await ReassignAsync(bookingId, bobPage, "Ada is on leave")).ExpectAsync(200);
        var booking = answer["booking"]!;
        (booking["status"]!.GetValue<string>(), booking["detailedStatus"]!.GetValue<string>()).ShouldBe(("scheduled", "Scheduled (Reassigned by User)"));
        (booking["bookingPageId"]!.GetValue<string>(), booking["ownerId"]!.GetValue<string>()).ShouldBe((bobPage, bob.Id));
        (booking["start"]!.GetValue<string>(), booking["end"]!.GetValue<string>()).ShouldBe((Meeting, "2027-03-15T10:30:00Z"));
        booking["hosts"]!.AsArray().Select(h => (h!["userId"]!.GetValue<string>(), h["isPrimary"]!.GetValue<bool>())).ShouldBe([(bob.Id, true)]);
        var entry = booking["history"]!.AsArray()[^1]!;
        (entry["action"]!.GetValue<string>(), entry["status"]!.GetValue<string>(), entry["detailedStatus"]!.GetValue<string>(), entry["reason"]!.GetValue<string>())
            .ShouldBe(("reassign", "scheduled", "Scheduled (Reassigned by User)", "Ada is on leave"));
        (entry["previousOwnerId"]!.GetValue<string>(), entry["previousBookingPageId"]!.GetValue<string>()).ShouldBe((ada.Id, adaPage));

        // The hold moved: the activity stream shows it for Bob, not Ada, and the database holds Bob's time.
        (await (await app.Client().GetAsync($"/api/v1/bookings?userId={bob.Id}")).ExpectAsync(200)).AsArray()
            .Select(b => b!["id"]!.GetValue<string>()).ShouldContain(bookingId);
        (await (await app.Client().GetAsync($"/api/v1/bookings?userId={ada.Id}")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        (await (await ada.Client.GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(403))["code"]!.GetValue<string>().ShouldBe("not_yours");
        (await (await bob.Client.GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200))["detailedStatus"]!.GetValue<string>()
            .ShouldBe("Scheduled (Reassigned by User)");

        // One booking.reassigned event in the outbox, with the previous owner and page.
        var events = await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type == "booking.reassigned").ToListAsync());
        var payload = JsonNode.Parse(events.Single(m => m.Payload.Contains(bookingId, StringComparison.Ordinal)).Payload)!;
        (payload["ownerId"]!.GetValue<string>(), payload["previousOwnerId"]!.GetValue<string>(), payload["previousBookingPageId"]!.GetValue<string>(),
            payload["bookingPageId"]!.GetValue<string>(), payload["detailedStatus"]!.GetValue<string>())
            .ShouldBe((bob.Id, ada.Id, adaPage, bobPage, "Scheduled (Reassigned by User)"));

        // Reminders stay as they were planned, though Bob's page has none.
        (await app.DrainOutboxAsync(bookingId)).ShouldBeEmpty();
        (await PendingRemindersAsync(bookingId)).ShouldBe(remindersBefore);

        // After a reschedule the lifecycle reads Rescheduled, and so does the next reassignment.
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/reschedule", new { start = "2027-03-16T10:00:00Z" })).ExpectAsync(200);
        var again = await (await ReassignAsync(bookingId, caraPage)).ExpectAsync(200);
        (again["booking"]!["status"]!.GetValue<string>(), again["booking"]!["detailedStatus"]!.GetValue<string>())
            .ShouldBe(("rescheduled", "Rescheduled (Reassigned by User)"));
        (await app.DrainOutboxAsync(bookingId)).ShouldBeEmpty();
        (await PendingRemindersAsync(bookingId)).ShouldBe([Instant(2027, 3, 15, 10)]);
    }

    private async Task<NodaTime.Instant[]> PendingRemindersAsync(string bookingId)
    {
        var id = Guid.Parse(bookingId);
        var due = await app.WithDbAsync(db => db.Database.SqlQuery<NodaTime.Instant>($"SELECT due_at AS \"Value\" FROM reminders WHERE booking_id = {id} AND status = 'Pending' ORDER BY due_at").ToListAsync());
        return [.. due];
    }

    private static NodaTime.Instant Instant(int y, int m, int d, int h) => NodaTime.Instant.FromUtc(y, m, d, h, 0);

    [DbFact]
    public async Task Each_refusal_names_its_rule_and_leaves_the_booking_alone()
    {
        var bob = await PersonAsync("Bob");
        var (_, bobPage) = await PageAsync(bob);

        async Task RefusedAsync(string bookingId, string code, string? contains = null, string? target = null)
        {
            var problem = await (await ReassignAsync(bookingId, target ?? bobPage)).ExpectAsync(409);
            problem["code"]!.GetValue<string>().ShouldBe(code);
            problem["refusals"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()).ShouldContain(code);
            if (contains is not null)
            {
                problem["detail"]!.GetValue<string>().ShouldContain(contains);
            }

            var after = await (await app.Client().GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200);
            after["detailedStatus"]!.GetValue<string>().ShouldNotContain("Reassigned");
        }

        // Canceled and Requested bookings.
        var ada = await PersonAsync("Ada");
        var (slug, _) = await PageAsync(ada);
        var canceled = await BookAsync(slug);
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{canceled}/cancel", new { reason = "x" })).ExpectAsync(200);
        await RefusedAsync(canceled, "status_not_reassignable", "A booking that is Canceled cannot be reassigned");
        var (requestSlug, _) = await PageAsync(ada, customize: p => p["requiresApproval"] = true);
        var requested = await BookAsync(requestSlug, "2027-03-15T11:00:00Z");
        await RefusedAsync(requested, "status_not_reassignable", "Requested");

        // A group session, a session of a package.
        var (groupSlug, _) = await PageAsync(ada, customize: p => { p["schedulingOption"] = "groupSession"; p["seatsPerSlot"] = 3; });
        await RefusedAsync(await BookAsync(groupSlug, "2027-03-15T12:00:00Z"), "group_session");
        var (packageSlug, _) = await PageAsync(ada, customize: p => { p["schedulingOption"] = "sessionPackage"; p["sessionCount"] = 2; });
        var package = await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{packageSlug}/bookings", new
        {
            starts = new[] { "2027-03-15T13:00:00Z", "2027-03-16T13:00:00Z" },
            customer = Scenario.Customer(),
        })).ExpectAsync(201);
        await RefusedAsync(package["sessions"]![1]!["id"]!.GetValue<string>(), "session_package", "part of a session package");

        // Pages connected to a calendar other than Google: the refusal names it.
        var calendars = new[] { ("caldav", "a CalDAV calendar"), ("icloud", "iCloud Calendar"), ("outlook", "Outlook"), ("exchange", "Exchange") };
        for (var i = 0; i < calendars.Length; i++)
        {
            var (provider, name) = calendars[i];
            var owner = await PersonAsync("Cal " + provider);
            await ConnectCalendarAsync(owner, provider);
            var (calSlug, calPage) = await PageAsync(owner);
            await RefusedAsync(await BookAsync(calSlug), "calendar_not_supported", $"connected to {name}");
            // ...and such a page cannot receive one either.
            await RefusedAsync(await BookAsync(slug, $"2027-03-17T{10 + i}:00:00Z"), "target_calendar_not_supported", name, calPage);
        }

        // The booking's own page.
        var own = await BookAsync(slug, "2027-03-18T09:00:00Z");
        var ownPage = (await (await app.Client().GetAsync($"/api/v1/bookings/{own}")).ExpectAsync(200))["bookingPageId"]!.GetValue<string>();
        await RefusedAsync(own, "target_is_current_page", target: ownPage);

        // An ineligible booking lists no targets, and says why.
        var listing = await TargetsAsync(canceled);
        listing["eligible"]!.GetValue<bool>().ShouldBeFalse();
        listing["refusals"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()).ShouldBe(["status_not_reassignable"]);
        listing["targets"]!.AsArray().ShouldBeEmpty();
    }

    [DbFact]
    public async Task A_double_booking_of_the_new_owners_time_is_refused_with_409_and_nothing_changes()
    {
        var ada = await PersonAsync("Ada");
        var (slug, adaPage) = await PageAsync(ada);
        var bookingId = await BookAsync(slug);
        var bob = await PersonAsync("Bob");
        var (bobSlug, bobPage) = await PageAsync(bob);
        await BookAsync(bobSlug);

        var problem = await (await ReassignAsync(bookingId, bobPage)).ExpectAsync(409);
        problem["code"]!.GetValue<string>().ShouldBe("owner_time_taken");
        problem["detail"]!.GetValue<string>().ShouldContain("Bob already has another booking at this time");

        var after = await (await app.Client().GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200);
        (after["bookingPageId"]!.GetValue<string>(), after["ownerId"]!.GetValue<string>(), after["detailedStatus"]!.GetValue<string>())
            .ShouldBe((adaPage, ada.Id, "Scheduled by Customer"));
        after["history"]!.AsArray().Count.ShouldBe(1);
        (await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type == "booking.reassigned").ToListAsync()))
            .ShouldNotContain(m => m.Payload.Contains(bookingId, StringComparison.Ordinal));
    }

    // A page with a price cannot take bookings while its organization has no payment connection (docs/PAYMENTS.md), so it
    // is no place to reassign a booking to either (seed 001: pages that cannot accept bookings are left out).
    [DbFact]
    public async Task A_paid_page_without_a_payment_connection_is_not_a_target()
    {
        var ada = await PersonAsync("Ada");
        var (slug, _) = await PageAsync(ada);
        var bookingId = await BookAsync(slug, "2027-03-18T10:00:00Z");
        var pia = await PersonAsync("Pia");
        var (_, paidPage) = await PageAsync(pia, customize: p =>
            p["payment"] = new JsonObject { ["amount"] = 25.00m, ["currency"] = "EUR", ["paymentWindowMinutes"] = 30 });

        ExcludedCodes(await TargetsAsync(bookingId), paidPage).ShouldBe(["target_payments_unavailable"]);
        var refused = await (await ReassignAsync(bookingId, paidPage)).ExpectAsync(409);
        refused["code"]!.GetValue<string>().ShouldBe("target_payments_unavailable");
        (await (await app.Client().GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200))["ownerId"]!.GetValue<string>().ShouldBe(ada.Id);
    }

    [DbFact]
    public async Task Bad_input_is_answered_400_naming_the_field()
    {
        var ada = await PersonAsync("Ada");
        var (slug, _) = await PageAsync(ada);
        var bookingId = await BookAsync(slug);
        var bob = await PersonAsync("Bob");
        var (_, bobPage) = await PageAsync(bob);

        (await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/reassign", new { })).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("bookingPageId");
        (await (await ReassignAsync(bookingId, "not-an-id")).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("bookingPageId");
        (await (await ReassignAsync(bookingId, Guid.NewGuid().ToString())).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("bookingPageId");
        (await (await ReassignAsync(bookingId, bobPage, new string('x', 2001))).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("reason");
        await (await ReassignAsync(Guid.NewGuid().ToString(), bobPage)).ExpectAsync(404);
        await (await app.Client().GetAsync($"/api/v1/bookings/{Guid.NewGuid()}/reassignment-targets")).ExpectAsync(404);

        // Calendar connections: an unknown provider, and a page with both a location and a conferencing service.
        (await (await app.Client().PostJsonAsync("/api/v1/calendar-connections", new { userId = bob.Id, provider = "lotus" })).ExpectAsync(400))
            ["errors"]!["provider"].ShouldNotBeNull();
        var both = await (await app.Client().PostJsonAsync("/api/v1/booking-pages", new
        {
            slug = "b-" + Guid.NewGuid().ToString("N")[..10], title = "x", durationMinutes = 30, timeZone = "UTC",
            location = "Room 4", conferencing = new { provider = "zoom" },
        })).ExpectAsync(400);
        both["errors"]!["conferencing"].ShouldNotBeNull();
        (await (await app.Client().PostJsonAsync("/api/v1/booking-pages", new
        {
            slug = "b-" + Guid.NewGuid().ToString("N")[..10], title = "x", durationMinutes = 30, timeZone = "UTC", conferencing = new { provider = "teams" },
        })).ExpectAsync(400))["errors"]!["conferencing.provider"].ShouldNotBeNull();
    }
}

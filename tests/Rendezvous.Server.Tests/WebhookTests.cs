using Rendezvous.Integrations.Webhooks;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Features.Webhooks;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>The application with a short webhook timeout, so the timeout test does not wait ten seconds.</summary>
public sealed class WebhookApp : RendezvousApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rendezvous:Webhooks:Timeout", "00:00:02");
    }
}

/// <summary>
/// Outgoing webhooks end to end: subscriptions through the API, booking changes through the API, the outbox and the
/// delivery worker driven by hand, and a real HTTP receiver on loopback.
/// </summary>
public sealed class WebhookTests(WebhookApp app) : IClassFixture<WebhookApp>, IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    /// <summary>Puts the clock back and removes this test's subscriptions, so the next test starts from nothing.</summary>
    public async Task DisposeAsync()
    {
        app.Clock.Reset(RendezvousApp.Start);
        var admin = app.Client();
        foreach (var hook in (await (await admin.GetAsync("/api/v1/webhooks")).ExpectAsync(200)).AsArray())
        {
            await (await admin.DeleteAsync($"/api/v1/webhooks/{hook!["id"]}")).ExpectAsync(204);
        }

        await _receiver.DisposeAsync();
    }

    [DbFact]
    public async Task Subscriptions_are_created_read_changed_rotated_and_deleted()
    {
        var admin = app.Client();
        var url = _receiver.NewUrl("crud");
        var response = await admin.PostJsonAsync("/api/v1/webhooks", new
        {
            url,
            events = new[] { "booking.canceled", "booking.created", "booking.created" },
            description = "  CRM sync  ",
        });
        var created = await response.ExpectAsync(201);
        var id = created["id"]!.GetValue<string>();
        response.Headers.Location!.ToString().ShouldBe($"/api/v1/webhooks/{id}");
        created["url"]!.GetValue<string>().ShouldBe(url);
        created["events"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["booking.created", "booking.canceled"]);
        created["description"]!.GetValue<string>().ShouldBe("CRM sync");
        created["active"]!.GetValue<bool>().ShouldBeTrue();
        created["disabledReason"].ShouldBeNull();
        created["createdAt"]!.GetValue<string>().ShouldBe("2027-03-01T08:00:00Z");
        var secret = created["secret"]!.GetValue<string>();
        secret.ShouldStartWith("whsec_");
        secret.Length.ShouldBeGreaterThan(40);
        created["secretHint"]!.GetValue<string>().ShouldBe(secret[..12]);

        // The secret is shown once: never again on reads.
        var read = await (await admin.GetAsync($"/api/v1/webhooks/{id}")).ExpectAsync(200);
        read.AsObject().ContainsKey("secret").ShouldBeFalse();
        read["secretHint"]!.GetValue<string>().ShouldBe(secret[..12]);
        var listed = (await (await admin.GetAsync("/api/v1/webhooks")).ExpectAsync(200)).AsArray().Single(w => w!["id"]!.GetValue<string>() == id)!;
        listed.AsObject().ContainsKey("secret").ShouldBeFalse();

        // Pause, then change the events ("*" stands alone) and the URL, then clear the description.
        var paused = await (await admin.PutJsonAsync($"/api/v1/webhooks/{id}", new { active = false })).ExpectAsync(200);
        paused["active"]!.GetValue<bool>().ShouldBeFalse();
        paused["events"]!.AsArray().Count.ShouldBe(2);
        var url2 = _receiver.NewUrl("crud-moved");
        var changed = await (await admin.PutJsonAsync($"/api/v1/webhooks/{id}", new { url = url2, events = new[] { "booking.created", "*" }, active = true })).ExpectAsync(200);
        changed["url"]!.GetValue<string>().ShouldBe(url2);
        changed["events"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["*"]);
        changed["active"]!.GetValue<bool>().ShouldBeTrue();
        changed["description"]!.GetValue<string>().ShouldBe("CRM sync");
        (await (await admin.PutJsonAsync($"/api/v1/webhooks/{id}", new { description = "" })).ExpectAsync(200))["description"].ShouldBeNull();

        // A rotated secret is shown once and signs from then on; the old one no longer verifies.
        var rotated = await (await admin.PostAsync($"/api/v1/webhooks/{id}/rotate-secret", null)).ExpectAsync(200);
        var newSecret = rotated["secret"]!.GetValue<string>();
        newSecret.ShouldNotBe(secret);
        rotated["secretHint"]!.GetValue<string>().ShouldBe(newSecret[..12]);
        var slug = await Scenario.CreatePageAsync(admin);
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T09:00:00Z");
        await RunOutboxAsync();
        await SendDueAsync();
        var request = _receiver.RequestsTo(url2).ShouldHaveSingleItem();
        Verifies(request, newSecret).ShouldBeTrue();
        Verifies(request, secret).ShouldBeFalse();
        _receiver.RequestsTo(url).ShouldBeEmpty();

        await (await admin.DeleteAsync($"/api/v1/webhooks/{id}")).ExpectAsync(204);
        await (await admin.GetAsync($"/api/v1/webhooks/{id}")).ExpectAsync(404);
        await (await admin.GetAsync($"/api/v1/webhooks/{id}/deliveries")).ExpectAsync(404);
        (await (await admin.GetAsync("/api/v1/webhooks")).ExpectAsync(200)).AsArray().Select(w => w!["id"]!.GetValue<string>()).ShouldNotContain(id);
        (await app.WithDbAsync(db => db.WebhookDeliveries.CountAsync(d => d.SubscriptionId == Guid.Parse(id)))).ShouldBe(0);
        await (await admin.DeleteAsync($"/api/v1/webhooks/{id}")).ExpectAsync(404);
    }

    [DbFact]
    public async Task Bad_subscriptions_are_refused_naming_the_field()
    {
        var admin = app.Client();
        async Task<JsonNode> Refused(object body) => await (await admin.PostJsonAsync("/api/v1/webhooks", body)).ExpectAsync(400);
        string[] created = ["booking.created"];

        (await Refused(new { url = "not a url", events = created }))["field"]!.GetValue<string>().ShouldBe("url");
        (await Refused(new { url = "ftp://files.example.com/drop", events = created }))["field"]!.GetValue<string>().ShouldBe("url");
        (await Refused(new { url = "/relative/path", events = created }))["field"]!.GetValue<string>().ShouldBe("url");
        (await Refused(new { url = "https://user:secret@hooks.example.com/in", events = created }))["field"]!.GetValue<string>().ShouldBe("url");
        (await Refused(new { events = created }))["field"]!.GetValue<string>().ShouldBe("url");
        (await Refused(new { url = "https://hooks.example.com/in", events = new[] { "booking.created", "booking.exploded" } }))["field"]!.GetValue<string>().ShouldBe("events[1]");
        (await Refused(new { url = "https://hooks.example.com/in", events = Array.Empty<string>() }))["field"]!.GetValue<string>().ShouldBe("events");
        (await Refused(new { url = "https://hooks.example.com/in" }))["field"]!.GetValue<string>().ShouldBe("events");
        (await Refused(new { url = "https://hooks.example.com/in", events = created, description = new string('x', 501) }))["field"]!.GetValue<string>().ShouldBe("description");
        (await Refused(new { url = "https://hooks.example.com/in", events = "booking.created" }))["field"]!.GetValue<string>().ShouldBe("events");

        var all = await Refused(new { url = "mailto:ops@example.com", events = new[] { "Booking.Created" } });
        all["errors"]!.AsObject().Select(kv => kv.Key).ShouldBe(["url", "events[0]"], ignoreOrder: true);

        // Loopback, a Zapier-style catch hook, and the reassignment event are all fine.
        await (await admin.PostJsonAsync("/api/v1/webhooks", new { url = "http://127.0.0.1:9/in", events = created, active = false })).ExpectAsync(201);
        var zap = await (await admin.PostJsonAsync("/api/v1/webhooks", new
        {
            url = "https://hooks.zapier.com/hooks/catch/123456/abcdef/",
            events = new[] { "booking.reassigned", "booking.noShow" },
        })).ExpectAsync(201);
        zap["events"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["booking.noShow", "booking.reassigned"]);

        // An update is checked the same way and leaves the subscription as it was.
        var id = zap["id"]!.GetValue<string>();
        (await (await admin.PutJsonAsync($"/api/v1/webhooks/{id}", new { events = new[] { "booking.deleted" } })).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("events[0]");
        (await (await admin.PutJsonAsync($"/api/v1/webhooks/{id}", new { url = "https://" })).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("url");
        (await (await admin.GetAsync($"/api/v1/webhooks/{id}")).ExpectAsync(200))["events"]!.AsArray().Count.ShouldBe(2);

        (await (await admin.GetAsync($"/api/v1/webhooks/{id}/deliveries?status=lost")).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("status");
        (await (await admin.GetAsync($"/api/v1/webhooks/{id}/deliveries?limit=0")).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("limit");
        await (await admin.GetAsync("/api/v1/webhooks/not-an-id")).ExpectAsync(404);
        await (await admin.PostAsync("/api/v1/webhooks/deliveries/not-an-id/replay", null)).ExpectAsync(404);
        await (await admin.PostAsync($"/api/v1/webhooks/deliveries/{Guid.NewGuid()}/replay", null)).ExpectAsync(404);
    }

    [DbFact]
    public async Task A_booking_lifecycle_arrives_in_order_signed_and_complete()
    {
        var admin = app.Client();
        var adminId = await Scenario.MyIdAsync(admin);
        var url = _receiver.NewUrl("lifecycle");
        var (hookId, secret) = await SubscribeAsync(url, "*");
        var slug = await Scenario.CreatePageAsync(admin);
        var pageId = await PageIdAsync(slug);
        var email = $"ada.{Guid.NewGuid():N}@example.com";
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z", Scenario.Customer("Ada Lovelace", email));
        var bookingId = booking["id"]!.GetValue<string>();
        await (await admin.PostJsonAsync($"/api/v1/bookings/{bookingId}/reschedule", new { start = "2027-03-08T11:00:00Z", reason = "Clash" })).ExpectAsync(200);
        await (await admin.PostJsonAsync($"/api/v1/bookings/{bookingId}/cancel", new { reason = "Host is ill" })).ExpectAsync(200);

        await RunOutboxAsync();
        await SendDueAsync();

        var requests = _receiver.RequestsTo(url);
        requests.Select(r => r.Header("Rendezvous-Event-Type")).ShouldBe(["booking.created", "booking.rescheduled", "booking.canceled"]);
        foreach (var r in requests)
        {
            r.Method.ShouldBe("POST");
            r.Header("Content-Type").ShouldBe("application/json");
            r.Header("User-Agent").ShouldStartWith("Rendezvous-Webhooks/");
            r.Header("Rendezvous-Event-Id").ShouldMatch("^evt_[0-9]+$");
            Verifies(r, secret).ShouldBeTrue();
            Verifies(r, "whsec_someone-elses-secret-0000000000000000000").ShouldBeFalse();
            // The signed time is the server's clock, so a receiver can refuse stale requests.
            SignedAt(r).ShouldBe(app.Clock.GetCurrentInstant().ToUnixTimeSeconds());
            var body = JsonNode.Parse(r.Body)!;
            body.AsObject().Select(kv => kv.Key).ShouldBe(["id", "type", "createdAt", "organizationId", "data"]);
            body["id"]!.GetValue<string>().ShouldBe(r.Header("Rendezvous-Event-Id"));
            body["type"]!.GetValue<string>().ShouldBe(r.Header("Rendezvous-Event-Type"));
            body["createdAt"]!.GetValue<string>().ShouldBe("2027-03-01T08:00:00Z");
            body["organizationId"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
            var data = body["data"]!;
            data.AsObject().Select(kv => kv.Key).ShouldBe(["id", "status", "detailedStatus", "start", "end", "previousStart", "previousEnd",
                "bookingPageId", "ownerId", "customer", "reason", "actor", "previousOwnerId", "previousBookingPageId"]);
            data["id"]!.GetValue<string>().ShouldBe(bookingId);
            data["bookingPageId"]!.GetValue<string>().ShouldBe(pageId);
            data["ownerId"]!.GetValue<string>().ShouldBe(adminId);
            data["customer"]!["name"]!.GetValue<string>().ShouldBe("Ada Lovelace");
            data["customer"]!["email"]!.GetValue<string>().ShouldBe(email);
            data["customer"]!["timeZone"]!.GetValue<string>().ShouldBe("America/New_York");
        }

        requests.Select(r => r.Header("Rendezvous-Event-Id")).Distinct().Count().ShouldBe(3);
        var created = JsonNode.Parse(requests[0].Body)!["data"]!;
        created["status"]!.GetValue<string>().ShouldBe("scheduled");
        created["detailedStatus"]!.GetValue<string>().ShouldBe("Scheduled by Customer");
        created["start"]!.GetValue<string>().ShouldBe("2027-03-08T10:00:00Z");
        created["end"]!.GetValue<string>().ShouldBe("2027-03-08T10:30:00Z");
        created["previousStart"].ShouldBeNull();
        created["reason"].ShouldBeNull();
        created["actor"]!["kind"]!.GetValue<string>().ShouldBe("customer");

        var moved = JsonNode.Parse(requests[1].Body)!["data"]!;
        moved["status"]!.GetValue<string>().ShouldBe("rescheduled");
        moved["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by User");
        moved["start"]!.GetValue<string>().ShouldBe("2027-03-08T11:00:00Z");
        moved["end"]!.GetValue<string>().ShouldBe("2027-03-08T11:30:00Z");
        moved["previousStart"]!.GetValue<string>().ShouldBe("2027-03-08T10:00:00Z");
        moved["previousEnd"]!.GetValue<string>().ShouldBe("2027-03-08T10:30:00Z");
        moved["reason"]!.GetValue<string>().ShouldBe("Clash");
        moved["actor"]!["kind"]!.GetValue<string>().ShouldBe("user");
        moved["actor"]!["id"]!.GetValue<string>().ShouldBe(adminId);

        var canceled = JsonNode.Parse(requests[2].Body)!["data"]!;
        canceled["status"]!.GetValue<string>().ShouldBe("canceled");
        canceled["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by User");
        canceled["start"]!.GetValue<string>().ShouldBe("2027-03-08T11:00:00Z");
        canceled["reason"]!.GetValue<string>().ShouldBe("Host is ill");

        // The delivery log, newest first, each delivered at its first attempt with the receiver's answer.
        var log = await DeliveriesAsync(hookId);
        log.Select(d => d!["eventType"]!.GetValue<string>()).ShouldBe(["booking.canceled", "booking.rescheduled", "booking.created"]);
        foreach (var d in log)
        {
            d!["status"]!.GetValue<string>().ShouldBe("delivered");
            d["webhookId"]!.GetValue<string>().ShouldBe(hookId);
            d["attemptCount"]!.GetValue<int>().ShouldBe(1);
            d["deliveredAt"]!.GetValue<string>().ShouldBe("2027-03-01T08:00:00Z");
            d["nextAttemptAt"].ShouldBeNull();
            d["payload"]!["id"]!.GetValue<string>().ShouldBe(d["eventId"]!.GetValue<string>());
            var attempt = d["attempts"]!.AsArray().ShouldHaveSingleItem()!;
            attempt["number"]!.GetValue<int>().ShouldBe(1);
            attempt["statusCode"]!.GetValue<int>().ShouldBe(200);
            attempt["responseExcerpt"]!.GetValue<string>().ShouldContain("success");
            attempt["error"].ShouldBeNull();
            attempt["replay"]!.GetValue<bool>().ShouldBeFalse();
            attempt["durationMs"]!.GetValue<int>().ShouldBeGreaterThanOrEqualTo(0);
        }

        (await DeliveriesAsync(hookId, "status=pending")).ShouldBeEmpty();
        (await DeliveriesAsync(hookId, "status=delivered&limit=2")).Count.ShouldBe(2);
    }

    [DbFact]
    public async Task Event_filters_and_pausing_decide_who_receives_what()
    {
        var admin = app.Client();
        var cancelsOnly = _receiver.NewUrl("cancels-only");
        var createdAndCanceled = _receiver.NewUrl("created-and-canceled");
        var pausedUrl = _receiver.NewUrl("paused");
        var (cancelsId, _) = await SubscribeAsync(cancelsOnly, "booking.canceled");
        await SubscribeAsync(createdAndCanceled, "booking.created", "booking.canceled");
        var (pausedId, _) = await SubscribeAsync(pausedUrl, "*");
        await (await admin.PutJsonAsync($"/api/v1/webhooks/{pausedId}", new { active = false })).ExpectAsync(200);

        var slug = await Scenario.CreatePageAsync(admin);
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T10:00:00Z"))["id"]!.GetValue<string>();
        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-09T12:00:00Z" })).ExpectAsync(200);
        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "x" })).ExpectAsync(200);
        await RunOutboxAsync();
        await SendDueAsync();

        _receiver.RequestsTo(cancelsOnly).Select(r => r.Header("Rendezvous-Event-Type")).ShouldBe(["booking.canceled"]);
        var both = _receiver.RequestsTo(createdAndCanceled);
        both.Select(r => r.Header("Rendezvous-Event-Type")).ShouldBe(["booking.created", "booking.canceled"]);
        // One event, one id, whoever receives it.
        both[1].Header("Rendezvous-Event-Id").ShouldBe(_receiver.RequestsTo(cancelsOnly)[0].Header("Rendezvous-Event-Id"));
        _receiver.RequestsTo(pausedUrl).ShouldBeEmpty();
        (await DeliveriesAsync(pausedId)).ShouldBeEmpty();
        (await DeliveriesAsync(cancelsId)).Count.ShouldBe(1);
    }

    [DbFact]
    public async Task An_outbox_repeat_creates_no_second_delivery()
    {
        var url = _receiver.NewUrl("repeat");
        var (hookId, _) = await SubscribeAsync(url, "booking.created");
        var slug = await Scenario.CreatePageAsync(app.Client());
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z");
        await RunOutboxAsync();
        await SendDueAsync();
        var eventId = (await DeliveriesAsync(hookId)).ShouldHaveSingleItem()!["eventId"]!.GetValue<string>();
        var messageId = long.Parse(eventId["evt_".Length..], CultureInfo.InvariantCulture);

        // The outbox hands the message over again, as it does when a process dies before marking it done.
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync(
            $"UPDATE outbox_messages SET processed_at = NULL, handled_by = '{{}}' WHERE id = {messageId}"));
        await RunOutboxAsync();
        await SendDueAsync();
        (await app.WithDbAsync(db => db.OutboxMessages.SingleAsync(m => m.Id == messageId))).HandledBy.ShouldContain("webhooks");

        // And a handler call with the same message straight away.
        var handler = app.Services.GetServices<IOutboxHandler>().Single(h => h.Name == "webhooks");
        var message = await app.WithDbAsync(db => db.OutboxMessages.SingleAsync(m => m.Id == messageId));
        await handler.HandleAsync(new OutboxEnvelope(message.Id, message.Type, message.Payload, message.OrganizationId, 3), CancellationToken.None);
        await SendDueAsync();

        (await DeliveriesAsync(hookId)).ShouldHaveSingleItem()!["attemptCount"]!.GetValue<int>().ShouldBe(1);
        _receiver.RequestsTo(url).ShouldHaveSingleItem();
    }

    [DbFact]
    public async Task A_failing_receiver_is_tried_again_after_the_backoff()
    {
        var url = _receiver.NewUrl("flaky");
        _receiver.Script(url, new ScriptedAnswer(500, """{"error":"database is down"}"""));
        var (hookId, secret) = await SubscribeAsync(url, "*");
        var slug = await Scenario.CreatePageAsync(app.Client());
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T10:00:00Z");
        await RunOutboxAsync();
        await SendDueAsync();

        var first = (await DeliveriesAsync(hookId)).ShouldHaveSingleItem()!;
        first["status"]!.GetValue<string>().ShouldBe("pending");
        first["lastStatusCode"]!.GetValue<int>().ShouldBe(500);
        first["lastError"]!.GetValue<string>().ShouldBe("HTTP 500");
        var next = Parse(first["nextAttemptAt"]!.GetValue<string>());
        (next - RendezvousApp.Start).ShouldBeInRange(Duration.FromMinutes(1), Duration.FromMinutes(1.1));
        var attempt = first["attempts"]!.AsArray().ShouldHaveSingleItem()!;
        attempt["statusCode"]!.GetValue<int>().ShouldBe(500);
        attempt["responseExcerpt"]!.GetValue<string>().ShouldBe("""{"error":"database is down"}""");

        // Not due yet: nothing is sent.
        app.Clock.Advance(Duration.FromSeconds(30));
        await SendDueAsync();
        _receiver.RequestsTo(url).Count.ShouldBe(1);

        app.Clock.Advance(Duration.FromMinutes(2));
        await SendDueAsync();
        var requests = _receiver.RequestsTo(url);
        requests.Count.ShouldBe(2);
        requests[1].Header("Rendezvous-Event-Id").ShouldBe(requests[0].Header("Rendezvous-Event-Id"));
        requests[1].Body.ShouldBe(requests[0].Body);
        Verifies(requests[1], secret).ShouldBeTrue();
        SignedAt(requests[1]).ShouldBe(SignedAt(requests[0]) + 150);

        var done = (await DeliveriesAsync(hookId)).ShouldHaveSingleItem()!;
        done["status"]!.GetValue<string>().ShouldBe("delivered");
        done["lastError"].ShouldBeNull();
        done["deliveredAt"]!.GetValue<string>().ShouldBe("2027-03-01T08:02:30Z");
        var attempts = done["attempts"]!.AsArray();
        attempts.Select(a => a!["statusCode"]!.GetValue<int>()).ShouldBe([500, 200]);
        attempts.Select(a => a!["at"]!.GetValue<string>()).ShouldBe(["2027-03-01T08:00:00Z", "2027-03-01T08:02:30Z"]);
    }

    [DbFact]
    public async Task An_unreachable_receiver_is_tried_for_over_a_day_then_the_delivery_fails()
    {
        var url = WebhookReceiver.UnreachableUrl();
        var (hookId, _) = await SubscribeAsync(url, "booking.created");
        var slug = await Scenario.CreatePageAsync(app.Client());
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T10:00:00Z");
        await RunOutboxAsync();

        JsonNode delivery = new JsonObject();
        for (var round = 0; round < 20; round++)
        {
            await SendDueAsync();
            delivery = (await DeliveriesAsync(hookId)).ShouldHaveSingleItem()!;
            if (delivery["status"]!.GetValue<string>() != "pending")
            {
                break;
            }

            app.Clock.Reset(Parse(delivery["nextAttemptAt"]!.GetValue<string>()));
        }

        delivery["status"]!.GetValue<string>().ShouldBe("failed");
        delivery["nextAttemptAt"].ShouldBeNull();
        delivery["deliveredAt"].ShouldBeNull();
        delivery["lastError"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
        var attempts = delivery["attempts"]!.AsArray();
        attempts.Count.ShouldBe(WebhookRetrySchedule.MaxAttempts);
        attempts.ShouldAllBe(a => a!["statusCode"] == null && a["error"] != null);
        attempts[0]!["error"]!.GetValue<string>().ShouldContain("Connection refused");
        var times = attempts.Select(a => Parse(a!["at"]!.GetValue<string>())).ToList();
        (times[^1] - times[0]).ShouldBeGreaterThanOrEqualTo(Duration.FromHours(24));
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
        gaps.Zip(gaps.Skip(1), (a, b) => b > a).ShouldAllBe(grows => grows);
        gaps[0].ShouldBeInRange(Duration.FromMinutes(1), Duration.FromMinutes(1.1));

        // Given up: no further attempt, however long we wait.
        app.Clock.Advance(Duration.FromDays(3));
        await SendDueAsync();
        (await DeliveriesAsync(hookId)).ShouldHaveSingleItem()!["attemptCount"]!.GetValue<int>().ShouldBe(WebhookRetrySchedule.MaxAttempts);
        (await DeliveriesAsync(hookId, "status=failed")).Count.ShouldBe(1);
    }

    [DbFact]
    public async Task Replay_sends_the_same_event_again_as_a_new_attempt()
    {
        var admin = app.Client();
        var url = _receiver.NewUrl("replay");
        var (hookId, secret) = await SubscribeAsync(url, "*");
        var slug = await Scenario.CreatePageAsync(admin);
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T10:00:00Z");
        await RunOutboxAsync();
        await SendDueAsync();
        var deliveryId = (await DeliveriesAsync(hookId)).ShouldHaveSingleItem()!["id"]!.GetValue<string>();

        app.Clock.Advance(Duration.FromHours(3));
        var replayed = await (await admin.PostAsync($"/api/v1/webhooks/deliveries/{deliveryId}/replay", null)).ExpectAsync(200);
        replayed["status"]!.GetValue<string>().ShouldBe("delivered");
        replayed["attemptCount"]!.GetValue<int>().ShouldBe(2);
        var attempts = replayed["attempts"]!.AsArray();
        attempts.Select(a => a!["replay"]!.GetValue<bool>()).ShouldBe([false, true]);
        attempts[1]!["statusCode"]!.GetValue<int>().ShouldBe(200);
        attempts[1]!["at"]!.GetValue<string>().ShouldBe("2027-03-01T11:00:00Z");

        var requests = _receiver.RequestsTo(url);
        requests.Count.ShouldBe(2);
        requests[1].Header("Rendezvous-Event-Id").ShouldBe(requests[0].Header("Rendezvous-Event-Id"));
        requests[1].Body.ShouldBe(requests[0].Body);
        // Signed anew, with the time of the replay.
        Verifies(requests[1], secret).ShouldBeTrue();
        SignedAt(requests[1]).ShouldBe(SignedAt(requests[0]) + 3 * 3600);
    }

    [DbFact]
    public async Task Gone_disables_the_subscription_until_it_is_resumed()
    {
        var admin = app.Client();
        var url = _receiver.NewUrl("gone");
        _receiver.Script(url, new ScriptedAnswer(410));
        var (hookId, _) = await SubscribeAsync(url, "*");
        var slug = await Scenario.CreatePageAsync(admin);
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-16T10:00:00Z");
        await RunOutboxAsync();
        await SendDueAsync();

        var failed = (await DeliveriesAsync(hookId)).ShouldHaveSingleItem()!;
        failed["status"]!.GetValue<string>().ShouldBe("failed");
        failed["lastStatusCode"]!.GetValue<int>().ShouldBe(410);
        var hook = await (await admin.GetAsync($"/api/v1/webhooks/{hookId}")).ExpectAsync(200);
        hook["active"]!.GetValue<bool>().ShouldBeFalse();
        hook["disabledReason"]!.GetValue<string>().ShouldContain("410");

        // Disabled: later events are not queued for it.
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-16T11:00:00Z");
        await RunOutboxAsync();
        (await DeliveriesAsync(hookId)).Count.ShouldBe(1);

        // Resumed by a person, the failed delivery can be replayed and now gets through.
        var resumed = await (await admin.PutJsonAsync($"/api/v1/webhooks/{hookId}", new { active = true })).ExpectAsync(200);
        resumed["disabledReason"].ShouldBeNull();
        var replayed = await (await admin.PostAsync($"/api/v1/webhooks/deliveries/{failed["id"]}/replay", null)).ExpectAsync(200);
        replayed["status"]!.GetValue<string>().ShouldBe("delivered");
        replayed["attempts"]!.AsArray().Select(a => a!["statusCode"]!.GetValue<int>()).ShouldBe([410, 200]);
    }

    [DbFact]
    public async Task Redirects_are_not_followed_and_slow_receivers_time_out()
    {
        var redirecting = _receiver.NewUrl("redirecting");
        var target = _receiver.NewUrl("redirect-target");
        _receiver.Script(redirecting, new ScriptedAnswer(302, Location: target));
        var slow = _receiver.NewUrl("slow");
        _receiver.Script(slow, new ScriptedAnswer(200, Delay: TimeSpan.FromSeconds(6)));
        var (redirectId, _) = await SubscribeAsync(redirecting, "booking.created");
        var (slowId, _) = await SubscribeAsync(slow, "booking.created");
        var slug = await Scenario.CreatePageAsync(app.Client());
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-17T10:00:00Z");
        await RunOutboxAsync();
        await SendDueAsync();

        var redirected = (await DeliveriesAsync(redirectId)).ShouldHaveSingleItem()!;
        redirected["status"]!.GetValue<string>().ShouldBe("pending");
        var attempt = redirected["attempts"]!.AsArray().ShouldHaveSingleItem()!;
        attempt["statusCode"]!.GetValue<int>().ShouldBe(302);
        attempt["error"]!.GetValue<string>().ShouldContain("Redirects are not followed");
        _receiver.RequestsTo(target).ShouldBeEmpty();

        var timedOut = (await DeliveriesAsync(slowId)).ShouldHaveSingleItem()!;
        timedOut["status"]!.GetValue<string>().ShouldBe("pending");
        var slowAttempt = timedOut["attempts"]!.AsArray().ShouldHaveSingleItem()!;
        slowAttempt["statusCode"].ShouldBeNull();
        slowAttempt["error"]!.GetValue<string>().ShouldBe("Timed out after 2 s");
    }

    [DbFact]
    public async Task Members_may_not_use_webhooks_and_anonymous_callers_are_asked_to_authenticate()
    {
        var admin = app.Client();
        var (hookId, _) = await SubscribeAsync(WebhookReceiver.UnreachableUrl(), "*");
        var member = app.Client(await Scenario.CreateKeyAsync(admin, await Scenario.CreateUserAsync(admin, "Webhook Member")));
        var body = new { url = "http://127.0.0.1:9/x", events = new[] { "*" } };
        await (await member.PostJsonAsync("/api/v1/webhooks", body)).ExpectAsync(403);
        await (await member.GetAsync("/api/v1/webhooks")).ExpectAsync(403);
        await (await member.GetAsync($"/api/v1/webhooks/{hookId}")).ExpectAsync(403);
        await (await member.PutJsonAsync($"/api/v1/webhooks/{hookId}", new { active = false })).ExpectAsync(403);
        await (await member.DeleteAsync($"/api/v1/webhooks/{hookId}")).ExpectAsync(403);
        await (await member.PostAsync($"/api/v1/webhooks/{hookId}/rotate-secret", null)).ExpectAsync(403);
        await (await member.GetAsync($"/api/v1/webhooks/{hookId}/deliveries")).ExpectAsync(403);
        await (await member.PostAsync($"/api/v1/webhooks/deliveries/{Guid.NewGuid()}/replay", null)).ExpectAsync(403);
        await (await app.Anonymous().GetAsync("/api/v1/webhooks")).ExpectAsync(401);
        await (await app.Anonymous().PostJsonAsync("/api/v1/webhooks", body)).ExpectAsync(401);

        var unchanged = await (await admin.GetAsync($"/api/v1/webhooks/{hookId}")).ExpectAsync(200);
        unchanged["active"]!.GetValue<bool>().ShouldBeTrue();
    }

    [DbFact]
    public void The_retry_schedule_grows_and_spans_more_than_a_day()
    {
        var total = Duration.Zero;
        Duration? previous = null;
        for (var attempt = 1; attempt < WebhookRetrySchedule.MaxAttempts; attempt++)
        {
            var wait = WebhookRetrySchedule.WaitAfter(attempt)!.Value;
            var planned = WebhookRetrySchedule.Waits[attempt - 1];
            wait.ShouldBeInRange(planned, planned * 1.1);
            if (previous is { } p)
            {
                planned.ShouldBeGreaterThan(p);
            }

            previous = planned;
            total += planned;
        }

        total.ShouldBeGreaterThanOrEqualTo(Duration.FromHours(24));
        WebhookRetrySchedule.WaitAfter(WebhookRetrySchedule.MaxAttempts).ShouldBeNull();
    }

    private async Task<(string Id, string Secret)> SubscribeAsync(string url, params string[] events)
    {
        var body = await (await app.Client().PostJsonAsync("/api/v1/webhooks", new { url, events })).ExpectAsync(201);
        return (body["id"]!.GetValue<string>(), body["secret"]!.GetValue<string>());
    }

    private async Task<List<JsonNode?>> DeliveriesAsync(string hookId, string? query = null)
    {
        var response = await app.Client().GetAsync($"/api/v1/webhooks/{hookId}/deliveries{(query is null ? "" : "?" + query)}");
        return [.. (await response.ExpectAsync(200)).AsArray()];
    }

    private async Task<string> PageIdAsync(string slug)
    {
        var pages = await (await app.Client().GetAsync("/api/v1/booking-pages")).ExpectAsync(200);
        return pages.AsArray().First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();
    }

    /// <summary>Hands every due outbox message to the handlers, as the outbox dispatcher would.</summary>
    private async Task RunOutboxAsync()
    {
        while (await app.WithScopeAsync(sp => sp.GetRequiredService<OutboxProcessor>().ProcessBatchAsync(50, CancellationToken.None)) > 0)
        {
        }
    }

    /// <summary>Sends every due delivery, as the webhook worker would.</summary>
    private async Task SendDueAsync()
    {
        var worker = app.Services.GetRequiredService<WebhookWorker>();
        while (await worker.ProcessDueOnceAsync(CancellationToken.None) > 0)
        {
        }
    }

    private static Instant Parse(string text) => InstantPattern.ExtendedIso.Parse(text).GetValueOrThrow();

    private static long SignedAt(ReceivedRequest request) =>
        long.Parse(request.Header("Rendezvous-Signature").Split(',')[0]["t=".Length..], CultureInfo.InvariantCulture);

    /// <summary>Verifies the signature the way docs/WEBHOOKS.md tells receivers to, written independently of the server's code.</summary>
    private static bool Verifies(ReceivedRequest request, string secret)
    {
        var parts = request.Header("Rendezvous-Signature").Split(',')
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToLookup(p => p[0], p => p[1]);
        var t = parts["t"].SingleOrDefault();
        if (t is null)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{request.Body}"));
        return parts["v1"].Any(v => v.Length == expected.Length * 2
            && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(v), expected));
    }
}

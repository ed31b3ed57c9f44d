using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Features.Automations;
using Rendezvous.Server.Features.Webhooks;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure.Fakes;
using Shouldly;

namespace Rendezvous.Server.Tests.Automations;

/// <summary>
/// What automations do, as webhook events a subscription chooses (automation.succeeded, .failed, .skipped), and Salesforce
/// field actions that fail at once when the field does not exist. Real PostgreSQL, a loopback receiver, the Salesforce fake.
/// </summary>
public sealed class AutomationEventTests(AutomationApp app) : IClassFixture<AutomationApp>, IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    /// <summary>Every test starts with no rules and no subscriptions, so one test's runs never reach another's receiver.</summary>
    public async Task DisposeAsync()
    {
        app.Clock.Reset(RendezvousApp.Start);
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DELETE FROM automations"));
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DELETE FROM webhook_subscriptions"));
        await _receiver.DisposeAsync();
    }

    private async Task<(string Id, string Url, string Secret)> SubscribeAsync(string name, params string[] events)
    {
        var url = _receiver.NewUrl(name);
        var hook = await (await app.Client().PostJsonAsync("/api/v1/webhooks", new { url, events })).ExpectAsync(201);
        return (hook["id"]!.GetValue<string>(), url, hook["secret"]!.GetValue<string>());
    }

    private static async Task<string> RuleAsync(HttpClient client, object rule) =>
        (await (await client.PostJsonAsync("/api/v1/automations", rule)).ExpectAsync(201))["id"]!.GetValue<string>();

    private async Task<(string Slug, string Id)> PageAsync()
    {
        var owner = await Scenario.CreateUserAsync(app.Client(), "Page Owner");
        var slug = await Scenario.CreatePageAsync(app.Client(), p => p["ownerId"] = owner);
        return (slug, await app.PageIdAsync(app.Client(), slug));
    }

    private async Task<string> BookAsync(string slug, string start) =>
        (await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new
        {
            start,
            customer = Scenario.Customer("Grace Hopper", $"grace.{Guid.NewGuid():N}@example.com"),
        })).ExpectAsync(201))["id"]!.GetValue<string>();

    private async Task<List<AutomationRun>> RunsOfAsync(string bookingId) =>
        await app.WithDbAsync(db => AutomationStore.RunsOfBookingAsync(db, new Domain.BookingId(Guid.Parse(bookingId)), CancellationToken.None));

    /// <summary>The outbox, then every due delivery, as the outbox dispatcher and the webhook worker would.</summary>
    private async Task DeliverAsync()
    {
        await app.RunOutboxAsync();
        var worker = app.Services.GetRequiredService<WebhookWorker>();
        while (await worker.ProcessDueOnceAsync(CancellationToken.None) > 0)
        {
        }
    }

    private static JsonNode Body(ReceivedRequest request) => JsonNode.Parse(request.Body)!;

    private static void ShouldBeSignedWith(ReceivedRequest request, string secret)
    {
        var signature = request.Header("Rendezvous-Signature");
        var t = signature.Split(',')[0]["t=".Length..];
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + request.Body));
        signature.ShouldBe($"t={t},v1={Convert.ToHexStringLower(mac)}");
    }

    [DbFact]
    public async Task Subscriptions_that_chose_automation_outcomes_get_one_signed_event_per_ended_run_and_others_get_none()
    {
        var succeeded = await SubscribeAsync("succeeded", "automation.succeeded");
        var failed = await SubscribeAsync("failed", "automation.failed", "automation.skipped");
        var bookings = await SubscribeAsync("bookings", "booking.created");
        var (slug, page) = await PageAsync();
        // The webhook rule calls the subscription that did not choose automation events: its own run must not come back to it.
        var toHook = await RuleAsync(app.Client(), new
        {
            name = "To the CRM hook", bookingPageId = page, trigger = "booked", action = new { kind = "webhook", webhookId = bookings.Id },
        });
        var toKeap = await RuleAsync(app.Client(), new { name = "Tag in Keap", bookingPageId = page, trigger = "booked", action = new { kind = "keapTag", tag = "VIP" } });
        var done = await RuleAsync(app.Client(), new { name = "Done", bookingPageId = page, trigger = "booked", action = new { kind = "markCompleted" } });

        var id = await BookAsync(slug, "2027-03-08T10:00:00Z");
        await DeliverAsync();

        var runs = await RunsOfAsync(id);
        runs.Select(r => (r.AutomationId.ToString(), r.Status)).ShouldBe([(toHook, "Succeeded"), (toKeap, "Failed"), (done, "Skipped")], ignoreOrder: true);
        var hookRun = runs.Single(r => r.AutomationId.ToString() == toHook);

        var ok = _receiver.RequestsTo(succeeded.Url).ShouldHaveSingleItem();
        ok.Header("Rendezvous-Event-Type").ShouldBe("automation.succeeded");
        ShouldBeSignedWith(ok, succeeded.Secret);
        var body = Body(ok);
        body["type"]!.GetValue<string>().ShouldBe("automation.succeeded");
        body["id"]!.GetValue<string>().ShouldBe(ok.Header("Rendezvous-Event-Id"));
        var data = body["data"]!;
        data["runId"]!.GetValue<string>().ShouldBe(hookRun.Id.ToString());
        data["automation"]!["id"]!.GetValue<string>().ShouldBe(toHook);
        data["automation"]!["name"]!.GetValue<string>().ShouldBe("To the CRM hook");
        data["automation"]!["trigger"]!.GetValue<string>().ShouldBe("booked");
        data["automation"]!["offsetMinutes"]!.GetValue<int>().ShouldBe(0);
        data["automation"]!["action"]!.GetValue<string>().ShouldBe("webhook");
        data["booking"]!["id"]!.GetValue<string>().ShouldBe(id);
        data["booking"]!["customer"]!["name"]!.GetValue<string>().ShouldBe("Grace Hopper");
        data["outcome"]!.GetValue<string>().ShouldBe("succeeded");
        data["result"]!.GetValue<string>().ShouldBe("Webhook answered 200");

        var failures = _receiver.RequestsTo(failed.Url);
        failures.Select(r => r.Header("Rendezvous-Event-Type")).ShouldBe(["automation.failed", "automation.skipped"], ignoreOrder: true);
        var keap = Body(failures.Single(r => r.Header("Rendezvous-Event-Type") == "automation.failed"))["data"]!;
        keap["automation"]!["id"]!.GetValue<string>().ShouldBe(toKeap);
        keap["outcome"]!.GetValue<string>().ShouldBe("failed");
        keap["result"]!.GetValue<string>().ShouldBe("Failed: the booking's page is not connected to Keap");
        failures.ShouldAllBe(r => r.Header("Rendezvous-Signature").StartsWith("t=", StringComparison.Ordinal));

        // The subscription that chose only booking.created got that event and its rule's own call, and no outcome.
        _receiver.RequestsTo(bookings.Url).Select(r => r.Header("Rendezvous-Event-Type"))
            .ShouldBe(["booking.created", "automation.triggered"], ignoreOrder: true);

        // Handing the outcome messages (and the run's own message) to the handlers again sends nothing twice and runs nothing again.
        var messages = await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking()
            .Where(m => m.Type.StartsWith("automation.")).ToListAsync());
        messages.Count(m => m.Type == "automation.succeeded").ShouldBe(1);
        var handlers = app.Services.GetServices<IOutboxHandler>().ToList();
        foreach (var m in messages)
        {
            var envelope = new OutboxEnvelope(m.Id, m.Type, m.Payload, m.OrganizationId, 2);
            foreach (var handler in handlers.Where(h => h.Handles(m.Type)))
            {
                await handler.HandleAsync(envelope, CancellationToken.None);
            }
        }

        await DeliverAsync();
        _receiver.RequestsTo(succeeded.Url).Count.ShouldBe(1);
        _receiver.RequestsTo(failed.Url).Count.ShouldBe(2);
        _receiver.RequestsTo(bookings.Url).Count.ShouldBe(2);
        (await RunsOfAsync(id)).Count.ShouldBe(3);
    }

    [DbFact]
    public async Task A_run_retried_after_a_failed_attempt_publishes_only_its_final_outcome()
    {
        var outcomes = await SubscribeAsync("outcomes", "automation.succeeded", "automation.failed", "automation.skipped");
        var flaky = await SubscribeAsync("flaky", "booking.noShow");
        _receiver.Script(flaky.Url, new ScriptedAnswer(500, """{"error":"try later"}"""));
        var (slug, page) = await PageAsync();
        await RuleAsync(app.Client(), new
        {
            name = "Flaky hook", bookingPageId = page, trigger = "booked", action = new { kind = "webhook", webhookId = flaky.Id },
        });

        var id = await BookAsync(slug, "2027-03-08T10:00:00Z");
        await DeliverAsync();
        var run = (await RunsOfAsync(id)).ShouldHaveSingleItem();
        run.Status.ShouldBe("Pending");
        run.LastError!.ShouldContain("500");
        _receiver.RequestsTo(outcomes.Url).ShouldBeEmpty();

        app.Clock.Advance(Duration.FromMinutes(10));
        await DeliverAsync();
        (await RunsOfAsync(id)).ShouldHaveSingleItem().Status.ShouldBe("Succeeded");
        var only = _receiver.RequestsTo(outcomes.Url).ShouldHaveSingleItem();
        only.Header("Rendezvous-Event-Type").ShouldBe("automation.succeeded");
        Body(only)["data"]!["runId"]!.GetValue<string>().ShouldBe(run.Id.ToString());
        _receiver.RequestsTo(flaky.Url).Count.ShouldBe(2);
    }

    [DbFact]
    public async Task The_subscription_api_and_openapi_document_offer_the_automation_event_types()
    {
        var created = await (await app.Client().PostJsonAsync("/api/v1/webhooks", new
        {
            url = _receiver.NewUrl("choice"), events = new[] { "automation.failed", "booking.created", "automation.succeeded" },
        })).ExpectAsync(201);
        created["events"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["booking.created", "automation.succeeded", "automation.failed"]);

        var bad = await (await app.Client().PostJsonAsync("/api/v1/webhooks", new { url = _receiver.NewUrl("bad"), events = new[] { "automation.triggered" } }))
            .ExpectAsync(400);
        bad["errors"]!["events[0]"]![0]!.GetValue<string>().ShouldContain("automation.skipped");

        var openApi = (await (await app.Anonymous().GetAsync("/openapi/v1.json")).ExpectAsync(200)).ToJsonString();
        openApi.ShouldContain("\"automation.succeeded\"");
        openApi.ShouldContain("\"automation.failed\"");
        openApi.ShouldContain("\"automation.skipped\"");
    }

    // Salesforce answers a PATCH naming a field the Event does not have with 400 INVALID_FIELD ("No such column"): that
    // does not pass by waiting, so the run fails at once and the connection's health names the field. A 5xx is retried.
    [DbFact]
    public async Task A_salesforce_field_that_does_not_exist_fails_the_run_at_once_while_a_server_error_is_retried()
    {
        var admin = app.Client();
        var (slug, page) = await PageAsync();
        (await app.ConnectAsync(admin, "salesforce", page, app.Salesforce.IssueCode()))["status"]!.GetValue<string>().ShouldBe("connected");
        await RuleAsync(admin, new
        {
            name = "Follow up", bookingPageId = page, trigger = "rescheduled",
            action = new { kind = "salesforceField", field = "Follow_up__c", value = "Moved: {{booking.reason}}" },
        });
        var id = await BookAsync(slug, "2027-03-08T11:00:00Z");
        await app.RunOutboxAsync();

        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-09T11:00:00Z", reason = "Travel" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        var failed = (await RunsOfAsync(id)).ShouldHaveSingleItem();
        failed.Status.ShouldBe("Failed");
        failed.Attempts.ShouldBe(1);
        failed.Result!.ShouldStartWith("Failed: Salesforce's Event has no field Follow_up__c that the connected user can edit");
        failed.Result!.ShouldContain("INVALID_FIELD");
        var health = (await (await admin.GetAsync($"/api/v1/booking-pages/{page}/salesforce")).ExpectAsync(200))["health"]!;
        health["problems"]!.AsArray().ShouldContain(p => p!.GetValue<string>().Contains("\"Follow up\" sets the Event field Follow_up__c", StringComparison.Ordinal));

        // The administrator creates the field; then Salesforce has an outage: the next run waits and goes through afterwards.
        app.Salesforce.OrgFields.Add("Follow_up__c");
        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-10T11:00:00Z", reason = "Again" })).ExpectAsync(200);
        // One batch: the Event itself is moved and the run planned; then the run's update meets three 503s (its attempt and
        // both in-process retries).
        await app.WithScopeAsync(sp => sp.GetRequiredService<OutboxProcessor>().ProcessBatchAsync(50, CancellationToken.None));
        app.Salesforce.Fail("PATCH", FakeSalesforce.Api + "/sobjects/Event/",
            new FakeAnswer(503, """[{"message":"Server is unavailable","errorCode":"SERVER_UNAVAILABLE"}]"""), times: 3);
        await app.RunOutboxAsync();
        var waiting = (await RunsOfAsync(id)).Last();
        waiting.Status.ShouldBe("Pending");
        waiting.LastError!.ShouldContain("503");

        app.Salesforce.ClearFaults();
        app.Clock.Advance(Duration.FromMinutes(10));
        await app.RunOutboxAsync();
        (await RunsOfAsync(id)).Last().Status.ShouldBe("Succeeded");
        app.Salesforce.EventFor(id)!["Follow_up__c"]!.GetValue<string>().ShouldBe("Moved: Again");
        (await (await admin.GetAsync($"/api/v1/booking-pages/{page}/salesforce")).ExpectAsync(200))["health"]!["problems"]!.AsArray()
            .ShouldNotContain(p => p!.GetValue<string>().Contains("Follow_up__c", StringComparison.Ordinal));
    }
}

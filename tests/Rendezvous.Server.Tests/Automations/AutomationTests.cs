using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Features.Automations;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Workers;
using Shouldly;

namespace Rendezvous.Server.Tests.Automations;

/// <summary>The application with the CRM fakes, the real SMTP server and a short webhook timeout.</summary>
public sealed class AutomationApp : IntegrationApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rendezvous:Smtp:Host", SmtpServer.Host ?? "127.0.0.1");
        builder.UseSetting("Rendezvous:Smtp:Port", SmtpServer.Port.ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Rendezvous:Smtp:From", "no-reply@rendezvous.test");
        builder.UseSetting("Rendezvous:Smtp:ReconnectDelay", "00:00:00");
        builder.UseSetting("Rendezvous:Webhooks:Timeout", "00:00:02");
    }
}

/// <summary>
/// No-code automations end to end: rules through the API, bookings changed through the API, the outbox driven by hand,
/// emails read back from the real SMTP server's Maildir, webhooks received on loopback, Keap and Salesforce fakes.
/// </summary>
public sealed class AutomationTests(AutomationApp app) : IClassFixture<AutomationApp>, IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    /// <summary>Every test starts with no rules, so one test's rules never act on another's bookings.</summary>
    public async Task DisposeAsync()
    {
        app.Clock.Reset(RendezvousApp.Start);
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DELETE FROM automations"));
        await _receiver.DisposeAsync();
    }

    private static string Address(string what) => $"{what}.{Guid.NewGuid():N}@example.com";

    private static async Task<string> RuleAsync(HttpClient client, object rule) =>
        (await (await client.PostJsonAsync("/api/v1/automations", rule)).ExpectAsync(201))["id"]!.GetValue<string>();

    private static object EmailTo(string address, string subject, string message = "{{booking.when}}") =>
        new { kind = "email", to = "address", address, subject, message };

    /// <summary>A page of its own host (a new user unless the page names one), so bookings on different pages never clash.</summary>
    private async Task<(string Slug, string Id)> PageAsync(Action<JsonObject>? customize = null)
    {
        var owner = await Scenario.CreateUserAsync(app.Client(), "Page Owner");
        var slug = await Scenario.CreatePageAsync(app.Client(), p =>
        {
            p["ownerId"] = owner;
            customize?.Invoke(p);
        });
        return (slug, await app.PageIdAsync(app.Client(), slug));
    }

    private async Task<string> BookAsync(string slug, string start, string? email = null, object? answers = null)
    {
        var body = await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new
        {
            start,
            customer = Scenario.Customer("Grace Hopper", email),
            answers,
        })).ExpectAsync(201);
        return body["id"]!.GetValue<string>();
    }

    private async Task<List<(string Automation, string Status, Instant Due, string? Result)>> RunsOfAsync(string bookingId) =>
        [.. (await app.WithDbAsync(db => AutomationStore.RunsOfBookingAsync(db, new Domain.BookingId(Guid.Parse(bookingId)), CancellationToken.None)))
            .Select(r => (r.AutomationId.ToString(), r.Status, r.DueAt, r.Result))];

    private async Task AtAsync(Instant when, Func<Task> work)
    {
        app.Clock.Reset(when);
        await work();
    }

    private async Task<string[]> HistoryAsync(string bookingId) =>
        [.. (await (await app.Client().GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200))["history"]!.AsArray()
            .Select(h => h!["detailedStatus"]!.GetValue<string>())];

    [SmtpFact]
    public async Task Booked_rescheduled_and_canceled_rules_each_send_their_email_once_with_the_bookings_placeholders()
    {
        var (slug, _) = await PageAsync();
        var to = new Dictionary<string, string>();
        foreach (var trigger in new[] { "booked", "rescheduled", "canceled" })
        {
            to[trigger] = Address(trigger);
            await RuleAsync(app.Client(), new
            {
                name = $"Tell sales ({trigger})",
                trigger,
                action = EmailTo(to[trigger], $"{trigger}: {{{{customer.name}}}} for {{{{booking.title}}}}", "Starts {{booking.start}}.\nNotes: {{booking.reason}}"),
            });
        }

        var id = await BookAsync(slug, "2027-03-08T10:00:00Z");
        await app.RunOutboxAsync();
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-09T11:00:00Z", reason = "Clash" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "Not needed" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        await app.RunOutboxAsync();

        var booked = SmtpServer.MessagesTo(to["booked"]).ShouldHaveSingleItem();
        booked.Header("Subject").ShouldBe("booked: Grace Hopper for Intro call");
        booked.Header("X-Rendezvous-Booking").ShouldBe(id);
        booked.Single("text/plain").Text.ShouldContain("Starts Monday, 8 March 2027");
        var moved = SmtpServer.MessagesTo(to["rescheduled"]).ShouldHaveSingleItem();
        moved.Header("Subject").ShouldBe("rescheduled: Grace Hopper for Intro call");
        moved.Single("text/plain").Text.ShouldContain("Starts Tuesday, 9 March 2027");
        SmtpServer.MessagesTo(to["canceled"]).ShouldHaveSingleItem().Single("text/plain").Text.ShouldContain("Notes: Not needed");

        // Each run is in the booking's activity stream with its result.
        var history = await HistoryAsync(id);
        history.ShouldContain($"Automation \"Tell sales (booked)\" (when booked): Emailed {to["booked"]}");
        history.ShouldContain($"Automation \"Tell sales (rescheduled)\" (when rescheduled): Emailed {to["rescheduled"]}");
        history.ShouldContain($"Automation \"Tell sales (canceled)\" (when canceled): Emailed {to["canceled"]}");
        (await RunsOfAsync(id)).Select(r => r.Status).ShouldBe(["Succeeded", "Succeeded", "Succeeded"]);
    }

    [SmtpFact]
    public async Task No_show_completed_and_reassigned_rules_run_on_those_changes()
    {
        var admin = app.Client();
        var (slug, page) = await PageAsync();
        var other = await Scenario.CreateUserAsync(admin, "Rita Reassigned");
        var (_, otherPage) = await PageAsync(p => p["ownerId"] = other);
        var rules = new Dictionary<string, string>();
        foreach (var trigger in new[] { "noShow", "completed", "reassigned" })
        {
            // Organization-wide rules, filtered to this test's pages (the completion worker completes every past booking).
            rules[trigger] = await RuleAsync(admin, new
            {
                name = trigger, trigger, filters = new { bookingPageIds = new[] { page, otherPage } }, action = EmailTo(Address(trigger), trigger),
            });
        }

        var noShow = await BookAsync(slug, "2027-03-08T10:00:00Z");
        var completed = await BookAsync(slug, "2027-03-08T11:00:00Z");
        var reassigned = await BookAsync(slug, "2027-03-08T12:00:00Z");
        await app.RunOutboxAsync();
        await (await admin.PostJsonAsync($"/api/v1/bookings/{reassigned}/reassign", new { bookingPageId = otherPage, reason = "Rita covers" })).ExpectAsync(200);
        app.Clock.Reset(Instant.FromUtc(2027, 3, 8, 12, 0));
        await (await admin.PostJsonAsync($"/api/v1/bookings/{noShow}/no-show", new { reason = "Did not join" })).ExpectAsync(200);
        await app.WithScopeAsync(sp => sp.GetRequiredService<BookingCompletion>().CompleteDueAsync(100, CancellationToken.None));
        await app.RunOutboxAsync();

        (await RunsOfAsync(noShow)).ShouldHaveSingleItem().Automation.ShouldBe(rules["noShow"]);
        (await RunsOfAsync(completed)).ShouldHaveSingleItem().Automation.ShouldBe(rules["completed"]);
        (await RunsOfAsync(reassigned)).ShouldHaveSingleItem().Automation.ShouldBe(rules["reassigned"]);
        foreach (var (trigger, rule) in rules)
        {
            var runs = await (await admin.GetAsync($"/api/v1/automations/{rule}/runs")).ExpectAsync(200);
            var run = runs.AsArray().ShouldHaveSingleItem()!;
            run["status"]!.GetValue<string>().ShouldBe("Succeeded", trigger);
            run["trigger"]!.GetValue<string>().ShouldBe(trigger);
            run["result"]!.GetValue<string>().ShouldStartWith("Emailed ");
        }
    }

    [SmtpFact]
    public async Task A_time_based_run_moves_with_a_reschedule_stops_on_cancel_and_runs_once_under_two_workers()
    {
        var (slug, page) = await PageAsync();
        var before = Address("before");
        var after = Address("after");
        var beforeRule = await RuleAsync(app.Client(), new
        {
            name = "Hour before", bookingPageId = page, trigger = "beforeStart", offsetMinutes = 60, action = EmailTo(before, "Soon: {{booking.title}}"),
        });
        await RuleAsync(app.Client(), new
        {
            name = "Half an hour after", bookingPageId = page, trigger = "afterEnd", offsetMinutes = 30, action = EmailTo(after, "How was it?"),
        });

        var id = await BookAsync(slug, "2027-03-08T10:00:00Z");
        await app.RunOutboxAsync();
        (await RunsOfAsync(id)).Select(r => (r.Status, r.Due)).ShouldBe(
            [("Pending", Instant.FromUtc(2027, 3, 8, 9, 0)), ("Pending", Instant.FromUtc(2027, 3, 8, 11, 0))], ignoreOrder: true);

        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-09T14:00:00Z" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        var runs = await RunsOfAsync(id);
        runs.Where(r => r.Status == "Pending").Select(r => r.Due).ShouldBe(
            [Instant.FromUtc(2027, 3, 9, 13, 0), Instant.FromUtc(2027, 3, 9, 15, 0)], ignoreOrder: true);
        runs.Where(r => r.Status == "Canceled").ShouldAllBe(r => r.Result == "Moved: the booking's time changed");

        // The old time passes: nothing goes out.
        await AtAsync(Instant.FromUtc(2027, 3, 8, 9, 0), app.RunOutboxAsync);
        await AtAsync(Instant.FromUtc(2027, 3, 8, 11, 0), app.RunOutboxAsync);
        SmtpServer.MessagesTo(before).ShouldBeEmpty();

        // A duplicate of the run's message (as a redelivery would be) and two workers at once: one email.
        var run = (await app.WithDbAsync(db => AutomationStore.RunsOfBookingAsync(db, new Domain.BookingId(Guid.Parse(id)), CancellationToken.None)))
            .Single(r => r.Status == "Pending" && r.Trigger == "beforeStart");
        await app.WithDbAsync(db =>
        {
            db.OutboxMessages.Add(new OutboxMessage
            {
                Type = AutomationRunMessage.Type,
                Payload = $$"""{"runId":"{{run.Id}}"}""",
                CreatedAt = RendezvousApp.Start,
                AvailableAt = RendezvousApp.Start,
            });
            return db.SaveChangesAsync();
        });
        app.Clock.Reset(Instant.FromUtc(2027, 3, 9, 13, 0));
        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => app.WithScopeAsync(sp => sp.GetRequiredService<OutboxProcessor>().ProcessBatchAsync(50, CancellationToken.None))));
        await app.RunOutboxAsync();
        SmtpServer.MessagesTo(before).ShouldHaveSingleItem().Header("Subject").ShouldBe("Soon: Intro call");
        (await RunsOfAsync(id)).Where(r => r.Automation == beforeRule).Select(r => r.Status).ShouldBe(["Canceled", "Succeeded"], ignoreOrder: true);

        await AtAsync(Instant.FromUtc(2027, 3, 9, 15, 0), app.RunOutboxAsync);
        await AtAsync(Instant.FromUtc(2027, 3, 9, 16, 0), app.RunOutboxAsync);
        SmtpServer.MessagesTo(after).ShouldHaveSingleItem();

        // A canceled booking's pending runs stop and never act.
        app.Clock.Reset(RendezvousApp.Start);
        var canceled = await BookAsync(slug, "2027-03-10T10:00:00Z");
        await app.RunOutboxAsync();
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{canceled}/cancel", new { reason = "x" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        (await RunsOfAsync(canceled)).ShouldAllBe(r => r.Status == "Canceled" && r.Result == "Stopped: the booking is canceled");
        await AtAsync(Instant.FromUtc(2027, 3, 10, 9, 0), app.RunOutboxAsync);
        SmtpServer.MessagesTo(before).Count.ShouldBe(1);
    }

    // Seed 003 says automations trigger when staff reschedule and when the contact reschedules from their link.
    [DbFact]
    public async Task A_customers_own_reschedule_from_their_link_runs_the_rescheduled_rules_and_moves_timed_runs()
    {
        var (slug, page) = await PageAsync();
        var moved = await RuleAsync(app.Client(), new { name = "Moved", bookingPageId = page, trigger = "rescheduled", action = new { kind = "markCompleted" } });
        var before = await RuleAsync(app.Client(), new { name = "Day before", bookingPageId = page, trigger = "beforeStart", offsetMinutes = 1440, action = new { kind = "markCompleted" } });
        var id = await BookAsync(slug, "2027-03-10T10:00:00Z");
        await app.RunOutboxAsync();
        var token = app.Services.GetRequiredService<Features.SelfService.SelfServiceLinks>()
            .CreateToken(new Domain.BookingId(Guid.Parse(id)), Features.SelfService.LinkPurpose.Reschedule);
        await (await app.Anonymous().PostJsonAsync($"/api/v1/self-service/{token}/reschedule", new { start = "2027-03-11T14:00:00Z" })).ExpectAsync(200);
        await app.RunOutboxAsync();

        var runs = await RunsOfAsync(id);
        runs.Where(r => r.Automation == moved).ShouldHaveSingleItem().Status.ShouldBe("Skipped");
        runs.Where(r => r.Automation == before && r.Status == "Pending").ShouldHaveSingleItem().Due.ShouldBe(Instant.FromUtc(2027, 3, 10, 14, 0));
        (await HistoryAsync(id)).ShouldContain("Automation \"Moved\" (when rescheduled): Skipped: A booking completes only once its end has passed.");
    }

    [DbFact]
    public async Task Replaying_a_booking_event_adds_no_second_run()
    {
        var (slug, _) = await PageAsync();
        await RuleAsync(app.Client(), new { name = "Once", trigger = "booked", action = new { kind = "markCompleted" } });
        var id = await BookAsync(slug, "2027-03-08T10:00:00Z");
        var created = await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type == "booking.created").OrderByDescending(m => m.Id).FirstAsync());
        var planner = app.Services.GetServices<IOutboxHandler>().Single(h => h.Name == AutomationPlanner.HandlerName);
        var envelope = new OutboxEnvelope(created.Id, created.Type, created.Payload, created.OrganizationId, 1);
        await planner.HandleAsync(envelope, CancellationToken.None);
        await planner.HandleAsync(envelope, CancellationToken.None);
        await app.RunOutboxAsync();
        (await RunsOfAsync(id)).ShouldHaveSingleItem().Status.ShouldBe("Skipped");
        (await RunsOfAsync(id)).Single().Result.ShouldBe("Skipped: A booking completes only once its end has passed.");
    }

    [DbFact]
    public async Task Filters_on_page_host_status_and_answer_choose_the_bookings()
    {
        var admin = app.Client();
        var rita = await Scenario.CreateUserAsync(admin, "Rita Filter");
        Action<JsonObject> questions = p => p["questions"] = new JsonArray(new JsonObject { ["id"] = "plan", ["label"] = "Plan", ["required"] = false });
        var (mine, minePage) = await PageAsync(questions);
        var (ritas, _) = await PageAsync(p =>
        {
            questions(p);
            p["ownerId"] = rita;
        });
        var email = new { kind = "markCompleted" };
        var byPage = await RuleAsync(admin, new { name = "page", trigger = "booked", filters = new { bookingPageIds = new[] { minePage } }, action = email });
        var byHost = await RuleAsync(admin, new { name = "host", trigger = "booked", filters = new { hostIds = new[] { rita } }, action = email });
        var byAnswer = await RuleAsync(admin, new
        {
            name = "answer", trigger = "booked", filters = new { answers = new[] { new { question = "plan", equals = "pro" } } }, action = email,
        });
        var byStatus = await RuleAsync(admin, new
        {
            name = "status", trigger = "beforeStart", offsetMinutes = 30, filters = new { statuses = new[] { "rescheduled" } }, action = email,
        });

        var a = await BookAsync(mine, "2027-03-08T10:00:00Z", answers: new { plan = "Basic" });
        var b = await BookAsync(ritas, "2027-03-08T10:00:00Z", answers: new { plan = " Pro " });
        await app.RunOutboxAsync();
        await (await admin.PostJsonAsync($"/api/v1/bookings/{b}/reschedule", new { start = "2027-03-09T10:00:00Z" })).ExpectAsync(200);
        await app.RunOutboxAsync();

        (await RunsOfAsync(a)).Select(r => r.Automation).ShouldBe([byPage]);
        (await RunsOfAsync(b)).Select(r => r.Automation).ShouldBe([byHost, byAnswer, byStatus], ignoreOrder: true);
    }

    [DbFact]
    public async Task A_webhook_action_is_signed_like_the_subscriptions_deliveries()
    {
        var admin = app.Client();
        var url = _receiver.NewUrl("automation");
        var hook = await (await admin.PostJsonAsync("/api/v1/webhooks", new { url, events = new[] { "booking.noShow" } })).ExpectAsync(201);
        var secret = hook["secret"]!.GetValue<string>();
        var (slug, _) = await PageAsync();
        var rule = await RuleAsync(admin, new { name = "To Zapier", trigger = "booked", action = new { kind = "webhook", webhookId = hook["id"]!.GetValue<string>() } });
        var id = await BookAsync(slug, "2027-03-08T10:00:00Z");
        await app.RunOutboxAsync();

        var request = _receiver.RequestsTo(url).ShouldHaveSingleItem();
        request.Header("Rendezvous-Event-Type").ShouldBe("automation.triggered");
        var signature = request.Header("Rendezvous-Signature");
        var t = signature.Split(',')[0]["t=".Length..];
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + request.Body));
        signature.ShouldBe($"t={t},v1={Convert.ToHexStringLower(mac)}");
        var body = JsonNode.Parse(request.Body)!;
        body["type"]!.GetValue<string>().ShouldBe("automation.triggered");
        body["automation"]!["id"]!.GetValue<string>().ShouldBe(rule);
        body["booking"]!["id"]!.GetValue<string>().ShouldBe(id);
        body["booking"]!["customer"]!["name"]!.GetValue<string>().ShouldBe("Grace Hopper");
        body["sample"]!.GetValue<bool>().ShouldBeFalse();
        (await HistoryAsync(id)).ShouldContain("Automation \"To Zapier\" (when booked): Webhook answered 200");
    }

    [DbFact]
    public async Task Crm_actions_tag_the_keap_contact_and_set_the_salesforce_events_field()
    {
        var admin = app.Client();
        var (keapSlug, keapPage) = await PageAsync();
        (await app.ConnectAsync(admin, "infusionsoft", keapPage, app.Keap.IssueCode()))["status"]!.GetValue<string>().ShouldBe("connected");
        var (sfSlug, sfPage) = await PageAsync();
        (await app.ConnectAsync(admin, "salesforce", sfPage, app.Salesforce.IssueCode()))["status"]!.GetValue<string>().ShouldBe("connected");
        await RuleAsync(admin, new { name = "VIP", bookingPageId = keapPage, trigger = "booked", action = new { kind = "keapTag", tag = "VIP caller" } });
        await RuleAsync(admin, new
        {
            name = "Describe", bookingPageId = sfPage, trigger = "rescheduled",
            action = new { kind = "salesforceField", field = "Description", value = "Moved by {{customer.name}}: {{booking.reason}}" },
        });

        var keapEmail = Address("keap");
        await BookAsync(keapSlug, "2027-03-08T10:00:00Z", keapEmail);
        var sf = await BookAsync(sfSlug, "2027-03-08T11:00:00Z");
        await app.RunOutboxAsync();
        await (await admin.PostJsonAsync($"/api/v1/bookings/{sf}/reschedule", new { start = "2027-03-09T11:00:00Z", reason = "Travel" })).ExpectAsync(200);
        await app.RunOutboxAsync();

        app.Keap.TagsOf(keapEmail).ShouldContain(app.Keap.Tags["VIP caller"]);
        app.Salesforce.EventFor(sf)!["Description"]!.GetValue<string>().ShouldBe("Moved by Grace Hopper: Travel");
        (await RunsOfAsync(sf)).ShouldHaveSingleItem().Result!.ShouldStartWith("Set Salesforce Event ");
    }

    [DbFact]
    public async Task Mark_actions_mark_the_booking_no_show_or_completed_after_its_end_even_for_bookings_made_before_the_rule()
    {
        var admin = app.Client();
        var (noShowSlug, noShowPage) = await PageAsync();
        var (doneSlug, donePage) = await PageAsync();
        var a = await BookAsync(noShowSlug, "2027-03-08T10:00:00Z");
        var b = await BookAsync(doneSlug, "2027-03-08T10:00:00Z");
        await app.RunOutboxAsync();
        // Rules made after the bookings still cover them.
        await RuleAsync(admin, new { name = "No-show", bookingPageId = noShowPage, trigger = "afterEnd", offsetMinutes = 10, action = new { kind = "markNoShow" } });
        await RuleAsync(admin, new { name = "Done", bookingPageId = donePage, trigger = "afterEnd", offsetMinutes = 5, action = new { kind = "markCompleted" } });
        (await RunsOfAsync(a)).ShouldHaveSingleItem().Due.ShouldBe(Instant.FromUtc(2027, 3, 8, 10, 40));
        await AtAsync(Instant.FromUtc(2027, 3, 8, 10, 40), app.RunOutboxAsync);

        (await (await admin.GetAsync($"/api/v1/bookings/{a}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("noShow");
        (await (await admin.GetAsync($"/api/v1/bookings/{b}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("completed");
        (await HistoryAsync(a)).ShouldContain("Automation \"No-show\" (10 minutes after the end): Marked no-show");
    }

    [SmtpFact]
    public async Task Rules_are_managed_through_the_api_by_administrators_and_page_owners_with_problem_details()
    {
        var admin = app.Client();
        var memberId = await Scenario.CreateUserAsync(admin, "Mo Member");
        var member = app.Client(await Scenario.CreateKeyAsync(admin, memberId));
        var memberEmail = (await (await admin.GetAsync($"/api/v1/users/{memberId}")).ExpectAsync(200))["email"]!.GetValue<string>();
        var (ownSlug, ownPage) = await PageAsync(p => p["ownerId"] = memberId);
        var (_, adminPage) = await PageAsync();

        var bad = await (await admin.PostJsonAsync("/api/v1/automations", new
        {
            name = "", trigger = "sometimes", action = new { kind = "email", to = "nobody", subject = "Hi {{customer.nickname}}", message = "x" },
        })).ExpectAsync(400);
        bad["errors"]!.AsObject().Select(kv => kv.Key).ShouldBe(["name", "trigger", "action.to", "action.subject"], ignoreOrder: true);
        bad["errors"]!["action.subject"]![0]!.GetValue<string>().ShouldContain("customer.nickname");

        // Organization-wide rules are administrators' alone; members manage their own pages' rules only.
        var rule = new { name = "Thanks", trigger = "afterEnd", offsetMinutes = 120, action = new { kind = "email", to = "customer", template = "followUp" } };
        (await (await member.PostJsonAsync("/api/v1/automations", rule)).ExpectAsync(403))["code"]!.GetValue<string>().ShouldBe("not_yours");
        await (await member.PostJsonAsync("/api/v1/automations", new { rule.name, bookingPageId = adminPage, rule.trigger, rule.offsetMinutes, rule.action })).ExpectAsync(403);
        var own = await RuleAsync(member, new { rule.name, bookingPageId = ownPage, rule.trigger, rule.offsetMinutes, rule.action });
        var orgRule = await RuleAsync(admin, rule);
        (await (await member.GetAsync("/api/v1/automations")).ExpectAsync(200)).AsArray().Select(r => r!["id"]!.GetValue<string>()).ShouldBe([own]);
        await (await member.GetAsync($"/api/v1/automations/{orgRule}")).ExpectAsync(404);
        var read = await (await admin.GetAsync($"/api/v1/automations/{own}")).ExpectAsync(200);
        read["description"]!.GetValue<string>().ShouldBe("2 hours after the end: email the customer");
        read["enabled"]!.GetValue<bool>().ShouldBeTrue();

        var off = await (await member.PutJsonAsync($"/api/v1/automations/{own}", new { rule.name, bookingPageId = ownPage, enabled = false, rule.trigger, offsetMinutes = 60, rule.action }))
            .ExpectAsync(200);
        off["enabled"]!.GetValue<bool>().ShouldBeFalse();
        off["offsetMinutes"]!.GetValue<int>().ShouldBe(60);

        // "Send me a sample" goes to the signed-in user only, with the latest booking on the page.
        var noBooking = await (await member.PostJsonAsync($"/api/v1/automations/{own}/test", new { })).ExpectAsync(409);
        noBooking["code"]!.GetValue<string>().ShouldBe("no_booking");
        var customer = Address("customer");
        await BookAsync(ownSlug, "2027-03-08T10:00:00Z", customer);
        var sample = await (await member.PostJsonAsync($"/api/v1/automations/{own}/test", new { })).ExpectAsync(200);
        sample["result"]!.GetValue<string>().ShouldBe($"Emailed {memberEmail} (sample)");
        SmtpServer.MessagesTo(memberEmail, "followUp").ShouldHaveSingleItem().Single("text/plain").Text.ShouldContain("Grace Hopper");
        SmtpServer.MessagesTo(customer, "followUp").ShouldBeEmpty();

        await (await member.DeleteAsync($"/api/v1/automations/{own}")).ExpectAsync(204);
        await (await member.GetAsync($"/api/v1/automations/{own}/runs")).ExpectAsync(404);
        var openApi = await (await app.Anonymous().GetAsync("/openapi/v1.json")).ExpectAsync(200);
        openApi["paths"]!.AsObject().Select(p => p.Key).ShouldContain("/api/v1/automations/{id}/test");
    }

    [DbFact]
    public async Task Another_organization_neither_sees_nor_changes_nor_tries_the_rules_and_runs_of_this_one()
    {
        var admin = app.Client();
        var other = app.Client(await app.CreateOrganizationAsync("automations-" + Guid.NewGuid().ToString("N")[..6]));
        var (slug, pageId) = await PageAsync();
        var rule = await RuleAsync(admin, new
        {
            name = "Thanks", bookingPageId = pageId, trigger = "afterEnd", offsetMinutes = 60,
            action = new { kind = "email", to = "customer", template = "followUp" },
        });
        var bookingId = await BookAsync(slug, "2027-03-09T10:00:00Z");

        (await (await other.GetAsync("/api/v1/automations")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        await (await other.GetAsync($"/api/v1/automations/{rule}")).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/automations/{rule}/runs")).ExpectAsync(404);
        await (await other.PostJsonAsync($"/api/v1/automations/{rule}/test", new { })).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/automations/{rule}", new
        {
            name = "Stolen", enabled = false, trigger = "afterEnd", offsetMinutes = 60,
            action = new { kind = "email", to = "customer", template = "followUp" },
        })).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/automations/{rule}")).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/bookings/{bookingId}/automation-runs")).ExpectAsync(404);
        // A rule of the other organization cannot name this organization's page.
        await (await other.PostJsonAsync("/api/v1/automations", new
        {
            name = "Reach", bookingPageId = pageId, trigger = "booked",
            action = new { kind = "email", to = "customer", template = "followUp" },
        })).ExpectAsync(400);

        var kept = await (await admin.GetAsync($"/api/v1/automations/{rule}")).ExpectAsync(200);
        kept["name"]!.GetValue<string>().ShouldBe("Thanks");
        kept["enabled"]!.GetValue<bool>().ShouldBeTrue();
    }
}

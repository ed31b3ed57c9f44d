using Rendezvous.Integrations.Payments;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Features.Payments;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure.Fakes;
using Shouldly;

namespace Rendezvous.Server.Tests.Integrations;

public sealed class PaymentApp : IntegrationApp;

/// <summary>
/// Bookings on pages with a price, paid through a local PayPal fake that answers as the PayPal REST reference describes
/// (Authentication, Orders v2 create/show/capture, Payments v2 captures refund, Idempotency, Rate Limiting Guidelines).
/// </summary>
public sealed class PaymentTests(PaymentApp app) : IClassFixture<PaymentApp>, IAsyncLifetime
{
    private FakePayPal PayPal => app.PayPal;

    public async Task InitializeAsync()
    {
        var admin = app.Client();
        await (await admin.PutJsonAsync("/api/v1/payments/paypal", new { clientId = FakePayPal.ClientId, clientSecret = FakePayPal.ClientSecret }))
            .ExpectAsync(200);
    }

    public Task DisposeAsync()
    {
        app.Clock.Reset(RendezvousApp.Start);
        PayPal.ClearFaults();
        return Task.CompletedTask;
    }

    private async Task<string> PaidPageAsync(int windowMinutes = 30) =>
        await Scenario.CreatePageAsync(app.Client(), p => p["payment"] = new JsonObject
        {
            ["amount"] = 25.00m,
            ["currency"] = "USD",
            ["paymentWindowMinutes"] = windowMinutes,
        });

    private static string OrderOf(JsonNode booking) =>
        new Uri(booking["payment"]!["approveUrl"]!.GetValue<string>()).Query.Split("token=")[1];

    private Task<int> WorkAsync() => app.Services.GetRequiredService<PaymentsWorker>().ProcessOnceAsync(CancellationToken.None);

    // Follows "Authentication" (REST APIs): an app is a client id and secret, exchanged for access tokens.
    [DbFact]
    public async Task The_paypal_app_is_kept_per_organization_with_its_secret_encrypted_and_never_shown()
    {
        var admin = app.Client();
        var read = await (await admin.GetAsync("/api/v1/payments/paypal")).ExpectAsync(200);
        read["configured"]!.GetValue<bool>().ShouldBeTrue();
        read["clientId"]!.GetValue<string>().ShouldBe(FakePayPal.ClientId);
        read.ToJsonString().ShouldNotContain(FakePayPal.ClientSecret);
        var stored = await app.WithDbAsync(db => db.PayPalAccounts.SingleAsync());
        stored.ProtectedClientSecret.ShouldNotContain(FakePayPal.ClientSecret);

        (await (await admin.PutJsonAsync("/api/v1/payments/paypal", new { clientSecret = "x" })).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("clientId");
        // Keeping the secret: only the client id is sent.
        await (await admin.PutJsonAsync("/api/v1/payments/paypal", new { clientId = FakePayPal.ClientId })).ExpectAsync(200);

        var member = app.Client(await Scenario.CreateKeyAsync(admin, await Scenario.CreateUserAsync(admin, "Pay Member")));
        await (await member.GetAsync("/api/v1/payments/paypal")).ExpectAsync(403);
        await (await member.PutJsonAsync("/api/v1/payments/paypal", new { clientId = "a", clientSecret = "b" })).ExpectAsync(403);
    }

    // Follows "Currency codes" (REST API reference): the currencies PayPal accepts and those without decimals.
    [DbFact]
    public async Task Page_prices_are_validated()
    {
        var admin = app.Client();
        var bad = await (await admin.PostJsonAsync("/api/v1/booking-pages", new
        {
            slug = "p-" + Guid.NewGuid().ToString("N")[..10], title = "x", durationMinutes = 30, timeZone = "UTC", requiresApproval = true,
            payment = new { amount = 10.123m, currency = "usd", paymentWindowMinutes = 1 },
        })).ExpectAsync(400);
        bad["errors"]!.AsObject().Select(kv => kv.Key).ShouldContain("payment.amount");
        var approval = await (await admin.PostJsonAsync("/api/v1/booking-pages", new
        {
            slug = "p-" + Guid.NewGuid().ToString("N")[..10], title = "x", durationMinutes = 30, timeZone = "UTC", requiresApproval = true,
            payment = new { amount = 10m, currency = "EUR" },
        })).ExpectAsync(400);
        approval["errors"]!.AsObject().Select(kv => kv.Key).ShouldContain("payment");

        var slug = await PaidPageAsync();
        var page = (await (await admin.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray().First(p => p!["slug"]!.GetValue<string>() == slug)!;
        page["payment"]!["amount"]!.GetValue<decimal>().ShouldBe(25m);
        page["payment"]!["currency"]!.GetValue<string>().ShouldBe("USD");
        page["payment"]!["paymentWindowMinutes"]!.GetValue<int>().ShouldBe(30);
    }

    // Orders v2 "Create order" and "Capture payment for order": the booking holds its time while awaiting payment and is
    // scheduled once the approved order is captured.
    [DbFact]
    public async Task A_booking_awaits_payment_holding_its_time_and_capturing_the_approved_order_schedules_it()
    {
        var slug = await PaidPageAsync();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z");
        var id = booking["id"]!.GetValue<string>();
        booking["status"]!.GetValue<string>().ShouldBe("awaitingPayment");
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Awaiting payment");
        var payment = booking["payment"]!;
        payment["status"]!.GetValue<string>().ShouldBe("pending");
        payment["amount"]!.GetValue<decimal>().ShouldBe(25m);
        payment["dueAt"]!.GetValue<string>().ShouldBe("2027-03-01T08:30:00Z");
        payment["approveUrl"]!.GetValue<string>().ShouldStartWith("https://www.sandbox.paypal.com/checkoutnow?token=");
        var order = OrderOf(booking);

        var create = PayPal.RequestsTo("POST", "/v2/checkout/orders").Single(r => r.Body.Contains(id, StringComparison.Ordinal));
        create.Header("PayPal-Request-Id").ShouldBe($"rdv-order-{id}");
        var body = JsonNode.Parse(create.Body)!;
        body["intent"]!.GetValue<string>().ShouldBe("CAPTURE");
        body["purchase_units"]![0]!["amount"]!["value"]!.GetValue<string>().ShouldBe("25.00");
        body["purchase_units"]![0]!["amount"]!["currency_code"]!.GetValue<string>().ShouldBe("USD");
        body["payment_source"]!["paypal"]!["experience_context"]!["return_url"]!.GetValue<string>()
            .ShouldBe($"https://book.example/payments/paypal/return?bookingId={id}");

        // The time is held: nobody else can take it.
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-08&to=2027-03-08&timeZone=UTC")).ExpectAsync(200);
        slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ShouldNotContain("2027-03-08T10:00:00Z");
        slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ShouldContain("2027-03-08T10:30:00Z");

        // Capturing before the payer approved is refused (422 ORDER_NOT_APPROVED at PayPal) and says where to approve.
        var early = await (await app.Anonymous().PostAsync($"/api/v1/bookings/{id}/payment/capture", null)).ExpectAsync(409);
        early["code"]!.GetValue<string>().ShouldBe("payment_not_approved");
        early["payment"]!["approveUrl"]!.GetValue<string>().ShouldContain(order);

        PayPal.Approve(order);
        var paid = await (await app.Anonymous().PostAsync($"/api/v1/bookings/{id}/payment/capture", null)).ExpectAsync(200);
        paid["status"]!.GetValue<string>().ShouldBe("paid");
        paid["bookingStatus"]!.GetValue<string>().ShouldBe("scheduled");
        paid.AsObject().ContainsKey("customer").ShouldBeFalse();

        // Capturing again is harmless: nothing more is charged.
        (await (await app.Anonymous().PostAsync($"/api/v1/bookings/{id}/payment/capture", null)).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("paid");
        PayPal.StatusOf(order).ShouldBe("COMPLETED");

        var staff = await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        staff["status"]!.GetValue<string>().ShouldBe("scheduled");
        staff["detailedStatus"]!.GetValue<string>().ShouldBe("Scheduled (Paid by Customer)");
        staff["payment"]!["captureId"]!.GetValue<string>().ShouldStartWith("3C");
        staff["history"]!.AsArray().Select(h => h!["action"]?.GetValue<string>()).ShouldBe([null, "confirmPayment"]);

        // Paying is what makes the booking: booking.created is raised now (confirmation email, calendars, CRM, webhooks).
        var types = await app.WithDbAsync(db => db.Database.SqlQuery<string>(
            $"SELECT type AS \"Value\" FROM outbox_messages WHERE payload->>'bookingId' = {id} ORDER BY id").ToListAsync());
        types.ShouldBe([BookingEvent.AwaitingPayment, BookingEvent.Created]);
    }

    // The order's return_url: PayPal sends the payer back with ?token={order id}&PayerID=...; the page captures.
    [DbFact]
    public async Task Coming_back_from_paypal_captures_the_payment_and_shows_it()
    {
        var slug = await PaidPageAsync();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T10:00:00Z");
        var order = OrderOf(booking);
        PayPal.Approve(order);
        PayPal.ExpireTokens();

        var page = await app.Anonymous().GetAsync($"/payments/paypal/return?bookingId={booking["id"]}&token={order}&PayerID=QYR5Z8XDVJNXQ");
        ((int)page.StatusCode).ShouldBe(200);
        (await page.Content.ReadAsStringAsync()).ShouldContain("25.00 USD");
        (await (await app.Client().GetAsync($"/api/v1/bookings/{booking["id"]}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("scheduled");

        var cancel = await app.Anonymous().GetAsync($"/payments/paypal/cancel?bookingId={booking["id"]}&token={order}");
        (await cancel.Content.ReadAsStringAsync()).ShouldContain("no longer waiting for payment");
    }

    // Follows Orders v2 "Show order details" (an order never approved stays PAYER_ACTION_REQUIRED) and "Capture payment for
    // order" (nothing is charged without a capture).
    [DbFact]
    public async Task An_unpaid_booking_expires_when_its_window_closes_and_its_time_is_free_again()
    {
        var slug = await PaidPageAsync(windowMinutes: 15);
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z");
        var id = booking["id"]!.GetValue<string>();
        var order = OrderOf(booking);

        app.Clock.Advance(Duration.FromMinutes(14));
        await WorkAsync();
        (await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("awaitingPayment");

        app.Clock.Advance(Duration.FromMinutes(2));
        await WorkAsync();
        var expired = await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        expired["status"]!.GetValue<string>().ShouldBe("canceled");
        expired["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by System (payment not received)");
        expired["payment"]!["status"]!.GetValue<string>().ShouldBe("expired");
        expired["payment"]!["approveUrl"].ShouldBeNull();
        PayPal.StatusOf(order).ShouldBe("PAYER_ACTION_REQUIRED");
        (await app.WithDbAsync(db => db.Database.SqlQuery<string>(
            $"SELECT type AS \"Value\" FROM outbox_messages WHERE payload->>'bookingId' = {id} ORDER BY id").ToListAsync()))
            .ShouldBe([BookingEvent.AwaitingPayment, BookingEvent.PaymentExpired]);

        // The time is free: someone else books it.
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z");

        // Approving now is too late, and charges nothing.
        PayPal.Approve(order);
        var late = await (await app.Anonymous().PostAsync($"/api/v1/bookings/{id}/payment/capture", null)).ExpectAsync(409);
        late["code"]!.GetValue<string>().ShouldBe("payment_window_closed");
        PayPal.StatusOf(order).ShouldBe("APPROVED");
    }

    // A payer who approved at PayPal but never came back: at expiry the order is found APPROVED and captured, not canceled.
    [DbFact]
    public async Task An_approved_payment_the_payer_never_returned_from_is_captured_at_expiry()
    {
        var slug = await PaidPageAsync();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T10:00:00Z");
        PayPal.Approve(OrderOf(booking));

        app.Clock.Advance(Duration.FromMinutes(31));
        await WorkAsync();

        var after = await (await app.Client().GetAsync($"/api/v1/bookings/{booking["id"]}")).ExpectAsync(200);
        after["status"]!.GetValue<string>().ShouldBe("scheduled");
        after["payment"]!["status"]!.GetValue<string>().ShouldBe("paid");
    }

    // Rate Limiting Guidelines (429 RATE_LIMIT_REACHED) and 5xx: PayPal cannot say whether the booking was paid, so it is
    // not expired; the worker looks again and settles it once PayPal answers.
    [DbFact]
    public async Task PayPal_being_unavailable_at_expiry_cancels_nothing_until_it_can_answer()
    {
        var slug = await PaidPageAsync();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T10:00:00Z");
        var id = booking["id"]!.GetValue<string>();
        PayPal.Fail("GET", "/v2/checkout/orders/", new FakeAnswer(429, """{"name":"RATE_LIMIT_REACHED","message":"Too many requests. Blocked due to rate limiting.","debug_id":"b0b"}"""), times: 3);

        app.Clock.Advance(Duration.FromMinutes(31));
        await WorkAsync();
        (await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("awaitingPayment");

        PayPal.Fail("GET", "/v2/checkout/orders/", new FakeAnswer(500, """{"name":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred.","debug_id":"b0c"}"""), times: 3);
        app.Clock.Advance(Duration.FromMinutes(2));
        await WorkAsync();
        (await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("awaitingPayment");

        app.Clock.Advance(Duration.FromMinutes(2));
        await WorkAsync();
        (await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("canceled");
    }

    // "Authentication": without an organization's app there is no PayPal account to pay.
    [DbFact]
    public async Task A_page_with_a_price_takes_no_bookings_until_paypal_is_connected()
    {
        var otherKey = await app.CreateOrganizationAsync("nopay-" + Guid.NewGuid().ToString("N")[..6]);
        var slug = await Scenario.CreatePageAsync(app.Client(otherKey), p => p["payment"] = new JsonObject { ["amount"] = 10m, ["currency"] = "EUR" });
        var refused = await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-08T11:00:00Z", customer = Scenario.Customer() })).ExpectAsync(409);
        refused["code"]!.GetValue<string>().ShouldBe("payments_unavailable");
    }

    // Seed 000: canceling from the calendar issues no refund; neither does any other cancel. Refunds are made by hand; the
    // fake of Payments v2 "Refund captured payment" records every refund, so none is checked at PayPal too.
    [DbFact]
    public async Task Canceling_a_paid_booking_from_the_calendar_or_by_a_user_issues_no_refund()
    {
        var slug = await PaidPageAsync();
        var ids = new List<string>();
        foreach (var start in new[] { "2027-03-15T10:00:00Z", "2027-03-15T11:00:00Z" })
        {
            var booking = await Scenario.BookAsync(app.Anonymous(), slug, start);
            PayPal.Approve(OrderOf(booking));
            await (await app.Anonymous().PostAsync($"/api/v1/bookings/{booking["id"]}/payment/capture", null)).ExpectAsync(200);
            ids.Add(booking["id"]!.GetValue<string>());
        }

        // The host deletes the first one's event in their calendar (two-way sync, toggle on).
        await app.WithDbAsync(async db =>
        {
            var booking = await db.Bookings.SingleAsync(b => b.Id == new BookingId(Guid.Parse(ids[0])));
            booking.Cancel(Actor.FromCalendar(booking.OwnerId), null, app.Clock.GetCurrentInstant()).IsSuccess.ShouldBeTrue();
            await db.SaveChangesAsync();
            return 0;
        });
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{ids[1]}/cancel", new { reason = "Host unavailable" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        await WorkAsync();

        foreach (var id in ids)
        {
            var after = await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
            after["status"]!.GetValue<string>().ShouldBe("canceled");
            after["payment"]!["status"]!.GetValue<string>().ShouldBe("paid");
            after["payment"]!["refunds"]!.AsArray().ShouldBeEmpty();
            PayPal.RefundsOf(after["payment"]!["captureId"]!.GetValue<string>()).ShouldBeEmpty();
        }

        (await app.WithDbAsync(db => db.Bookings.SingleAsync(b => b.Id == new BookingId(Guid.Parse(ids[0]))))).DetailedStatus
            .ShouldBe("Canceled by User (in calendar)");
    }

    // Payments v2 "Refund captured payment", with PayPal-Request-Id per refund.
    [DbFact]
    public async Task An_administrator_refunds_by_hand_and_the_refund_is_recorded_on_the_booking()
    {
        var slug = await PaidPageAsync();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-16T10:00:00Z");
        var id = booking["id"]!.GetValue<string>();
        PayPal.Approve(OrderOf(booking));
        await (await app.Anonymous().PostAsync($"/api/v1/bookings/{id}/payment/capture", null)).ExpectAsync(200);
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "Host unavailable" })).ExpectAsync(200);

        var admin = app.Client();
        (await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/refund", new { amount = 30m, reason = "too much" })).ExpectAsync(400))["field"]!
            .GetValue<string>().ShouldBe("amount");
        (await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/refund", new { amount = 5m })).ExpectAsync(400))["field"]!
            .GetValue<string>().ShouldBe("reason");

        var partial = await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/refund", new { amount = 10m, reason = "Goodwill" })).ExpectAsync(200);
        var payment = partial["payment"]!;
        payment["status"]!.GetValue<string>().ShouldBe("partiallyRefunded");
        payment["refundedAmount"]!.GetValue<decimal>().ShouldBe(10m);
        var refund = payment["refunds"]![0]!;
        refund["status"]!.GetValue<string>().ShouldBe("completed");
        refund["amount"]!.GetValue<decimal>().ShouldBe(10m);
        refund["reason"]!.GetValue<string>().ShouldBe("Goodwill");
        refund["actor"]!.GetValue<string>().ShouldBe("user");
        refund["providerRefundId"]!.GetValue<string>().ShouldStartWith("1JU");
        var entry = partial["history"]!.AsArray().Last()!;
        entry["action"]!.GetValue<string>().ShouldBe("refund");
        entry["detailedStatus"]!.GetValue<string>().ShouldBe("Refunded 10.00 USD by User");
        entry["reason"]!.GetValue<string>().ShouldBe("Goodwill");

        var captureId = payment["captureId"]!.GetValue<string>();
        var sent = PayPal.RequestsTo("POST", $"/v2/payments/captures/{captureId}/refund").Single();
        sent.Header("PayPal-Request-Id").ShouldBe($"rdv-refund-{Guid.Parse(refund["id"]!.GetValue<string>()):N}");
        JsonNode.Parse(sent.Body)!["amount"]!["value"]!.GetValue<string>().ShouldBe("10.00");

        // Full by default: the rest.
        var rest = await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/refund", new { reason = "Host canceled" })).ExpectAsync(200);
        rest["payment"]!["status"]!.GetValue<string>().ShouldBe("refunded");
        rest["payment"]!["refunds"]![1]!["amount"]!.GetValue<decimal>().ShouldBe(15m);
        PayPal.RefundsOf(captureId).ShouldBe([10m, 15m]);
        (await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/refund", new { reason = "again" })).ExpectAsync(409))["code"]!
            .GetValue<string>().ShouldBe("nothing_refundable");

        var member = app.Client(await Scenario.CreateKeyAsync(admin, await Scenario.CreateUserAsync(admin, "Refund Member")));
        await (await member.PostJsonAsync($"/api/v1/bookings/{id}/refund", new { reason = "x" })).ExpectAsync(403);
    }

    // A refund PayPal cannot take right now stays pending and is sent again by the worker with the same PayPal-Request-Id,
    // so the customer is refunded exactly once.
    [DbFact]
    public async Task A_refund_that_cannot_be_sent_now_is_retried_by_the_worker_and_made_once()
    {
        var slug = await PaidPageAsync();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-17T10:00:00Z");
        var id = booking["id"]!.GetValue<string>();
        PayPal.Approve(OrderOf(booking));
        await (await app.Anonymous().PostAsync($"/api/v1/bookings/{id}/payment/capture", null)).ExpectAsync(200);
        PayPal.Fail("POST", "/v2/payments/captures/", new FakeAnswer(503, """{"name":"SERVICE_UNAVAILABLE","message":"Service Unavailable.","debug_id":"c0d"}"""), times: 3);

        var pending = await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/refund", new { reason = "Host ill" })).ExpectAsync(200);
        pending["payment"]!["refunds"]![0]!["status"]!.GetValue<string>().ShouldBe("pending");
        pending["payment"]!["status"]!.GetValue<string>().ShouldBe("paid");
        pending["history"]!.AsArray().Last()!["detailedStatus"]!.GetValue<string>().ShouldBe("Refund pending: 25.00 USD by User");

        await WorkAsync();
        (await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["payment"]!["refunds"]![0]!["status"]!.GetValue<string>().ShouldBe("pending");

        app.Clock.Advance(Duration.FromMinutes(5));
        await WorkAsync();
        var done = await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        done["payment"]!["refunds"]![0]!["status"]!.GetValue<string>().ShouldBe("completed");
        done["payment"]!["status"]!.GetValue<string>().ShouldBe("refunded");
        PayPal.RefundsOf(done["payment"]!["captureId"]!.GetValue<string>()).ShouldBe([25m]);
        PayPal.RequestsTo("POST", "/v2/payments/captures/").Select(r => r.Header("PayPal-Request-Id")).Distinct().Count().ShouldBe(1);
    }

    // Paying is what makes the booking: Salesforce hears of a paid booking once it is paid, and never of an unpaid one.
    // Follows Orders v2 "Capture payment for order" and the Salesforce upsert by external ID.
    [DbFact]
    public async Task Crm_sync_starts_when_the_payment_is_captured_and_never_for_unpaid_bookings()
    {
        var slug = await PaidPageAsync();
        var admin = app.Client();
        var pageId = await app.PageIdAsync(admin, slug);
        await app.ConnectAsync(admin, "salesforce", pageId, app.Salesforce.IssueCode());
        var paid = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-19T09:00:00Z");
        var abandoned = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-19T10:00:00Z");
        var expiring = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-19T11:00:00Z");
        await app.RunOutboxAsync();
        app.Salesforce.EventFor(paid["id"]!.GetValue<string>()).ShouldBeNull();

        PayPal.Approve(OrderOf(paid));
        await (await app.Anonymous().PostAsync($"/api/v1/bookings/{paid["id"]}/payment/capture", null)).ExpectAsync(200);
        await (await admin.PostJsonAsync($"/api/v1/bookings/{abandoned["id"]}/cancel", new { reason = "Never paid" })).ExpectAsync(200);
        app.Clock.Advance(Duration.FromMinutes(31));
        await WorkAsync();
        await app.RunOutboxAsync();

        app.Salesforce.EventFor(paid["id"]!.GetValue<string>())!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled");
        app.Salesforce.EventFor(abandoned["id"]!.GetValue<string>()).ShouldBeNull();
        app.Salesforce.EventFor(expiring["id"]!.GetValue<string>()).ShouldBeNull();
    }

    // Follows Orders v2 "Create order" (the payer-action link is where the payer approves); the view shows nothing else.
    [DbFact]
    public async Task The_public_payment_view_shows_the_payment_and_nothing_else()
    {
        var slug = await PaidPageAsync();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-18T10:00:00Z");
        var view = await (await app.Anonymous().GetAsync($"/api/v1/bookings/{booking["id"]}/payment")).ExpectAsync(200);
        view.AsObject().Select(kv => kv.Key).ShouldBe(["bookingId", "bookingStatus", "status", "amount", "currency", "dueAt", "approveUrl", "paidAt"]);
        await (await app.Anonymous().GetAsync($"/api/v1/bookings/{Guid.NewGuid()}/payment")).ExpectAsync(404);

        var free = await Scenario.BookAsync(app.Anonymous(), await Scenario.CreatePageAsync(app.Client()), "2027-03-18T11:00:00Z");
        await (await app.Anonymous().GetAsync($"/api/v1/bookings/{free["id"]}/payment")).ExpectAsync(404);
        (await (await app.Anonymous().PostAsync($"/api/v1/bookings/{free["id"]}/payment/capture", null)).ExpectAsync(409))["code"]!
            .GetValue<string>().ShouldBe("no_payment");
    }
}

using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>
/// One organization can never read or change another's data. Every route is listed here with the check that proves
/// it; a route added without a check fails <see cref="Every_route_has_an_isolation_check"/>.
/// </summary>
public sealed class TenantIsolationTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private static readonly HashSet<string> Checked =
    [
        // Organization-free: the language switch (a cookie and a local redirect) and the API reference's static files.
        "GET /language/{code}", "GET /api/reference/scalar.js", "GET /api/reference/scalar.aspnetcore.js", "GET /api/reference/favicon.svg",
        "GET /api/reference/{documentName?}",
        // Checked in Web/EmbedTests (settings are the caller's organization; pages are framed only by that organization's origins):
        "GET /api/v1/embed-settings", "PUT /api/v1/embed-settings", "ANY /app/admin/embeds",
        "ANY /embed/{org}/{slug}/booked/{token}", "ANY /embed/{org}/{slug}/book", "ANY /embed/{org}/{slug}",
        // Setup screens call the API handlers checked above (CRM, payments, conferencing) for the signed-in user's organization:
        "ANY /app/admin/payments", "ANY /app/pages/{id}/crm", "ANY /app/conferencing",
        // Checked in Spaces/Channels/ImipSpaceChannelTests (another organization gets 404 for a space's channel):
        "GET /api/v1/spaces/{spaceId:guid}/channel", "PUT /api/v1/spaces/{spaceId:guid}/channel", "DELETE /api/v1/spaces/{spaceId:guid}/channel",
        "POST /api/v1/users", "GET /api/v1/users", "GET /api/v1/users/{id}", "POST /api/v1/users/{id}/api-keys",
        "GET /api/v1/users/{id}/busy-blocks", "POST /api/v1/users/{id}/busy-blocks", "DELETE /api/v1/users/{id}/busy-blocks/{blockId}",
        "POST /api/v1/booking-pages", "GET /api/v1/booking-pages", "GET /api/v1/booking-pages/{id}", "PUT /api/v1/booking-pages/{id}",
        "GET /api/v1/booking-pages/{slug}/slots", "POST /api/v1/booking-pages/{slug}/bookings",
        "GET /api/v1/bookings", "GET /api/v1/bookings/{id}", "POST /api/v1/bookings/{id}/cancel", "POST /api/v1/bookings/{id}/approve",
        "POST /api/v1/bookings/{id}/decline", "POST /api/v1/bookings/{id}/no-show", "POST /api/v1/bookings/{id}/reschedule",
        "GET /api/v1/bookings/{id}/reassignment-targets", "POST /api/v1/bookings/{id}/reassign",
        // The reschedule types of a booking another organization cannot find (404 as for the booking itself), and the
        // self-service types behind a signed single-booking link (RoutingAndTypeSwitchTests):
        "GET /api/v1/bookings/{id}/reschedule-types", "GET /api/v1/self-service/{token}/types",
        // Routing forms: administration reads and writes through the tenant-filtered set, so another organization's form is
        // not found; the public routes find a form by its slug and route only to its own organization's pages (RoutingAndTypeSwitchTests):
        "GET /api/v1/routing-forms", "POST /api/v1/routing-forms", "GET /api/v1/routing-forms/{id}", "PUT /api/v1/routing-forms/{id}",
        "DELETE /api/v1/routing-forms/{id}", "GET /api/v1/routing/{slug}", "POST /api/v1/routing/{slug}",
        "POST /api/v1/conferencing-accounts", "GET /api/v1/conferencing-accounts", "GET /api/v1/conferencing-accounts/{id}",
        "PUT /api/v1/conferencing-accounts/{id}", "DELETE /api/v1/conferencing-accounts/{id}",
        "POST /api/v1/calendar-connections", "GET /api/v1/calendar-connections", "GET /api/v1/calendar-connections/{id}",
        "PUT /api/v1/calendar-connections/{id}", "DELETE /api/v1/calendar-connections/{id}",
        // Google connect: authorize and calendars are checked below; the callback acts only for the organization and user
        // named in our encrypted state. Push notifications wake only the connection holding the channel and its token.
        "GET /api/v1/calendar-connections/google/authorize", "GET /api/v1/calendar-connections/google/callback",
        "GET /api/v1/calendar-connections/{id}/calendars", "POST /api/v1/calendar-push/{provider}",
        // Microsoft connect: authorize looks the user up in the caller's organization only; the callback, like Google's,
        // acts only for the organization and user named in our encrypted, signed state (MicrosoftGraph/GraphSyncTests:
        // The_callback_acts_only_on_a_state_this_server_signed_for_one_user_of_one_organization).
        "GET /api/v1/calendar-connections/microsoft/authorize", "GET /api/v1/calendar-connections/microsoft/callback",
        // Public, behind signed single-booking links (SelfServiceTests):
        "GET /api/v1/self-service/{token}", "GET /api/v1/self-service/{token}/slots", "POST /api/v1/self-service/{token}/cancel",
        "POST /api/v1/self-service/{token}/reschedule",
        // The customer portal: a customer's own cookie, checked against the organization in the path (PortalTests):
        "POST /api/v1/portal/{org}/sign-in-link", "POST /api/v1/portal/{org}/sign-in", "POST /api/v1/portal/{org}/sign-out",
        "GET /api/v1/portal/{org}/me", "POST /api/v1/portal/{org}/password", "GET /api/v1/portal/{org}/appointments",
        "POST /api/v1/webhooks", "GET /api/v1/webhooks", "GET /api/v1/webhooks/{id}", "PUT /api/v1/webhooks/{id}",
        "DELETE /api/v1/webhooks/{id}", "POST /api/v1/webhooks/{id}/rotate-secret", "GET /api/v1/webhooks/{id}/deliveries",
        "POST /api/v1/webhooks/deliveries/{deliveryId}/replay",
        // Portal access: every query and change is bound to the caller's organization (PortalAccessTests):
        "GET /api/v1/portal-settings", "PUT /api/v1/portal-settings", "GET /api/v1/customers", "GET /api/v1/customers/{id}",
        "PUT /api/v1/customers/{id}", "GET /api/v1/companies", "POST /api/v1/companies", "GET /api/v1/companies/{id}",
        "PUT /api/v1/companies/{id}", "DELETE /api/v1/companies/{id}",
        // Checked in Notifications/EmailTemplateApiTests:
        "GET /api/v1/email-templates", "GET /api/v1/email-templates/{kind}", "PUT /api/v1/email-templates/{kind}", "DELETE /api/v1/email-templates/{kind}",
        // CRM connections per booking page, and the OAuth flow that connects them (checked below):
        "GET /api/v1/booking-pages/{id}/salesforce", "PUT /api/v1/booking-pages/{id}/salesforce", "DELETE /api/v1/booking-pages/{id}/salesforce",
        "GET /api/v1/booking-pages/{id}/infusionsoft", "PUT /api/v1/booking-pages/{id}/infusionsoft", "DELETE /api/v1/booking-pages/{id}/infusionsoft",
        "GET /api/v1/salesforce/authorize", "GET /api/v1/salesforce/callback", "GET /api/v1/infusionsoft/authorize", "GET /api/v1/infusionsoft/callback",
        "POST /api/v1/booking-pages/{id}/salesforce/fields", "GET /api/v1/users/{userId}/crm-owners", "PUT /api/v1/users/{userId}/crm-owners/{provider}",
        "DELETE /api/v1/users/{userId}/crm-owners/{provider}",
        // Payments: the organization's PayPal app and manual refunds (checked below); the public payment routes and PayPal's
        // return pages show one booking's payment only (checked below and in Integrations/PaymentTests):
        "GET /api/v1/payments/paypal", "PUT /api/v1/payments/paypal", "DELETE /api/v1/payments/paypal", "POST /api/v1/bookings/{id}/refund",
        "GET /api/v1/bookings/{id}/payment", "POST /api/v1/bookings/{id}/payment/capture", "GET /payments/paypal/return", "GET /payments/paypal/cancel",
        // Spaces and space pools (checked in Spaces/SpaceTenantIsolationTests); their staff pages read through the same
        // tenant-filtered queries (the timeline loader, SpaceService):
        "GET /api/v1/spaces", "POST /api/v1/spaces", "GET /api/v1/spaces/timeline", "GET /api/v1/spaces/requests", "POST /api/v1/spaces/requests",
        "GET /api/v1/spaces/requests/{id}", "GET /api/v1/spaces/requests/{id}/conflicts", "POST /api/v1/spaces/requests/{id}/{action}",
        "GET /api/v1/spaces/{id}", "PUT /api/v1/spaces/{id}", "DELETE /api/v1/spaces/{id}",
        "GET /api/v1/booking-pages/{id}/space-pool", "PUT /api/v1/booking-pages/{id}/space-pool", "DELETE /api/v1/booking-pages/{id}/space-pool",
        "ANY /app/admin/spaces", "ANY /app/spaces/queue", "ANY /app/spaces", "ANY /app/admin/spaces/{id}",
        // Automations (Automations/AutomationTests.Another_organization_neither_sees_nor_changes_nor_tries_the_rules_and_runs_of_this_one);
        // the staff screen reads through the same AutomationService and store:
        "GET /api/v1/automations", "POST /api/v1/automations", "GET /api/v1/automations/{id}", "PUT /api/v1/automations/{id}",
        "DELETE /api/v1/automations/{id}", "POST /api/v1/automations/{id}/test", "GET /api/v1/automations/{id}/runs",
        "GET /api/v1/bookings/{id}/automation-runs", "ANY /app/automations",
        // Public and free of tenant data:
        "GET /openapi/{documentName}.json", "GET /health",
        // Probes and the Prometheus scrape (Observability/ObservabilityTests): process and database state, no rows.
        "ANY /health/live", "ANY /health/ready", "ANY /metrics",
        "PUT /api/v1/users/{id}/password", // Web/WebTenantIsolationTests
        // API keys (below) and OAuth: the consent page refuses apps of another organization, grants are listed and
        // revoked by their own user only (Api/OAuthFlowTests); the token and revocation endpoints act on the app's own
        // codes and tokens, which carry their user.
        "GET /api/v1/users/{id}/api-keys", "DELETE /api/v1/users/{id}/api-keys/{keyId}",
        "ANY /oauth/authorize", "ANY /app/connected-apps", "POST /oauth/token",
        // The outbox's dead letters (OutboxLeaseTests.Another_organization_neither_sees_nor_replays_the_outbox_messages_of_this_one);
        // the staff page reads and replays through the same OutboxAdministration, bound to the caller's organization:
        "GET /api/v1/outbox/messages", "GET /api/v1/outbox/messages/{id}", "POST /api/v1/outbox/messages/{id}/replay",
        "POST /api/v1/outbox/replay", "ANY /app/admin/outbox",
        // The web application. Staff pages (Web/WebTenantIsolationTests); public pages behind a page's own address or a
        // signed link (Web/PublicPagesTests, SelfServiceTests); the portal (PortalTests).
        "ANY /", "ANY /app", "ANY /app/sign-in", "ANY /app/sign-out", "ANY /app/denied", "ANY /app/activity", "ANY /app/calendar",
        "ANY /app/bookings/{id}", "ANY /app/bookings/{id}/reschedule", "ANY /app/bookings/{id}/reassign", "ANY /app/bookings/{id}/cancel", "ANY /app/pages", "ANY /app/pages/{id}", "ANY /app/calendar-connection",
        "ANY /app/profile", "ANY /app/admin/users", "ANY /app/admin/users/{id}", "ANY /app/admin/templates",
        "ANY /app/admin/templates/{kind}/{audience}", "ANY /app/admin/webhooks", "ANY /app/admin/webhooks/{id}", "ANY /app/admin/customers",
        "ANY /{org}/{slug}", "ANY /{org}/{slug}/book", "ANY /{org}/{slug}/booked/{token}",
        "ANY /app/admin/routing-forms", "ANY /app/admin/routing-forms/{id}", "ANY /route/{org}/{slug}",
        "ANY /manage/{token}", "ANY /manage/{token}/cancel", "ANY /manage/{token}/reschedule", "GET /manage/{token}/event.ics",
        "ANY /portal/{org}", "ANY /portal/{org}/sign-in/{token}",
    ];

    [DbFact]
    public void Every_route_has_an_isolation_check()
    {
        _ = app.Client();
        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["ANY"])
                .Select(m => $"{m} /{e.RoutePattern.RawText!.TrimStart('/').TrimEnd('/')}".Replace(" //", " /", StringComparison.Ordinal).TrimEnd('/')))
            .Select(r => r.Trim() is "GET" or "ANY" ? r.Trim() + " /" : r)
            .ToHashSet();
        routes.Except(Checked).ShouldBeEmpty("routes without a tenant isolation check");
    }

    [DbFact]
    public async Task Another_organization_can_neither_see_nor_touch_anything()
    {
        var acme = app.Client();
        var otherKey = await app.CreateOrganizationAsync("globex-" + Guid.NewGuid().ToString("N")[..6]);
        var other = app.Client(otherKey);

        // Acme's data.
        var userId = await Scenario.CreateUserAsync(acme, "Acme Person");
        var block = await (await acme.PostJsonAsync($"/api/v1/users/{userId}/busy-blocks", new { start = "2027-03-20T10:00:00Z", end = "2027-03-20T11:00:00Z" })).ExpectAsync(201);
        var slug = await Scenario.CreatePageAsync(acme, p => p["requiresApproval"] = true);
        var pages = await (await acme.GetAsync("/api/v1/booking-pages")).ExpectAsync(200);
        var pageId = pages.AsArray().First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-22T09:00:00Z");
        var bookingId = booking["id"]!.GetValue<string>();

        var connection = await (await acme.PostJsonAsync("/api/v1/calendar-connections", new { userId, url = "http://127.0.0.1:5232/", username = "u", password = "p", bookingCalendarUrl = "/u/" })).ExpectAsync(201);
        var connectionId = connection["id"]!.GetValue<string>();

        // Lists hold only the caller's organization.
        (await (await other.GetAsync("/api/v1/calendar-connections")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        await (await other.GetAsync($"/api/v1/calendar-connections/{connectionId}")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/calendar-connections/{connectionId}", new { url = "http://127.0.0.1:5232/", username = "u", bookingCalendarUrl = "/u/", cancelBookingOnDelete = true })).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/calendar-connections/{connectionId}/calendars")).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/calendar-connections/google/authorize?userId={userId}")).ExpectAsync(400);
        await (await other.DeleteAsync($"/api/v1/calendar-connections/{connectionId}")).ExpectAsync(404);
        await (await other.PostJsonAsync("/api/v1/calendar-connections", new { userId, url = "http://127.0.0.1:5232/", username = "u", password = "p", bookingCalendarUrl = "/u/" })).ExpectAsync(400);
        (await (await other.GetAsync("/api/v1/users")).ExpectAsync(200)).AsArray().Select(u => u!["id"]!.GetValue<string>()).ShouldNotContain(userId);
        (await (await other.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        (await (await other.GetAsync("/api/v1/bookings")).ExpectAsync(200)).AsArray().ShouldBeEmpty();

        // Single resources are not found.
        await (await other.GetAsync($"/api/v1/users/{userId}")).ExpectAsync(404);
        await (await other.PostJsonAsync($"/api/v1/users/{userId}/api-keys", new { name = "steal" })).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/users/{userId}/api-keys")).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/users/{userId}/api-keys/{Guid.NewGuid()}")).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/users/{userId}/busy-blocks")).ExpectAsync(404);
        await (await other.PostJsonAsync($"/api/v1/users/{userId}/busy-blocks", new { start = "2027-03-20T10:00:00Z", end = "2027-03-20T11:00:00Z" })).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/users/{userId}/busy-blocks/{block["id"]}")).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/booking-pages/{pageId}")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/booking-pages/{pageId}", new { slug = "stolen", title = "x", durationMinutes = 30, timeZone = "UTC" })).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(404);
        foreach (var action in new[] { "cancel", "approve", "decline", "no-show" })
        {
            await (await other.PostJsonAsync($"/api/v1/bookings/{bookingId}/{action}", new { reason = "x" })).ExpectAsync(404);
        }

        await (await other.PostJsonAsync($"/api/v1/bookings/{bookingId}/reschedule", new { start = "2027-03-22T10:00:00Z" })).ExpectAsync(404);

        // Creating things cannot reach across: another organization's user is no owner or panel member.
        var badOwner = await (await other.PostJsonAsync("/api/v1/booking-pages", new { slug = "x-" + Guid.NewGuid().ToString("N")[..8], title = "x", durationMinutes = 30, timeZone = "UTC", ownerId = userId })).ExpectAsync(400);
        badOwner["errors"]!["ownerId"].ShouldNotBeNull();
        var badPanel = await (await other.PostJsonAsync("/api/v1/booking-pages", new
        {
            slug = "x-" + Guid.NewGuid().ToString("N")[..8], title = "x", durationMinutes = 30, timeZone = "UTC",
            schedulingOption = "panel", panelMemberIds = new[] { userId },
        })).ExpectAsync(400);
        badPanel["errors"]!["panelMemberIds"].ShouldNotBeNull();
        var created = await (await other.PostJsonAsync("/api/v1/users", new { name = "Globex Person", email = "person@globex.example", timeZone = "UTC" })).ExpectAsync(201);
        (await (await acme.GetAsync("/api/v1/users")).ExpectAsync(200)).AsArray().Select(u => u!["id"]!.GetValue<string>()).ShouldNotContain(created["id"]!.GetValue<string>());

        // Public booking cannot link to another organization's booking.
        var otherSlug = await Scenario.CreatePageAsync(other);
        var cross = await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{otherSlug}/bookings",
            new { start = "2027-03-22T09:00:00Z", customer = Scenario.Customer(), replacesBookingId = bookingId })).ExpectAsync(400);
        cross["field"]!.GetValue<string>().ShouldBe("replacesBookingId");

        // The public slots of Acme's page reveal free times only.
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-22&to=2027-03-22")).ExpectAsync(200);
        slots.AsObject().Select(kv => kv.Key).ShouldBe(["timeZone", "slots"]);

        // Acme's booking is untouched.
        var after = await (await acme.GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200);
        after["status"]!.GetValue<string>().ShouldBe("requested");
        after["history"]!.AsArray().Count.ShouldBe(1);
    }

    [DbFact]
    public async Task Another_organization_can_neither_reassign_nor_receive_a_booking_nor_see_conferencing_accounts()
    {
        var acme = app.Client();
        var other = app.Client(await app.CreateOrganizationAsync("hooli-" + Guid.NewGuid().ToString("N")[..6]));
        var acmeUser = await Scenario.CreateUserAsync(acme, "Acme Host");
        var acmeSlug = await Scenario.CreatePageAsync(acme, p => p["ownerId"] = acmeUser);
        var acmeTargetSlug = await Scenario.CreatePageAsync(acme);
        var acmePages = await (await acme.GetAsync("/api/v1/booking-pages")).ExpectAsync(200);
        var acmeTarget = acmePages.AsArray().First(p => p!["slug"]!.GetValue<string>() == acmeTargetSlug)!["id"]!.GetValue<string>();
        var bookingId = (await Scenario.BookAsync(app.Anonymous(), acmeSlug, "2027-03-25T09:00:00Z"))["id"]!.GetValue<string>();
        var otherSlug = await Scenario.CreatePageAsync(other);
        var otherPage = (await (await other.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray()
            .First(p => p!["slug"]!.GetValue<string>() == otherSlug)!["id"]!.GetValue<string>();
        var otherBooking = (await Scenario.BookAsync(app.Anonymous(), otherSlug, "2027-03-25T09:00:00Z"))["id"]!.GetValue<string>();

        // Another organization's administrator finds neither the booking nor its targets.
        await (await other.GetAsync($"/api/v1/bookings/{bookingId}/reassignment-targets")).ExpectAsync(404);
        await (await other.PostJsonAsync($"/api/v1/bookings/{bookingId}/reassign", new { bookingPageId = otherPage })).ExpectAsync(404);
        await (await other.PostJsonAsync($"/api/v1/bookings/{bookingId}/reassign", new { bookingPageId = acmeTarget })).ExpectAsync(404);

        // Acme cannot move a booking to another organization's page, and never sees its pages as targets.
        (await (await acme.PostJsonAsync($"/api/v1/bookings/{bookingId}/reassign", new { bookingPageId = otherPage })).ExpectAsync(400))
            ["field"]!.GetValue<string>().ShouldBe("bookingPageId");
        await (await acme.PostJsonAsync($"/api/v1/bookings/{otherBooking}/reassign", new { bookingPageId = acmeTarget })).ExpectAsync(404);
        var targets = await (await acme.GetAsync($"/api/v1/bookings/{bookingId}/reassignment-targets")).ExpectAsync(200);
        var listed = targets["targets"]!.AsArray().Concat(targets["excluded"]!.AsArray()).Select(t => t!["bookingPageId"]!.GetValue<string>()).ToList();
        listed.ShouldContain(acmeTarget);
        listed.ShouldNotContain(otherPage);

        // Conferencing accounts stay in their organization; their tokens are never shown to anyone.
        var account = await (await acme.PostJsonAsync("/api/v1/conferencing-accounts", new { userId = acmeUser, provider = "zoom", accessToken = "acme-secret-token" })).ExpectAsync(201);
        var accountId = account["id"]!.GetValue<string>();
        account.ToJsonString().ShouldNotContain("acme-secret-token");
        (await (await other.GetAsync("/api/v1/conferencing-accounts")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        await (await other.GetAsync($"/api/v1/conferencing-accounts/{accountId}")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/conferencing-accounts/{accountId}", new { accessToken = "stolen" })).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/conferencing-accounts/{accountId}")).ExpectAsync(404);
        (await (await other.PostJsonAsync("/api/v1/conferencing-accounts", new { userId = acmeUser, provider = "zoom", accessToken = "x" })).ExpectAsync(400))
            ["errors"]!["userId"].ShouldNotBeNull();

        // Acme's booking and account are untouched.
        var after = await (await acme.GetAsync($"/api/v1/bookings/{bookingId}")).ExpectAsync(200);
        after["ownerId"]!.GetValue<string>().ShouldBe(acmeUser);
        after["history"]!.AsArray().Count.ShouldBe(1);
        (await (await acme.GetAsync($"/api/v1/conferencing-accounts/{accountId}")).ExpectAsync(200))["updatedAt"]!.GetValue<string>()
            .ShouldBe(account["updatedAt"]!.GetValue<string>());

        // Members see and manage only their own accounts.
        var member = app.Client(await Scenario.CreateKeyAsync(acme, await Scenario.CreateUserAsync(acme, "Plain Member")));
        (await (await member.GetAsync("/api/v1/conferencing-accounts")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        await (await member.GetAsync($"/api/v1/conferencing-accounts/{accountId}")).ExpectAsync(403);
        await (await member.PostJsonAsync("/api/v1/conferencing-accounts", new { userId = acmeUser, provider = "webex", accessToken = "x" })).ExpectAsync(403);
        await (await member.PostJsonAsync("/api/v1/conferencing-accounts", new { provider = "webex", accessToken = "mine" })).ExpectAsync(201);
    }

    [DbFact]
    public async Task Another_organization_can_neither_see_nor_touch_webhooks_or_their_deliveries()
    {
        var acme = app.Client();
        var other = app.Client(await app.CreateOrganizationAsync("initech-" + Guid.NewGuid().ToString("N")[..6]));

        // Acme subscribes (nothing listens at the URL, and nothing is sent here) and a booking gives it a delivery.
        var hook = await (await acme.PostJsonAsync("/api/v1/webhooks", new { url = "http://127.0.0.1:9/acme", events = new[] { "*" } })).ExpectAsync(201);
        var hookId = hook["id"]!.GetValue<string>();
        var theirs = await (await other.PostJsonAsync("/api/v1/webhooks", new { url = "http://127.0.0.1:9/other", events = new[] { "*" } })).ExpectAsync(201);
        var slug = await Scenario.CreatePageAsync(acme);
        var bookingId = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-24T09:00:00Z"))["id"]!.GetValue<string>();
        while (await app.WithScopeAsync(sp => sp.GetRequiredService<Data.Outbox.OutboxProcessor>().ProcessBatchAsync(50, CancellationToken.None)) > 0)
        {
        }

        // Other tests' events may be delivered too; this test looks at its own booking's.
        async Task<JsonNode> AcmeDeliveryAsync() =>
            (await (await acme.GetAsync($"/api/v1/webhooks/{hookId}/deliveries")).ExpectAsync(200)).AsArray()
                .Single(d => d!["payload"]!["data"]!["id"]!.GetValue<string>() == bookingId)!;
        var delivery = await AcmeDeliveryAsync();
        var deliveryId = delivery["id"]!.GetValue<string>();

        (await (await other.GetAsync("/api/v1/webhooks")).ExpectAsync(200)).AsArray().Select(w => w!["id"]!.GetValue<string>())
            .ShouldBe([theirs["id"]!.GetValue<string>()]);
        await (await other.GetAsync($"/api/v1/webhooks/{hookId}")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/webhooks/{hookId}", new { url = "http://127.0.0.1:9/stolen", active = false })).ExpectAsync(404);
        await (await other.PostAsync($"/api/v1/webhooks/{hookId}/rotate-secret", null)).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/webhooks/{hookId}/deliveries")).ExpectAsync(404);
        await (await other.PostAsync($"/api/v1/webhooks/deliveries/{deliveryId}/replay", null)).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/webhooks/{hookId}")).ExpectAsync(404);

        // Acme's subscription and delivery are untouched (the replay sent nothing), and Acme's event went to Acme only.
        var after = await (await acme.GetAsync($"/api/v1/webhooks/{hookId}")).ExpectAsync(200);
        after["url"]!.GetValue<string>().ShouldBe("http://127.0.0.1:9/acme");
        after["active"]!.GetValue<bool>().ShouldBeTrue();
        after["secretHint"]!.GetValue<string>().ShouldBe(hook["secretHint"]!.GetValue<string>());
        (await AcmeDeliveryAsync())["attemptCount"]!.GetValue<int>().ShouldBe(0);
        (await (await other.GetAsync($"/api/v1/webhooks/{theirs["id"]}/deliveries")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
    }

    [DbFact]
    public async Task Another_organization_can_neither_see_nor_touch_crm_connections_or_payments()
    {
        var acme = app.Client();
        var other = app.Client(await app.CreateOrganizationAsync("umbrella-" + Guid.NewGuid().ToString("N")[..6]));
        var slug = await Scenario.CreatePageAsync(acme);
        var pageId = (await (await acme.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray()
            .First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();
        await (await acme.PutJsonAsync($"/api/v1/booking-pages/{pageId}/salesforce", new { createLeads = false })).ExpectAsync(200);
        await (await acme.PutJsonAsync($"/api/v1/booking-pages/{pageId}/infusionsoft", new { tagIds = new { scheduled = 5 } })).ExpectAsync(200);

        foreach (var provider in new[] { "salesforce", "infusionsoft" })
        {
            await (await other.GetAsync($"/api/v1/booking-pages/{pageId}/{provider}")).ExpectAsync(404);
            await (await other.PutJsonAsync($"/api/v1/booking-pages/{pageId}/{provider}", new { })).ExpectAsync(404);
            await (await other.DeleteAsync($"/api/v1/booking-pages/{pageId}/{provider}")).ExpectAsync(404);
            await (await other.GetAsync($"/api/v1/{provider}/authorize?bookingPageId={pageId}")).ExpectAsync(404);
            // The callback trusts nothing but a state signed for one page of one organization (and used once).
            foreach (var forged in new[] { "forged", "not*base64!", "CfDJ8" + new string('A', 200) })
            {
                (await (await app.Anonymous().GetAsync($"/api/v1/{provider}/callback?code=stolen&state={Uri.EscapeDataString(forged)}")).ExpectAsync(400))["field"]!
                    .GetValue<string>().ShouldBe("state");
            }
        }

        await (await other.PostAsync($"/api/v1/booking-pages/{pageId}/salesforce/fields", null)).ExpectAsync(404);

        // Who owns a user's CRM records is set and read within the user's organization only.
        var acmeUser = await Scenario.CreateUserAsync(acme, "Acme Owner");
        await (await other.GetAsync($"/api/v1/users/{acmeUser}/crm-owners")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/users/{acmeUser}/crm-owners/salesforce",
            new { accountId = "00D000000000001AAA", externalUserId = "005000000000001AAA" })).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/users/{acmeUser}/crm-owners/salesforce")).ExpectAsync(404);
        (await (await acme.GetAsync($"/api/v1/users/{acmeUser}/crm-owners")).ExpectAsync(200)).AsArray().ShouldBeEmpty();

        (await (await acme.GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200))["createLeads"]!.GetValue<bool>().ShouldBeFalse();
        (await (await acme.GetAsync($"/api/v1/booking-pages/{pageId}/infusionsoft")).ExpectAsync(200))["tags"]!["scheduled"]!["id"]!.GetValue<long>().ShouldBe(5);

        // Each organization has its own PayPal app.
        await (await acme.PutJsonAsync("/api/v1/payments/paypal", new { clientId = "acme-app", clientSecret = "acme-secret" })).ExpectAsync(200);
        (await (await other.GetAsync("/api/v1/payments/paypal")).ExpectAsync(200))["configured"]!.GetValue<bool>().ShouldBeFalse();
        await (await other.DeleteAsync("/api/v1/payments/paypal")).ExpectAsync(204);
        (await (await acme.GetAsync("/api/v1/payments/paypal")).ExpectAsync(200))["clientId"]!.GetValue<string>().ShouldBe("acme-app");

        // Refunds are for the booking's own organization's administrators; the public payment routes show nothing of a
        // booking that has no payment.
        var bookingId = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-25T09:00:00Z"))["id"]!.GetValue<string>();
        await (await other.PostJsonAsync($"/api/v1/bookings/{bookingId}/refund", new { reason = "mine now" })).ExpectAsync(404);
        await (await other.GetAsync($"/api/v1/bookings/{bookingId}/payment")).ExpectAsync(404);
        var capture = await (await other.PostAsync($"/api/v1/bookings/{bookingId}/payment/capture", null)).ExpectAsync(409);
        capture.AsObject().ContainsKey("payment").ShouldBeFalse();
        var page = await app.Anonymous().GetAsync($"/payments/paypal/return?bookingId={bookingId}");
        (await page.Content.ReadAsStringAsync()).ShouldNotContain("Grace");
        await (await acme.DeleteAsync("/api/v1/payments/paypal")).ExpectAsync(204);
    }

    [DbFact]
    public async Task Requests_without_a_valid_key_are_401_and_members_cannot_administer()
    {
        await (await app.Anonymous().GetAsync("/api/v1/bookings")).ExpectAsync(401);
        var bad = app.Client("rdv_not_a_real_key_000000000000000");
        await (await bad.GetAsync("/api/v1/users")).ExpectAsync(401);

        var admin = app.Client();
        var memberId = await Scenario.CreateUserAsync(admin, "Plain Member");
        var member = app.Client(await Scenario.CreateKeyAsync(admin, memberId));
        await (await member.PostJsonAsync("/api/v1/users", new { name = "Sneaky", email = "sneaky@acme.example", timeZone = "UTC" })).ExpectAsync(403);
        await (await member.PostJsonAsync($"/api/v1/users/{memberId}/api-keys", new { })).ExpectAsync(403);

        // A member acts only on bookings they host, and owns only their own pages.
        var adminSlug = await Scenario.CreatePageAsync(admin);
        var booking = await Scenario.BookAsync(app.Anonymous(), adminSlug, "2027-03-23T09:00:00Z");
        await (await member.GetAsync($"/api/v1/bookings/{booking["id"]}")).ExpectAsync(403);
        await (await member.PostJsonAsync($"/api/v1/bookings/{booking["id"]}/cancel", new { })).ExpectAsync(403);
        var adminId = await Scenario.MyIdAsync(admin);
        await (await member.PostJsonAsync("/api/v1/booking-pages", new { slug = "m-" + Guid.NewGuid().ToString("N")[..8], title = "x", durationMinutes = 30, timeZone = "UTC", ownerId = adminId })).ExpectAsync(403);
        var own = await Scenario.CreatePageAsync(member);
        own.ShouldNotBeNullOrEmpty();
    }

    [DbFact]
    public async Task OpenApi_document_describes_the_api()
    {
        var doc = await (await app.Anonymous().GetAsync("/openapi/v1.json")).ExpectAsync(200);
        var paths = doc["paths"]!.AsObject().Select(kv => kv.Key).ToList();
        paths.ShouldContain("/api/v1/booking-pages/{slug}/bookings");
        paths.ShouldContain("/api/v1/bookings/{id}/reschedule");
        paths.ShouldContain("/api/v1/users");
    }

    [DbFact]
    public async Task Booking_pages_validate_every_field_and_keep_slugs_unique()
    {
        var admin = app.Client();
        var response = await admin.PostJsonAsync("/api/v1/booking-pages", new JsonObject
        {
            ["slug"] = "Bad Slug",
            ["title"] = "",
            ["durationMinutes"] = 2,
            ["timeZone"] = "Europe/Atlantis",
            ["weeklyHours"] = new JsonArray(new JsonObject { ["day"] = "funday", ["start"] = "09:00", ["end"] = "17:00" },
                new JsonObject { ["day"] = "monday", ["start"] = "18:00", ["end"] = "09:00" }),
            ["schedulingOption"] = "sometimes",
            ["bookingWindowDays"] = 0,
            ["cancellationPolicy"] = new JsonObject { ["kind"] = "upTo" },
        });
        var problem = await response.ExpectAsync(400);
        var fields = problem["errors"]!.AsObject().Select(kv => kv.Key).ToList();
        fields.ShouldContain("slug");
        fields.ShouldContain("title");
        fields.ShouldContain("timeZone");
        fields.ShouldContain("weeklyHours[0].day");
        fields.ShouldContain("weeklyHours[1].end");
        fields.ShouldContain("schedulingOption");
        fields.ShouldContain("cancellationPolicy");

        var slug = await Scenario.CreatePageAsync(admin);
        var page = (await (await admin.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray().First(p => p!["slug"]!.GetValue<string>() == slug)!;
        // Defaults: slot interval = duration, no buffers, no notice, a 60-day window.
        page["slotIntervalMinutes"]!.GetValue<int>().ShouldBe(30);
        page["bufferBeforeMinutes"]!.GetValue<int>().ShouldBe(0);
        page["minimumNoticeMinutes"]!.GetValue<int>().ShouldBe(0);
        page["bookingWindowDays"]!.GetValue<int>().ShouldBe(60);
        page["schedulingOption"]!.GetValue<string>().ShouldBe("oneOnOne");
        page["cancellationPolicy"]!["kind"]!.GetValue<string>().ShouldBe("anyTime");

        var dup = await (await admin.PostJsonAsync("/api/v1/booking-pages", new { slug, title = "Again", durationMinutes = 30, timeZone = "UTC" })).ExpectAsync(409);
        dup["code"]!.GetValue<string>().ShouldBe("slug_taken");

        var updated = page.DeepClone().AsObject();
        updated["title"] = "Renamed";
        updated["dateOverrides"] = new JsonArray(new JsonObject { ["date"] = "2027-03-24", ["hours"] = new JsonArray() });
        var put = await (await admin.PutJsonAsync($"/api/v1/booking-pages/{page["id"]}", updated)).ExpectAsync(200);
        put["title"]!.GetValue<string>().ShouldBe("Renamed");
        var closed = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-24&to=2027-03-24")).ExpectAsync(200);
        closed["slots"]!.AsArray().ShouldBeEmpty();
    }
}

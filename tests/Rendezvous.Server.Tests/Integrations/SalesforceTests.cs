using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Tests.Conferencing;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure.Fakes;
using Shouldly;

namespace Rendezvous.Server.Tests.Integrations;

public sealed class SalesforceApp : IntegrationApp;

/// <summary>
/// Salesforce Activity Events (seed 002) end to end: pages connected through the OAuth web server flow against a local
/// fake that answers as the Salesforce REST API documentation describes, bookings changed through the API, the outbox
/// driven by hand.
/// </summary>
public sealed class SalesforceTests(SalesforceApp app) : IClassFixture<SalesforceApp>, IAsyncLifetime
{
    private FakeSalesforce Sf => app.Salesforce;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        app.Clock.Reset(RendezvousApp.Start);
        Sf.ClearFaults();
        Sf.MissingFields.Clear();
        return Task.CompletedTask;
    }

    private async Task<(string Slug, string PageId)> ConnectedPageAsync(object? settings = null, string user = "005000000000001AAA",
        string org = FakeSalesforce.DefaultOrg)
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var pageId = await app.PageIdAsync(admin, slug);
        if (settings is not null)
        {
            await (await admin.PutJsonAsync($"/api/v1/booking-pages/{pageId}/salesforce", settings)).ExpectAsync(200);
        }

        var connected = await app.ConnectAsync(admin, "salesforce", pageId, Sf.IssueCode(user, org));
        connected["status"]!.GetValue<string>().ShouldBe("connected");
        return (slug, pageId);
    }

    private static string Email() => $"ada.{Guid.NewGuid():N}@example.com";

    // Follows "OAuth 2.0 Web Server Flow for Web App Integration" (Salesforce Help): the authorize endpoint's parameters,
    // the code exchange at /services/oauth2/token, and the identity URL that names the org and user.
    [DbFact]
    public async Task Connecting_a_page_runs_the_web_server_flow_and_keeps_tokens_encrypted_and_unseen()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var pageId = await app.PageIdAsync(admin, slug);

        var before = await (await admin.GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200);
        before["status"]!.GetValue<string>().ShouldBe("notConnected");
        before["createActivityEvents"]!.GetValue<bool>().ShouldBeTrue();
        before["createLeads"]!.GetValue<bool>().ShouldBeTrue();
        before["fields"]!["bookingId"]!.GetValue<string>().ShouldBe("Rendezvous_Booking_Id__c");

        var authorize = await (await admin.GetAsync($"/api/v1/salesforce/authorize?bookingPageId={pageId}")).ExpectAsync(200);
        var url = new Uri(authorize["url"]!.GetValue<string>());
        url.GetLeftPart(UriPartial.Path).ShouldBe($"{Sf.BaseUrl}/services/oauth2/authorize");
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        query["response_type"].ShouldBe("code");
        query["client_id"].ShouldBe(FakeSalesforce.ClientId);
        query["redirect_uri"].ShouldBe("https://book.example/api/v1/salesforce/callback");
        query["scope"].ShouldBe("api refresh_token");
        var state = query["state"]!;

        // A made-up state, and the user refusing access, are answered 400 and connect nothing.
        (await (await app.Anonymous().GetAsync($"/api/v1/salesforce/callback?code=x&state=forged")).ExpectAsync(400))["field"]!
            .GetValue<string>().ShouldBe("state");

        var code = Sf.IssueCode("005000000000009AAA");
        var connected = await (await app.Anonymous().GetAsync(
            $"/api/v1/salesforce/callback?code={code}&state={Uri.EscapeDataString(state)}")).ExpectAsync(200);
        connected["status"]!.GetValue<string>().ShouldBe("connected");
        connected["account"]!["id"]!.GetValue<string>().ShouldBe(FakeSalesforce.DefaultOrg);
        connected["account"]!["userId"]!.GetValue<string>().ShouldBe("005000000000009AAA");
        connected["account"]!["instanceUrl"]!.GetValue<string>().ShouldBe(Sf.BaseUrl);

        // The state works once.
        await (await app.Anonymous().GetAsync($"/api/v1/salesforce/callback?code={Sf.IssueCode()}&state={Uri.EscapeDataString(state)}"))
            .ExpectAsync(400);

        var stored = await app.WithDbAsync(db => db.CrmConnections.SingleAsync(c => c.BookingPageId == new BookingPageId(Guid.Parse(pageId))));
        stored.ProtectedAccessToken.ShouldNotBeNull();
        stored.ProtectedAccessToken.ShouldNotStartWith("00D!");
        stored.ProtectedRefreshToken.ShouldNotBeNull();
        stored.ProtectedRefreshToken.ShouldNotStartWith("5Aep");

        var read = await (await admin.GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ReadJsonAsync();
        read.ToJsonString().ShouldNotContain("token", Case.Insensitive);

        // Refusing access at Salesforce comes back as error=access_denied.
        var again = await (await admin.GetAsync($"/api/v1/salesforce/authorize?bookingPageId={pageId}")).ExpectAsync(200);
        var denied = System.Web.HttpUtility.ParseQueryString(new Uri(again["url"]!.GetValue<string>()).Query)["state"]!;
        var refused = await (await app.Anonymous().GetAsync(
            $"/api/v1/salesforce/callback?error=access_denied&error_description=end-user+denied+authorization&state={Uri.EscapeDataString(denied)}"))
            .ExpectAsync(400);
        refused["code"]!.GetValue<string>().ShouldBe("authorization_denied");

        await (await admin.DeleteAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(204);
        (await (await admin.GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("notConnected");
    }

    // A person who connects from the web screen comes back to it, not to the API's JSON: the state the screen asked for
    // says so, and the callback answers 302 to the page's CRM screen, which says the outcome once.
    [DbFact]
    public async Task Connecting_from_the_web_screen_returns_the_browser_to_the_pages_CRM_screen_with_the_outcome()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var pageId = await app.PageIdAsync(admin, slug);
        var userId = await Scenario.CreateUserAsync(admin, "Crm Web Admin", "administrator");
        var email = (await (await admin.GetAsync($"/api/v1/users/{userId}")).ExpectAsync(200))["email"]!.GetValue<string>();
        await (await admin.PutJsonAsync($"/api/v1/users/{userId}/password", new { password = "crm web password 1" })).ExpectAsync(204);
        var web = new Web.WebSession(app);
        (await web.SignInAsync(email, "crm web password 1")).StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        var screen = $"/app/pages/{pageId}/crm";

        async Task<string> StartAsync()
        {
            var start = await web.PostAsync($"{screen}?handler=ConnectSalesforce", [], tokenFrom: screen);
            start.StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
            var consent = start.Headers.Location!;
            consent.GetLeftPart(UriPartial.Path).ShouldBe($"{Sf.BaseUrl}/services/oauth2/authorize");
            return System.Web.HttpUtility.ParseQueryString(consent.Query)["state"]!;
        }

        // Connected: the callback stores the connection and sends the browser to the screen.
        var state = await StartAsync();
        var back = await app.Anonymous().GetAsync(
            $"/api/v1/salesforce/callback?code={Sf.IssueCode("005000000000042AAA")}&state={Uri.EscapeDataString(state)}");
        back.StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        back.Headers.Location!.OriginalString.ShouldBe($"{screen}?connect=salesforce&outcome=connected");
        var shown = await web.GetAsync(back.Headers.Location.OriginalString);
        shown.StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        shown.Headers.Location!.OriginalString.ShouldBe(screen);
        (await web.GetAsync(screen)).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        web.LastHtml.ShouldContain("Salesforce is connected to this page.");
        var connected = await (await admin.GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200);
        connected["status"]!.GetValue<string>().ShouldBe("connected");
        connected["account"]!["userId"]!.GetValue<string>().ShouldBe("005000000000042AAA");

        // Refused at Salesforce: back to the screen with the error, the connection left as it was.
        state = await StartAsync();
        back = await app.Anonymous().GetAsync($"/api/v1/salesforce/callback?error=access_denied&state={Uri.EscapeDataString(state)}");
        back.Headers.Location!.OriginalString.ShouldBe($"{screen}?connect=salesforce&outcome=denied");
        await web.GetAsync(back.Headers.Location.OriginalString);
        await web.GetAsync(screen);
        web.LastHtml.ShouldContain("Salesforce did not authorize the connection, so nothing is connected.");

        // The same state a second time (a reload of the callback): back to the screen, saying it expired or was used.
        back = await app.Anonymous().GetAsync($"/api/v1/salesforce/callback?code={Sf.IssueCode()}&state={Uri.EscapeDataString(state)}");
        back.Headers.Location!.OriginalString.ShouldBe($"{screen}?connect=salesforce&outcome=expired");

        // A state of the API (no web mark) still answers JSON, and a forged one a 400: nothing to send a browser back to.
        var api = await (await admin.GetAsync($"/api/v1/salesforce/authorize?bookingPageId={pageId}")).ExpectAsync(200);
        var apiState = System.Web.HttpUtility.ParseQueryString(new Uri(api["url"]!.GetValue<string>()).Query)["state"]!;
        (await (await app.Anonymous().GetAsync($"/api/v1/salesforce/callback?code={Sf.IssueCode()}&state={Uri.EscapeDataString(apiState)}"))
            .ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("connected");
        await (await app.Anonymous().GetAsync("/api/v1/salesforce/callback?code=x&state=forged")).ExpectAsync(400);

        // An unknown outcome code shows nothing made up: the query names codes, never text.
        (await web.GetAsync($"{screen}?connect=salesforce&outcome=%3Cb%3Ehello")).StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        await web.GetAsync(screen);
        web.LastHtml.ShouldNotContain("hello");
    }

    // Follows "Insert or Update (Upsert) a Record Using an External ID" and "Query" (REST API Developer Guide): one Event per
    // booking, upserted by Rendezvous_Booking_Id__c, kept current through create, reschedule and cancel.
    [DbFact]
    public async Task Create_reschedule_cancel_upsert_one_event_with_status_reason_and_time()
    {
        var (slug, _) = await ConnectedPageAsync();
        var admin = app.Client();
        var email = Email();
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z", Scenario.Customer("Ada Lovelace", email));
        var id = booking["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        var created = Sf.EventFor(id).ShouldNotBeNull();
        created["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled");
        created["Rendezvous_Reason__c"].ShouldBeNull();
        created["StartDateTime"]!.GetValue<string>().ShouldBe("2027-03-08T10:00:00Z");
        created["EndDateTime"]!.GetValue<string>().ShouldBe("2027-03-08T10:30:00Z");
        created["Subject"]!.GetValue<string>().ShouldBe("Intro call with Ada Lovelace");
        created["OwnerId"]!.GetValue<string>().ShouldBe("005000000000001AAA");
        // No Contact, Lead or Case has this email: a Lead is created and the Event is about it (WhoId).
        var lead = Sf.Leads[email];
        created["WhoId"]!.GetValue<string>().ShouldBe(lead);
        var leadRequest = Sf.RequestsTo("POST", FakeSalesforce.Api + "/sobjects/Lead").Single(r => r.Body.Contains(email, StringComparison.Ordinal));
        var leadBody = JsonNode.Parse(leadRequest.Body)!;
        leadBody["LastName"]!.GetValue<string>().ShouldBe("Lovelace");
        leadBody["FirstName"]!.GetValue<string>().ShouldBe("Ada");
        leadBody["LeadSource"]!.GetValue<string>().ShouldBe("Rendezvous");

        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-09T11:00:00Z", reason = "Clash with the board" }))
            .ExpectAsync(200);
        await app.RunOutboxAsync();
        var moved = Sf.EventFor(id)!;
        moved["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Rescheduled");
        moved["Rendezvous_Reason__c"]!.GetValue<string>().ShouldBe("Clash with the board");
        moved["StartDateTime"]!.GetValue<string>().ShouldBe("2027-03-09T11:00:00Z");

        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "Customer is ill" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        var canceled = Sf.EventFor(id)!;
        canceled["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Canceled");
        canceled["Rendezvous_Reason__c"]!.GetValue<string>().ShouldBe("Customer is ill");
        canceled["Id"]!.GetValue<string>().ShouldBe(created["Id"]!.GetValue<string>());

        // The first write an upsert by the booking id, the next two updates of the Event by its id, and the one Lead looked up once.
        Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/Rendezvous_Booking_Id__c/{id}").Count.ShouldBe(1);
        Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/{created["Id"]!.GetValue<string>()}").Count.ShouldBe(2);
        Sf.Events.Values.Count(e => e["Rendezvous_Booking_Id__c"]?.GetValue<string>() == id).ShouldBe(1);
        Sf.RequestsTo("POST", FakeSalesforce.Api + "/sobjects/Lead").Count(r => r.Body.Contains(email, StringComparison.Ordinal)).ShouldBe(1);
        var record = await app.WithDbAsync(db => db.CrmRecords.SingleAsync(r => r.BookingId == new BookingId(Guid.Parse(id))));
        record.ExternalId.ShouldBe(created["Id"]!.GetValue<string>());
        record.RelatedTo.ShouldBe("NewLead");
        record.LastStatus.ShouldBe("Canceled");
    }

    // Follows the Event object reference: WhoId names a Contact or Lead, WhatId other objects such as a Case.
    [DbFact]
    public async Task The_event_is_related_to_a_matching_contact_lead_or_case_and_no_lead_is_created()
    {
        var (slug, _) = await ConnectedPageAsync();
        var contactEmail = Email();
        var leadEmail = Email();
        var caseEmail = Email();
        Sf.Contacts[contactEmail] = "003000000000001AAA";
        Sf.Leads[leadEmail] = "00Q000000000001AAA";
        Sf.Cases[caseEmail] = "500000000000001AAA";
        var leadsBefore = Sf.RequestsTo("POST", FakeSalesforce.Api + "/sobjects/Lead").Count;

        var toContact = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T09:00:00Z", Scenario.Customer("Grace Hopper", contactEmail)))["id"]!.GetValue<string>();
        var toLead = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z", Scenario.Customer("Alan Turing", leadEmail)))["id"]!.GetValue<string>();
        var toCase = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T11:00:00Z", Scenario.Customer("Kay Jones", caseEmail)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        Sf.EventFor(toContact)!["WhoId"]!.GetValue<string>().ShouldBe("003000000000001AAA");
        Sf.EventFor(toLead)!["WhoId"]!.GetValue<string>().ShouldBe("00Q000000000001AAA");
        var caseEvent = Sf.EventFor(toCase)!;
        caseEvent["WhatId"]!.GetValue<string>().ShouldBe("500000000000001AAA");
        caseEvent.ContainsKey("WhoId").ShouldBeFalse();
        Sf.RequestsTo("POST", FakeSalesforce.Api + "/sobjects/Lead").Count.ShouldBe(leadsBefore);
    }

    // Follows "Query" (no record matches) and the Event object reference (WhoId and WhatId are optional).
    [DbFact]
    public async Task No_lead_is_created_when_the_page_does_not_allow_it()
    {
        var (slug, _) = await ConnectedPageAsync(new { createLeads = false });
        var email = Email();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T09:00:00Z", Scenario.Customer("Nobody Known", email)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        var e = Sf.EventFor(id).ShouldNotBeNull();
        e.ContainsKey("WhoId").ShouldBeFalse();
        e.ContainsKey("WhatId").ShouldBeFalse();
        Sf.Leads.ContainsKey(email).ShouldBeFalse();
        Sf.RequestsTo("POST", FakeSalesforce.Api + "/sobjects/Lead").ShouldNotContain(r => r.Body.Contains(email, StringComparison.Ordinal));
    }

    // Seed 002: with Activity Events off (calendars reach Salesforce another way) nothing is created or updated; the fake
    // (REST API Developer Guide) records every request, so "nothing" is checked on the wire.
    [DbFact]
    public async Task With_activity_events_off_nothing_is_sent()
    {
        var (slug, pageId) = await ConnectedPageAsync(new { createActivityEvents = false });
        var settings = await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200);
        settings["createActivityEvents"]!.GetValue<bool>().ShouldBeFalse();
        var before = Sf.Requests.Count;

        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T10:00:00Z"))["id"]!.GetValue<string>();
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "x" })).ExpectAsync(200);
        await app.RunOutboxAsync();

        Sf.Requests.Count.ShouldBe(before);
        Sf.EventFor(id).ShouldBeNull();
    }

    // Seed 000: a calendar move applied quietly is not told to integrations. Follows "Insert or Update (Upsert) a Record
    // Using an External ID": no further PATCH reaches the fake.
    [DbFact]
    public async Task Quiet_events_are_ignored()
    {
        var (slug, _) = await ConnectedPageAsync();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T11:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        var writes = Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/").Count;

        await app.WithDbAsync(async db =>
        {
            var booking = await db.Bookings.SingleAsync(b => b.Id == new BookingId(Guid.Parse(id)));
            booking.Reschedule(Instant.FromUtc(2027, 3, 11, 14, 0), Actor.FromCalendar(booking.OwnerId), null, app.Clock.GetCurrentInstant(), quiet: true)
                .IsSuccess.ShouldBeTrue();
            await db.SaveChangesAsync();
            return 0;
        });
        await app.RunOutboxAsync();

        Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/").Count.ShouldBe(writes);
        Sf.EventFor(id)!["StartDateTime"]!.GetValue<string>().ShouldBe("2027-03-11T11:00:00Z");
    }

    // Delivery is at least once: a repeat writes the same Event again and creates nothing new. Follows "Update a Record"
    // (PATCH /sobjects/Event/{id}, 204) for the Event whose id we kept.
    [DbFact]
    public async Task An_outbox_repeat_makes_no_duplicate()
    {
        var (slug, _) = await ConnectedPageAsync();
        var email = Email();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T09:00:00Z", Scenario.Customer("Repeat Person", email)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        var first = Sf.EventFor(id)!["Id"]!.GetValue<string>();
        var events = Sf.Events.Count;

        // As if the process died after Salesforce answered and before the outbox row was marked done.
        await app.WithDbAsync(db => db.Database.ExecuteSqlAsync($"""
            UPDATE outbox_messages SET processed_at = NULL, handled_by = array_remove(handled_by, 'salesforce')
            WHERE payload->>'bookingId' = {id}
            """));
        await app.RunOutboxAsync();

        // The repeat updates the Event by the id kept on our side.
        Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/{first}").Count.ShouldBe(1);
        Sf.Events.Count.ShouldBe(events);
        Sf.EventFor(id)!["Id"]!.GetValue<string>().ShouldBe(first);
        Sf.RequestsTo("POST", FakeSalesforce.Api + "/sobjects/Lead").Count(r => r.Body.Contains(email, StringComparison.Ordinal)).ShouldBe(1);
    }

    // Follows "OAuth 2.0 Refresh Token Flow" and the 401 INVALID_SESSION_ID answer of the status codes page: renew, retry once.
    [DbFact]
    public async Task An_expired_access_token_is_renewed_with_the_refresh_token_and_the_write_retried_once()
    {
        var (slug, pageId) = await ConnectedPageAsync();
        var before = await app.WithDbAsync(db => db.CrmConnections.SingleAsync(c => c.BookingPageId == new BookingPageId(Guid.Parse(pageId))));
        Sf.ExpireAccessTokens();
        var refreshes = Sf.RequestsTo("POST", "/services/oauth2/token").Count(r => r.Form("grant_type") == "refresh_token");

        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T10:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        Sf.EventFor(id)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled");
        Sf.RequestsTo("POST", "/services/oauth2/token").Count(r => r.Form("grant_type") == "refresh_token").ShouldBe(refreshes + 1);
        var after = await app.WithDbAsync(db => db.CrmConnections.SingleAsync(c => c.BookingPageId == new BookingPageId(Guid.Parse(pageId))));
        after.ProtectedAccessToken.ShouldNotBe(before.ProtectedAccessToken);
        after.ProtectedRefreshToken.ShouldBe(before.ProtectedRefreshToken);
        (await OutboxPendingAsync(id)).ShouldBe(0);
    }

    // The token endpoint answers invalid_grant for a revoked refresh token: the connection needs a new authorization, and
    // the work waits in the outbox until then rather than being lost.
    [DbFact]
    public async Task A_refused_refresh_token_asks_for_authorization_and_keeps_the_work_until_then()
    {
        var (slug, pageId) = await ConnectedPageAsync();
        Sf.ExpireAccessTokens();
        Sf.RevokeRefreshTokens();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T11:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        Sf.EventFor(id).ShouldBeNull();
        (await OutboxPendingAsync(id)).ShouldBeGreaterThan(0);
        var state = await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200);
        state["status"]!.GetValue<string>().ShouldBe("reauthorizationRequired");
        state["lastError"]!.GetValue<string>().ShouldContain("invalid_grant");

        await app.ConnectAsync(app.Client(), "salesforce", pageId, Sf.IssueCode());
        app.Clock.Advance(Duration.FromMinutes(10));
        await app.RunOutboxAsync();

        Sf.EventFor(id)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled");
        (await OutboxPendingAsync(id)).ShouldBe(0);
        (await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("connected");
    }

    // Status codes page: 5xx and 503 "server unavailable" may pass; 403 REQUEST_LIMIT_EXCEEDED means the org's API limit is
    // spent. Both are retried with backoff through the outbox, never blocking the booking.
    [DbFact]
    public async Task Server_errors_and_api_limits_are_retried_with_backoff_and_never_block_the_booking()
    {
        var (slug, pageId) = await ConnectedPageAsync();
        const string events = FakeSalesforce.Api + "/sobjects/Event/";
        // Three 503s: the first attempt and both in-process retries fail.
        Sf.Fail("PATCH", events, new FakeAnswer(503, """[{"message":"Server is unavailable","errorCode":"SERVER_UNAVAILABLE"}]"""), times: 3);
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T09:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        Sf.EventFor(id).ShouldBeNull();
        (await OutboxPendingAsync(id)).ShouldBeGreaterThan(0);

        Sf.Fail("PATCH", events, new FakeAnswer(403, """[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"""));
        app.Clock.Advance(Duration.FromMinutes(5));
        await app.RunOutboxAsync();
        Sf.EventFor(id).ShouldBeNull();
        var state = await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200);
        state["lastError"]!.GetValue<string>().ShouldContain("REQUEST_LIMIT_EXCEEDED");
        state["status"]!.GetValue<string>().ShouldBe("connected");

        app.Clock.Advance(Duration.FromMinutes(10));
        await app.RunOutboxAsync();
        Sf.EventFor(id)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled");
        (await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200))["lastError"].ShouldBeNull();
    }

    // A 429 with a short Retry-After is waited out in-process and the write goes through in the same pass.
    [DbFact]
    public async Task A_throttled_call_with_a_short_retry_after_is_retried_in_process()
    {
        var (slug, _) = await ConnectedPageAsync();
        Sf.Fail("PATCH", FakeSalesforce.Api + "/sobjects/Event/", new FakeAnswer(429,
            """[{"message":"Too many requests","errorCode":"REQUEST_LIMIT_EXCEEDED"}]""", new Dictionary<string, string> { ["Retry-After"] = "0" }));
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T10:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        Sf.EventFor(id)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled");
        Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/Rendezvous_Booking_Id__c/{id}").Count.ShouldBe(2);
    }

    // "sObject Describe" tells which fields Event has; "sObject Rows" creates (POST, 201 with id) and updates (PATCH by id,
    // 204). Without the Rendezvous custom fields the Event is still created and kept in step, found again by the id we keep;
    // the connection's health lists what is missing.
    [DbFact]
    public async Task Without_the_custom_fields_events_are_still_created_and_kept_in_step_by_their_id_and_health_lists_the_fields()
    {
        Sf.MissingFields.UnionWith(["Rendezvous_Booking_Id__c", "Rendezvous_Event_Status__c", "Rendezvous_Reason__c"]);
        var (slug, pageId) = await ConnectedPageAsync();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T11:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        var record = await app.WithDbAsync(db => db.CrmRecords.SingleAsync(r => r.BookingId == new BookingId(Guid.Parse(id))));
        var eventId = record.ExternalId.ShouldNotBeNull();
        var created = Sf.EventById(eventId).ShouldNotBeNull();
        created["StartDateTime"]!.GetValue<string>().ShouldBe("2027-03-15T11:00:00Z");
        created.ContainsKey("Rendezvous_Event_Status__c").ShouldBeFalse();
        Sf.RequestsTo("POST", FakeSalesforce.Api + "/sobjects/Event").Count(r => r.Body.Contains("2027-03-15T11:00:00Z", StringComparison.Ordinal)).ShouldBe(1);
        (await OutboxPendingAsync(id)).ShouldBe(0);

        var state = await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200);
        state["lastError"].ShouldBeNull();
        state["health"]!["missingFields"]!.AsArray().Select(f => f!.GetValue<string>())
            .ShouldBe(["Rendezvous_Booking_Id__c", "Rendezvous_Event_Status__c", "Rendezvous_Reason__c"]);
        state["health"]!["problems"]!.AsArray().ShouldContain(p => p!.GetValue<string>().Contains("Rendezvous_Event_Status__c", StringComparison.Ordinal));

        // A reschedule updates the same Event by its id; nothing new is created, also when the outbox repeats the message.
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-15T14:00:00Z", reason = "Later" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        await app.WithDbAsync(db => db.Database.ExecuteSqlAsync($"""
            UPDATE outbox_messages SET processed_at = NULL, handled_by = array_remove(handled_by, 'salesforce')
            WHERE payload->>'bookingId' = {id}
            """));
        await app.RunOutboxAsync();
        Sf.EventById(eventId)!["StartDateTime"]!.GetValue<string>().ShouldBe("2027-03-15T14:00:00Z");
        Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/{eventId}").Count.ShouldBeGreaterThanOrEqualTo(2);
        Sf.Events.Values.Count(e => e["Subject"]?.GetValue<string>() == created["Subject"]!.GetValue<string>()
            && e["StartDateTime"]?.GetValue<string>() is "2027-03-15T11:00:00Z" or "2027-03-15T14:00:00Z").ShouldBe(1);
    }

    // Without the booking id field a create is a POST, which is not safe to repeat: Salesforce may act and the answer be lost
    // ("Status Codes and Error Responses": 503). The retry looks for the Event first (SOQL on Event by Subject and
    // StartDateTime) and adopts it, so the booking still has one Event.
    [DbFact]
    public async Task A_create_whose_answer_was_lost_is_found_on_the_retry_and_not_made_twice()
    {
        Sf.MissingFields.UnionWith(["Rendezvous_Booking_Id__c", "Rendezvous_Event_Status__c", "Rendezvous_Reason__c"]);
        var (slug, _) = await ConnectedPageAsync();
        Sf.LoseNextCreateAnswer = true;
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-29T09:00:00Z", Scenario.Customer("Lost Answer", Email())))["id"]!
            .GetValue<string>();
        await app.RunOutboxAsync();
        (await OutboxPendingAsync(id)).ShouldBeGreaterThan(0);
        var made = Sf.Events.Values.Where(e => e["Subject"]?.GetValue<string>() == "Intro call with Lost Answer").ToList();
        made.Count.ShouldBe(1);

        app.Clock.Advance(Duration.FromMinutes(5));
        await app.RunOutboxAsync();
        (await OutboxPendingAsync(id)).ShouldBe(0);
        Sf.Events.Values.Count(e => e["Subject"]?.GetValue<string>() == "Intro call with Lost Answer").ShouldBe(1);
        var record = await app.WithDbAsync(db => db.CrmRecords.SingleAsync(r => r.BookingId == new BookingId(Guid.Parse(id))));
        record.ExternalId.ShouldBe(made[0]["Id"]!.GetValue<string>());
        Sf.RequestsTo("GET", FakeSalesforce.Api + "/query").ShouldContain(r => (r.QueryValue("q") ?? "").StartsWith("SELECT Id FROM Event", StringComparison.Ordinal));
    }

    // "CustomField" in the Tooling API Developer Guide: POST /tooling/sobjects/CustomField with FullName and Metadata (Event
    // fields are Activity fields), 201 with the new id. The setup creates the missing fields; then the Event carries them
    // and the booking id is set on the Event that was made before, so no second Event appears.
    [DbFact]
    public async Task The_setup_creates_the_missing_fields_with_the_tooling_api_and_later_writes_fill_them()
    {
        Sf.MissingFields.UnionWith(["Rendezvous_Booking_Id__c", "Rendezvous_Event_Status__c", "Rendezvous_Reason__c"]);
        var (slug, pageId) = await ConnectedPageAsync();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-18T11:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        var eventId = (await app.WithDbAsync(db => db.CrmRecords.SingleAsync(r => r.BookingId == new BookingId(Guid.Parse(id))))).ExternalId!;
        var before = Sf.RequestsTo("POST", FakeSalesforce.Api + "/tooling/sobjects/CustomField").Count;

        var fixedUp = await (await app.Client().PostAsync($"/api/v1/booking-pages/{pageId}/salesforce/fields", null)).ExpectAsync(200);
        fixedUp["health"]!["missingFields"]!.AsArray().ShouldBeEmpty();
        fixedUp["health"]!["problems"]!.AsArray().ShouldNotContain(p => p!.GetValue<string>().Contains("lacks", StringComparison.Ordinal));
        var requests = Sf.RequestsTo("POST", FakeSalesforce.Api + "/tooling/sobjects/CustomField").Skip(before).Select(r => JsonNode.Parse(r.Body)!).ToList();
        requests.Select(r => r["FullName"]!.GetValue<string>())
            .ShouldBe(["Activity.Rendezvous_Booking_Id__c", "Activity.Rendezvous_Event_Status__c", "Activity.Rendezvous_Reason__c"]);
        var bookingIdField = requests[0]["Metadata"]!;
        (bookingIdField["type"]!.GetValue<string>(), bookingIdField["externalId"]!.GetValue<bool>(), bookingIdField["unique"]!.GetValue<bool>())
            .ShouldBe(("Text", true, true));
        requests[1]["Metadata"]!["valueSet"]!["valueSetDefinition"]!["value"]!.AsArray().Select(v => v!["fullName"]!.GetValue<string>())
            .ShouldContain("Rescheduled (Reassigned by User)");

        // Asking again creates nothing: every field is there.
        await (await app.Client().PostAsync($"/api/v1/booking-pages/{pageId}/salesforce/fields", null)).ExpectAsync(200);
        Sf.RequestsTo("POST", FakeSalesforce.Api + "/tooling/sobjects/CustomField").Count.ShouldBe(before + 3);

        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "Unwell" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        var e = Sf.EventById(eventId)!;
        e["Rendezvous_Booking_Id__c"]!.GetValue<string>().ShouldBe(id);
        e["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Canceled");
        e["Rendezvous_Reason__c"]!.GetValue<string>().ShouldBe("Unwell");
        Sf.Events.Values.Count(x => x["Rendezvous_Booking_Id__c"]?.GetValue<string>() == id).ShouldBe(1);
    }

    // Seed 002 lists five lifecycle phases; the Completed and No-show ones, written through "Update a Record".
    [DbFact]
    public async Task Completed_and_no_show_bookings_show_those_statuses_on_their_events()
    {
        var (slug, _) = await ConnectedPageAsync();
        var done = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-19T09:00:00Z"))["id"]!.GetValue<string>();
        var missed = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-19T10:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        app.Clock.Reset(Instant.FromUtc(2027, 3, 19, 10, 5));
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{missed}/no-show", new { reason = "Did not join" })).ExpectAsync(200);
        app.Clock.Reset(Instant.FromUtc(2027, 3, 19, 12, 0));
        (await app.WithScopeAsync(sp => sp.GetRequiredService<Rendezvous.Server.Workers.BookingCompletion>().CompleteDueAsync(100, CancellationToken.None)))
            .ShouldBeGreaterThanOrEqualTo(1);
        await app.RunOutboxAsync();

        Sf.EventFor(done)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Completed");
        Sf.EventFor(missed)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("No-show");
    }

    private async Task<(string Id, string Email)> UserAsync(string name)
    {
        var email = $"{name.ToLowerInvariant()}.{Guid.NewGuid():N}@acme.example";
        var created = await (await app.Client().PostJsonAsync("/api/v1/users", new { name, email, timeZone = "Europe/London", role = "member" })).ExpectAsync(201);
        return (created["id"]!.GetValue<string>(), email);
    }

    /// <summary>A page of <paramref name="owner"/>'s, connected to Salesforce by one administrator's Salesforce user.</summary>
    private async Task<(string Slug, string PageId)> OwnedPageAsync(string owner, string org = FakeSalesforce.DefaultOrg)
    {
        var admin = app.Client();
        var (slug, pageId) = await ConferencingScenario.PageAsync(admin, owner);
        (await app.ConnectAsync(admin, "salesforce", pageId, Sf.IssueCode(AdminSalesforceUser, org)))["status"]!.GetValue<string>().ShouldBe("connected");
        return (slug, pageId);
    }

    private const string AdminSalesforceUser = "005ADMIN000000001A";

    private async Task ReassignAsync(string bookingId, string toPageId) =>
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/reassign", new { bookingPageId = toPageId })).ExpectAsync(200);

    // Seed 002: "the Salesforce Activity ownership field will show the Reassigned Booking owner". One administrator connects
    // both pages (so the connection's user never changes); the owner is the booking owner's Salesforce user, found with SOQL
    // on User by email ("Query"), and the reassignment goes through the real route.
    [DbFact]
    public async Task Reassignment_makes_the_new_booking_owner_the_events_owner_even_when_one_administrator_connected_every_page()
    {
        var ada = await UserAsync("Ada");
        var bob = await UserAsync("Bob");
        Sf.Users[ada.Email] = "005ADA0000000001AA";
        Sf.Users[bob.Email] = "005BOB0000000001AA";
        var (slugA, _) = await OwnedPageAsync(ada.Id);
        var (_, pageB) = await OwnedPageAsync(bob.Id);
        var id = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-16T09:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        Sf.EventFor(id)!["OwnerId"]!.GetValue<string>().ShouldBe("005ADA0000000001AA");
        Sf.RequestsTo("GET", FakeSalesforce.Api + "/query").ShouldContain(r => (r.QueryValue("q") ?? "").Contains($"FROM User WHERE Email = '{ada.Email}'", StringComparison.Ordinal));

        await ReassignAsync(id, pageB);
        await app.RunOutboxAsync();
        var moved = Sf.EventFor(id)!;
        moved["OwnerId"]!.GetValue<string>().ShouldBe("005BOB0000000001AA");
        moved["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled (Reassigned by User)");

        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-16T13:00:00Z", reason = "Later" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        Sf.EventFor(id)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Rescheduled (Reassigned by User)");
        Sf.EventFor(id)!["OwnerId"]!.GetValue<string>().ShouldBe("005BOB0000000001AA");
    }

    // When no Salesforce user has the owner's email, the health of the page's connection says so and the Event stays with
    // the connecting user; an administrator's choice of Salesforce user then wins over the email.
    [DbFact]
    public async Task An_owner_without_a_salesforce_user_is_shown_in_health_and_an_explicit_choice_wins()
    {
        var cara = await UserAsync("Cara");
        var (slug, pageId) = await OwnedPageAsync(cara.Id);
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-22T09:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        Sf.EventFor(id)!["OwnerId"]!.GetValue<string>().ShouldBe(AdminSalesforceUser);

        var health = (await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200))["health"]!;
        health["owner"]!["source"]!.GetValue<string>().ShouldBe("email");
        health["owner"]!["externalUserId"].ShouldBeNull();
        health["problems"]!.AsArray().ShouldContain(p => p!.GetValue<string>().Contains($"No active Salesforce user has the email {cara.Email}", StringComparison.Ordinal));

        // Only administrators choose, and only a Salesforce user id in an org the organization is connected to.
        var member = app.Client(await Scenario.CreateKeyAsync(app.Client(), cara.Id));
        await (await member.PutJsonAsync($"/api/v1/users/{cara.Id}/crm-owners/salesforce",
            new { accountId = FakeSalesforce.DefaultOrg, externalUserId = "005CARA000000001AA" })).ExpectAsync(403);
        (await (await app.Client().PutJsonAsync($"/api/v1/users/{cara.Id}/crm-owners/salesforce",
            new { accountId = FakeSalesforce.DefaultOrg, externalUserId = "00Q000000000001AAA" })).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("externalUserId");
        (await (await app.Client().PutJsonAsync($"/api/v1/users/{cara.Id}/crm-owners/salesforce",
            new { accountId = "00D999999999999AAA", externalUserId = "005CARA000000001AA" })).ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("accountId");

        var chosen = await (await app.Client().PutJsonAsync($"/api/v1/users/{cara.Id}/crm-owners/salesforce",
            new { accountId = FakeSalesforce.DefaultOrg, externalUserId = "005CARA000000001AA" })).ExpectAsync(200);
        chosen["source"]!.GetValue<string>().ShouldBe("manual");
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-22T11:00:00Z" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        Sf.EventFor(id)!["OwnerId"]!.GetValue<string>().ShouldBe("005CARA000000001AA");
        var after = (await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200))["health"]!;
        after["problems"]!.AsArray().ShouldBeEmpty();
        after["owner"]!["externalUserId"]!.GetValue<string>().ShouldBe("005CARA000000001AA");
        (await (await app.Client().GetAsync($"/api/v1/users/{cara.Id}/crm-owners")).ExpectAsync(200)).AsArray().Count.ShouldBe(1);
    }

    // Seed 001 ("not connected to the same CRM solution": nothing is updated); the identity URL of "OAuth 2.0 Web Server Flow"
    // tells the orgs apart. Through the real reassignment route.
    [DbFact]
    public async Task Reassignment_to_a_page_without_salesforce_or_in_another_org_changes_nothing_there()
    {
        var ada = await UserAsync("Ada");
        var dan = await UserAsync("Dan");
        var eve = await UserAsync("Eve");
        var (slugA, _) = await OwnedPageAsync(ada.Id);
        var (_, otherOrgPage) = await OwnedPageAsync(dan.Id, org: "00D000000000002AAA");
        var (_, plainPage) = await ConferencingScenario.PageAsync(app.Client(), eve.Id);
        var first = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-17T09:00:00Z"))["id"]!.GetValue<string>();
        var second = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-17T10:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        var before = Sf.Requests.Count;

        await ReassignAsync(first, plainPage);
        await ReassignAsync(second, otherOrgPage);
        await app.RunOutboxAsync();

        Sf.Requests.Count.ShouldBe(before);
        Sf.EventFor(first)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled");
        Sf.EventFor(second)!["OwnerId"]!.GetValue<string>().ShouldBe(AdminSalesforceUser);
    }

    private Task<int> OutboxPendingAsync(string bookingId) => app.WithDbAsync(db =>
        db.Database.SqlQuery<int>($"""
            SELECT count(*)::int AS "Value" FROM outbox_messages WHERE processed_at IS NULL AND payload->>'bookingId' = {bookingId}
            """).SingleAsync());
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
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
        Sf.ExternalIdFieldMissing = false;
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

        // Three upserts, all to the same external id, and the one Lead looked up once.
        var upserts = Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/Rendezvous_Booking_Id__c/{id}");
        upserts.Count.ShouldBe(3);
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
        var upserts = Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/Rendezvous_Booking_Id__c/{id}").Count;

        await app.WithDbAsync(async db =>
        {
            var booking = await db.Bookings.SingleAsync(b => b.Id == new BookingId(Guid.Parse(id)));
            booking.Reschedule(Instant.FromUtc(2027, 3, 11, 14, 0), Actor.FromCalendar(booking.OwnerId), null, app.Clock.GetCurrentInstant(), quiet: true)
                .IsSuccess.ShouldBeTrue();
            await db.SaveChangesAsync();
            return 0;
        });
        await app.RunOutboxAsync();

        Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/Rendezvous_Booking_Id__c/{id}").Count.ShouldBe(upserts);
        Sf.EventFor(id)!["StartDateTime"]!.GetValue<string>().ShouldBe("2027-03-11T11:00:00Z");
    }

    // Delivery is at least once: a repeat upserts the same external id again and creates nothing new. Follows "Insert or
    // Update (Upsert) a Record Using an External ID" (a matched external ID updates: 200, created false).
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

        Sf.RequestsTo("PATCH", $"{FakeSalesforce.Api}/sobjects/Event/Rendezvous_Booking_Id__c/{id}").Count.ShouldBe(2);
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

    // Upsert page: an external ID field the org does not have is answered 404 NOT_FOUND. That needs someone to add the
    // field, so the work is retried (not dropped) and the connection shows why.
    [DbFact]
    public async Task A_missing_custom_field_is_shown_on_the_connection_and_the_work_goes_through_once_fixed()
    {
        var (slug, pageId) = await ConnectedPageAsync();
        Sf.ExternalIdFieldMissing = true;
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T11:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        var state = await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/salesforce")).ExpectAsync(200);
        state["lastError"]!.GetValue<string>().ShouldContain("NOT_FOUND");
        (await OutboxPendingAsync(id)).ShouldBeGreaterThan(0);

        Sf.ExternalIdFieldMissing = false;
        app.Clock.Advance(Duration.FromMinutes(5));
        await app.RunOutboxAsync();
        Sf.EventFor(id).ShouldNotBeNull();
    }

    // Seed 001: reassigned between two pages connected to the same org, the Event's owner becomes the new page's user and
    // its status reads "... (Reassigned by User)". The reassignment feature raises booking.reassigned; this test builds
    // that outbox message by hand.
    [DbFact]
    public async Task Reassignment_between_pages_of_one_org_moves_the_owner_and_marks_the_status()
    {
        var (slugA, pageA) = await ConnectedPageAsync(user: "005AAAAAAAAAAAAAAA");
        var (_, pageB) = await ConnectedPageAsync(user: "005BBBBBBBBBBBBBBB");
        var id = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-16T09:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        Sf.EventFor(id)!["OwnerId"]!.GetValue<string>().ShouldBe("005AAAAAAAAAAAAAAA");

        await ReassignAsync(id, pageB);
        await app.RunOutboxAsync();
        var moved = Sf.EventFor(id)!;
        moved["OwnerId"]!.GetValue<string>().ShouldBe("005BBBBBBBBBBBBBBB");
        moved["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled (Reassigned by User)");

        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-16T13:00:00Z", reason = "Later" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        Sf.EventFor(id)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Rescheduled (Reassigned by User)");
    }

    // Seed 001 ("not connected to the same CRM solution": nothing is updated); the identity URL of "OAuth 2.0 Web Server Flow"
    // tells the orgs apart.
    [DbFact]
    public async Task Reassignment_to_a_page_without_salesforce_or_in_another_org_changes_nothing_there()
    {
        var (slugA, _) = await ConnectedPageAsync(user: "005AAAAAAAAAAAAAAA");
        var (_, otherOrgPage) = await ConnectedPageAsync(user: "005CCCCCCCCCCCCCCC", org: "00D000000000002AAA");
        var plainSlug = await Scenario.CreatePageAsync(app.Client());
        var plainPage = await app.PageIdAsync(app.Client(), plainSlug);
        var first = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-17T09:00:00Z"))["id"]!.GetValue<string>();
        var second = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-17T10:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        var before = Sf.Requests.Count;

        await ReassignAsync(first, plainPage);
        await ReassignAsync(second, otherOrgPage);
        await app.RunOutboxAsync();

        Sf.Requests.Count.ShouldBe(before);
        Sf.EventFor(first)!["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled");
        Sf.EventFor(second)!["OwnerId"]!.GetValue<string>().ShouldBe("005AAAAAAAAAAAAAAA");
    }

    /// <summary>
    /// What reassignment will do: the booking moves to the other page and its owner, and a booking.reassigned event naming the
    /// previous page and owner is written to the outbox in the same transaction.
    /// </summary>
    private Task<int> ReassignAsync(string bookingId, string toPageId) => app.WithDbAsync(async db =>
    {
        var id = new BookingId(Guid.Parse(bookingId));
        var page = await db.BookingPages.SingleAsync(p => p.Id == new BookingPageId(Guid.Parse(toPageId)));
        var booking = await db.Bookings.AsNoTracking().SingleAsync(b => b.Id == id);
        await using var tx = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlAsync($"UPDATE bookings SET booking_page_id = {page.Id.Value}, owner_id = {page.OwnerId.Value} WHERE id = {id.Value}");
        var payload = JsonSerializer.SerializeToNode(new BookingEvent("booking.reassigned", id, booking.OrganizationId, page.Id, booking.Status,
            booking.DetailedStatus, Actor.ForUser(page.OwnerId), null, booking.Start, booking.End, null, null, app.Clock.GetCurrentInstant()),
            JsonDefaults.Options)!.AsObject();
        payload["previousBookingPageId"] = booking.BookingPageId.ToString();
        payload["previousOwnerId"] = booking.OwnerId.ToString();
        db.OutboxMessages.Add(new OutboxMessage
        {
            OrganizationId = booking.OrganizationId,
            Type = "booking.reassigned",
            Payload = payload.ToJsonString(),
            CreatedAt = app.Clock.GetCurrentInstant(),
            AvailableAt = app.Clock.GetCurrentInstant(),
        });
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return 0;
    });

    private Task<int> OutboxPendingAsync(string bookingId) => app.WithDbAsync(db =>
        db.Database.SqlQuery<int>($"""
            SELECT count(*)::int AS "Value" FROM outbox_messages WHERE processed_at IS NULL AND payload->>'bookingId' = {bookingId}
            """).SingleAsync());
}

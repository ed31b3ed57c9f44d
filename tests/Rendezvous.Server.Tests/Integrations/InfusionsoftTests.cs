using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure.Fakes;
using Shouldly;

namespace Rendezvous.Server.Tests.Integrations;

public sealed class InfusionsoftApp : IntegrationApp;

/// <summary>
/// Keap (Infusionsoft) lifecycle tags end to end, against a local fake that answers as Keap's developer documentation
/// describes ("Getting Started with OAuth2", REST v1 Contacts and Tags, "Throttles and Quotas").
/// </summary>
public sealed class InfusionsoftTests(InfusionsoftApp app) : IClassFixture<InfusionsoftApp>, IAsyncLifetime
{
    private FakeKeap Keap => app.Keap;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        app.Clock.Reset(RendezvousApp.Start);
        Keap.ClearFaults();
        return Task.CompletedTask;
    }

    private async Task<(string Slug, string PageId)> ConnectedPageAsync(string account = "ab123.infusionsoft.com", object? settings = null)
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var pageId = await app.PageIdAsync(admin, slug);
        if (settings is not null)
        {
            await (await admin.PutJsonAsync($"/api/v1/booking-pages/{pageId}/infusionsoft", settings)).ExpectAsync(200);
        }

        var connected = await app.ConnectAsync(admin, "infusionsoft", pageId, Keap.IssueCode(account));
        connected["status"]!.GetValue<string>().ShouldBe("connected");
        connected["account"]!["id"]!.GetValue<string>().ShouldBe(account);
        return (slug, pageId);
    }

    private static string Email() => $"kay.{Guid.NewGuid():N}@example.com";

    private long Tag(string name) => Keap.Tags[name];

    // "Getting Started with OAuth2": the authorization request's parameters and the code exchange at /token.
    // The web screen's connect comes back to the screen (the flow is shared with Salesforce, which tests every outcome).
    [DbFact]
    public async Task Connecting_Keap_from_the_web_screen_returns_the_browser_to_the_pages_CRM_screen()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var pageId = await app.PageIdAsync(admin, slug);
        var userId = await Scenario.CreateUserAsync(admin, "Keap Web Admin", "administrator");
        var email = (await (await admin.GetAsync($"/api/v1/users/{userId}")).ExpectAsync(200))["email"]!.GetValue<string>();
        await (await admin.PutJsonAsync($"/api/v1/users/{userId}/password", new { password = "keap web password 1" })).ExpectAsync(204);
        var web = new Web.WebSession(app);
        (await web.SignInAsync(email, "keap web password 1")).StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        var screen = $"/app/pages/{pageId}/crm";

        var start = await web.PostAsync($"{screen}?handler=ConnectKeap", [], tokenFrom: screen);
        start.StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        start.Headers.Location!.GetLeftPart(UriPartial.Path).ShouldBe(Keap.BaseUrl + "/app/oauth/authorize");
        var state = System.Web.HttpUtility.ParseQueryString(start.Headers.Location.Query)["state"]!;

        var back = await app.Anonymous().GetAsync($"/api/v1/infusionsoft/callback?code={Keap.IssueCode()}&state={Uri.EscapeDataString(state)}");
        back.StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        back.Headers.Location!.OriginalString.ShouldBe($"{screen}?connect=infusionsoft&outcome=connected");
        await web.GetAsync(back.Headers.Location.OriginalString);
        (await web.GetAsync(screen)).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        web.LastHtml.ShouldContain("Keap is connected to this page.");
        (await (await admin.GetAsync($"/api/v1/booking-pages/{pageId}/infusionsoft")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("connected");
    }

    [DbFact]
    public async Task Connecting_a_page_authorizes_at_keap_and_stores_the_tokens_encrypted()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var pageId = await app.PageIdAsync(admin, slug);
        var authorize = await (await admin.GetAsync($"/api/v1/infusionsoft/authorize?bookingPageId={pageId}")).ExpectAsync(200);
        var url = new Uri(authorize["url"]!.GetValue<string>());
        url.GetLeftPart(UriPartial.Path).ShouldBe(Keap.BaseUrl + "/app/oauth/authorize");
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        query["client_id"].ShouldBe(FakeKeap.ClientId);
        query["response_type"].ShouldBe("code");
        query["scope"].ShouldBe("full");
        query["redirect_uri"].ShouldBe("https://book.example/api/v1/infusionsoft/callback");

        var connected = await (await app.Anonymous().GetAsync(
            $"/api/v1/infusionsoft/callback?code={Keap.IssueCode("zz999.infusionsoft.com")}&state={Uri.EscapeDataString(query["state"]!)}")).ExpectAsync(200);
        connected["status"]!.GetValue<string>().ShouldBe("connected");
        connected["account"]!["id"]!.GetValue<string>().ShouldBe("zz999.infusionsoft.com");
        connected["tags"]!["scheduled"]!["name"]!.GetValue<string>().ShouldBe("Rendezvous: Scheduled");
        connected.ToJsonString().ShouldNotContain("token", Case.Insensitive);

        var stored = await app.WithDbAsync(db => db.CrmConnections.SingleAsync(c => c.BookingPageId == new BookingPageId(Guid.Parse(pageId))));
        stored.ProtectedAccessToken!.ShouldNotStartWith("ka");
        stored.ProtectedRefreshToken!.ShouldNotStartWith("kr");
        stored.AccessTokenExpiresAt.ShouldBe(app.Clock.GetCurrentInstant() + Duration.FromDays(1));

        // Tag ids are configurable per stage; unknown stages and bad ids are refused naming the field.
        var bad = await (await admin.PutJsonAsync($"/api/v1/booking-pages/{pageId}/infusionsoft", new { tagIds = new { booked = 5, canceled = -1 } })).ExpectAsync(400);
        bad["errors"]!.AsObject().Select(kv => kv.Key).ShouldBe(["tagIds.booked", "tagIds.canceled"], ignoreOrder: true);
        var set = await (await admin.PutJsonAsync($"/api/v1/booking-pages/{pageId}/infusionsoft", new { tagIds = new { canceled = 77 } })).ExpectAsync(200);
        set["tags"]!["canceled"]!["id"]!.GetValue<long>().ShouldBe(77);
        set["tags"]!["canceled"]!["source"]!.GetValue<string>().ShouldBe("configured");
        set["status"]!.GetValue<string>().ShouldBe("connected");
    }

    // REST v1: create or update a contact by email, list/create tags by name, apply tags to a contact.
    [DbFact]
    public async Task Each_lifecycle_stage_tags_the_contact_found_or_created_by_email()
    {
        var configured = Keap.AddTag("Booked via website");
        var (slug, _) = await ConnectedPageAsync(settings: new { tagIds = new { scheduled = configured } });
        var email = Email();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z", Scenario.Customer("Kay Jones", email)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        Keap.Contacts.ShouldContainKey(email);
        Keap.TagsOf(email).ShouldBe([configured]);
        var put = Keap.RequestsTo("PUT", FakeKeap.Rest + "/contacts").Single(r => r.Body.Contains(email, StringComparison.Ordinal));
        var contact = JsonNode.Parse(put.Body)!;
        contact["duplicate_option"]!.GetValue<string>().ShouldBe("Email");
        contact["given_name"]!.GetValue<string>().ShouldBe("Kay");
        contact["family_name"]!.GetValue<string>().ShouldBe("Jones");

        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-09T10:00:00Z", reason = "x" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "y" })).ExpectAsync(200);
        await app.RunOutboxAsync();

        // Stages without a configured id use the tag of their default name, created once in Keap.
        Keap.TagsOf(email).ShouldBe([configured, Tag("Rendezvous: Rescheduled"), Tag("Rendezvous: Canceled")], ignoreOrder: true);
        Keap.RequestsTo("POST", FakeKeap.Rest + "/tags").Count(r => r.Body.Contains("Rendezvous: Canceled", StringComparison.Ordinal)).ShouldBe(1);
        // The contact was looked up once and remembered.
        Keap.RequestsTo("PUT", FakeKeap.Rest + "/contacts").Count(r => r.Body.Contains(email, StringComparison.Ordinal)).ShouldBe(1);
        var record = await app.WithDbAsync(db => db.CrmRecords.SingleAsync(r => r.BookingId == new BookingId(Guid.Parse(id)) && r.Provider == "infusionsoft"));
        record.AppliedTags.ShouldBe(["scheduled", "rescheduled", "canceled"]);
        record.ExternalId.ShouldBe(Keap.Contacts[email].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // A second booking by the same customer reuses the tags found before (no lookup by name again).
        var lookups = Keap.RequestsTo("GET", FakeKeap.Rest + "/tags").Count;
        var second = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z", Scenario.Customer("Kay Jones", email)))["id"]!.GetValue<string>();
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{second}/cancel", new { reason = "z" })).ExpectAsync(200);
        await app.RunOutboxAsync();
        Keap.RequestsTo("GET", FakeKeap.Rest + "/tags").Count.ShouldBe(lookups);
        Keap.Contacts.Count(c => c.Key == email).ShouldBe(1);
    }

    // REST v1 "Create or Update a Contact" (duplicate_option Email) and "Apply Tags" (an applied tag is reported, not
    // duplicated): a repeat adds nothing; a quiet move (seed 000) sends nothing.
    [DbFact]
    public async Task An_outbox_repeat_and_quiet_events_add_nothing()
    {
        var (slug, _) = await ConnectedPageAsync();
        var email = Email();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T10:00:00Z", Scenario.Customer("Repeat Person", email)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        await app.WithDbAsync(db => db.Database.ExecuteSqlAsync($"""
            UPDATE outbox_messages SET processed_at = NULL, handled_by = array_remove(handled_by, 'infusionsoft') WHERE payload->>'bookingId' = {id}
            """));
        await app.RunOutboxAsync();
        Keap.Contacts.Count(c => c.Key == email).ShouldBe(1);
        Keap.TagsOf(email).Count.ShouldBe(1);

        var before = Keap.Requests.Count;
        await app.WithDbAsync(async db =>
        {
            var booking = await db.Bookings.SingleAsync(b => b.Id == new BookingId(Guid.Parse(id)));
            booking.Reschedule(Instant.FromUtc(2027, 3, 11, 15, 0), Actor.FromCalendar(booking.OwnerId), null, app.Clock.GetCurrentInstant(), quiet: true);
            await db.SaveChangesAsync();
            return 0;
        });
        await app.RunOutboxAsync();
        Keap.Requests.Count.ShouldBe(before);
    }

    // REST v1 answers 404 for a contact that no longer exists (deleted or merged in Keap): it is found or created again.
    [DbFact]
    public async Task A_contact_deleted_in_keap_is_created_again_and_tagged()
    {
        var (slug, _) = await ConnectedPageAsync();
        var email = Email();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T11:00:00Z", Scenario.Customer("Gone Again", email)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        var first = Keap.Contacts[email].Id;
        Keap.Contacts.Remove(email);

        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "x" })).ExpectAsync(200);
        await app.RunOutboxAsync();

        Keap.Contacts[email].Id.ShouldNotBe(first);
        Keap.TagsOf(email).ShouldBe([Tag("Rendezvous: Canceled")]);
        Keap.RequestsTo("POST", $"{FakeKeap.Rest}/contacts/{first}/tags").Last().ShouldNotBeNull();
    }

    // "Getting Started with OAuth2": access tokens expire after expires_in seconds; the refresh grant returns a new access
    // token and a new refresh token, and the old refresh token no longer works.
    [DbFact]
    public async Task Expired_access_tokens_are_refreshed_and_the_rotated_refresh_token_is_kept()
    {
        var (slug, pageId) = await ConnectedPageAsync();
        var before = await app.WithDbAsync(db => db.CrmConnections.SingleAsync(c => c.BookingPageId == new BookingPageId(Guid.Parse(pageId))));

        // A day later the access token has expired: it is renewed before the call.
        app.Clock.Advance(Duration.FromDays(1));
        var first = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T10:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        var refreshed = await app.WithDbAsync(db => db.CrmConnections.SingleAsync(c => c.BookingPageId == new BookingPageId(Guid.Parse(pageId))));
        refreshed.ProtectedRefreshToken.ShouldNotBe(before.ProtectedRefreshToken);
        refreshed.AccessTokenExpiresAt.ShouldBe(app.Clock.GetCurrentInstant() + Duration.FromDays(1));
        var refresh = Keap.RequestsTo("POST", "/token").Last();
        refresh.Form("grant_type").ShouldBe("refresh_token");
        refresh.Header("Authorization").ShouldStartWith("Basic ");

        // A token Keap refuses early (401) is renewed once and the call repeated.
        Keap.ExpireAccessTokens();
        var second = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T11:00:00Z"))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        foreach (var id in new[] { first, second })
        {
            (await app.WithDbAsync(db => db.CrmRecords.SingleAsync(r => r.BookingId == new BookingId(Guid.Parse(id)) && r.Provider == "infusionsoft")))
                .LastStatus.ShouldBe("scheduled");
        }
    }

    // "Throttles and Quotas": over the quota Keap answers 429; use exponential backoff. The outbox retries later.
    [DbFact]
    public async Task Throttling_and_server_errors_are_retried_through_the_outbox()
    {
        var (slug, pageId) = await ConnectedPageAsync();
        var email = Email();
        const string quota = """{"fault":{"faultstring":"Rate limit quota violation. Quota limit exceeded.","detail":{"errorcode":"policies.ratelimit.QuotaViolation"}}}""";
        Keap.Fail("PUT", FakeKeap.Rest + "/contacts", new FakeAnswer(429, quota), times: 3);
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T10:00:00Z", Scenario.Customer("Slow Down", email)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        Keap.Contacts.ContainsKey(email).ShouldBeFalse();
        var state = await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/infusionsoft")).ExpectAsync(200);
        state["lastError"]!.GetValue<string>().ShouldContain("429");

        Keap.Fail("POST", FakeKeap.Rest + "/contacts/", new FakeAnswer(502, """{"message":"Bad gateway"}"""), times: 3);
        app.Clock.Advance(Duration.FromMinutes(5));
        await app.RunOutboxAsync();
        Keap.TagsOf(email).ShouldBeEmpty();

        app.Clock.Advance(Duration.FromMinutes(10));
        await app.RunOutboxAsync();
        Keap.TagsOf(email).Count.ShouldBe(1);
        (await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageId}/infusionsoft")).ExpectAsync(200))["lastError"].ShouldBeNull();
    }

    private async Task<(string Id, string Email)> UserAsync(string name)
    {
        var email = $"{name.ToLowerInvariant()}.{Guid.NewGuid():N}@acme.example";
        var created = await (await app.Client().PostJsonAsync("/api/v1/users", new { name, email, timeZone = "Europe/London", role = "member" })).ExpectAsync(201);
        return (created["id"]!.GetValue<string>(), email);
    }

    private async Task<(string Slug, string PageId)> OwnedPageAsync(string owner, string account = "ab123.infusionsoft.com")
    {
        var admin = app.Client();
        var (slug, pageId) = await Conferencing.ConferencingScenario.PageAsync(admin, owner);
        (await app.ConnectAsync(admin, "infusionsoft", pageId, Keap.IssueCode(account)))["status"]!.GetValue<string>().ShouldBe("connected");
        return (slug, pageId);
    }

    private async Task ReassignAsync(string bookingId, string toPageId) =>
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/reassign", new { bookingPageId = toPageId })).ExpectAsync(200);

    // Seed 001: reassigned between two pages connected to the same Keap account, the contact gets the "reassigned" tag and
    // its owner becomes the new booking owner's Keap user ("Update a Contact" with owner_id; the user found with "List
    // Users" by email_address). The account is the app named in the token answer's scope ("Getting Started with OAuth2").
    // Through the real reassignment route.
    [DbFact]
    public async Task Reassignment_within_one_keap_account_tags_the_contact_and_moves_its_owner_and_otherwise_changes_nothing()
    {
        var ada = await UserAsync("Ada");
        var bob = await UserAsync("Bob");
        var dan = await UserAsync("Dan");
        Keap.Users[bob.Email] = 4242;
        var (slugA, _) = await OwnedPageAsync(ada.Id);
        var (_, pageB) = await OwnedPageAsync(bob.Id);
        var (_, elsewhere) = await OwnedPageAsync(dan.Id, account: "cd456.infusionsoft.com");
        var email = Email();
        var other = Email();
        var moved = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-16T10:00:00Z", Scenario.Customer("Moved Along", email)))["id"]!.GetValue<string>();
        var away = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-16T11:00:00Z", Scenario.Customer("Far Away", other)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        Keap.OwnerOf(email).ShouldBeNull();

        await ReassignAsync(moved, pageB);
        await ReassignAsync(away, elsewhere);
        await app.RunOutboxAsync();

        Keap.TagsOf(email).ShouldContain(Tag("Rendezvous: Reassigned"));
        Keap.OwnerOf(email).ShouldBe(4242);
        var patch = Keap.RequestsTo("PATCH", FakeKeap.Rest + "/contacts/").Single(r => r.Body.Contains("4242", StringComparison.Ordinal));
        JsonNode.Parse(patch.Body)!["owner_id"]!.GetValue<long>().ShouldBe(4242);
        patch.QueryValue("update_mask").ShouldBe("owner_id");
        Keap.RequestsTo("GET", FakeKeap.Rest + "/users").ShouldAllBe(r => r.QueryValue("include_inactive") == "false");
        Keap.TagsOf(other).ShouldNotContain(Keap.Tags.GetValueOrDefault("Rendezvous: Reassigned", -1));
        Keap.TagsOf(other).Count.ShouldBe(1);
        Keap.OwnerOf(other).ShouldBeNull();
    }

    // When no active Keap user has the new owner's email, the contact keeps its owner (the tag is still applied) and the health of
    // the new page's connection says why; an administrator's choice of Keap user is used instead of the email.
    [DbFact]
    public async Task A_new_owner_without_a_keap_user_keeps_the_contacts_owner_and_is_shown_in_health_until_chosen()
    {
        var ada = await UserAsync("Ada");
        var eve = await UserAsync("Eve");
        var (slugA, _) = await OwnedPageAsync(ada.Id);
        var (_, pageE) = await OwnedPageAsync(eve.Id);
        // A Keap user with Eve's email who has left the account (status Inactive) does not stand for her.
        Keap.Users[eve.Email] = 6161;
        Keap.InactiveUsers.Add(6161);
        var email = Email();
        var first = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-23T10:00:00Z", Scenario.Customer("Una Known", email)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();

        await ReassignAsync(first, pageE);
        await app.RunOutboxAsync();
        Keap.TagsOf(email).ShouldContain(Tag("Rendezvous: Reassigned"));
        Keap.OwnerOf(email).ShouldBeNull();
        var health = (await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageE}/infusionsoft")).ExpectAsync(200))["health"]!;
        health["problems"]!.AsArray().ShouldContain(p => p!.GetValue<string>().Contains($"No Keap user has the email {eve.Email}", StringComparison.Ordinal));

        Keap.Users[$"someone.else.{Guid.NewGuid():N}@acme.example"] = 5151;
        await (await app.Client().PutJsonAsync($"/api/v1/users/{eve.Id}/crm-owners/infusionsoft",
            new { accountId = "ab123.infusionsoft.com", externalUserId = "5151" })).ExpectAsync(200);
        var second = (await Scenario.BookAsync(app.Anonymous(), slugA, "2027-03-23T12:00:00Z", Scenario.Customer("Una Known", email)))["id"]!.GetValue<string>();
        await app.RunOutboxAsync();
        await ReassignAsync(second, pageE);
        await app.RunOutboxAsync();
        Keap.OwnerOf(email).ShouldBe(5151);
        (await (await app.Client().GetAsync($"/api/v1/booking-pages/{pageE}/infusionsoft")).ExpectAsync(200))["health"]!["problems"]!.AsArray().ShouldBeEmpty();
    }
}

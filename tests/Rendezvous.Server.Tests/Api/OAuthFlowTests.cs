using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Web;
using Shouldly;

namespace Rendezvous.Server.Tests.Api;

/// <summary>
/// A third-party app, played over plain HTTP: an administrator registers it, a team member allows it on the consent
/// page, the app redeems the code with PKCE, calls the API within its scopes, refreshes, and is cut off by revocation.
/// </summary>
public sealed partial class OAuthFlowTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private const string RedirectUri = "http://127.0.0.1:5999/callback";

    private sealed record RegisteredApp(string ClientId, string? Secret);

    private async Task<WebSession> SignedInAsync(string role)
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, $"OAuth {role}", role);
        var email = (await (await admin.GetAsync($"/api/v1/users/{id}")).ExpectAsync(200))["email"]!.GetValue<string>();
        await (await admin.PutJsonAsync($"/api/v1/users/{id}/password", new { password = "oauth password 1" })).ExpectAsync(204);
        var web = new WebSession(app);
        (await web.SignInAsync(email, "oauth password 1")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        return web;
    }

    private static async Task<RegisteredApp> RegisterAsync(WebSession administrator, string clientType = "confidential")
    {
        var response = await administrator.PostAsync("/app/connected-apps?handler=Register",
            [new("name", "Acme CRM sync"), new("redirectUris", RedirectUri), new("clientType", clientType)], tokenFrom: "/app/connected-apps");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var clientId = ClientIdPattern().Match(administrator.LastHtml).Groups[1].Value;
        clientId.ShouldStartWith("rdv_app_");
        var secret = ClientSecretPattern().Match(administrator.LastHtml) is { Success: true } m ? m.Groups[1].Value : null;
        return new RegisteredApp(clientId, secret);
    }

    private static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static Dictionary<string, string> AuthorizeParameters(RegisteredApp registered, string scope, string challenge) => new()
    {
        ["response_type"] = "code",
        ["client_id"] = registered.ClientId,
        ["redirect_uri"] = RedirectUri,
        ["scope"] = scope,
        ["state"] = "state-123",
        ["code_challenge"] = challenge,
        ["code_challenge_method"] = "S256",
    };

    /// <summary>Shows the consent page, allows, and returns the code from the redirect back to the app.</summary>
    private static async Task<string> ConsentAsync(WebSession user, Dictionary<string, string> parameters)
    {
        var page = await user.GetAsync(QueryHelpers.AddQueryString("/oauth/authorize", parameters!));
        page.StatusCode.ShouldBe(HttpStatusCode.OK, user.LastHtml);
        user.LastHtml.ShouldContain("Allow Acme CRM sync?");
        // The browser may follow the answer's redirect to the app, and only there.
        string.Join(" ", page.Headers.GetValues("Content-Security-Policy")).ShouldContain("form-action 'self' http://127.0.0.1:5999;");
        var back = await user.PostAsync("/oauth/authorize", [.. parameters, new("decision", "allow")]);
        back.StatusCode.ShouldBe(HttpStatusCode.Redirect, user.LastHtml);
        var location = back.Headers.Location!;
        location.GetLeftPart(UriPartial.Path).ShouldBe(RedirectUri);
        var query = QueryHelpers.ParseQuery(location.Query);
        query["state"].ToString().ShouldBe("state-123");
        return query["code"].ToString();
    }

    private async Task<HttpResponseMessage> TokenAsync(RegisteredApp registered, params (string Name, string Value)[] fields)
    {
        var form = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).ToList();
        form.Add(new("client_id", registered.ClientId));
        if (registered.Secret is not null)
        {
            form.Add(new("client_secret", registered.Secret));
        }

        return await app.Anonymous().PostAsync("/oauth/token", new FormUrlEncodedContent(form));
    }

    private static async Task<JsonNode> TokensOf(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    [DbFact]
    public async Task An_app_goes_from_consent_through_code_and_pkce_to_api_calls_refresh_and_revocation()
    {
        var administrator = await SignedInAsync("administrator");
        var registered = await RegisterAsync(administrator);
        registered.Secret.ShouldNotBeNull();
        var member = await SignedInAsync("member");

        var (verifier, challenge) = Pkce();
        var code = await ConsentAsync(member, AuthorizeParameters(registered, "bookings:read pages:read offline_access", challenge));

        // The code alone is not enough: the verifier must match the challenge.
        var wrongVerifier = await TokenAsync(registered, ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", RedirectUri),
            ("code_verifier", Pkce().Verifier));
        wrongVerifier.StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        // A code is good once, and the failed try above spent it: consent again for a fresh one.
        code = await ConsentAsync(member, AuthorizeParameters(registered, "bookings:read pages:read offline_access", challenge));
        var tokens = await TokensOf(await TokenAsync(registered, ("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", RedirectUri), ("code_verifier", verifier)));
        tokens["token_type"]!.GetValue<string>().ShouldBe("Bearer");
        var access = tokens["access_token"]!.GetValue<string>();
        var refresh = tokens["refresh_token"]!.GetValue<string>();

        var api = app.Client(access);
        await (await api.GetAsync("/api/v1/bookings")).ExpectAsync(200);
        await (await api.GetAsync("/api/v1/booking-pages")).ExpectAsync(200);
        await ApiKeyScopeTests.ExpectMissingScopeAsync(
            await api.PostJsonAsync("/api/v1/booking-pages", new { slug = "from-app", title = "From the app", durationMinutes = 30 }), "pages:write");
        // Nor outside the areas it was given at all.
        await ApiKeyScopeTests.ExpectMissingScopeAsync(await api.GetAsync("/api/v1/users"), "users:read");

        var renewed = await TokensOf(await TokenAsync(registered, ("grant_type", "refresh_token"), ("refresh_token", refresh)));
        var access2 = renewed["access_token"]!.GetValue<string>();
        await (await app.Client(access2).GetAsync("/api/v1/bookings")).ExpectAsync(200);
        var refresh2 = renewed["refresh_token"]?.GetValue<string>() ?? refresh;

        // The app revokes its own refresh token: it can no longer renew access.
        var revoke = await app.Anonymous().PostAsync("/oauth/revoke", new FormUrlEncodedContent(
        [
            new("token", refresh2), new("token_type_hint", "refresh_token"), new("client_id", registered.ClientId), new("client_secret", registered.Secret!),
        ]));
        revoke.StatusCode.ShouldBe(HttpStatusCode.OK, await revoke.Content.ReadAsStringAsync());
        (await TokenAsync(registered, ("grant_type", "refresh_token"), ("refresh_token", refresh2))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [DbFact]
    public async Task A_user_sees_the_apps_they_allowed_and_revoking_one_refuses_its_tokens_at_once()
    {
        var administrator = await SignedInAsync("administrator");
        var registered = await RegisterAsync(administrator, clientType: "public");
        registered.Secret.ShouldBeNull();
        var member = await SignedInAsync("member");

        var (verifier, challenge) = Pkce();
        var code = await ConsentAsync(member, AuthorizeParameters(registered, "bookings:read offline_access", challenge));
        var tokens = await TokensOf(await TokenAsync(registered, ("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", RedirectUri), ("code_verifier", verifier)));
        var access = tokens["access_token"]!.GetValue<string>();
        await (await app.Client(access).GetAsync("/api/v1/bookings")).ExpectAsync(200);

        await member.GetAsync("/app/connected-apps");
        member.LastHtml.ShouldContain("Acme CRM sync");
        member.LastHtml.ShouldContain("bookings:read");
        // A member sees their grants, not the organization's registrations.
        member.LastHtml.ShouldNotContain("Register an app");
        var authorizationId = AuthorizationIdPattern().Match(member.LastHtml).Groups[1].Value;
        authorizationId.ShouldNotBeEmpty();

        (await member.PostAsync("/app/connected-apps?handler=Revoke", [new("authorizationId", authorizationId)])).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        await member.GetAsync("/app/connected-apps");
        member.LastHtml.ShouldNotContain(authorizationId);

        await (await app.Client(access).GetAsync("/api/v1/bookings")).ExpectAsync(401);
        (await TokenAsync(registered, ("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"]!.GetValue<string>())))
            .StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        // The administrator still sees the registered app, and can remove it.
        await administrator.GetAsync("/app/connected-apps");
        administrator.LastHtml.ShouldContain(registered.ClientId);
    }

    [DbFact]
    public async Task Pkce_is_required_and_a_denial_goes_back_to_the_app_as_access_denied()
    {
        var administrator = await SignedInAsync("administrator");
        var registered = await RegisterAsync(administrator);
        var parameters = AuthorizeParameters(registered, "bookings:read", Pkce().Challenge);
        parameters.Remove("code_challenge");
        parameters.Remove("code_challenge_method");
        var noPkce = await administrator.GetAsync(QueryHelpers.AddQueryString("/oauth/authorize", parameters!));
        // Refused before any consent is shown (OpenIddict answers the error itself rather than sending it back to the app).
        noPkce.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        administrator.LastHtml.ShouldContain("invalid_request");
        administrator.LastHtml.ShouldContain("code_challenge");

        var withPkce = AuthorizeParameters(registered, "bookings:read", Pkce().Challenge);
        await administrator.GetAsync(QueryHelpers.AddQueryString("/oauth/authorize", withPkce!));
        var denied = await administrator.PostAsync("/oauth/authorize", [.. withPkce, new("decision", "deny")]);
        denied.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        QueryHelpers.ParseQuery(denied.Headers.Location!.Query)["error"].ToString().ShouldBe("access_denied");
    }

    [DbFact]
    public async Task An_app_of_another_organization_is_refused_on_the_consent_page()
    {
        var administrator = await SignedInAsync("administrator");
        var registered = await RegisterAsync(administrator);
        var otherKey = await app.CreateOrganizationAsync("initech-" + Guid.NewGuid().ToString("N")[..6]);
        var other = app.Client(otherKey);
        var id = await Scenario.CreateUserAsync(other, "Initech Person", "member");
        var email = (await (await other.GetAsync($"/api/v1/users/{id}")).ExpectAsync(200))["email"]!.GetValue<string>();
        await (await other.PutJsonAsync($"/api/v1/users/{id}/password", new { password = "oauth password 1" })).ExpectAsync(204);
        var stranger = new WebSession(app);
        (await stranger.SignInAsync(email, "oauth password 1")).StatusCode.ShouldBe(HttpStatusCode.Redirect);

        await stranger.GetAsync(QueryHelpers.AddQueryString("/oauth/authorize", AuthorizeParameters(registered, "bookings:read", Pkce().Challenge)!));
        stranger.LastHtml.ShouldContain("not registered in your organization");
        stranger.LastHtml.ShouldNotContain("decision");
    }

    [GeneratedRegex("id=\"new-client-id\">([^<]+)<")]
    private static partial Regex ClientIdPattern();

    [GeneratedRegex("id=\"new-client-secret\">([^<]+)<")]
    private static partial Regex ClientSecretPattern();

    [GeneratedRegex("name=\"authorizationId\" value=\"([^\"]+)\"")]
    private static partial Regex AuthorizationIdPattern();
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// A third-party app end to end in the browser: an administrator registers it, a team member is sent to the consent page
/// and allows it, the app redeems the code (with PKCE) and calls the API, and the member revokes it under Connected apps.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ConnectedAppsTests(RendezvousServer server)
{
    /// <summary>The app's own address; the browser never reaches it: the test answers for the app.</summary>
    private const string RedirectUri = "http://127.0.0.1:5998/rendezvous/callback";

    [BrowserFact]
    public async Task A_member_allows_an_app_that_then_calls_the_api_until_the_member_revokes_it()
    {
        var admin = await server.SignedInAsync();
        await admin.GetByRole(AriaRole.Link, new() { Name = "Connected apps" }).ClickAsync();
        await admin.GetByLabel("Name").FillAsync("Acme CRM sync");
        await admin.GetByLabel("Redirect addresses").FillAsync(RedirectUri);
        await admin.GetByRole(AriaRole.Button, new() { Name = "Register app" }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "App registered" })).ToBeVisibleAsync();
        var clientId = await admin.Locator("#new-client-id").InnerTextAsync();
        var secret = await admin.Locator("#new-client-secret").InnerTextAsync();
        await Screens.SaveAsync(admin, "connected-apps-registered");

        var (email, password) = (Arrange.Unique("app-member") + "@browser.example", "member password 1");
        var created = await server.PostJsonAsync("/api/v1/users", new { name = "Mina Member", email, timeZone = "Europe/London", role = "member" });
        (await server.Api().PutAsJsonAsync($"/api/v1/users/{created["id"]}/password", new { password })).EnsureSuccessStatusCode();
        var member = await server.SignedInAsync(email, password);

        // The app answers on its redirect address: here, the test keeps the code and shows a page.
        var callback = new TaskCompletionSource<string>();
        await member.Context.RouteAsync(RedirectUri + "**", async route =>
        {
            callback.TrySetResult(route.Request.Url);
            await route.FulfillAsync(new() { Status = 200, ContentType = "text/html", Body = "<!doctype html><title>Acme CRM</title><h1>Connected to Rendezvous</h1>" });
        });

        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var authorize = new Dictionary<string, string>
        {
            ["response_type"] = "code", ["client_id"] = clientId, ["redirect_uri"] = RedirectUri,
            ["scope"] = "bookings:read pages:read offline_access", ["state"] = "s1",
            ["code_challenge"] = challenge, ["code_challenge_method"] = "S256",
        };
        await member.GotoAsync("/oauth/authorize?" + string.Join("&", authorize.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}")));
        await Expect(member.GetByRole(AriaRole.Heading, new() { Name = "Allow Acme CRM sync?" })).ToBeVisibleAsync();
        await Expect(member.GetByRole(AriaRole.Listitem).Filter(new() { HasText = "bookings:read" })).ToBeVisibleAsync();
        await Screens.SaveAsync(member, "oauth-consent");
        await member.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
        await Expect(member.GetByRole(AriaRole.Heading, new() { Name = "Connected to Rendezvous" })).ToBeVisibleAsync();

        var query = new Uri(await callback.Task).Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));
        query["state"].ShouldBe("s1");
        using var app = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        var tokenResponse = await app.PostAsync("/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"], ["redirect_uri"] = RedirectUri,
            ["code_verifier"] = verifier, ["client_id"] = clientId, ["client_secret"] = secret,
        }));
        var tokens = JsonNode.Parse(await tokenResponse.Content.ReadAsStringAsync())!;
        tokenResponse.StatusCode.ShouldBe(HttpStatusCode.OK, tokens.ToJsonString());
        app.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]!.GetValue<string>());
        (await app.GetAsync("/api/v1/bookings")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await app.GetAsync("/api/v1/webhooks")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        await member.GotoAsync("/app/connected-apps");
        var row = member.GetByRole(AriaRole.Row).Filter(new() { HasText = "Acme CRM sync" });
        await Expect(row).ToContainTextAsync("bookings:read");
        await Screens.SaveAsync(member, "connected-apps");
        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke Acme CRM sync" }).ClickAsync();
        await Expect(member.GetByRole(AriaRole.Status)).ToContainTextAsync("Acme CRM sync can no longer use your account");
        await Expect(member.GetByRole(AriaRole.Row).Filter(new() { HasText = "Acme CRM sync" })).ToHaveCountAsync(0);

        (await app.GetAsync("/api/v1/bookings")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

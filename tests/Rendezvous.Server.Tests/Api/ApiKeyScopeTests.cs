using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Server.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Api;

/// <summary>API keys act only within their scopes, until they expire or are revoked, and record when they were last used.</summary>
public sealed class ApiKeyScopeTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private async Task<(string Id, string Key, string UserId)> KeyAsync(object body)
    {
        var me = await Scenario.MyIdAsync(app.Client());
        var created = await (await app.Client().PostJsonAsync($"/api/v1/users/{me}/api-keys", body)).ExpectAsync(201);
        return (created["id"]!.GetValue<string>(), created["key"]!.GetValue<string>(), me);
    }

    internal static async Task ExpectMissingScopeAsync(HttpResponseMessage response, string scope)
    {
        var problem = await response.ExpectAsync(403);
        problem["missingScope"]!.GetValue<string>().ShouldBe(scope);
        problem["code"]!.GetValue<string>().ShouldBe("insufficient_scope");
    }

    [DbFact]
    public async Task A_key_outside_its_scopes_is_refused_with_403_naming_the_missing_scope()
    {
        var (_, key, _) = await KeyAsync(new { name = "bookings reader", scopes = new[] { "bookings:read" } });
        var client = app.Client(key);

        await (await client.GetAsync("/api/v1/bookings")).ExpectAsync(200);
        var refused = await client.GetAsync("/api/v1/booking-pages");
        await ExpectMissingScopeAsync(refused, "pages:read");
        refused.Headers.WwwAuthenticate.ToString().ShouldContain("insufficient_scope");
        await ExpectMissingScopeAsync(await client.PostJsonAsync("/api/v1/booking-pages", new { slug = "nope", title = "Nope", durationMinutes = 30 }), "pages:write");
        await ExpectMissingScopeAsync(await client.PostJsonAsync($"/api/v1/bookings/{Guid.NewGuid()}/cancel", new { reason = "x" }), "bookings:write");
        await ExpectMissingScopeAsync(await client.GetAsync("/api/v1/webhooks"), "webhooks:read");
        await ExpectMissingScopeAsync(await client.GetAsync("/api/v1/outbox/messages"), "admin:read");
    }

    [DbFact]
    public async Task A_key_hands_on_only_scopes_it_holds_and_names_only_known_scopes()
    {
        var (_, narrow, me) = await KeyAsync(new { scopes = new[] { "users:write" } });
        var client = app.Client(narrow);
        await ExpectMissingScopeAsync(await client.PostJsonAsync($"/api/v1/users/{me}/api-keys", new { scopes = new[] { "bookings:write" } }), "bookings:write");
        var made = await (await client.PostJsonAsync($"/api/v1/users/{me}/api-keys", new { scopes = new[] { "users:write" } })).ExpectAsync(201);
        made["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldBe(["users:write"]);

        var unknown = await (await app.Client().PostJsonAsync($"/api/v1/users/{me}/api-keys", new { scopes = new[] { "bookings:delete" } })).ExpectAsync(400);
        unknown.ToJsonString().ShouldContain("scopes");
        // Without scopes a key gets those of the key that made it: the bootstrap key holds them all.
        var all = await (await app.Client().PostJsonAsync($"/api/v1/users/{me}/api-keys", new { name = "everything" })).ExpectAsync(201);
        all["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldBe(ApiScopes.All);
    }

    [DbFact]
    public async Task An_expired_key_is_refused()
    {
        var expires = app.Clock.GetCurrentInstant() + Duration.FromHours(1);
        var (_, key, _) = await KeyAsync(new { scopes = new[] { "bookings:read" }, expiresAt = expires.ToString() });
        await (await app.Client(key).GetAsync("/api/v1/bookings")).ExpectAsync(200);

        app.Clock.Advance(Duration.FromHours(1));
        await (await app.Client(key).GetAsync("/api/v1/bookings")).ExpectAsync(401);

        var past = app.Clock.GetCurrentInstant() - Duration.FromMinutes(1);
        var me = await Scenario.MyIdAsync(app.Client());
        await (await app.Client().PostJsonAsync($"/api/v1/users/{me}/api-keys", new { expiresAt = past.ToString() })).ExpectAsync(400);
    }

    [DbFact]
    public async Task The_last_use_is_recorded_to_the_minute()
    {
        var (id, key, me) = await KeyAsync(new { scopes = new[] { "bookings:read" } });
        async Task<JsonNode?> LastUsedAsync() =>
            (await (await app.Client().GetAsync($"/api/v1/users/{me}/api-keys")).ExpectAsync(200)).AsArray()
                .Single(k => k!["id"]!.GetValue<string>() == id)!["lastUsedAt"];

        (await LastUsedAsync()).ShouldBeNull();
        var first = app.Clock.GetCurrentInstant();
        await (await app.Client(key).GetAsync("/api/v1/bookings")).ExpectAsync(200);
        (await LastUsedAsync())!.GetValue<string>().ShouldBe(first.ToString());

        // Within the minute the stored time stays as it is: no write per request.
        app.Clock.Advance(Duration.FromSeconds(30));
        await (await app.Client(key).GetAsync("/api/v1/bookings")).ExpectAsync(200);
        (await LastUsedAsync())!.GetValue<string>().ShouldBe(first.ToString());

        app.Clock.Advance(Duration.FromSeconds(31));
        await (await app.Client(key).GetAsync("/api/v1/bookings")).ExpectAsync(200);
        (await LastUsedAsync())!.GetValue<string>().ShouldBe(app.Clock.GetCurrentInstant().ToString());
    }

    [DbFact]
    public async Task Keys_are_listed_without_their_secret_and_revoked_through_the_api()
    {
        var (id, key, me) = await KeyAsync(new { name = "to revoke", scopes = new[] { "bookings:read", "pages:read" } });
        var listed = (await (await app.Client().GetAsync($"/api/v1/users/{me}/api-keys")).ExpectAsync(200)).AsArray()
            .Single(k => k!["id"]!.GetValue<string>() == id)!;
        listed["key"].ShouldBeNull();
        listed["name"]!.GetValue<string>().ShouldBe("to revoke");
        key.ShouldStartWith(listed["prefix"]!.GetValue<string>());
        listed["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldBe(["bookings:read", "pages:read"]);

        (await app.Client().DeleteAsync($"/api/v1/users/{me}/api-keys/{id}")).StatusCode.ShouldBe(System.Net.HttpStatusCode.NoContent);
        await (await app.Client(key).GetAsync("/api/v1/bookings")).ExpectAsync(401);
        await (await app.Client().DeleteAsync($"/api/v1/users/{me}/api-keys/{Guid.NewGuid()}")).ExpectAsync(404);
    }

    [DbFact]
    public void Every_api_route_belongs_to_a_scope_area()
    {
        _ = app.Client();
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => ("/" + e.RoutePattern.RawText!.TrimStart('/')).StartsWith("/api/v1/", StringComparison.Ordinal))
            .ToList();
        endpoints.Count.ShouldBeGreaterThan(50);
        var missing = endpoints
            .Where(e => e.Metadata.GetMetadata<ApiAreaMetadata>() is not { } area
                        // "No scope" only where anyone may call the route anyway.
                        || (area.Area is null && e.Metadata.GetMetadata<IAllowAnonymous>() is null)
                        || (area.Area is not null && !ApiScopes.Areas.Contains(area.Area)))
            .Select(e => $"{string.Join(",", e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])} {e.RoutePattern.RawText}")
            .ToList();
        missing.ShouldBeEmpty("routes under /api/v1 without a scope area");
    }
}

using Microsoft.AspNetCore.Hosting;
using NodaTime;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Api;

/// <summary>The host with request limits on and a per-key quota of four a minute.</summary>
public sealed class TightKeyLimitsApp : RendezvousApp
{
    protected override void ConfigureSettings(IWebHostBuilder builder)
    {
        builder.UseSetting("Rendezvous:RateLimits:Enabled", "true");
        builder.UseSetting("Rendezvous:RateLimits:ApiKey:PermitLimit", "4");
        builder.UseSetting("Rendezvous:RateLimits:ApiKey:WindowSeconds", "60");
    }
}

/// <summary>Each key has its own request quota, announced in RateLimit-Policy and RateLimit, and answered 429 past it.</summary>
public sealed class ApiRequestLimitTests(TightKeyLimitsApp app) : IClassFixture<TightKeyLimitsApp>
{
    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : "";

    [DbFact]
    public async Task Each_key_has_its_own_quota_with_ratelimit_headers_and_429_with_retry_after_past_it()
    {
        var admin = app.Client();
        var me = await Scenario.MyIdAsync(admin);
        var first = (await (await admin.PostJsonAsync($"/api/v1/users/{me}/api-keys", new { scopes = new[] { "bookings:read" } })).ExpectAsync(201))["key"]!.GetValue<string>();
        var second = (await (await admin.PostJsonAsync($"/api/v1/users/{me}/api-keys", new { scopes = new[] { "bookings:read" } })).ExpectAsync(201))["key"]!.GetValue<string>();

        var client = app.Client(first);
        for (var used = 1; used <= 4; used++)
        {
            var ok = await client.GetAsync("/api/v1/bookings");
            await ok.ExpectAsync(200);
            Header(ok, "RateLimit-Policy").ShouldBe("\"api-key\";q=4;w=60");
            Header(ok, "RateLimit").ShouldBe($"\"api-key\";r={4 - used};t=60");
        }

        var refused = await client.GetAsync("/api/v1/bookings");
        var problem = await refused.ExpectAsync(429);
        problem["code"]!.GetValue<string>().ShouldBe("rate_limited");
        refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBe(60);
        Header(refused, "RateLimit").ShouldBe("\"api-key\";r=0;t=60");

        // Another key of the same user has its own quota.
        await (await app.Client(second).GetAsync("/api/v1/bookings")).ExpectAsync(200);

        app.Clock.Advance(Duration.FromSeconds(20));
        var later = await client.GetAsync("/api/v1/bookings");
        await later.ExpectAsync(429);
        later.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBe(40);

        app.Clock.Advance(Duration.FromSeconds(40));
        var renewed = await client.GetAsync("/api/v1/bookings");
        await renewed.ExpectAsync(200);
        Header(renewed, "RateLimit").ShouldBe("\"api-key\";r=3;t=60");
    }
}

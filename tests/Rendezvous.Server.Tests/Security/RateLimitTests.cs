using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Web;
using Shouldly;

namespace Rendezvous.Server.Tests.Security;

/// <summary>The host with request limits on and tight (the other suites turn them off).</summary>
public sealed class TightLimitsApp : RendezvousApp
{
    public RecordingPortalMailer Mailer { get; } = new();

    protected override void ConfigureSettings(IWebHostBuilder builder)
    {
        builder.UseSetting("Rendezvous:RateLimits:Enabled", "true");
        foreach (var name in new[] { "Booking", "Slots", "SignInLink", "SignIn" })
        {
            builder.UseSetting($"Rendezvous:RateLimits:{name}:PermitLimit", "2");
            builder.UseSetting($"Rendezvous:RateLimits:{name}:WindowSeconds", "3600");
        }

        builder.UseSetting("Rendezvous:RateLimits:SignInLinkPerEmail:PermitLimit", "1");
        builder.UseSetting("Rendezvous:RateLimits:SignInLinkPerEmail:WindowSeconds", "3600");
    }

    protected override void ConfigureServices(Microsoft.Extensions.DependencyInjection.IServiceCollection services) =>
        Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<Rendezvous.Server.Features.Portal.IPortalMailer>(services, Mailer);
}

/// <summary>Public and sign-in routes answer 429 with Retry-After and problem+json past their per-address limits.</summary>
public sealed class RateLimitTests(TightLimitsApp app) : IClassFixture<TightLimitsApp>
{
    private HttpClient From(string address)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.Add(RendezvousApp.ClientAddressHeader, address);
        return client;
    }

    private static async Task ExpectTooManyAsync(HttpResponseMessage response)
    {
        var problem = await response.ExpectAsync(429);
        problem["code"]!.GetValue<string>().ShouldBe("rate_limited");
        response.Headers.RetryAfter.ShouldNotBeNull();
        response.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBeGreaterThan(0);
    }

    [DbFact]
    public async Task Slots_and_public_bookings_are_limited_per_client_address()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var client = From("203.0.113.50");
        var url = $"/api/v1/booking-pages/{slug}/slots?from=2027-03-08&to=2027-03-08&timeZone=Europe/London";
        await (await client.GetAsync(url)).ExpectAsync(200);
        await (await client.GetAsync(url)).ExpectAsync(200);
        await ExpectTooManyAsync(await client.GetAsync(url));
        await (await From("203.0.113.51").GetAsync(url)).ExpectAsync(200);

        var booker = From("203.0.113.52");
        await Scenario.BookAsync(booker, slug, "2027-03-08T10:00:00Z");
        await Scenario.BookAsync(booker, slug, "2027-03-08T11:00:00Z");
        await ExpectTooManyAsync(await booker.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-08T12:00:00Z", customer = Scenario.Customer() }));
    }

    [DbFact]
    public async Task Sign_in_links_are_limited_per_email_address_and_per_client_address()
    {
        var email = $"flooded-{Guid.NewGuid():N}@example.com";
        await (await From("203.0.113.60").PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email })).ExpectAsync(202);
        // Another address asking for the same inbox meets the per-email limit.
        var perEmail = await From("203.0.113.61").PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email });
        await ExpectTooManyAsync(perEmail);

        var client = From("203.0.113.62");
        await (await client.PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email = $"a-{Guid.NewGuid():N}@example.com" })).ExpectAsync(202);
        await (await client.PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email = $"b-{Guid.NewGuid():N}@example.com" })).ExpectAsync(202);
        await ExpectTooManyAsync(await client.PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email = $"c-{Guid.NewGuid():N}@example.com" }));
    }

    [DbFact]
    public async Task Staff_and_portal_password_sign_ins_are_limited_per_client_address()
    {
        var portal = From("203.0.113.70");
        await (await portal.PostJsonAsync("/api/v1/portal/acme/sign-in", new { email = "x@example.com", password = "whatever it is" })).ExpectAsync(403);
        await (await portal.PostJsonAsync("/api/v1/portal/acme/sign-in", new { email = "x@example.com", password = "whatever it is" })).ExpectAsync(403);
        await ExpectTooManyAsync(await portal.PostJsonAsync("/api/v1/portal/acme/sign-in", new { email = "x@example.com", password = "whatever it is" }));

        var staff = new WebSession(app);
        staff.Client.DefaultRequestHeaders.Add(RendezvousApp.ClientAddressHeader, "203.0.113.71");
        (await staff.SignInAsync("nobody@acme.example", "wrong password 1")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await staff.SignInAsync("nobody@acme.example", "wrong password 2")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        // Showing the form is not limited; posting it is.
        (await staff.GetAsync("/app/sign-in")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await ExpectTooManyAsync(await staff.SignInAsync("nobody@acme.example", "wrong password 3"));
    }
}

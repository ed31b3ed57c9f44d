using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Tests.Infrastructure.Fakes;
using Shouldly;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>
/// The application pointed at local fakes of Salesforce, Keap and PayPal (each a real HTTP server on loopback), with
/// short in-process retry waits so failure tests stay quick. One instance per test class, so fakes are not shared.
/// </summary>
public class IntegrationApp : RendezvousApp
{
    public FakeSalesforce Salesforce { get; } = new();

    public FakeKeap Keap { get; } = new();

    public FakePayPal PayPal { get; } = new();

    protected override async Task StartServicesAsync()
    {
        await Salesforce.StartAsync();
        await Keap.StartAsync();
        await PayPal.StartAsync();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rendezvous:PublicBaseUrl", "https://book.example");
        foreach (var (section, url) in new[] { ("Salesforce", Salesforce.BaseUrl), ("Keap", Keap.BaseUrl), ("PayPal", PayPal.BaseUrl) })
        {
            builder.UseSetting($"Rendezvous:{section}:RetryBaseDelay", "00:00:00.010");
            builder.UseSetting($"Rendezvous:{section}:MaxRetryAfter", "00:00:01");
            builder.UseSetting($"Rendezvous:{section}:Timeout", "00:00:05");
            builder.UseSetting($"Rendezvous:{section}:{(section == "Salesforce" ? "LoginUrl" : "BaseUrl")}", url);
        }

        builder.UseSetting("Rendezvous:Salesforce:ClientId", FakeSalesforce.ClientId);
        builder.UseSetting("Rendezvous:Salesforce:ClientSecret", FakeSalesforce.ClientSecret);
        builder.UseSetting("Rendezvous:Keap:ClientId", FakeKeap.ClientId);
        builder.UseSetting("Rendezvous:Keap:ClientSecret", FakeKeap.ClientSecret);
        builder.UseSetting("Rendezvous:Keap:AuthorizeUrl", Keap.BaseUrl + "/app/oauth/authorize");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Salesforce.DisposeAsync();
        await Keap.DisposeAsync();
        await PayPal.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs the outbox until nothing is due (failed messages wait for their backoff).</summary>
    public async Task RunOutboxAsync()
    {
        while (await WithScopeAsync(sp => sp.GetRequiredService<OutboxProcessor>().ProcessBatchAsync(50, CancellationToken.None)) > 0)
        {
        }
    }

    public async Task<string> PageIdAsync(HttpClient client, string slug)
    {
        var pages = await (await client.GetAsync("/api/v1/booking-pages")).ExpectAsync(200);
        return pages.AsArray().First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();
    }

    /// <summary>
    /// Connects a page the way an administrator does: asks for the authorize URL, "logs in" at the fake (which issues a
    /// code), and follows the redirect to the callback with the code and the state.
    /// </summary>
    public async Task<JsonNode> ConnectAsync(HttpClient admin, string provider, string pageId, string code)
    {
        var authorize = await (await admin.GetAsync($"/api/v1/{provider}/authorize?bookingPageId={pageId}")).ExpectAsync(200);
        var url = new Uri(authorize["url"]!.GetValue<string>());
        var state = System.Web.HttpUtility.ParseQueryString(url.Query)["state"];
        state.ShouldNotBeNullOrEmpty();
        var callback = await Anonymous().GetAsync($"/api/v1/{provider}/callback?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(state!)}");
        return await callback.ExpectAsync(200);
    }
}

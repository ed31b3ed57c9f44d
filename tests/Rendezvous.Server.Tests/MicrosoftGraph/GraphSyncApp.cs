using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Data.Outbox;
using Rendezvous.Emulators.Graph;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Features.CalendarSync.Microsoft;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.MicrosoftGraph;

/// <summary>
/// The application with Microsoft 365 pointed at a local Graph emulator (HTTPS on loopback, its certificate trusted by
/// the server's Microsoft HTTP handler only). Push notifications reach the server through the test host's own handler;
/// the test clock is the emulator's clock too.
/// </summary>
public sealed class GraphSyncApp : RendezvousApp
{
    public GraphEmulator Emulator { get; private set; } = null!;

    protected override async Task StartServicesAsync() =>
        Emulator = await GraphEmulator.StartAsync(() => Clock.GetCurrentInstant().ToDateTimeOffset());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rendezvous:Microsoft:ClientId", GraphEmulator.ClientId);
        builder.UseSetting("Rendezvous:Microsoft:ClientSecret", GraphEmulator.ClientSecret);
        builder.UseSetting("Rendezvous:Microsoft:AuthorityHost", Emulator.BaseUrl.ToString());
        builder.UseSetting("Rendezvous:Microsoft:GraphBaseUrl", Emulator.GraphBaseUrl.ToString());
        builder.UseSetting("Rendezvous:Microsoft:RedirectUri", "http://localhost" + MicrosoftCalendars.CallbackPath);
        // Short waits so the throttling tests stay quick; the bounds are what matters.
        builder.UseSetting("Rendezvous:Microsoft:RequestTimeout", "00:00:02");
        builder.UseSetting("Rendezvous:Microsoft:RetryBaseDelay", "00:00:00.05");
        builder.UseSetting("Rendezvous:Microsoft:MaxRetryDelay", "00:00:03");
        builder.UseSetting("Rendezvous:Microsoft:MaxRetries", "2");
        builder.UseSetting("Rendezvous:CalendarSync:PushBaseUrl", "http://localhost/");
    }

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<MicrosoftHttpHandlerFactory>(new TrustEmulator(this));

    /// <summary>Called once the host exists: notifications from the emulator go into the test server.</summary>
    public void RoutePushToServer() => Emulator.NotificationHandler ??= Server.CreateHandler();

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Emulator.DisposeAsync();
    }

    private sealed class TrustEmulator(GraphSyncApp app) : MicrosoftHttpHandlerFactory
    {
        public override HttpMessageHandler Create() => app.Emulator.CreateTrustingHandler();
    }

    public async Task DrainOutboxAsync()
    {
        await WithScopeAsync(async sp =>
        {
            var processor = sp.GetRequiredService<OutboxProcessor>();
            while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
            {
            }

            return 0;
        });
        var stuck = await WithDbAsync(db => db.OutboxMessages.Where(m => m.ProcessedAt == null && m.LastError != null).Select(m => m.LastError).ToListAsync());
        stuck.ShouldBeEmpty();
    }

    public Task<SyncReport> SyncAsync(string connectionId) =>
        WithScopeAsync(sp => sp.GetRequiredService<CalendarSyncEngine>().SyncAsync(Guid.Parse(connectionId), CancellationToken.None));

    /// <summary>
    /// Connects a new Microsoft mailbox for <paramref name="userId"/> the way a browser would: our authorize endpoint
    /// redirects to the identity platform, which (the user consenting) redirects back to our callback with a code.
    /// </summary>
    public async Task<string> ConnectAsync(HttpClient client, string userId, EmulatedMailbox mailbox)
    {
        RoutePushToServer();
        Emulator.NextSignIn = mailbox.Email;
        var start = await client.GetAsync($"/api/v1/calendar-connections/microsoft/authorize?userId={userId}");
        start.StatusCode.ShouldBe(HttpStatusCode.Redirect, await start.Content.ReadAsStringAsync());
        var authorize = start.Headers.Location!;
        authorize.GetLeftPart(UriPartial.Authority).ShouldBe(Emulator.BaseUrl.GetLeftPart(UriPartial.Authority));

        var browserHandler = (SocketsHttpHandler)Emulator.CreateTrustingHandler();
        browserHandler.AllowAutoRedirect = false;
        using var browser = new HttpClient(browserHandler);
        var consent = await browser.GetAsync(authorize);
        consent.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var callback = consent.Headers.Location!;
        callback.AbsolutePath.ShouldBe(MicrosoftCalendars.CallbackPath);

        var done = await Anonymous().GetAsync(callback.PathAndQuery);
        done.StatusCode.ShouldBe(HttpStatusCode.Redirect, await done.Content.ReadAsStringAsync());
        return done.Headers.Location!.ToString().Split('/').Last();
    }
}

using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Data.Outbox;
using Rendezvous.Emulators.Ews;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Exchange;

/// <summary>
/// The application with an on-premises Exchange Server played by the local EWS emulator (plain http on loopback, which
/// the server is configured to allow for that host only). The test clock is the emulator's clock too.
/// </summary>
public sealed class EwsSyncApp : RendezvousApp
{
    public EwsEmulator Emulator { get; private set; } = null!;

    protected override async Task StartServicesAsync() =>
        Emulator = await EwsEmulator.StartAsync(() => Clock.GetCurrentInstant().ToDateTimeOffset());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rendezvous:Exchange:AllowedHttpHosts:0", "127.0.0.1");
        builder.UseSetting("Rendezvous:Exchange:AutodiscoverUrls:0", new Uri(Emulator.BaseUrl, "autodiscover/autodiscover.xml").ToString());
        // Short waits so the throttling tests stay quick; the bounds are what matters.
        builder.UseSetting("Rendezvous:Exchange:RequestTimeout", "00:00:05");
        builder.UseSetting("Rendezvous:Exchange:RetryBaseDelay", "00:00:00.05");
        builder.UseSetting("Rendezvous:Exchange:MaxRetryDelay", "00:00:02");
        builder.UseSetting("Rendezvous:Exchange:MaxRetries", "2");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Emulator.DisposeAsync();
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
}

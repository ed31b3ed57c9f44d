using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rendezvous.Calendars.Ews;
using Rendezvous.Calendars.Providers;
using Rendezvous.Data;
using Rendezvous.Integrations.Outbound;

namespace Rendezvous.Server.Features.CalendarSync.Exchange;

/// <summary>On-premises Exchange Server over EWS: the provider and Autodiscover, configured from <c>Rendezvous:Exchange</c>.</summary>
public static class ExchangeCalendars
{
    public static void AddExchangeCalendars(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<EwsOptions>(configuration.GetSection("Rendezvous:Exchange"));
        // The sockets go through the outbound address policy; the NTLM connections EwsClient makes take its connect check.
        services.AddSingleton(sp => new EwsCalendarProvider(
            sp.GetRequiredService<OutboundAddressPolicy>().Guard(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }),
            sp.GetRequiredService<IOptions<EwsOptions>>().Value));
        services.AddSingleton<ICalendarProvider>(sp => sp.GetRequiredService<EwsCalendarProvider>());
        // Autodiscover follows redirects itself: an automatic one would turn the POST into a GET, or carry the password to plain http.
        services.AddSingleton(sp => new EwsAutodiscover(
            sp.GetRequiredService<OutboundAddressPolicy>().Guard(new SocketsHttpHandler { AllowAutoRedirect = false }),
            sp.GetRequiredService<IOptions<EwsOptions>>().Value));
        services.AddSingleton<ExchangeStreamingService>();
        services.AddHostedService(sp => sp.GetRequiredService<ExchangeStreamingService>());
    }
}

/// <summary>
/// Holds EWS streaming notifications open for every synced Exchange connection (<see cref="EwsCalendarProvider.WatchAsync"/>)
/// and wakes the connection's sync when Exchange reports a change, so a change in Outlook reaches the booking within
/// seconds; polling goes on as the fallback. The set of connections is looked at again every 30 seconds: new ones get a
/// watcher, deleted ones or ones whose account or calendars changed get theirs stopped (and a new one).
/// </summary>
public sealed partial class ExchangeStreamingService(IServiceScopeFactory scopes, EwsCalendarProvider provider, Secrets secrets,
    CalendarSyncWakeups wakeups, IOptions<CalendarSyncOptions> syncOptions, IOptions<EwsOptions> ewsOptions, ILogger<ExchangeStreamingService> logger)
    : BackgroundService
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(30);
    private readonly Dictionary<Guid, (string Key, CancellationTokenSource Stop, Task Watch)> _watchers = [];

    /// <summary>Connections being watched now (for tests and diagnostics).</summary>
    public int Watching => _watchers.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!syncOptions.Value.Enabled || !ewsOptions.Value.Streaming)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
                await Task.Delay(Refresh, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
            {
                LogRefreshFailed(ex);
                await Task.Delay(Refresh, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        foreach (var (_, stop, watch) in _watchers.Values)
        {
            await stop.CancelAsync();
            await watch.ContinueWith(_ => { }, TaskScheduler.Default);
            stop.Dispose();
        }
    }

    /// <summary>Starts and stops watchers so that they match the synced Exchange connections.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Rendezvous.Data.RendezvousDbContext>();
        var connections = await db.CalendarConnections.AcrossTenants().AsNoTracking()
            .Where(c => c.Provider == Rendezvous.Domain.Calendars.CalendarProvider.Exchange && c.ProtectedPassword != "")
            .ToListAsync(ct);
        var seen = new HashSet<Guid>();
        foreach (var c in connections)
        {
            seen.Add(c.Id);
            var calendars = new List<string> { c.BookingCalendarUrl };
            calendars.AddRange(c.AdditionalCalendarUrls.Where(a => a != c.BookingCalendarUrl));
            var key = string.Join('\n', c.ServerUrl, c.Username, c.ProtectedPassword, c.ProviderState ?? "", string.Join('|', calendars));
            if (_watchers.TryGetValue(c.Id, out var running))
            {
                if (running.Key == key && !running.Watch.IsCompleted)
                {
                    continue;
                }

                await running.Stop.CancelAsync();
                running.Stop.Dispose();
            }

            var account = new CalendarAccount(c.Id, c.Provider, c.ServerUrl, c.Username, secrets.UnprotectCalendarPassword(c.ProtectedPassword), c.ProviderState);
            var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var id = c.Id;
            _watchers[c.Id] = (key, stop, Task.Run(() => provider.WatchAsync(account, calendars, () => wakeups.WakeAsync(id, stop.Token), stop.Token), CancellationToken.None));
        }

        foreach (var gone in _watchers.Keys.Where(id => !seen.Contains(id)).ToList())
        {
            await _watchers[gone].Stop.CancelAsync();
            _watchers[gone].Stop.Dispose();
            _watchers.Remove(gone);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking up Exchange connections for streaming notifications failed")]
    private partial void LogRefreshFailed(Exception ex);
}

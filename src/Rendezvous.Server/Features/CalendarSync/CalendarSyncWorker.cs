using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain.Calendars;

namespace Rendezvous.Server.Features.CalendarSync;

/// <summary>
/// Claims due connections with a lease (FOR UPDATE SKIP LOCKED), so any number of server processes share the work
/// and each calendar is polled by one process at a time; syncs them a few at a time; never lets one connection's
/// trouble stop the others. A push wake-up (<see cref="CalendarSyncWakeups"/>) makes it claim at once.
/// </summary>
public sealed partial class CalendarSyncWorker(IServiceScopeFactory scopes, IClock clock, IOptions<CalendarSyncOptions> options,
    CalendarProviders providers, CalendarSyncWakeups wakeups, ILogger<CalendarSyncWorker> logger)
    : BackgroundService
{
    /// <summary>Claims up to <paramref name="max"/> due connections of the <paramref name="synced"/> providers for this process.</summary>
    public static async Task<IReadOnlyList<Guid>> ClaimAsync(RendezvousDbContext db, IEnumerable<CalendarProvider> synced, Instant now, Duration lease,
        int max, CancellationToken ct)
    {
        var kinds = synced.Select(p => p.ToString()).ToArray();
        return await db.Database.SqlQuery<Guid>($"""
            UPDATE calendar_connections SET lease_until = {(now + lease).ToDateTimeUtc()}
            WHERE id IN (
                SELECT id FROM calendar_connections
                WHERE next_sync_at <= {now.ToDateTimeUtc()} AND (lease_until IS NULL OR lease_until < {now.ToDateTimeUtc()})
                  AND provider = ANY({kinds})
                  -- A connection recorded without credentials (an OAuth provider before sign-in) has nothing to sync.
                  AND protected_password <> ''
                ORDER BY next_sync_at
                LIMIT {max}
                FOR UPDATE SKIP LOCKED)
            RETURNING id AS "Value"
            """).ToListAsync(ct);
    }

    public static Task ReleaseAsync(RendezvousDbContext db, Guid id, CancellationToken ct) =>
        db.Database.ExecuteSqlInterpolatedAsync($"UPDATE calendar_connections SET lease_until = NULL WHERE id = {id}", ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            return;
        }

        var running = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                running.RemoveAll(t => t.IsCompleted);
                var free = o.Parallelism - running.Count;
                if (free > 0)
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
                    var claimed = await ClaimAsync(db, providers.Synced, clock.GetCurrentInstant(), Duration.FromTimeSpan(o.Lease), free, stoppingToken);
                    running.AddRange(claimed.Select(id => SyncOneAsync(id, stoppingToken)));
                }

                await wakeups.WaitAsync(TimeSpan.FromMilliseconds(100), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogLoopFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await Task.WhenAll(running).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task SyncOneAsync(Guid id, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<CalendarSyncEngine>().SyncAsync(id, ct);
            await ReleaseAsync(scope.ServiceProvider.GetRequiredService<RendezvousDbContext>(), id, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Unexpected: the lease runs out and the connection is tried again; other connections go on.
            LogSyncCrashed(logger, ex, id);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Calendar sync loop failed; retrying")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Syncing calendar connection {ConnectionId} crashed")]
    private static partial void LogSyncCrashed(ILogger logger, Exception exception, Guid connectionId);
}

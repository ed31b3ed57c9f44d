using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Data;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>
/// Claims due space channels with a lease (FOR UPDATE SKIP LOCKED), as the calendar sync worker claims connections, so
/// any number of server processes share them and each channel is polled by one process at a time; a process that
/// dies leaves its lease to run out and another takes over.
/// </summary>
public sealed partial class SpaceChannelWorker(IServiceScopeFactory scopes, IClock clock, IOptions<SpaceChannelOptions> options,
    IOptions<Rendezvous.Server.Workers.WorkerOptions> workers, ILogger<SpaceChannelWorker> logger) : BackgroundService
{
    /// <summary>Claims up to <paramref name="max"/> due channels for this process.</summary>
    public static async Task<IReadOnlyList<Guid>> ClaimAsync(RendezvousDbContext db, Instant now, Duration lease, int max, CancellationToken ct) =>
        await db.Database.SqlQuery<Guid>($"""
            UPDATE space_channels SET lease_until = {now + lease}
            WHERE space_id IN (
                SELECT space_id FROM space_channels
                WHERE next_poll_at <= {now} AND (lease_until IS NULL OR lease_until < {now})
                ORDER BY next_poll_at
                LIMIT {max}
                FOR UPDATE SKIP LOCKED)
            RETURNING space_id AS "Value"
            """).ToListAsync(ct);

    public static Task ReleaseAsync(RendezvousDbContext db, Guid spaceId, CancellationToken ct) =>
        db.Database.ExecuteSqlInterpolatedAsync($"UPDATE space_channels SET lease_until = NULL WHERE space_id = {spaceId}", ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        // Tests that drive the workers by hand turn them all off at once.
        if (!o.Enabled || !workers.Value.Enabled)
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
                    var claimed = await ClaimAsync(db, clock.GetCurrentInstant(), Duration.FromTimeSpan(o.Lease), free, stoppingToken);
                    running.AddRange(claimed.Select(id => PollOneAsync(id, stoppingToken)));
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), stoppingToken);
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

    private async Task PollOneAsync(Guid spaceId, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<SpaceChannelPoller>().PollAsync(spaceId, options.Value.ImapIdle, ct);
            await ReleaseAsync(scope.ServiceProvider.GetRequiredService<RendezvousDbContext>(), spaceId, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Unexpected: the lease runs out and the channel is tried again; the other channels go on.
            LogPollCrashed(logger, ex, spaceId);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Space channel loop failed; retrying")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Polling the channel of space {SpaceId} crashed")]
    private static partial void LogPollCrashed(ILogger logger, Exception exception, Guid spaceId);
}

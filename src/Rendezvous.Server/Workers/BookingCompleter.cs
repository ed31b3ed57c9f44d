using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;

namespace Rendezvous.Server.Workers;

/// <summary>Marks bookings Completed once their end has passed. Claims rows with SKIP LOCKED so processes share the work.</summary>
public sealed class BookingCompletion(RendezvousDbContext db, IClock clock)
{
    /// <summary>Completes up to <paramref name="batchSize"/> due bookings; returns how many.</summary>
    public async Task<int> CompleteDueAsync(int batchSize, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var ids = await db.Database.SqlQuery<Guid>($"""
            SELECT id AS "Value" FROM bookings
            WHERE status IN ('Scheduled', 'Rescheduled') AND end_at <= {now}
            ORDER BY end_at
            LIMIT {batchSize}
            FOR UPDATE SKIP LOCKED
            """).ToListAsync(ct);
        if (ids.Count == 0)
        {
            return 0;
        }

        var bookingIds = ids.Select(g => new BookingId(g)).ToList();
        var bookings = await db.Bookings.AcrossTenants().Where(b => bookingIds.Contains(b.Id)).ToListAsync(ct);
        foreach (var booking in bookings)
        {
            booking.Complete(now);
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return bookings.Count;
    }

    /// <summary>
    /// Deletes stored Idempotency-Key answers older than <paramref name="retention"/>, up to <paramref name="batchSize"/>
    /// at a time so a long backlog never holds one long transaction; returns how many. Any process may run it.
    /// </summary>
    public async Task<int> PruneIdempotencyRecordsAsync(Duration retention, int batchSize, CancellationToken ct)
    {
        var cutoff = clock.GetCurrentInstant() - retention;
        var expired = db.IdempotencyRecords.Where(r => r.CreatedAt < cutoff).OrderBy(r => r.CreatedAt).Take(batchSize);
        return await db.IdempotencyRecords
            .Where(r => expired.Any(e => e.Scope == r.Scope && e.Key == r.Key))
            .ExecuteDeleteAsync(ct);
    }
}

public sealed partial class BookingCompleter(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, ILogger<BookingCompleter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.CompletionInterval);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var completion = scope.ServiceProvider.GetRequiredService<BookingCompletion>();
                while (await completion.CompleteDueAsync(100, stoppingToken) == 100)
                {
                }

                var retention = Duration.FromTimeSpan(options.Value.IdempotencyRetention);
                while (await completion.PruneIdempotencyRecordsAsync(retention, 1000, stoppingToken) == 1000)
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Completing past bookings failed; will retry")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Workers;
using Shouldly;

namespace Rendezvous.Server.Tests.Reliability;

public sealed class IdempotencyPruningTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task Stored_answers_older_than_the_retention_are_pruned_in_batches_and_newer_ones_kept()
    {
        var now = app.Clock.GetCurrentInstant();
        var scope = "prune-" + Guid.NewGuid().ToString("N");
        await app.WithDbAsync(async db =>
        {
            foreach (var (key, age) in new[] { ("old-1", 9), ("old-2", 8), ("recent", 6) })
            {
                db.IdempotencyRecords.Add(new IdempotencyRecord
                {
                    Scope = scope,
                    Key = key,
                    RequestHash = [1, 2, 3],
                    StatusCode = 201,
                    Response = "{}",
                    CreatedAt = now - Duration.FromDays(age),
                });
            }

            return await db.SaveChangesAsync();
        });

        var retention = Duration.FromDays(7);
        // A batch of one deletes the oldest first; the loop in the worker goes on while batches come back full.
        (await Prune(retention, 1)).ShouldBe(1);
        (await Keys(scope)).ShouldBe(["old-2", "recent"]);
        (await Prune(retention, 1000)).ShouldBeGreaterThanOrEqualTo(1);
        (await Keys(scope)).ShouldBe(["recent"]);
        (await Prune(retention, 1000)).ShouldBe(0);
    }

    private Task<int> Prune(Duration retention, int batch) =>
        app.WithScopeAsync(sp => sp.GetRequiredService<BookingCompletion>().PruneIdempotencyRecordsAsync(retention, batch, CancellationToken.None));

    private Task<List<string>> Keys(string scope) =>
        app.WithDbAsync(db => db.IdempotencyRecords.Where(r => r.Scope == scope).OrderBy(r => r.Key).Select(r => r.Key).ToListAsync());
}

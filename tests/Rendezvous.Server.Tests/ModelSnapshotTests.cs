using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>
/// The migrations are hand-written SQL, so nothing else notices when an entity changes without one. The model snapshot
/// records the model the migrations produce; a difference means a migration (and a regenerated snapshot) is missing.
/// </summary>
public sealed class ModelSnapshotTests
{
    [Fact]
    public void The_model_snapshot_matches_the_model_the_server_runs_with()
    {
        // Comparing models needs no connection: the factory only builds the options the server uses.
        using var db = new DesignTimeDbContextFactory().CreateDbContext([]);

        db.Database.HasPendingModelChanges().ShouldBeFalse(
            "The EF model changed without a migration: add one and regenerate the snapshot (docs/decisions/0010-migrations-and-model-snapshot.md).");
    }
}

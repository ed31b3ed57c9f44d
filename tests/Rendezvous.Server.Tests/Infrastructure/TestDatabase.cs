using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Rendezvous.Data;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>
/// Real PostgreSQL for tests. RENDEZVOUS_TEST_DB names an administrative connection (./scripts/test starts a private
/// server and sets it). One database per run is migrated as a template; each fixture gets a fresh copy of it.
/// </summary>
public static class TestDatabase
{
    public const string Variable = "RENDEZVOUS_TEST_DB";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _template;

    public static string? AdminConnectionString => Environment.GetEnvironmentVariable(Variable);

    /// <summary>True under CI, where a missing service is a failure rather than a skip.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why database tests cannot run here, or null when they can.</summary>
    public static string? SkipReason => AdminConnectionString is null && !IsCi
        ? $"{Variable} is not set; ./scripts/test sets it after starting PostgreSQL."
        : null;

    /// <summary>Creates a fresh, migrated database and returns its connection string.</summary>
    public static async Task<string> CreateAsync()
    {
        var admin = AdminConnectionString
            ?? throw new InvalidOperationException($"{Variable} is not set: PostgreSQL is required for this test (CI=true turns a missing service into a failure).");
        var template = await EnsureTemplateAsync(admin);
        var name = "rdv_t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true, MaxPoolSize = 120 }.ConnectionString;
    }

    public static async Task DropAsync(string connectionString)
    {
        var admin = AdminConnectionString;
        if (admin is null)
        {
            return;
        }

        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<string> EnsureTemplateAsync(string admin)
    {
        await Gate.WaitAsync();
        try
        {
            if (_template is not null)
            {
                return _template;
            }

            var name = $"rdv_template_{Environment.ProcessId}_{Guid.NewGuid().ToString("N")[..6]}";
            await using (var conn = new NpgsqlConnection(admin))
            {
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
                await cmd.ExecuteNonQueryAsync();
            }

            var cs = new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = false }.ConnectionString;
            await using (var dataSource = DataServiceCollectionExtensions.CreateDataSource(cs))
            {
                var options = new DbContextOptionsBuilder<RendezvousDbContext>();
                DataServiceCollectionExtensions.Configure(options, dataSource);
                await using var db = new RendezvousDbContext(options.Options, new FakeClock(Instant.FromUtc(2027, 1, 1, 0, 0)));
                await db.Database.MigrateAsync();
            }

            _template = name;
            return name;
        }
        finally
        {
            Gate.Release();
        }
    }
}

/// <summary>A fact that needs PostgreSQL: skipped locally without it, failed under CI=true.</summary>
public sealed class DbFactAttribute : FactAttribute
{
    public DbFactAttribute()
    {
        if (TestDatabase.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that needs PostgreSQL: skipped locally without it, failed under CI=true.</summary>
public sealed class DbTheoryAttribute : TheoryAttribute
{
    public DbTheoryAttribute()
    {
        if (TestDatabase.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Rendezvous.Data;

/// <summary>Registers the database: one <see cref="NpgsqlDataSource"/> and the DbContext on top of it.</summary>
public static class DataServiceCollectionExtensions
{
    public static IServiceCollection AddRendezvousData(this IServiceCollection services, string connectionString)
    {
        var dataSource = CreateDataSource(connectionString);
        services.AddSingleton(dataSource);
        services.AddDbContext<RendezvousDbContext>(options => Configure(options, dataSource));
        return services;
    }

    /// <summary>
    /// A data source that reads and writes NodaTime types: <c>timestamptz</c> as <c>Instant</c>, <c>tstzrange</c> as
    /// <c>Interval</c>, <c>date</c> as <c>LocalDate</c>. Raw commands on it take and return those types directly.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(WithFailoverDefaults(connectionString));
        builder.UseNodaTime();
        return builder.Build();
    }

    /// <summary>
    /// A connection string naming several hosts (<c>Host=h1:5432,h2:5432</c>) is a primary with standbys: unless it says
    /// otherwise, sessions go only to the node that accepts writes (<c>read-write</c>, not <c>primary</c>: a node just
    /// promoted is out of recovery before it accepts writes), and the hosts' states are rechecked every second instead
    /// of every ten, so a new primary is found soon after a failover. A single host is left as it is.
    /// </summary>
    public static string WithFailoverDefaults(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.Host is not { } host || !host.Contains(',', StringComparison.Ordinal))
        {
            return connectionString;
        }

        // The plain builder only knows what the string itself says (Npgsql's answers for every keyword it knows).
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (builder.TargetSessionAttributes is null)
        {
            builder.TargetSessionAttributes = "read-write";
        }

        if (!given.ContainsKey("Host Recheck Seconds") && !given.ContainsKey("HostRecheckSeconds"))
        {
            builder.HostRecheckSeconds = 1;
        }

        return builder.ConnectionString;
    }

    /// <summary>The options every context uses, also for the command-line verbs and the design-time tools.</summary>
    public static void Configure(DbContextOptionsBuilder options, NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("schema_migrations").UseNodaTime());
}

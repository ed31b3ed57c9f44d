using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Rendezvous.Data;

/// <summary>Registers the database: one <see cref="NpgsqlDataSource"/> and the DbContext on top of it.</summary>
public static class DataServiceCollectionExtensions
{
    public static IServiceCollection AddRendezvousData(this IServiceCollection services, string connectionString)
    {
        var dataSource = new NpgsqlDataSourceBuilder(connectionString).Build();
        services.AddSingleton(dataSource);
        services.AddDbContext<RendezvousDbContext>(options => Configure(options, dataSource));
        return services;
    }

    /// <summary>The options every context uses, also for the command-line verbs.</summary>
    public static void Configure(DbContextOptionsBuilder options, NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("schema_migrations"))
            // Migrations are hand-written SQL, so there is no model snapshot to compare with.
            .ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
}

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
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseNodaTime();
        return builder.Build();
    }

    /// <summary>The options every context uses, also for the command-line verbs and the design-time tools.</summary>
    public static void Configure(DbContextOptionsBuilder options, NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("schema_migrations").UseNodaTime());
}

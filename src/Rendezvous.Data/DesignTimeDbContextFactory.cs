using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using NodaTime;

namespace Rendezvous.Data;

/// <summary>
/// Builds the context for <c>dotnet ef</c> (model snapshot, generated migrations, the drift check) with the same options
/// the server uses, so the tools see the model the application runs with. Those commands never open a connection;
/// <c>RENDEZVOUS_DESIGN_DB</c> only matters for the ones that do (<c>dotnet ef database update</c>).
/// </summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<RendezvousDbContext>
{
    public const string Variable = "RENDEZVOUS_DESIGN_DB";

    public RendezvousDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable(Variable)
            ?? "Host=127.0.0.1;Port=5432;Username=postgres;Database=rendezvous";
        var options = new DbContextOptionsBuilder<RendezvousDbContext>();
        DataServiceCollectionExtensions.Configure(options, DataServiceCollectionExtensions.CreateDataSource(connectionString));
        return new RendezvousDbContext(options.Options, new NoClock());
    }

    /// <summary>The design-time context never saves, so it never needs the time; asking for it is a bug.</summary>
    private sealed class NoClock : IClock
    {
        public Instant GetCurrentInstant() =>
            throw new NotSupportedException("The design-time context is for the EF Core tools only and never saves.");
    }
}

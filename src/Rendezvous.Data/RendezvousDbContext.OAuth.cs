using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace Rendezvous.Data;

/// <summary>
/// OpenIddict's stores (third-party apps, the grants users gave them, their tokens; decision 0032) in this database,
/// under snake_case "oauth_" table names like every other table. They are global, not tenant-filtered: an app belongs
/// to the organization named in its properties, and a grant to a user (who belongs to one organization).
/// </summary>
public sealed partial class RendezvousDbContext
{
    private static void ConfigureOAuth(ModelBuilder modelBuilder)
    {
        modelBuilder.UseOpenIddict<Guid>();
        modelBuilder.Entity<OpenIddictEntityFrameworkCoreApplication<Guid>>().ToTable("oauth_applications");
        modelBuilder.Entity<OpenIddictEntityFrameworkCoreAuthorization<Guid>>().ToTable("oauth_authorizations");
        modelBuilder.Entity<OpenIddictEntityFrameworkCoreScope<Guid>>().ToTable("oauth_scopes");
        modelBuilder.Entity<OpenIddictEntityFrameworkCoreToken<Guid>>().ToTable("oauth_tokens");
    }
}

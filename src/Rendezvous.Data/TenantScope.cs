using Microsoft.EntityFrameworkCore;

namespace Rendezvous.Data;

/// <summary>
/// The only ways past the organization filter of <see cref="RendezvousDbContext"/>. Each call site is a place where
/// code reads across organizations on purpose (a worker picking up due work, a public link that names its own
/// organization, signing in before the organization is known); the test <c>TenantScopeAuditTests</c> lists every one
/// by file, together with every raw SQL site, so a new one fails the build's tests until someone has reviewed it.
/// </summary>
public static class TenantScope
{
    /// <summary>This query reads every organization's rows; the caller scopes it itself (by id, by a signed token...).</summary>
    public static IQueryable<T> AcrossTenants<T>(this IQueryable<T> query)
        where T : class => EntityFrameworkQueryableExtensions.IgnoreQueryFilters(query);

    /// <summary>Every query of <paramref name="db"/> reads every organization's rows: for command-line tools and tests.</summary>
    public static RendezvousDbContext ForAllTenants(this RendezvousDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        db.AllTenants = true;
        return db;
    }
}

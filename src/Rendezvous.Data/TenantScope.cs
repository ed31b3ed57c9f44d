using Microsoft.EntityFrameworkCore;
using Rendezvous.Domain;

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

    private static readonly AsyncLocal<OrganizationId?> _ambient = new();

    /// <summary>The organization new contexts start with in this flow (null outside <see cref="Enter"/>).</summary>
    public static OrganizationId? Ambient => _ambient.Value;

    /// <summary>
    /// Until disposed, contexts made in this flow start scoped to <paramref name="organization"/>: the outbox runs each
    /// message in its organization, so a handler that reads tenant data without naming the organization reads that
    /// organization's rows, never another's and never none.
    /// </summary>
    public static IDisposable Enter(OrganizationId? organization)
    {
        var previous = _ambient.Value;
        _ambient.Value = organization;
        return new Restore(previous);
    }

    private sealed class Restore(OrganizationId? previous) : IDisposable
    {
        public void Dispose() => _ambient.Value = previous;
    }

    /// <summary>Every query of <paramref name="db"/> reads every organization's rows: for command-line tools and tests.</summary>
    public static RendezvousDbContext ForAllTenants(this RendezvousDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        db.AllTenants = true;
        return db;
    }
}

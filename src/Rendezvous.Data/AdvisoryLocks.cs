using Microsoft.EntityFrameworkCore;

namespace Rendezvous.Data;

/// <summary>
/// Transaction-scoped PostgreSQL advisory locks, for work that must not interleave across server processes. Call inside
/// a transaction; the lock is released when it ends.
/// </summary>
public static class AdvisoryLocks
{
    /// <summary>Serialises bookings of one page, so its own rules (hours, caps, seats) are checked and written together.</summary>
    public static Task LockPageAsync(this RendezvousDbContext db, Domain.BookingPageId pageId, CancellationToken ct) =>
        LockAsync(db, pageId.ToString(), ct);

    /// <summary>Takes the lock named <paramref name="name"/> (hashed to a 64-bit key).</summary>
    public static Task LockAsync(this RendezvousDbContext db, string name, CancellationToken ct) =>
        db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtextextended({name}, 0))", ct);
}

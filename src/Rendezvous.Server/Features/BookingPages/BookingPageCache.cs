using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Domain.BookingPages;

namespace Rendezvous.Server.Features.BookingPages;

/// <summary>A page as it was read, and the version (the row's xmin) it was read at.</summary>
public sealed record CachedPage(BookingPage Page, string Version);

/// <summary>
/// Public pages by slug, kept between requests so the public routes do not look the page up each time. Nothing here
/// is trusted on its own: every use reads the page row's current xmin in the same round trip as its other reads
/// (<see cref="Availability.AvailabilityService.ReadAsync"/>), and a different version (the page was changed, renamed
/// or deleted, in this process or another) drops the entry and the page is read again. The cached pages are shared
/// between requests and must not be changed or attached to a context.
/// </summary>
public sealed class BookingPageCache
{
    /// <summary>Past this many pages the cache starts over, so a crawl over every slug cannot grow it without end.</summary>
    public const int MaxEntries = 20_000;

    private readonly ConcurrentDictionary<string, CachedPage> _pages = new(StringComparer.Ordinal);

    public async Task<CachedPage?> FindAsync(RendezvousDbContext db, string slug, CancellationToken ct)
    {
        if (_pages.TryGetValue(slug, out var cached))
        {
            return cached;
        }

        // The version first: a change landing between the two reads leaves an older version with a newer page, which
        // the next check finds different and reads again; the other order could keep a stale page as current.
        var version = await db.Database.SqlQuery<string>($"SELECT xmin::text AS \"Value\" FROM booking_pages WHERE slug = {slug}")
            .FirstOrDefaultAsync(ct);
        if (version is null)
        {
            return null;
        }

        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(p => p.Slug == slug, ct);
        if (page is null)
        {
            return null;
        }

        if (_pages.Count >= MaxEntries)
        {
            _pages.Clear();
        }

        cached = new CachedPage(page, version);
        _pages[slug] = cached;
        return cached;
    }

    /// <summary>Drops <paramref name="slug"/> when its entry is still <paramref name="stale"/>.</summary>
    public void Invalidate(string slug, CachedPage stale) =>
        _pages.TryRemove(new KeyValuePair<string, CachedPage>(slug, stale));
}

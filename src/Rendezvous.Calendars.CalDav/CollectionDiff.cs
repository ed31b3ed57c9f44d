namespace Rendezvous.Calendars.CalDav;

/// <summary>The differences between what a caller knew of a collection and what it holds now.</summary>
/// <param name="Added">Members the caller did not know.</param>
/// <param name="Changed">Known members whose etag differs, or for which the server gave no etag (so a change cannot be ruled out).</param>
/// <param name="Removed">Known hrefs (in the caller's spelling) no longer in the collection.</param>
public sealed record CollectionChanges(IReadOnlyList<ObjectVersion> Added, IReadOnlyList<ObjectVersion> Changed, IReadOnlyList<string> Removed)
{
    public bool IsEmpty => Added.Count == 0 && Changed.Count == 0 && Removed.Count == 0;
}

/// <summary>
/// The fallback for servers without sync-collection: when the collection's ctag changed, list its members with
/// <see cref="CalDavClient.ListObjectsAsync"/> and compare them with the known href-to-etag map.
/// </summary>
public static class CollectionDiff
{
    /// <summary>Compares <paramref name="known"/> (href to etag) with the <paramref name="current"/> listing. Hrefs are
    /// matched with <see cref="CalDavHref.Comparer"/>, so spelling differences in percent-encoding do not count as changes.
    /// Etags are compared exactly.</summary>
    public static CollectionChanges Compare(IReadOnlyDictionary<string, string?> known, IEnumerable<ObjectVersion> current)
    {
        ArgumentNullException.ThrowIfNull(known);
        ArgumentNullException.ThrowIfNull(current);

        var knownByKey = new Dictionary<string, (string Href, string? ETag)>(StringComparer.Ordinal);
        foreach (var (href, etag) in known)
        {
            knownByKey[CalDavHref.Normalize(href)] = (href, etag);
        }

        var added = new List<ObjectVersion>();
        var changed = new List<ObjectVersion>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in current)
        {
            var key = CalDavHref.Normalize(item.Href);
            if (!seen.Add(key))
            {
                continue;
            }

            if (!knownByKey.TryGetValue(key, out var before))
            {
                added.Add(item);
            }
            else if (item.ETag is null || !string.Equals(item.ETag, before.ETag, StringComparison.Ordinal))
            {
                changed.Add(item);
            }
        }

        var removed = knownByKey.Where(k => !seen.Contains(k.Key)).Select(k => k.Value.Href).ToList();
        return new CollectionChanges(added, changed, removed);
    }
}

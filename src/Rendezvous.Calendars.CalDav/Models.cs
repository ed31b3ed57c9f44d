using System.Xml.Linq;

namespace Rendezvous.Calendars.CalDav;

/// <summary>A calendar collection as listed by PROPFIND.</summary>
/// <param name="Href">The collection's href as the server wrote it.</param>
/// <param name="DisplayName">DAV:displayname, when set.</param>
/// <param name="CTag">CalendarServer getctag: changes whenever anything in the collection changes; null when not offered.</param>
/// <param name="SyncToken">DAV:sync-token (RFC 6578), null when the server does not offer it.</param>
/// <param name="SupportedComponents">CalDAV supported-calendar-component-set names (VEVENT, VTODO, ...); empty when not
/// advertised, which RFC 4791 says means every component type.</param>
/// <param name="SupportedReports">Reports named in DAV:supported-report-set; empty when not advertised.</param>
public sealed record CalendarCollection(
    string Href,
    string? DisplayName,
    string? CTag,
    string? SyncToken,
    IReadOnlyList<string> SupportedComponents,
    IReadOnlyList<XName> SupportedReports)
{
    /// <summary>True when the collection advertises the RFC 6578 sync-collection report. When nothing is advertised,
    /// a sync can still be tried: <see cref="SyncOutcome.NotSupported"/> says when it is refused.</summary>
    public bool AdvertisesSyncCollection => SupportedReports.Contains(DavNames.SyncCollection);

    /// <summary>True when the calendar may hold <paramref name="component"/> (e.g. VEVENT).</summary>
    public bool Supports(string component) =>
        SupportedComponents.Count == 0 || SupportedComponents.Contains(component, StringComparer.OrdinalIgnoreCase);
}

/// <summary>A member's href and entity tag, as listed by a PROPFIND or a sync report.</summary>
/// <param name="Href">The href as the server wrote it.</param>
/// <param name="ETag">The entity tag including its quotes, as it must be sent in If-Match; null when the server did not give one.</param>
public sealed record ObjectVersion(string Href, string? ETag);

/// <summary>A calendar object resource: raw iCalendar text and the entity tag it had when read.</summary>
/// <param name="Href">The href as the server wrote it.</param>
/// <param name="ETag">The entity tag including its quotes; null when the server did not give one.</param>
/// <param name="CalendarData">The iCalendar text as the server sent it (line endings may be LF rather than CRLF).</param>
public sealed record CalendarObject(string Href, string? ETag, string CalendarData);

/// <summary>What came of a PUT or DELETE.</summary>
public enum WriteOutcome
{
    /// <summary>A new object was created.</summary>
    Created,

    /// <summary>An existing object was replaced.</summary>
    Updated,

    /// <summary>The object was deleted.</summary>
    Deleted,

    /// <summary>412: on create, something already exists at the href; on update or delete, the etag no longer matches
    /// (someone else changed it, or it was deleted). Read it again before deciding.</summary>
    PreconditionFailed,

    /// <summary>404/410 on delete: the object was already gone.</summary>
    NotFound,
}

/// <summary>The result of a PUT or DELETE.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="ETag">After a create or update, the object's new entity tag (from the ETag header, or read back with a
/// PROPFIND when the server left it out, e.g. because it changed the data as it stored it). Null otherwise, or when the
/// server gives none at all.</param>
public sealed record WriteResult(WriteOutcome Outcome, string? ETag)
{
    /// <summary>True for Created, Updated and Deleted.</summary>
    public bool Succeeded => Outcome is WriteOutcome.Created or WriteOutcome.Updated or WriteOutcome.Deleted;
}

/// <summary>What came of a MKCALENDAR.</summary>
public enum CreateCalendarOutcome
{
    Created,

    /// <summary>Something already exists at the href (405, or a resource-must-be-null precondition).</summary>
    AlreadyExists,
}

/// <summary>How an RFC 6578 sync ended.</summary>
public enum SyncOutcome
{
    /// <summary>The changes since the token are in the result, with the token to use next time.</summary>
    Completed,

    /// <summary>The server no longer accepts the token (DAV:valid-sync-token precondition): sync again without one and
    /// compare against everything known.</summary>
    InvalidToken,

    /// <summary>The collection does not support sync-collection: use the ctag and a listing instead
    /// (<see cref="CalDavClient.ListObjectsAsync"/> and <see cref="CollectionDiff"/>).</summary>
    NotSupported,
}

/// <summary>The result of <see cref="CalDavClient.SyncCollectionAsync"/>.</summary>
public sealed class SyncCollectionResult
{
    private SyncCollectionResult(SyncOutcome outcome, string? syncToken, IReadOnlyList<ObjectVersion> changed, IReadOnlyList<string> deleted, bool isInitial, int pages)
    {
        Outcome = outcome;
        SyncToken = syncToken;
        Changed = changed;
        Deleted = deleted;
        IsInitial = isInitial;
        Pages = pages;
    }

    public SyncOutcome Outcome { get; }

    /// <summary>The token to pass next time; null unless <see cref="Outcome"/> is Completed.</summary>
    public string? SyncToken { get; }

    /// <summary>Members created or changed since the token (every member, on an initial sync); fetch their data with
    /// <see cref="CalDavClient.MultigetAsync"/>. The collection itself and sub-collections are never listed.</summary>
    public IReadOnlyList<ObjectVersion> Changed { get; }

    /// <summary>Hrefs of members deleted since the token. Always empty on an initial sync (some servers list long-gone
    /// members there). A delete of a member the caller never knew can still appear; ignore it.</summary>
    public IReadOnlyList<string> Deleted { get; }

    /// <summary>True when the sync started without a token.</summary>
    public bool IsInitial { get; }

    /// <summary>How many requests it took (more than one when the server truncated its answer).</summary>
    public int Pages { get; }

    internal static SyncCollectionResult Completed(string syncToken, IReadOnlyList<ObjectVersion> changed, IReadOnlyList<string> deleted, bool isInitial, int pages) =>
        new(SyncOutcome.Completed, syncToken, changed, deleted, isInitial, pages);

    internal static SyncCollectionResult Failed(SyncOutcome outcome, bool isInitial, int pages) =>
        new(outcome, null, [], [], isInitial, pages);
}

/// <summary>The result of a calendar-multiget.</summary>
/// <param name="Objects">The objects the server returned with their data.</param>
/// <param name="Missing">Requested hrefs the server reported as gone, returned without data, or did not mention.</param>
public sealed record MultigetResult(IReadOnlyList<CalendarObject> Objects, IReadOnlyList<string> Missing);

/// <summary>What discovery found for the authenticated user.</summary>
/// <param name="ContextUri">The URI that answered with the principal (after any well-known redirect).</param>
/// <param name="PrincipalHref">The user's principal (RFC 5397 current-user-principal).</param>
/// <param name="CalendarHomeHrefs">The user's calendar homes (RFC 4791 calendar-home-set), usually one.</param>
/// <param name="Calendars">The calendar collections in those homes.</param>
public sealed record CalDavDiscovery(Uri ContextUri, string PrincipalHref, IReadOnlyList<string> CalendarHomeHrefs, IReadOnlyList<CalendarCollection> Calendars);

/// <summary>PROPFIND depth.</summary>
public enum PropfindDepth
{
    /// <summary>The resource only.</summary>
    Zero,

    /// <summary>The resource and its immediate members.</summary>
    One,
}

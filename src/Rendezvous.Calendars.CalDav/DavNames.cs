using System.Xml.Linq;

namespace Rendezvous.Calendars.CalDav;

/// <summary>XML names used by WebDAV (RFC 4918), CalDAV (RFC 4791), WebDAV sync (RFC 6578) and CalendarServer.</summary>
public static class DavNames
{
    /// <summary>The WebDAV namespace, <c>DAV:</c>.</summary>
    public static readonly XNamespace Dav = "DAV:";

    /// <summary>The CalDAV namespace.</summary>
    public static readonly XNamespace CalDav = "urn:ietf:params:xml:ns:caldav";

    /// <summary>The CalendarServer extensions namespace (getctag).</summary>
    public static readonly XNamespace CalendarServer = "http://calendarserver.org/ns/";

    public static readonly XName Multistatus = Dav + "multistatus";
    public static readonly XName Response = Dav + "response";
    public static readonly XName Href = Dav + "href";
    public static readonly XName Status = Dav + "status";
    public static readonly XName PropStat = Dav + "propstat";
    public static readonly XName Prop = Dav + "prop";
    public static readonly XName Error = Dav + "error";
    public static readonly XName ResponseDescription = Dav + "responsedescription";
    public static readonly XName Location = Dav + "location";
    public static readonly XName PropFind = Dav + "propfind";
    public static readonly XName Set = Dav + "set";

    public static readonly XName DisplayName = Dav + "displayname";
    public static readonly XName ResourceType = Dav + "resourcetype";
    public static readonly XName Collection = Dav + "collection";
    public static readonly XName GetETag = Dav + "getetag";
    public static readonly XName CurrentUserPrincipal = Dav + "current-user-principal";
    public static readonly XName SupportedReportSet = Dav + "supported-report-set";
    public static readonly XName SupportedReport = Dav + "supported-report";
    public static readonly XName Report = Dav + "report";

    public static readonly XName SyncCollection = Dav + "sync-collection";
    public static readonly XName SyncToken = Dav + "sync-token";
    public static readonly XName SyncLevel = Dav + "sync-level";
    public static readonly XName ValidSyncToken = Dav + "valid-sync-token";

    public static readonly XName Calendar = CalDav + "calendar";
    public static readonly XName CalendarHomeSet = CalDav + "calendar-home-set";
    public static readonly XName CalendarData = CalDav + "calendar-data";
    public static readonly XName CalendarDescription = CalDav + "calendar-description";
    public static readonly XName SupportedCalendarComponentSet = CalDav + "supported-calendar-component-set";
    public static readonly XName Comp = CalDav + "comp";
    public static readonly XName CompFilter = CalDav + "comp-filter";
    public static readonly XName Filter = CalDav + "filter";
    public static readonly XName TimeRange = CalDav + "time-range";
    public static readonly XName CalendarQuery = CalDav + "calendar-query";
    public static readonly XName CalendarMultiget = CalDav + "calendar-multiget";
    public static readonly XName MkCalendar = CalDav + "mkcalendar";

    public static readonly XName GetCTag = CalendarServer + "getctag";
}

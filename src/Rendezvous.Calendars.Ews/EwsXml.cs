using System.Globalization;
using System.Xml.Linq;
using NodaTime;

namespace Rendezvous.Calendars.Ews;

/// <summary>
/// The namespaces and little builders of EWS SOAP messages. Exchange knows only the <c>http://</c> forms of its
/// namespaces (some published samples spell them with https, which Exchange rejects).
/// </summary>
public static class EwsXml
{
    public static readonly XNamespace Soap = "http://schemas.xmlsoap.org/soap/envelope/";
    public static readonly XNamespace T = "http://schemas.microsoft.com/exchange/services/2006/types";
    public static readonly XNamespace M = "http://schemas.microsoft.com/exchange/services/2006/messages";

    /// <summary>The extended property that carries our booking id on every booking event (a named string property).</summary>
    public const string BookingIdPropertyName = "X-RENDEZVOUS-BOOKING-ID";

    public static XElement BookingIdPropertyUri() => new(T + "ExtendedFieldURI",
        new XAttribute("DistinguishedPropertySetId", "PublicStrings"),
        new XAttribute("PropertyName", BookingIdPropertyName),
        new XAttribute("PropertyType", "String"));

    /// <summary>A folder by id, or by distinguished name ("calendar") when the id is one of Exchange's well-known names.</summary>
    public static XElement Folder(string folderId, string? mailbox = null) => IsDistinguished(folderId)
        ? new XElement(T + "DistinguishedFolderId", new XAttribute("Id", folderId),
            mailbox is null ? null : new XElement(T + "Mailbox", new XElement(T + "EmailAddress", mailbox)))
        : new XElement(T + "FolderId", new XAttribute("Id", folderId));

    public static bool IsDistinguished(string folderId) => folderId is "calendar" or "msgfolderroot" or "root" or "inbox";

    public static XElement ItemId(string id, string? changeKey = null) => new(T + "ItemId", new XAttribute("Id", id),
        changeKey is null ? null : new XAttribute("ChangeKey", changeKey));

    public static XElement FieldUri(string uri) => new(T + "FieldURI", new XAttribute("FieldURI", uri));

    public static string Time(Instant at) => at.ToDateTimeUtc().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static Instant? ParseTime(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? Instant.FromDateTimeOffset(parsed)
            : null;

    /// <summary>The SOAP envelope of one request, with the schema version, and impersonation when asked for.</summary>
    public static XDocument Envelope(string serverVersion, string? impersonate, XElement body) => new(
        new XElement(Soap + "Envelope",
            new XAttribute(XNamespace.Xmlns + "soap", Soap),
            new XAttribute(XNamespace.Xmlns + "t", T),
            new XAttribute(XNamespace.Xmlns + "m", M),
            new XElement(Soap + "Header",
                new XElement(T + "RequestServerVersion", new XAttribute("Version", serverVersion)),
                impersonate is null
                    ? null
                    : new XElement(T + "ExchangeImpersonation", new XElement(T + "ConnectingSID", new XElement(T + "SmtpAddress", impersonate)))),
            new XElement(Soap + "Body", body)));
}

using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Rendezvous.Calendars.CalDav;

/// <summary>
/// A parsed WebDAV 207 Multi-Status body (RFC 4918 section 13, with the RFC 6578 sync-token). Parsing is lenient about
/// what servers are known to vary (namespace prefixes, missing optional elements, order) and strict about what makes
/// the answer meaningless (not XML, wrong root element).
/// </summary>
public sealed class Multistatus
{
    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        CloseInput = false,
    };

    private Multistatus(IReadOnlyList<DavResponse> responses, string? syncToken)
    {
        Responses = responses;
        SyncToken = syncToken;
    }

    /// <summary>The DAV:response elements that named at least one href, in document order.</summary>
    public IReadOnlyList<DavResponse> Responses { get; }

    /// <summary>The top-level DAV:sync-token (RFC 6578), or null.</summary>
    public string? SyncToken { get; }

    /// <summary>Parses a multistatus document.</summary>
    /// <exception cref="CalDavProtocolException">The text is not XML or its root is not DAV:multistatus.</exception>
    public static Multistatus Parse(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        using var reader = new StringReader(xml);
        return FromDocument(Load(XmlReader.Create(reader, ReaderSettings)));
    }

    /// <summary>Parses a multistatus document from its bytes; the encoding comes from the BOM or XML declaration.</summary>
    /// <exception cref="CalDavProtocolException">The bytes are not XML or the root is not DAV:multistatus.</exception>
    public static Multistatus Parse(ReadOnlyMemory<byte> utf8OrDeclared)
    {
        return FromDocument(LoadBytes(utf8OrDeclared));
    }

    internal static XDocument LoadBytes(ReadOnlyMemory<byte> body)
    {
        using var stream = new MemoryStream(body.ToArray(), writable: false);
        return Load(XmlReader.Create(stream, ReaderSettings));
    }

    /// <summary>The first element inside a DAV:error body (a failed precondition), or null when the body is not one.</summary>
    internal static XName? TryReadErrorCondition(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            var root = LoadBytes(body).Root;
            return root is not null && root.Name == DavNames.Error ? root.Elements().FirstOrDefault()?.Name : null;
        }
        catch (CalDavProtocolException)
        {
            return null;
        }
    }

    private static XDocument Load(XmlReader reader)
    {
        try
        {
            using (reader)
            {
                return XDocument.Load(reader, LoadOptions.None);
            }
        }
        catch (XmlException ex)
        {
            throw new CalDavProtocolException($"The server sent malformed XML: {ex.Message}", innerException: ex);
        }
    }

    private static Multistatus FromDocument(XDocument document)
    {
        var root = document.Root;
        if (root is null || root.Name != DavNames.Multistatus)
        {
            throw new CalDavProtocolException($"Expected a DAV:multistatus document, got <{root?.Name.ToString() ?? "nothing"}>.");
        }

        var responses = new List<DavResponse>();
        foreach (var element in root.Elements(DavNames.Response))
        {
            var hrefs = element.Elements(DavNames.Href)
                .Select(h => h.Value.Trim())
                .Where(h => h.Length > 0)
                .ToList();
            if (hrefs.Count == 0)
            {
                continue;
            }

            var propStats = element.Elements(DavNames.PropStat)
                .Select(p => new DavPropStat(
                    ParseStatus(p.Element(DavNames.Status)?.Value),
                    p.Element(DavNames.Prop)?.Elements().ToList() ?? []))
                .ToList();
            responses.Add(new DavResponse(
                hrefs,
                ParseStatus(element.Element(DavNames.Status)?.Value),
                propStats,
                element.Element(DavNames.Error)?.Elements().FirstOrDefault()?.Name,
                element.Element(DavNames.ResponseDescription)?.Value.Trim()));
        }

        var token = root.Element(DavNames.SyncToken)?.Value.Trim();
        return new Multistatus(responses, string.IsNullOrEmpty(token) ? null : token);
    }

    /// <summary>The code of an HTTP status line such as <c>HTTP/1.1 404 Not Found</c>; null when there is none.</summary>
    internal static int? ParseStatus(string? statusLine)
    {
        if (string.IsNullOrWhiteSpace(statusLine))
        {
            return null;
        }

        foreach (var part in statusLine.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Length == 3 && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code >= 100)
            {
                return code;
            }
        }

        return null;
    }
}

/// <summary>One DAV:response of a multistatus.</summary>
public sealed class DavResponse
{
    internal DavResponse(IReadOnlyList<string> hrefs, int? statusCode, IReadOnlyList<DavPropStat> propStats, XName? errorCondition, string? description)
    {
        Hrefs = hrefs;
        StatusCode = statusCode;
        PropStats = propStats;
        ErrorCondition = errorCondition;
        Description = string.IsNullOrEmpty(description) ? null : description;
    }

    /// <summary>The first href, exactly as the server wrote it (escapes kept).</summary>
    public string Href => Hrefs[0];

    /// <summary>Every href of the response (RFC 4918 allows several sharing one status).</summary>
    public IReadOnlyList<string> Hrefs { get; }

    /// <summary>The response-level DAV:status code, or null when the response carries propstats instead.</summary>
    public int? StatusCode { get; }

    public IReadOnlyList<DavPropStat> PropStats { get; }

    /// <summary>The first element inside the response's DAV:error, or null.</summary>
    public XName? ErrorCondition { get; }

    public string? Description { get; }

    /// <summary>True for a 404 or 410 response-level status: the resource does not exist (a deletion in a sync report).</summary>
    public bool IsGone => StatusCode is 404 or 410;

    /// <summary>The property <paramref name="name"/> from a 2xx propstat, or null when absent or reported with another status.</summary>
    public XElement? FindProperty(XName name)
    {
        foreach (var propStat in PropStats)
        {
            if (!propStat.IsSuccess)
            {
                continue;
            }

            foreach (var property in propStat.Properties)
            {
                if (property.Name == name)
                {
                    return property;
                }
            }
        }

        return null;
    }

    /// <summary>The trimmed text of a 2xx property, or null when it is absent or empty.</summary>
    public string? FindText(XName name)
    {
        var value = FindProperty(name)?.Value.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>The hrefs inside a 2xx property such as calendar-home-set, trimmed, empty ones dropped.</summary>
    public IReadOnlyList<string> FindHrefs(XName name) =>
        FindProperty(name)?.Elements(DavNames.Href).Select(h => h.Value.Trim()).Where(h => h.Length > 0).ToList() ?? [];

    /// <summary>True when DAV:resourcetype (2xx) contains <paramref name="type"/>.</summary>
    public bool HasResourceType(XName type) => FindProperty(DavNames.ResourceType)?.Element(type) is not null;
}

/// <summary>One DAV:propstat: the properties that share a status.</summary>
public sealed class DavPropStat
{
    internal DavPropStat(int? statusCode, IReadOnlyList<XElement> properties)
    {
        StatusCode = statusCode;
        Properties = properties;
    }

    /// <summary>The status code, or null when the server sent none that can be read (the properties are then not trusted).</summary>
    public int? StatusCode { get; }

    public IReadOnlyList<XElement> Properties { get; }

    public bool IsSuccess => StatusCode is >= 200 and < 300;
}

using System.Text;

namespace Rendezvous.Calendars.CalDav;

/// <summary>
/// Hrefs as WebDAV servers send them: an absolute path (<c>/user/cal/a%40b.ics</c>), rarely a full URL or a relative
/// path. The client keeps them exactly as received and resolves them against the server's base address only when it
/// makes a request, so a href read from one answer can be sent back unchanged.
/// </summary>
public static class CalDavHref
{
    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>
    /// Compares hrefs the way a server resolves them: percent-escapes decoded (except an escaped '/'), and a full URL
    /// equal to its path (the hrefs of one account all live on one server). Use it for dictionaries keyed by href.
    /// </summary>
    public static IEqualityComparer<string> Comparer { get; } = new HrefComparer();

    /// <summary>
    /// The request URI for <paramref name="href"/>: an absolute path is put on <paramref name="server"/>'s scheme, host
    /// and port; a full http(s) URL is used as is; anything else is resolved relative to <paramref name="server"/>.
    /// Existing percent-escapes are kept as they are; characters that may not appear in a URI (spaces, non-ASCII) are
    /// escaped.
    /// </summary>
    /// <exception cref="ArgumentException">The href is empty or not a usable http(s) URL.</exception>
    public static Uri Resolve(Uri server, string href)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (string.IsNullOrWhiteSpace(href))
        {
            throw new ArgumentException("An href must not be empty.", nameof(href));
        }

        var safe = EscapeUnsafe(href.Trim());
        string absolute;
        if (safe.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || safe.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            absolute = safe;
        }
        else if (safe.StartsWith('/'))
        {
            absolute = server.GetLeftPart(UriPartial.Authority) + safe;
        }
        else
        {
            absolute = new Uri(server, safe).AbsoluteUri;
        }

        if (!Uri.TryCreate(absolute, in Verbatim, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{href}' is not a usable http(s) href.", nameof(href));
        }

        return uri;
    }

    /// <summary>
    /// The href of a member called <paramref name="name"/> (unescaped, e.g. <c>abc@example.com.ics</c>) inside the
    /// collection <paramref name="collectionHref"/>; the name is percent-encoded.
    /// </summary>
    public static string Combine(string collectionHref, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(collectionHref);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return (collectionHref.EndsWith('/') ? collectionHref : collectionHref + "/") + Uri.EscapeDataString(name);
    }

    /// <summary>True when <paramref name="href"/> names a collection (ends with '/').</summary>
    public static bool IsCollection(string href) => href.EndsWith('/');

    /// <summary>
    /// The comparison key of an href: the path only (scheme and host dropped), percent-escapes decoded except an
    /// escaped '/', and a trailing '/' kept.
    /// </summary>
    public static string Normalize(string href)
    {
        ArgumentNullException.ThrowIfNull(href);
        var path = href.Trim();
        var schemeEnd = path.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd > 0 && path.AsSpan(0, schemeEnd).IndexOfAny('/', '?') < 0)
        {
            var pathStart = path.IndexOf('/', schemeEnd + 3);
            path = pathStart < 0 ? "/" : path[pathStart..];
        }

        var query = path.IndexOfAny(['?', '#']);
        if (query >= 0)
        {
            path = path[..query];
        }

        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            segments[i] = DecodeSegment(segments[i]);
        }

        return string.Join('/', segments);
    }

    private static string DecodeSegment(string segment)
    {
        if (!segment.Contains('%', StringComparison.Ordinal))
        {
            return segment;
        }

        // Decode byte runs as UTF-8; a '%' that does not start a valid escape stays as it is.
        var bytes = new List<byte>();
        var result = new StringBuilder(segment.Length);
        for (var i = 0; i < segment.Length; i++)
        {
            if (segment[i] == '%' && i + 2 < segment.Length && IsHex(segment[i + 1]) && IsHex(segment[i + 2]))
            {
                var value = (byte)((HexValue(segment[i + 1]) << 4) | HexValue(segment[i + 2]));
                if (value == (byte)'/')
                {
                    FlushBytes(bytes, result);
                    result.Append("%2F");
                }
                else
                {
                    bytes.Add(value);
                }

                i += 2;
            }
            else
            {
                FlushBytes(bytes, result);
                result.Append(segment[i]);
            }
        }

        FlushBytes(bytes, result);
        return result.ToString();
    }

    private static void FlushBytes(List<byte> bytes, StringBuilder into)
    {
        if (bytes.Count == 0)
        {
            return;
        }

        into.Append(Encoding.UTF8.GetString(bytes.ToArray()));
        bytes.Clear();
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (char.ToUpperInvariant(c) - 'A') + 10;

    /// <summary>Escapes what may not appear in a URI as sent; valid escapes and reserved characters stay.</summary>
    internal static string EscapeUnsafe(string href)
    {
        StringBuilder? sb = null;
        for (var i = 0; i < href.Length; i++)
        {
            var c = href[i];
            var keep = c < 128 && (char.IsAsciiLetterOrDigit(c) || "-._~:/?#[]@!$&'()*+,;=".Contains(c, StringComparison.Ordinal)
                || (c == '%' && i + 2 < href.Length && IsHex(href[i + 1]) && IsHex(href[i + 2])));
            if (keep)
            {
                sb?.Append(c);
                continue;
            }

            sb ??= new StringBuilder(href, 0, i, href.Length + 16);
            var length = char.IsHighSurrogate(c) && i + 1 < href.Length && char.IsLowSurrogate(href[i + 1]) ? 2 : 1;
            foreach (var b in Encoding.UTF8.GetBytes(href.Substring(i, length)))
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }

            i += length - 1;
        }

        return sb?.ToString() ?? href;
    }

    private sealed class HrefComparer : IEqualityComparer<string>
    {
        public bool Equals(string? x, string? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && string.Equals(Normalize(x), Normalize(y), StringComparison.Ordinal));

        public int GetHashCode(string obj) => StringComparer.Ordinal.GetHashCode(Normalize(obj));
    }
}

using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>
/// A small MIME reader for tests: unfolds headers, decodes RFC 2047 encoded-words, splits multiparts, and decodes
/// quoted-printable and base64 bodies. Written independently of the product's writer so the tests check real decoding.
/// </summary>
public sealed partial class MimePart
{
    private readonly List<KeyValuePair<string, string>> _headers = [];

    public string RawHeaders { get; private set; } = "";

    public string RawBody { get; private set; } = "";

    public string MediaType { get; private set; } = "text/plain";

    public Dictionary<string, string> ContentTypeParameters { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<MimePart> Parts { get; } = [];

    /// <summary>The header's value (unfolded, encoded-words decoded), or null.</summary>
    public string? Header(string name) => _headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value is { } raw
        ? DecodeWords(raw)
        : null;

    /// <summary>The header as written (unfolded only).</summary>
    public string? RawHeader(string name) => _headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    public byte[] BodyBytes => (Header("Content-Transfer-Encoding") ?? "7bit").Trim().ToLowerInvariant() switch
    {
        "quoted-printable" => DecodeQuotedPrintable(RawBody),
        "base64" => Convert.FromBase64String(string.Concat(RawBody.Where(c => !char.IsWhiteSpace(c)))),
        _ => Encoding.UTF8.GetBytes(RawBody),
    };

    /// <summary>The decoded body as text (CRLF line ends as sent).</summary>
    public string Text => Encoding.UTF8.GetString(BodyBytes);

    /// <summary>Every leaf part, depth first.</summary>
    public IEnumerable<MimePart> Leaves() => Parts.Count == 0 ? [this] : Parts.SelectMany(p => p.Leaves());

    public MimePart Single(string mediaType) => Leaves().Single(p => p.MediaType == mediaType);

    public static MimePart Parse(string raw)
    {
        raw = raw.ReplaceLineEndings("\r\n");
        var split = raw.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var part = new MimePart
        {
            RawHeaders = split < 0 ? raw : raw[..split],
            RawBody = split < 0 ? "" : raw[(split + 4)..],
        };
        foreach (var line in Regex.Replace(part.RawHeaders, "\r\n(?=[ \t])", "").Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                part._headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
        }

        if (part.RawHeader("Content-Type") is { } contentType)
        {
            var pieces = contentType.Split(';');
            part.MediaType = pieces[0].Trim().ToLowerInvariant();
            foreach (var p in pieces.Skip(1))
            {
                var eq = p.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    part.ContentTypeParameters[p[..eq].Trim()] = p[(eq + 1)..].Trim().Trim('"');
                }
            }
        }

        if (part.MediaType.StartsWith("multipart/", StringComparison.Ordinal) && part.ContentTypeParameters.TryGetValue("boundary", out var boundary))
        {
            var delimiter = "--" + boundary;
            var sections = ("\r\n" + part.RawBody).Split("\r\n" + delimiter);
            // [0] is the preamble; the last starts with "--" (the close delimiter) and holds the epilogue.
            foreach (var section in sections.Skip(1))
            {
                if (section.StartsWith("--", StringComparison.Ordinal))
                {
                    break;
                }

                var body = section.IndexOf("\r\n", StringComparison.Ordinal) is var nl and >= 0 ? section[(nl + 2)..] : "";
                part.Parts.Add(Parse(body));
            }
        }

        return part;
    }

    public static string DecodeWords(string value)
    {
        // Whitespace between two adjacent encoded-words is not part of the text (RFC 2047 6.2).
        var joined = AdjacentWords().Replace(value, "$1");
        return EncodedWord().Replace(joined, m =>
        {
            var bytes = m.Groups[2].Value.ToUpperInvariant() == "B"
                ? Convert.FromBase64String(m.Groups[3].Value)
                : DecodeQuotedPrintable(m.Groups[3].Value.Replace('_', ' '));
            return Encoding.GetEncoding(m.Groups[1].Value).GetString(bytes);
        });
    }

    public static byte[] DecodeQuotedPrintable(string text)
    {
        var output = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '=' && i + 2 < text.Length && text[i + 1] == '\r' && text[i + 2] == '\n')
            {
                i += 2;
            }
            else if (c == '=' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                i += 1;
            }
            else if (c == '=' && i + 2 < text.Length)
            {
                output.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                output.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return [.. output];
    }

    [GeneratedRegex(@"=\?([^?]+)\?([BbQq])\?([^?]*)\?=")]
    private static partial Regex EncodedWord();

    [GeneratedRegex(@"(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)")]
    private static partial Regex AdjacentWords();
}

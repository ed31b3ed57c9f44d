using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Rendezvous.Calendars.CalDav;

/// <summary>
/// What a server said in the body of an error answer, shortened to one line for a log entry or a connection's health:
/// markup dropped, whitespace collapsed, at most <see cref="MaxLength"/> characters. Servers explain refusals there
/// (Xandikos: "Not a valid calendar file: ...", Cyrus and DAViCal: an HTML or DAV:error page).
/// </summary>
internal static partial class ServerAnswerText
{
    public const int MaxLength = 300;

    public static string? Of(ReadOnlyMemory<byte> body, string? charset)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        string text;
        try
        {
            var encoding = charset is null ? Encoding.UTF8 : Encoding.GetEncoding(charset.Trim('"'));
            text = encoding.GetString(body.Span[..Math.Min(body.Length, 16 * 1024)]);
        }
        catch (ArgumentException)
        {
            text = Encoding.UTF8.GetString(body.Span[..Math.Min(body.Length, 16 * 1024)]);
        }

        text = WebUtility.HtmlDecode(Markup().Replace(text, " "));
        text = Whitespace().Replace(text, " ").Trim();
        if (text.Length == 0)
        {
            return null;
        }

        return text.Length > MaxLength ? text[..MaxLength] + "..." : text;
    }

    /// <summary>" The server said: ..." for the end of an exception message, or nothing.</summary>
    public static string Suffix(ReadOnlyMemory<byte> body, string? charset) => Of(body, charset) is { } said ? $" The server said: \"{said}\"" : "";

    [GeneratedRegex("<[^>]*>", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Markup();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Whitespace();
}

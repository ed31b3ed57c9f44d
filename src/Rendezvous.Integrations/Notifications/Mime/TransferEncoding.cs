using System.Text;

namespace Rendezvous.Integrations.Notifications.Mime;

/// <summary>Content-Transfer-Encodings for text that must pass through 7-bit mail (RFC 2045 6.7 and 6.8).</summary>
public static class TransferEncoding
{
    public const int MaxEncodedLineLength = 76;

    private static readonly char[] Hex = "0123456789ABCDEF".ToCharArray();

    /// <summary>
    /// Quoted-printable of the UTF-8 text. Line breaks (CRLF, LF or CR) become CRLF; encoded lines are at most 76
    /// characters, broken with soft line breaks ("=" at the end) that never split an escape; spaces and tabs before a line
    /// end are encoded so nothing strips them; "From " at a line start is escaped for mailboxes that would mangle it.
    /// </summary>
    public static string QuotedPrintable(string text)
    {
        var output = new StringBuilder(text.Length + (text.Length / 8));
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (var l = 0; l < lines.Length; l++)
        {
            if (l > 0)
            {
                output.Append("\r\n");
            }

            var bytes = Encoding.UTF8.GetBytes(lines[l]);
            var lineLength = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                var b = bytes[i];
                var last = i == bytes.Length - 1;
                var literal = (b is >= 33 and <= 126 && b != '=') || (b is (byte)' ' or (byte)'\t' && !last);
                if (i == 0 && b == 'F' && lines[l].StartsWith("From ", StringComparison.Ordinal))
                {
                    literal = false;
                }

                var width = literal ? 1 : 3;
                // Leave room for the soft break "=" unless this is the line's last character.
                var limit = last ? MaxEncodedLineLength : MaxEncodedLineLength - 1;
                if (lineLength + width > limit)
                {
                    output.Append("=\r\n");
                    lineLength = 0;
                }

                if (literal)
                {
                    output.Append((char)b);
                }
                else
                {
                    output.Append('=').Append(Hex[b >> 4]).Append(Hex[b & 0xF]);
                }

                lineLength += width;
            }
        }

        return output.ToString();
    }

    /// <summary>Base64 in lines of 76 characters.</summary>
    public static string Base64(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks);

    /// <summary>True when the text can go as it is (7bit): ASCII without NUL or bare CR/LF, and lines of at most 998 octets.</summary>
    public static bool IsSevenBitSafe(string text)
    {
        if (!Ascii.IsValid(text) || text.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var line in text.ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.Length > 998)
            {
                return false;
            }
        }

        return true;
    }
}

using System.Text;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>RFC 5545 TEXT escaping (section 3.3.11).</summary>
public static class ICalendarText
{
    /// <summary>
    /// Escapes backslash, semicolon, comma and line breaks. CRLF and a lone CR become <c>\n</c> too, because
    /// TEXT has no way to carry a carriage return.
    /// </summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.AsSpan().IndexOfAny("\\;,\r\n") < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case ';':
                    builder.Append(@"\;");
                    break;
                case ',':
                    builder.Append(@"\,");
                    break;
                case '\r':
                    if (i + 1 < text.Length && text[i + 1] == '\n')
                    {
                        i++;
                    }

                    builder.Append(@"\n");
                    break;
                case '\n':
                    builder.Append(@"\n");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// Resolves <c>\\ \; \, \n \N</c>. An unknown escape such as <c>\x</c> is kept verbatim rather than guessed at,
    /// and so is a trailing lone backslash.
    /// </summary>
    public static string Unescape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Unescape(value.AsSpan());
    }

    private static string Unescape(ReadOnlySpan<char> value)
    {
        if (value.IndexOf('\\') < 0)
        {
            return value.ToString();
        }

        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && i + 1 < value.Length)
            {
                var next = value[i + 1];
                switch (next)
                {
                    case '\\':
                    case ';':
                    case ',':
                        builder.Append(next);
                        i++;
                        continue;
                    case 'n':
                    case 'N':
                        builder.Append('\n');
                        i++;
                        continue;
                    default:
                        break;
                }
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Splits a multi-valued TEXT property on unescaped commas, then unescapes each part.</summary>
    public static IReadOnlyList<string> SplitList(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\')
            {
                i++;
            }
            else if (value[i] == ',')
            {
                parts.Add(Unescape(value.AsSpan(start, i - start)));
                start = i + 1;
            }
        }

        parts.Add(Unescape(value.AsSpan(start)));
        return parts;
    }
}

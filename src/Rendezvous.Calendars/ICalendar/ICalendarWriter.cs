using System.Text;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// Writes iCalendar text: CRLF line ends, lines folded at 75 octets without splitting a UTF-8 character,
/// parameter values quoted when they contain <c>; : ,</c> and caret-encoded (RFC 6868) for quotes and newlines.
/// </summary>
public static class ICalendarWriter
{
    /// <summary>RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break.</summary>
    public const int MaxLineOctets = 75;

    private const string Crlf = "\r\n";

    public static string Write(CalendarDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return Write(document.ToComponent());
    }

    public static string Write(CalendarComponent component)
    {
        ArgumentNullException.ThrowIfNull(component);
        var builder = new StringBuilder(1024);
        Append(builder, component, 0);
        return builder.ToString();
    }

    /// <summary>The document as UTF-8 bytes (no byte-order mark), ready for a CalDAV PUT or an email part.</summary>
    public static byte[] WriteUtf8(CalendarDocument document) => new UTF8Encoding(false).GetBytes(Write(document));

    /// <summary>
    /// One content line, unfolded: <c>[group.]NAME;PARAM=value:value</c>. Throws <see cref="ArgumentException"/>
    /// when the raw value contains a line break, which no content line can carry.
    /// </summary>
    public static string FormatContentLine(CalendarProperty property) => FormatContentLine(property, validate: true);

    internal static string FormatContentLine(CalendarProperty property, bool validate)
    {
        ArgumentNullException.ThrowIfNull(property);
        if (validate && property.Value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException($"The raw value of {property.Name} contains a line break; escape TEXT values with ICalendarText.Escape.", nameof(property));
        }

        var builder = new StringBuilder(property.Name.Length + property.Value.Length + 16);
        if (!string.IsNullOrEmpty(property.Group))
        {
            builder.Append(property.Group).Append('.');
        }

        builder.Append(property.Name);
        foreach (var parameter in property.Parameters)
        {
            builder.Append(';').Append(parameter.Name).Append('=');
            for (var i = 0; i < parameter.Values.Count; i++)
            {
                if (i > 0)
                {
                    builder.Append(',');
                }

                AppendParameterValue(builder, parameter.Values[i]);
            }
        }

        return builder.Append(':').Append(property.Value).ToString();
    }

    /// <summary>
    /// Folds one content line: each physical line is at most 75 octets of UTF-8 (continuations include their
    /// leading space), and a break never falls inside a character. Lines are joined with CRLF, without a final one.
    /// </summary>
    public static string Fold(string contentLine)
    {
        ArgumentNullException.ThrowIfNull(contentLine);
        var builder = new StringBuilder(contentLine.Length + 8);
        AppendFolded(builder, contentLine);
        return builder.ToString();
    }

    private static void Append(StringBuilder builder, CalendarComponent component, int depth)
    {
        if (depth > ICalendarReader.MaxDepth)
        {
            throw new InvalidOperationException($"Components are nested deeper than {ICalendarReader.MaxDepth} levels.");
        }

        builder.Append("BEGIN:").Append(component.Name).Append(Crlf);
        foreach (var property in component.Properties)
        {
            AppendFolded(builder, FormatContentLine(property));
            builder.Append(Crlf);
        }

        foreach (var child in component.Components)
        {
            Append(builder, child, depth + 1);
        }

        builder.Append("END:").Append(component.Name).Append(Crlf);
    }

    private static void AppendFolded(StringBuilder builder, string line)
    {
        var octets = 0;
        foreach (var rune in line.EnumerateRunes())
        {
            var length = rune.Utf8SequenceLength;
            if (octets + length > MaxLineOctets)
            {
                builder.Append(Crlf).Append(' ');
                octets = 1;
            }

            builder.Append(rune.ToString());
            octets += length;
        }
    }

    private static void AppendParameterValue(StringBuilder builder, string value)
    {
        var encoded = EncodeCaret(value);
        var needsQuotes = encoded.AsSpan().IndexOfAny(";:,") >= 0;
        if (needsQuotes)
        {
            builder.Append('"').Append(encoded).Append('"');
        }
        else
        {
            builder.Append(encoded);
        }
    }

    /// <summary>RFC 6868: ^ becomes ^^, a double quote ^', and a line break (CRLF, LF or CR) ^n.</summary>
    private static string EncodeCaret(string value)
    {
        if (value.AsSpan().IndexOfAny("^\"\r\n") < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 8);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '^':
                    builder.Append("^^");
                    break;
                case '"':
                    builder.Append("^'");
                    break;
                case '\r':
                    if (i + 1 < value.Length && value[i + 1] == '\n')
                    {
                        i++;
                    }

                    builder.Append("^n");
                    break;
                case '\n':
                    builder.Append("^n");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }
}

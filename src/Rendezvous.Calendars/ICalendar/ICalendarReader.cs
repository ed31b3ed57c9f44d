using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// Reads iCalendar text (RFC 5545). Lines end in CRLF, LF or CR; a line starting with a space or tab continues
/// the previous one. Blank lines and other junk before the first BEGIN and after the last END are ignored;
/// inside a component every line must be a content line. Every failure is an <see cref="ICalendarParseException"/>.
/// </summary>
public static class ICalendarReader
{
    /// <summary>Components nested deeper than this are rejected (real calendars use 3 levels).</summary>
    public const int MaxDepth = 32;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>The components RFC 5545 3.6 puts directly inside a VCALENDAR.</summary>
    private static readonly HashSet<string> CalendarComponentNames = new(StringComparer.Ordinal)
    {
        "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE",
    };

    /// <summary>The generic component tree: every top-level component, whatever its name.</summary>
    public static IReadOnlyList<CalendarComponent> ReadComponents(string text, ICalendarReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ReadComponents(Utf8.GetBytes(text), options);
    }

    /// <summary>
    /// The generic component tree from UTF-8 bytes. Lines are unfolded before decoding, so a producer that
    /// folded in the middle of a multi-byte character is still read correctly.
    /// </summary>
    public static IReadOnlyList<CalendarComponent> ReadComponents(ReadOnlySpan<byte> utf8, ICalendarReaderOptions? options = null)
    {
        options ??= ICalendarReaderOptions.Strict;
        var roots = new List<CalendarComponent>();
        var stack = new Stack<CalendarComponent>();
        foreach (var (line, lineNumber) in Unfold(utf8))
        {
            if (stack.Count == 0)
            {
                if (!TryReadBegin(line, out var rootName))
                {
                    if (IsEnd(line))
                    {
                        throw new ICalendarParseException(ICalendarErrorKind.UnbalancedComponent, lineNumber, "END without a matching BEGIN");
                    }

                    continue;
                }

                var root = new CalendarComponent(rootName, lineNumber);
                roots.Add(root);
                stack.Push(root);
                continue;
            }

            CalendarProperty property;
            try
            {
                property = line.Length == 0
                    ? throw new ICalendarParseException(ICalendarErrorKind.BlankLine, lineNumber, $"blank line inside {stack.Peek().Name}")
                    : ContentLineSyntax.Parse(line, lineNumber);
            }
            catch (ICalendarParseException skipped) when (options.SkipInvalidLines)
            {
                options.OnSkipped?.Invoke(skipped);
                continue;
            }

            switch (property.Name)
            {
                case "BEGIN":
                {
                    var name = ComponentName(property, lineNumber);
                    if (stack.Count >= MaxDepth)
                    {
                        throw new ICalendarParseException(ICalendarErrorKind.NestingTooDeep, lineNumber, $"components nested deeper than {MaxDepth} levels");
                    }

                    var child = new CalendarComponent(name, lineNumber);
                    stack.Peek().AddComponent(child);
                    stack.Push(child);
                    break;
                }

                case "END":
                {
                    var name = ComponentName(property, lineNumber);
                    var open = stack.Peek();
                    if (!string.Equals(open.Name, name, StringComparison.Ordinal))
                    {
                        throw new ICalendarParseException(
                            ICalendarErrorKind.UnbalancedComponent,
                            lineNumber,
                            $"END:{name} does not close BEGIN:{open.Name} (line {open.LineNumber})");
                    }

                    stack.Pop();
                    break;
                }

                default:
                    stack.Peek().AddProperty(property);
                    break;
            }
        }

        if (stack.Count > 0)
        {
            var open = stack.Peek();
            throw new ICalendarParseException(
                ICalendarErrorKind.UnbalancedComponent,
                open.LineNumber,
                $"BEGIN:{open.Name} is never closed (the input ends first)");
        }

        return roots;
    }

    /// <summary>Reads text holding exactly one VCALENDAR into the typed view (strict unless <paramref name="options"/> say otherwise).</summary>
    /// <exception cref="ICalendarParseException">The text is not valid, or holds no or several VCALENDARs.</exception>
    public static CalendarDocument Parse(string text, ICalendarReaderOptions? options = null) => Single(ParseAll(text, options));

    /// <inheritdoc cref="Parse(string, ICalendarReaderOptions?)"/>
    public static CalendarDocument Parse(ReadOnlySpan<byte> utf8, ICalendarReaderOptions? options = null) => Single(ParseAll(utf8, options));

    /// <summary>Reads an iCalendar stream (RFC 5545 allows several VCALENDARs in one); may be empty.</summary>
    public static IReadOnlyList<CalendarDocument> ParseAll(string text, ICalendarReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ParseAll(Utf8.GetBytes(text), options);
    }

    /// <inheritdoc cref="ParseAll(string, ICalendarReaderOptions?)"/>
    public static IReadOnlyList<CalendarDocument> ParseAll(ReadOnlySpan<byte> utf8, ICalendarReaderOptions? options = null) =>
        Calendars(ReadComponents(utf8, options), options ?? ICalendarReaderOptions.Strict)
            .Select(c => CalendarDocument.FromComponent(c, options))
            .ToList();

    /// <summary>
    /// The VCALENDARs of a stream. Without any, bare calendar components (VEVENT, VTODO, VJOURNAL, VFREEBUSY,
    /// VTIMEZONE: what some producers export, and what other readers accept) or bare VALARMs on their own form
    /// one implicit VCALENDAR: there is only one calendar they can belong to. Refused as ambiguous: such a
    /// component next to a VCALENDAR (which calendar is it in?), and VALARMs next to events (which event do they
    /// alarm?). Other top-level components (a VCARD...) are not calendar data and are ignored.
    /// </summary>
    private static List<CalendarComponent> Calendars(IReadOnlyList<CalendarComponent> roots, ICalendarReaderOptions options)
    {
        var calendars = roots.Where(c => c.Name == "VCALENDAR").ToList();
        var bare = roots.Where(c => CalendarComponentNames.Contains(c.Name) || c.Name == "VALARM").ToList();
        if (bare.Count == 0)
        {
            return calendars;
        }

        string? ambiguity = calendars.Count > 0
            ? "is outside the VCALENDAR next to it, so the calendar it belongs to is ambiguous"
            : bare.Any(c => c.Name == "VALARM") && bare.Any(c => c.Name != "VALARM")
                ? "is outside any event, next to events it might belong to"
                : null;
        if (ambiguity is null)
        {
            var implicitCalendar = new CalendarComponent("VCALENDAR", bare[0].LineNumber);
            foreach (var component in bare)
            {
                implicitCalendar.AddComponent(component);
            }

            return [implicitCalendar];
        }

        var strays = calendars.Count > 0 ? bare : bare.Where(c => c.Name == "VALARM").ToList();
        foreach (var stray in strays)
        {
            var problem = new ICalendarParseException(ICalendarErrorKind.StrayComponent, stray.LineNumber, $"BEGIN:{stray.Name} {ambiguity}");
            if (!options.SkipInvalidEvents)
            {
                throw problem;
            }

            options.OnSkipped?.Invoke(problem);
        }

        return calendars.Count > 0 ? calendars : Calendars([.. roots.Except(strays)], options);
    }

    /// <summary>Like <see cref="Parse(string, ICalendarReaderOptions?)"/>, but reports failure as a value instead of throwing.</summary>
    public static bool TryParse(
        string text,
        [NotNullWhen(true)] out CalendarDocument? document,
        [NotNullWhen(false)] out ICalendarParseException? error,
        ICalendarReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            document = Parse(text, options);
            error = null;
            return true;
        }
        catch (ICalendarParseException exception)
        {
            document = null;
            error = exception;
            return false;
        }
    }

    /// <inheritdoc cref="TryParse(string, out CalendarDocument?, out ICalendarParseException?, ICalendarReaderOptions?)"/>
    public static bool TryParse(string text, [NotNullWhen(true)] out CalendarDocument? document) =>
        TryParse(text, out document, out _);

    private static CalendarDocument Single(IReadOnlyList<CalendarDocument> documents) => documents.Count switch
    {
        1 => documents[0],
        0 => throw new ICalendarParseException(ICalendarErrorKind.CalendarCount, 0, "no BEGIN:VCALENDAR (nor a bare VEVENT, VTODO... to read as one) found"),
        _ => throw new ICalendarParseException(
            ICalendarErrorKind.CalendarCount,
            documents[1].Source?.LineNumber ?? 0,
            $"found {documents.Count} VCALENDAR objects where one was expected; use ParseAll"),
    };

    private static string ComponentName(CalendarProperty property, int lineNumber)
    {
        var name = property.Value.Trim();
        return ContentLineSyntax.IsValidName(name)
            ? name.ToUpperInvariant()
            : throw new ICalendarParseException(ICalendarErrorKind.InvalidContentLine, lineNumber, $"'{TypedValues.Shorten(name)}' is not a component name");
    }

    private static bool TryReadBegin(string line, out string name)
    {
        name = string.Empty;
        if (!line.StartsWith("BEGIN:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var value = line[6..].Trim();
        if (!ContentLineSyntax.IsValidName(value))
        {
            return false;
        }

        name = value.ToUpperInvariant();
        return true;
    }

    private static bool IsEnd(string line) => line.StartsWith("END:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Splits into logical lines, each with the 1-based number of its first physical line.</summary>
    internal static List<(string Line, int LineNumber)> Unfold(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith("\uFEFF"u8))
        {
            data = data[3..];
        }

        var lines = new List<(string, int)>();
        var buffer = new ArrayBufferWriter<byte>(256);
        var bufferLine = 0;
        var physical = 0;
        var position = 0;
        while (position < data.Length)
        {
            physical++;
            var rest = data[position..];
            var end = rest.IndexOfAny((byte)'\r', (byte)'\n');
            var content = end < 0 ? rest : rest[..end];
            position += content.Length;
            if (end >= 0)
            {
                position += rest[end] == '\r' && end + 1 < rest.Length && rest[end + 1] == '\n' ? 2 : 1;
            }

            if (content.Length > 0 && (content[0] == ' ' || content[0] == '\t') && bufferLine > 0)
            {
                buffer.Write(content[1..]);
                continue;
            }

            if (bufferLine > 0)
            {
                lines.Add((Utf8.GetString(buffer.WrittenSpan), bufferLine));
            }

            buffer.ResetWrittenCount();
            buffer.Write(content);
            bufferLine = physical;
        }

        if (bufferLine > 0)
        {
            lines.Add((Utf8.GetString(buffer.WrittenSpan), bufferLine));
        }

        return lines;
    }
}

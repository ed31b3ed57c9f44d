using System.Text;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>Parsing of one unfolded content line, and the name rules shared by reader and writer.</summary>
internal static class ContentLineSyntax
{
    /// <summary>
    /// Name characters. RFC 5545 allows ALPHA, DIGIT and "-"; "_" is accepted too because some producers
    /// use it in x-names and rejecting a whole calendar for it helps nobody.
    /// </summary>
    public static bool IsNameChar(char c) => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_';

    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!IsNameChar(c))
            {
                return false;
            }
        }

        return true;
    }

    public static string NormalizeName(string name, string paramName)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid iCalendar name (letters, digits and '-').", paramName);
        }

        return name.ToUpperInvariant();
    }

    public static CalendarProperty Parse(string line, int lineNumber)
    {
        var i = 0;
        var token = ReadName(line, ref i);
        if (token.Length == 0)
        {
            throw Invalid(lineNumber, "expected a property name at the start of the line");
        }

        string? group = null;
        if (i < line.Length && line[i] == '.')
        {
            group = token;
            i++;
            token = ReadName(line, ref i);
            if (token.Length == 0)
            {
                throw Invalid(lineNumber, $"expected a property name after the group '{group}.'");
            }
        }

        var name = token.ToUpperInvariant();
        var parameters = new List<CalendarParameter>();
        while (i < line.Length && line[i] == ';')
        {
            i++;
            parameters.Add(ReadParameter(line, ref i, name, lineNumber));
        }

        if (i >= line.Length || line[i] != ':')
        {
            throw Invalid(lineNumber, $"expected ':' after the name and parameters of {name}");
        }

        return new CalendarProperty(name, group, parameters, line[(i + 1)..], lineNumber);
    }

    private static CalendarParameter ReadParameter(string line, ref int i, string propertyName, int lineNumber)
    {
        var parameterName = ReadName(line, ref i);
        if (parameterName.Length == 0)
        {
            throw Invalid(lineNumber, $"expected a parameter name in {propertyName}");
        }

        if (i >= line.Length || line[i] != '=')
        {
            throw Invalid(lineNumber, $"parameter {parameterName} of {propertyName} has no '='");
        }

        i++;
        var values = new List<string>();
        while (true)
        {
            if (i < line.Length && line[i] == '"')
            {
                var close = line.IndexOf('"', i + 1);
                if (close < 0)
                {
                    throw Invalid(lineNumber, $"unterminated quoted value of parameter {parameterName}");
                }

                values.Add(DecodeCaret(line.AsSpan(i + 1, close - i - 1)));
                i = close + 1;
                if (i < line.Length && line[i] is not (';' or ':' or ','))
                {
                    throw Invalid(lineNumber, $"unexpected '{line[i]}' after the quoted value of parameter {parameterName}");
                }
            }
            else
            {
                var start = i;
                while (i < line.Length && line[i] is not (';' or ':' or ',' or '"'))
                {
                    i++;
                }

                if (i < line.Length && line[i] == '"')
                {
                    throw Invalid(lineNumber, $"a quote inside the unquoted value of parameter {parameterName}");
                }

                values.Add(DecodeCaret(line.AsSpan(start, i - start)));
            }

            if (i < line.Length && line[i] == ',')
            {
                i++;
                continue;
            }

            break;
        }

        return new CalendarParameter(parameterName.ToUpperInvariant(), values);
    }

    private static string ReadName(string line, ref int i)
    {
        var start = i;
        while (i < line.Length && IsNameChar(line[i]))
        {
            i++;
        }

        return line[start..i];
    }

    /// <summary>RFC 6868: ^n is a newline, ^' a double quote, ^^ a caret; any other ^ stays as it is.</summary>
    internal static string DecodeCaret(ReadOnlySpan<char> raw)
    {
        if (raw.IndexOf('^') < 0)
        {
            return raw.ToString();
        }

        var builder = new StringBuilder(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '^' && i + 1 < raw.Length)
            {
                var next = raw[i + 1];
                var decoded = next switch
                {
                    'n' or 'N' => '\n',
                    '\'' => '"',
                    '^' => '^',
                    _ => '\0',
                };
                if (decoded != '\0')
                {
                    builder.Append(decoded);
                    i++;
                    continue;
                }
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static ICalendarParseException Invalid(int lineNumber, string message) =>
        new(ICalendarErrorKind.InvalidContentLine, lineNumber, message);
}

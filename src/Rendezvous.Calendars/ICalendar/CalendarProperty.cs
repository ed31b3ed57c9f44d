using System.Globalization;
using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// One content line after unfolding: <c>[group "."] name *(";" param) ":" value</c>.
/// <see cref="Value"/> is the raw value text exactly as it appeared (TEXT escapes not yet resolved);
/// use <see cref="GetText"/> for TEXT values.
/// </summary>
public sealed class CalendarProperty
{
    private readonly List<CalendarParameter> _parameters = [];

    public CalendarProperty(string name, string value)
    {
        Name = ContentLineSyntax.NormalizeName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(value);
        Value = value;
    }

    internal CalendarProperty(string name, string? group, List<CalendarParameter> parameters, string value, int lineNumber)
    {
        Name = name;
        Group = group;
        _parameters = parameters;
        Value = value;
        LineNumber = lineNumber;
    }

    /// <summary>Upper-case property name (iana-token or x-name).</summary>
    public string Name { get; }

    /// <summary>The vCard-style group prefix (<c>GROUP1.X-TEST</c>), kept as written; null when absent.</summary>
    public string? Group { get; init; }

    /// <summary>The raw value, after unfolding, before any unescaping.</summary>
    public string Value { get; set; }

    /// <summary>The 1-based line where this property started in the parsed text; 0 if built in code.</summary>
    public int LineNumber { get; }

    public IReadOnlyList<CalendarParameter> Parameters => _parameters;

    /// <summary>Creates a property holding <paramref name="text"/> as an escaped TEXT value.</summary>
    public static CalendarProperty FromText(string name, string text) => new(name, ICalendarText.Escape(text));

    /// <summary>The first parameter with this name (case-insensitive), or null.</summary>
    public CalendarParameter? FindParameter(string name)
    {
        foreach (var parameter in _parameters)
        {
            if (string.Equals(parameter.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return parameter;
            }
        }

        return null;
    }

    /// <summary>The value of the named parameter (multiple values joined by commas), or null when absent.</summary>
    public string? GetParameter(string name) => FindParameter(name)?.Value;

    /// <summary>All values of the named parameter; empty when absent.</summary>
    public IReadOnlyList<string> GetParameterValues(string name) => FindParameter(name)?.Values ?? [];

    /// <summary>Replaces (or adds) the named parameter.</summary>
    public CalendarProperty SetParameter(string name, params string[] values)
    {
        RemoveParameter(name);
        _parameters.Add(new CalendarParameter(name, values));
        return this;
    }

    /// <summary>Adds a parameter, keeping any existing one with the same name.</summary>
    public CalendarProperty AddParameter(CalendarParameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        _parameters.Add(parameter);
        return this;
    }

    public bool RemoveParameter(string name) =>
        _parameters.RemoveAll(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) > 0;

    /// <summary>The value read as a single TEXT value (escapes resolved).</summary>
    public string GetText() => ICalendarText.Unescape(Value);

    /// <summary>The value read as a comma-separated list of TEXT values (e.g. CATEGORIES).</summary>
    public IReadOnlyList<string> GetTextList() => ICalendarText.SplitList(Value);

    /// <summary>Reads an INTEGER value; false when the value is not a valid integer.</summary>
    public bool TryGetInteger(out int value) =>
        int.TryParse(Value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>Reads a FLOAT value; false when the value is not a valid float.</summary>
    public bool TryGetFloat(out double value) =>
        double.TryParse(Value.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);

    /// <summary>Reads a BOOLEAN value (TRUE/FALSE, any case); false when it is neither.</summary>
    public bool TryGetBoolean(out bool value)
    {
        var text = Value.Trim();
        if (text.Equals("TRUE", StringComparison.OrdinalIgnoreCase))
        {
            value = true;
            return true;
        }

        value = false;
        return text.Equals("FALSE", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Reads a UTC-OFFSET value such as <c>-0500</c> or <c>+055001</c>.</summary>
    public bool TryGetUtcOffset(out Offset value) => ICalendarValues.TryParseUtcOffset(Value, out value);

    /// <summary>The content line as it would be written (unfolded); never throws.</summary>
    public override string ToString() => ICalendarWriter.FormatContentLine(this, validate: false);
}

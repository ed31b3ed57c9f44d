namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// One property parameter, e.g. <c>TZID=Europe/Paris</c> or <c>DELEGATED-TO="mailto:a@x","mailto:b@x"</c>.
/// The name is upper-cased; values are stored decoded (no quotes, RFC 6868 caret escapes resolved).
/// </summary>
public sealed class CalendarParameter
{
    public CalendarParameter(string name, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Name = ContentLineSyntax.NormalizeName(name, nameof(name));
        Values = values.Select(v => v ?? throw new ArgumentException("Parameter values must not be null.", nameof(values))).ToArray();
        if (Values.Count == 0)
        {
            throw new ArgumentException("A parameter needs at least one value.", nameof(values));
        }
    }

    public CalendarParameter(string name, string value)
        : this(name, [value])
    {
    }

    /// <summary>Upper-case parameter name.</summary>
    public string Name { get; }

    /// <summary>The decoded values, in order; never empty.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>The values joined with commas: the natural reading of a single-valued parameter.</summary>
    public string Value => Values.Count == 1 ? Values[0] : string.Join(',', Values);

    public override string ToString() => $"{Name}={Value}";
}

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// A node of the generic component tree: VCALENDAR, VEVENT, VTODO, VJOURNAL, VTIMEZONE, STANDARD, DAYLIGHT,
/// VALARM, VFREEBUSY, or any other (x-/iana) component, kept as read.
/// </summary>
public sealed class CalendarComponent
{
    private readonly List<CalendarProperty> _properties = [];
    private readonly List<CalendarComponent> _components = [];

    public CalendarComponent(string name)
    {
        Name = ContentLineSyntax.NormalizeName(name, nameof(name));
    }

    internal CalendarComponent(string name, int lineNumber)
    {
        Name = name;
        LineNumber = lineNumber;
    }

    /// <summary>Upper-case component name.</summary>
    public string Name { get; }

    /// <summary>The 1-based line of the BEGIN line in the parsed text; 0 if built in code.</summary>
    public int LineNumber { get; }

    public IReadOnlyList<CalendarProperty> Properties => _properties;

    public IReadOnlyList<CalendarComponent> Components => _components;

    /// <summary>The first property with this name (case-insensitive), or null.</summary>
    public CalendarProperty? FindProperty(string name)
    {
        foreach (var property in _properties)
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property;
            }
        }

        return null;
    }

    /// <summary>All properties with this name (case-insensitive), in document order.</summary>
    public IEnumerable<CalendarProperty> FindProperties(string name) =>
        _properties.Where(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>All direct child components with this name (case-insensitive), in document order.</summary>
    public IEnumerable<CalendarComponent> FindComponents(string name) =>
        _components.Where(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));

    public CalendarComponent AddProperty(CalendarProperty property)
    {
        ArgumentNullException.ThrowIfNull(property);
        _properties.Add(property);
        return this;
    }

    /// <summary>Adds a property with a TEXT value (escaped for you).</summary>
    public CalendarComponent AddText(string name, string text) => AddProperty(CalendarProperty.FromText(name, text));

    public CalendarComponent AddComponent(CalendarComponent component)
    {
        ArgumentNullException.ThrowIfNull(component);
        _components.Add(component);
        return this;
    }

    public int RemoveProperties(string name) =>
        _properties.RemoveAll(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    public bool RemoveComponent(CalendarComponent component) => _components.Remove(component);

    public override string ToString() => $"{Name} ({_properties.Count} properties, {_components.Count} components)";
}

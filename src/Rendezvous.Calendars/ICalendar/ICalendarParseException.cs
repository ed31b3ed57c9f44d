namespace Rendezvous.Calendars.ICalendar;

/// <summary>What was wrong with an iCalendar document.</summary>
public enum ICalendarErrorKind
{
    /// <summary>A line is not <c>name *(";" param) ":" value</c>.</summary>
    InvalidContentLine,
    /// <summary>An empty line inside a component (RFC 5545 has no empty content lines).</summary>
    BlankLine,
    /// <summary>BEGIN/END do not pair up, or the input ends inside a component.</summary>
    UnbalancedComponent,
    /// <summary>Components are nested deeper than the reader allows.</summary>
    NestingTooDeep,
    /// <summary>No VCALENDAR where one was expected, or several where one was expected.</summary>
    CalendarCount,
    /// <summary>A property value does not have the syntax its type requires.</summary>
    InvalidValue,
    /// <summary>A property that the typed view needs is missing.</summary>
    MissingProperty,
    /// <summary>An RRULE is malformed.</summary>
    InvalidRecurrenceRule,
    /// <summary>A VTIMEZONE cannot be turned into a time zone.</summary>
    InvalidTimeZone,
    /// <summary>
    /// A component outside any VCALENDAR whose calendar is ambiguous: next to a VCALENDAR, or an alarm next to
    /// the events it might belong to.
    /// </summary>
    StrayComponent,
}

/// <summary>
/// Thrown when iCalendar text cannot be read. <see cref="LineNumber"/> is the 1-based physical line where the
/// offending content line starts (0 when the problem is not tied to a line).
/// </summary>
public sealed class ICalendarParseException : FormatException
{
    public ICalendarParseException(ICalendarErrorKind kind, int lineNumber, string message)
        : base(lineNumber > 0 ? $"Line {lineNumber}: {message}" : message)
    {
        Kind = kind;
        LineNumber = lineNumber;
    }

    public ICalendarParseException()
        : this(ICalendarErrorKind.InvalidContentLine, 0, "Invalid iCalendar data.")
    {
    }

    public ICalendarParseException(string message)
        : this(ICalendarErrorKind.InvalidContentLine, 0, message)
    {
    }

    public ICalendarParseException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = ICalendarErrorKind.InvalidContentLine;
    }

    /// <summary>The category of the problem, stable for logging and metrics.</summary>
    public ICalendarErrorKind Kind { get; }

    /// <summary>1-based line number where the offending content line starts; 0 if unknown.</summary>
    public int LineNumber { get; }

    /// <summary>A stable machine-readable code, e.g. <c>ical.blank_line</c>.</summary>
    public string Code => Kind switch
    {
        ICalendarErrorKind.InvalidContentLine => "ical.invalid_content_line",
        ICalendarErrorKind.BlankLine => "ical.blank_line",
        ICalendarErrorKind.UnbalancedComponent => "ical.unbalanced_component",
        ICalendarErrorKind.NestingTooDeep => "ical.nesting_too_deep",
        ICalendarErrorKind.CalendarCount => "ical.calendar_count",
        ICalendarErrorKind.InvalidValue => "ical.invalid_value",
        ICalendarErrorKind.MissingProperty => "ical.missing_property",
        ICalendarErrorKind.InvalidRecurrenceRule => "ical.invalid_rrule",
        ICalendarErrorKind.InvalidTimeZone => "ical.invalid_timezone",
        ICalendarErrorKind.StrayComponent => "ical.stray_component",
        _ => "ical.error",
    };
}

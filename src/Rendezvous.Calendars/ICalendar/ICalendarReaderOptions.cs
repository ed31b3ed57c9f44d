namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// How forgiving <see cref="ICalendarReader"/> is. The default is strict: any problem fails the document.
/// A sync loop reading whole feeds may prefer <see cref="Lenient"/> and count what <see cref="OnSkipped"/> reports.
/// </summary>
public sealed record ICalendarReaderOptions
{
    public static ICalendarReaderOptions Strict { get; } = new();

    public static ICalendarReaderOptions Lenient { get; } = new() { SkipInvalidLines = true, SkipInvalidEvents = true };

    /// <summary>
    /// Skip blank lines and lines that are not content lines inside a component, instead of failing.
    /// BEGIN/END mismatches still fail: guessing the structure would lose or misplace data.
    /// </summary>
    public bool SkipInvalidLines { get; init; }

    /// <summary>Leave out a VEVENT whose typed properties cannot be read, instead of failing the document.</summary>
    public bool SkipInvalidEvents { get; init; }

    /// <summary>Called with each problem that was skipped, for logging and counting.</summary>
    public Action<ICalendarParseException>? OnSkipped { get; init; }
}

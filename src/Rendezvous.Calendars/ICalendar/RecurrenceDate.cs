namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// One RDATE value: a DATE or DATE-TIME, or a PERIOD given by an explicit end or a duration.
/// </summary>
public sealed record RecurrenceDate(CalendarDateTime Start, CalendarDateTime? End = null, CalendarDuration? Duration = null)
{
    public bool IsPeriod => End is not null || Duration is not null;
}

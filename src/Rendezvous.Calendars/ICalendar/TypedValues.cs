using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>Reads date-ish property values into typed values, throwing <see cref="ICalendarParseException"/>.</summary>
internal static class TypedValues
{
    public static CalendarDateTime ParseDateTime(CalendarProperty property, Func<string, DateTimeZone?> resolve)
    {
        var values = property.Value.Split(',');
        return ParseOne(values[0], property, resolve);
    }

    public static List<CalendarDateTime> ParseDateTimeList(CalendarProperty property, Func<string, DateTimeZone?> resolve)
    {
        var result = new List<CalendarDateTime>();
        foreach (var value in property.Value.Split(','))
        {
            if (value.Trim().Length > 0)
            {
                result.Add(ParseOne(value, property, resolve));
            }
        }

        return result;
    }

    public static List<RecurrenceDate> ParseRecurrenceDates(CalendarProperty property, Func<string, DateTimeZone?> resolve)
    {
        var result = new List<RecurrenceDate>();
        foreach (var raw in property.Value.Split(','))
        {
            var value = raw.Trim();
            if (value.Length == 0)
            {
                continue;
            }

            var slash = value.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                result.Add(new RecurrenceDate(ParseOne(value, property, resolve)));
                continue;
            }

            var start = ParseOne(value[..slash], property, resolve, forceDateTime: true);
            var tail = value[(slash + 1)..].Trim();
            if (CalendarDuration.TryParse(tail, out var duration))
            {
                result.Add(new RecurrenceDate(start, Duration: duration));
            }
            else
            {
                result.Add(new RecurrenceDate(start, End: ParseOne(tail, property, resolve, forceDateTime: true)));
            }
        }

        return result;
    }

    public static CalendarDateTime ParseOne(string raw, CalendarProperty property, Func<string, DateTimeZone?> resolve, bool forceDateTime = false)
    {
        var text = raw.Trim();
        var valueType = property.GetParameter("VALUE")?.Trim();
        var wantsDate = !forceDateTime && string.Equals(valueType, "DATE", StringComparison.OrdinalIgnoreCase);
        if (wantsDate && ICalendarValues.TryParseDate(text, out var date))
        {
            return CalendarDateTime.FromDate(date);
        }

        if (ICalendarValues.TryParseDateTime(text, out var local, out var isUtc))
        {
            if (isUtc)
            {
                return CalendarDateTime.FromInstant(local.InUtc().ToInstant());
            }

            var tzId = property.GetParameter("TZID")?.Trim();
            if (!string.IsNullOrEmpty(tzId))
            {
                return CalendarDateTime.InZone(local, tzId, resolve(tzId));
            }

            return CalendarDateTime.Floating(local);
        }

        if (!forceDateTime && ICalendarValues.TryParseDate(text, out date))
        {
            return CalendarDateTime.FromDate(date);
        }

        throw new ICalendarParseException(
            ICalendarErrorKind.InvalidValue,
            property.LineNumber,
            $"{property.Name} value '{Shorten(text)}' is not a valid {(wantsDate ? "DATE" : "DATE-TIME")}");
    }

    public static CalendarDuration ParseDuration(CalendarProperty property) =>
        CalendarDuration.TryParse(property.Value, out var duration)
            ? duration
            : throw new ICalendarParseException(
                ICalendarErrorKind.InvalidValue,
                property.LineNumber,
                $"{property.Name} value '{Shorten(property.Value)}' is not a valid DURATION");

    public static Offset ParseUtcOffset(CalendarProperty property) =>
        ICalendarValues.TryParseUtcOffset(property.Value, out var offset)
            ? offset
            : throw new ICalendarParseException(
                ICalendarErrorKind.InvalidValue,
                property.LineNumber,
                $"{property.Name} value '{Shorten(property.Value)}' is not a valid UTC-OFFSET");

    public static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}

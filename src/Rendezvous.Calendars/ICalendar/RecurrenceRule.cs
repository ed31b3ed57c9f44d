using System.Globalization;
using System.Text;
using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>RRULE FREQ values.</summary>
public enum RecurrenceFrequency
{
    Secondly,
    Minutely,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// <summary>One BYDAY entry: a weekday with an optional ordinal (<c>1MO</c>, <c>-1FR</c>, <c>TU</c>).</summary>
public readonly record struct WeekdayOccurrence
{
    public WeekdayOccurrence(IsoDayOfWeek day, int ordinal = 0)
    {
        if (day is < IsoDayOfWeek.Monday or > IsoDayOfWeek.Sunday)
        {
            throw new ArgumentOutOfRangeException(nameof(day));
        }

        if (ordinal is < -53 or > 53)
        {
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal, "BYDAY ordinals are between -53 and 53.");
        }

        Day = day;
        Ordinal = ordinal;
    }

    public IsoDayOfWeek Day { get; }

    /// <summary>0 for "every such weekday"; n for the n-th, -n for the n-th from the end.</summary>
    public int Ordinal { get; }

    public override string ToString() =>
        (Ordinal == 0 ? string.Empty : Ordinal.ToString(CultureInfo.InvariantCulture)) + RecurrenceRule.FormatDay(Day);
}

/// <summary>
/// An RRULE value (RFC 5545 3.3.10). Immutable; <see cref="Parse(string)"/> validates the ranges of every part.
/// Unknown parts (x-names, RFC 7529 RSCALE/SKIP) are kept in <see cref="OtherParts"/> but do not affect expansion.
/// </summary>
public sealed class RecurrenceRule
{
    private static readonly IReadOnlyList<int> NoNumbers = [];

    public RecurrenceRule(RecurrenceFrequency frequency)
    {
        Frequency = frequency;
    }

    public RecurrenceFrequency Frequency { get; init; }

    public int Interval { get; init; } = 1;

    /// <summary>Number of occurrences including DTSTART; null when unbounded by count.</summary>
    public int? Count { get; init; }

    /// <summary>Inclusive end: a DATE, a UTC DATE-TIME or (non-conforming but common) a floating DATE-TIME.</summary>
    public CalendarDateTime? Until { get; init; }

    public IReadOnlyList<int> BySecond { get; init; } = NoNumbers;

    public IReadOnlyList<int> ByMinute { get; init; } = NoNumbers;

    public IReadOnlyList<int> ByHour { get; init; } = NoNumbers;

    public IReadOnlyList<WeekdayOccurrence> ByDay { get; init; } = [];

    public IReadOnlyList<int> ByMonthDay { get; init; } = NoNumbers;

    public IReadOnlyList<int> ByYearDay { get; init; } = NoNumbers;

    public IReadOnlyList<int> ByWeekNo { get; init; } = NoNumbers;

    public IReadOnlyList<int> ByMonth { get; init; } = NoNumbers;

    public IReadOnlyList<int> BySetPos { get; init; } = NoNumbers;

    /// <summary>WKST as written; null when absent (Monday applies).</summary>
    public IsoDayOfWeek? WeekStart { get; init; }

    public IsoDayOfWeek EffectiveWeekStart => WeekStart ?? IsoDayOfWeek.Monday;

    /// <summary>Parts this library does not interpret, in order, upper-cased names with values as written.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> OtherParts { get; init; } = [];

    public static RecurrenceRule Parse(string text) => Parse(text, 0);

    public static bool TryParse(string? text, out RecurrenceRule? rule)
    {
        rule = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            rule = Parse(text, 0);
            return true;
        }
        catch (ICalendarParseException)
        {
            return false;
        }
    }

    internal static RecurrenceRule Parse(string text, int lineNumber)
    {
        ArgumentNullException.ThrowIfNull(text);
        RecurrenceFrequency? frequency = null;
        int interval = 1;
        int? count = null;
        CalendarDateTime? until = null;
        IReadOnlyList<int> bySecond = NoNumbers, byMinute = NoNumbers, byHour = NoNumbers, byMonthDay = NoNumbers,
            byYearDay = NoNumbers, byWeekNo = NoNumbers, byMonth = NoNumbers, bySetPos = NoNumbers;
        IReadOnlyList<WeekdayOccurrence> byDay = [];
        IsoDayOfWeek? weekStart = null;
        var other = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        foreach (var rawPart in text.Trim().Split(';'))
        {
            var part = rawPart.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw Fail(lineNumber, $"'{part}' is not NAME=VALUE");
            }

            var name = part[..eq].Trim().ToUpperInvariant();
            var value = part[(eq + 1)..].Trim();
            if (!seen.Add(name))
            {
                throw Fail(lineNumber, $"{name} appears twice");
            }

            switch (name)
            {
                case "FREQ":
                    frequency = ParseFrequency(value, lineNumber);
                    break;
                case "INTERVAL":
                    interval = ParseInt(value, name, 1, 1_000_000, lineNumber);
                    break;
                case "COUNT":
                    count = ParseInt(value, name, 0, int.MaxValue, lineNumber);
                    break;
                case "UNTIL":
                    until = ParseUntil(value, lineNumber);
                    break;
                case "BYSECOND":
                    bySecond = ParseList(value, name, 0, 60, allowNegative: false, lineNumber);
                    break;
                case "BYMINUTE":
                    byMinute = ParseList(value, name, 0, 59, allowNegative: false, lineNumber);
                    break;
                case "BYHOUR":
                    byHour = ParseList(value, name, 0, 23, allowNegative: false, lineNumber);
                    break;
                case "BYDAY":
                    byDay = ParseByDay(value, lineNumber);
                    break;
                case "BYMONTHDAY":
                    byMonthDay = ParseList(value, name, 1, 31, allowNegative: true, lineNumber);
                    break;
                case "BYYEARDAY":
                    byYearDay = ParseList(value, name, 1, 366, allowNegative: true, lineNumber);
                    break;
                case "BYWEEKNO":
                    byWeekNo = ParseList(value, name, 1, 53, allowNegative: true, lineNumber);
                    break;
                case "BYMONTH":
                    byMonth = ParseList(value, name, 1, 12, allowNegative: false, lineNumber);
                    break;
                case "BYSETPOS":
                    bySetPos = ParseList(value, name, 1, 366, allowNegative: true, lineNumber);
                    break;
                case "WKST":
                    weekStart = ParseDay(value) ?? throw Fail(lineNumber, $"WKST '{value}' is not a weekday");
                    break;
                default:
                    if (!ContentLineSyntax.IsValidName(name))
                    {
                        throw Fail(lineNumber, $"'{name}' is not a rule part name");
                    }

                    other.Add(new KeyValuePair<string, string>(name, value));
                    break;
            }
        }

        if (frequency is null)
        {
            throw Fail(lineNumber, "FREQ is required");
        }

        if (count is not null && until is not null)
        {
            throw Fail(lineNumber, "COUNT and UNTIL must not both be present");
        }

        return new RecurrenceRule(frequency.Value)
        {
            Interval = interval,
            Count = count,
            Until = until,
            BySecond = bySecond,
            ByMinute = byMinute,
            ByHour = byHour,
            ByDay = byDay,
            ByMonthDay = byMonthDay,
            ByYearDay = byYearDay,
            ByWeekNo = byWeekNo,
            ByMonth = byMonth,
            BySetPos = bySetPos,
            WeekStart = weekStart,
            OtherParts = other,
        };
    }

    /// <summary>The rule in RRULE value syntax, FREQ first.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder("FREQ=").Append(Frequency.ToString().ToUpperInvariant());
        if (Until is { } until)
        {
            builder.Append(";UNTIL=").Append(until.FormatValue());
        }

        if (Count is { } count)
        {
            builder.Append(CultureInfo.InvariantCulture, $";COUNT={count}");
        }

        if (Interval != 1)
        {
            builder.Append(CultureInfo.InvariantCulture, $";INTERVAL={Interval}");
        }

        AppendList(builder, "BYSECOND", BySecond);
        AppendList(builder, "BYMINUTE", ByMinute);
        AppendList(builder, "BYHOUR", ByHour);
        if (ByDay.Count > 0)
        {
            builder.Append(";BYDAY=").AppendJoin(',', ByDay);
        }

        AppendList(builder, "BYMONTHDAY", ByMonthDay);
        AppendList(builder, "BYYEARDAY", ByYearDay);
        AppendList(builder, "BYWEEKNO", ByWeekNo);
        AppendList(builder, "BYMONTH", ByMonth);
        AppendList(builder, "BYSETPOS", BySetPos);
        if (WeekStart is { } weekStart)
        {
            builder.Append(";WKST=").Append(FormatDay(weekStart));
        }

        foreach (var (name, value) in OtherParts)
        {
            builder.Append(';').Append(name).Append('=').Append(value);
        }

        return builder.ToString();
    }

    internal static string FormatDay(IsoDayOfWeek day) => day switch
    {
        IsoDayOfWeek.Monday => "MO",
        IsoDayOfWeek.Tuesday => "TU",
        IsoDayOfWeek.Wednesday => "WE",
        IsoDayOfWeek.Thursday => "TH",
        IsoDayOfWeek.Friday => "FR",
        IsoDayOfWeek.Saturday => "SA",
        IsoDayOfWeek.Sunday => "SU",
        _ => throw new ArgumentOutOfRangeException(nameof(day)),
    };

    private static IsoDayOfWeek? ParseDay(string text) => text.ToUpperInvariant() switch
    {
        "MO" => IsoDayOfWeek.Monday,
        "TU" => IsoDayOfWeek.Tuesday,
        "WE" => IsoDayOfWeek.Wednesday,
        "TH" => IsoDayOfWeek.Thursday,
        "FR" => IsoDayOfWeek.Friday,
        "SA" => IsoDayOfWeek.Saturday,
        "SU" => IsoDayOfWeek.Sunday,
        _ => null,
    };

    private static RecurrenceFrequency ParseFrequency(string value, int lineNumber) => value.ToUpperInvariant() switch
    {
        "SECONDLY" => RecurrenceFrequency.Secondly,
        "MINUTELY" => RecurrenceFrequency.Minutely,
        "HOURLY" => RecurrenceFrequency.Hourly,
        "DAILY" => RecurrenceFrequency.Daily,
        "WEEKLY" => RecurrenceFrequency.Weekly,
        "MONTHLY" => RecurrenceFrequency.Monthly,
        "YEARLY" => RecurrenceFrequency.Yearly,
        _ => throw Fail(lineNumber, $"FREQ '{value}' is not a frequency"),
    };

    private static CalendarDateTime ParseUntil(string value, int lineNumber)
    {
        if (ICalendarValues.TryParseDateTime(value, out var local, out var isUtc))
        {
            return isUtc ? CalendarDateTime.FromInstant(local.InUtc().ToInstant()) : CalendarDateTime.Floating(local);
        }

        if (ICalendarValues.TryParseDate(value, out var date))
        {
            return CalendarDateTime.FromDate(date);
        }

        throw Fail(lineNumber, $"UNTIL '{value}' is not a DATE or DATE-TIME");
    }

    private static int ParseInt(string value, string name, int min, int max, int lineNumber)
    {
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            || number < min || number > max)
        {
            throw Fail(lineNumber, $"{name} '{value}' must be an integer between {min} and {max}");
        }

        return number;
    }

    private static int[] ParseList(string value, string name, int min, int max, bool allowNegative, int lineNumber)
    {
        var items = value.Split(',');
        var result = new int[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i].Trim();
            if (!int.TryParse(item, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                throw Fail(lineNumber, $"{name} item '{item}' is not an integer");
            }

            var magnitude = Math.Abs((long)number);
            if (magnitude < min || magnitude > max || (number < 0 && !allowNegative) || (number == 0 && min > 0))
            {
                throw Fail(lineNumber, $"{name} item {number} is out of range");
            }

            result[i] = number;
        }

        return result;
    }

    private static WeekdayOccurrence[] ParseByDay(string value, int lineNumber)
    {
        var items = value.Split(',');
        var result = new WeekdayOccurrence[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i].Trim();
            if (item.Length < 2)
            {
                throw Fail(lineNumber, $"BYDAY item '{item}' is not a weekday");
            }

            var day = ParseDay(item[^2..]) ?? throw Fail(lineNumber, $"BYDAY item '{item}' is not a weekday");
            var ordinal = 0;
            var prefix = item[..^2];
            if (prefix.Length > 0
                && (!int.TryParse(prefix, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out ordinal)
                    || ordinal == 0 || ordinal is < -53 or > 53))
            {
                throw Fail(lineNumber, $"BYDAY item '{item}' has an invalid ordinal");
            }

            result[i] = new WeekdayOccurrence(day, ordinal);
        }

        return result;
    }

    private static void AppendList(StringBuilder builder, string name, IReadOnlyList<int> values)
    {
        if (values.Count > 0)
        {
            builder.Append(';').Append(name).Append('=');
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    builder.Append(',');
                }

                builder.Append(values[i].ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    private static ICalendarParseException Fail(int lineNumber, string message) =>
        new(ICalendarErrorKind.InvalidRecurrenceRule, lineNumber, $"invalid RRULE: {message}");
}

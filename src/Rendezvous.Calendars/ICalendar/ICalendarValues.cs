using System.Globalization;
using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>Syntax of DATE, DATE-TIME, TIME and UTC-OFFSET values (RFC 5545 3.3).</summary>
internal static class ICalendarValues
{
    /// <summary><c>yyyyMMdd</c>. A trailing <c>Z</c> is tolerated (Google writes <c>RDATE:20131210Z</c>).</summary>
    public static bool TryParseDate(ReadOnlySpan<char> s, out LocalDate date)
    {
        date = default;
        if (s.Length == 9 && (s[8] == 'Z' || s[8] == 'z'))
        {
            s = s[..8];
        }

        if (s.Length != 8
            || !TryDigits(s[..4], out var year)
            || !TryDigits(s.Slice(4, 2), out var month)
            || !TryDigits(s.Slice(6, 2), out var day)
            || month is < 1 or > 12
            || day < 1
            || day > CalendarSystem.Iso.GetDaysInMonth(year, month))
        {
            return false;
        }

        date = new LocalDate(year, month, day);
        return true;
    }

    /// <summary>
    /// <c>yyyyMMddTHHmmss[Z]</c>. A leap second (60) is read as 59, since NodaTime has no leap seconds.
    /// </summary>
    public static bool TryParseDateTime(ReadOnlySpan<char> s, out LocalDateTime value, out bool isUtc)
    {
        value = default;
        isUtc = false;
        if (s.Length == 16 && (s[15] == 'Z' || s[15] == 'z'))
        {
            isUtc = true;
            s = s[..15];
        }

        if (s.Length != 15 || (s[8] != 'T' && s[8] != 't') || !TryParseDate(s[..8], out var date)
            || !TryParseTime(s[9..], out var time))
        {
            return false;
        }

        value = date + time;
        return true;
    }

    /// <summary><c>HHmmss</c> (no <c>Z</c>; callers strip it).</summary>
    public static bool TryParseTime(ReadOnlySpan<char> s, out LocalTime time)
    {
        time = default;
        if (s.Length != 6
            || !TryDigits(s[..2], out var hour)
            || !TryDigits(s.Slice(2, 2), out var minute)
            || !TryDigits(s.Slice(4, 2), out var second)
            || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        time = new LocalTime(hour, minute, Math.Min(second, 59));
        return true;
    }

    /// <summary><c>(+|-)HHMM[SS]</c>; <c>-0000</c> is read as zero although RFC 5545 forbids it.</summary>
    public static bool TryParseUtcOffset(string? text, out Offset offset)
    {
        offset = Offset.Zero;
        if (text is null)
        {
            return false;
        }

        var s = text.AsSpan().Trim();
        if (s.Length is not (5 or 7) || (s[0] != '+' && s[0] != '-'))
        {
            return false;
        }

        if (!TryDigits(s.Slice(1, 2), out var hours) || !TryDigits(s.Slice(3, 2), out var minutes) || minutes > 59)
        {
            return false;
        }

        var seconds = 0;
        if (s.Length == 7 && (!TryDigits(s.Slice(5, 2), out seconds) || seconds > 59))
        {
            return false;
        }

        var total = (hours * 3600) + (minutes * 60) + seconds;
        if (total > 18 * 3600)
        {
            return false;
        }

        offset = Offset.FromSeconds(s[0] == '-' ? -total : total);
        return true;
    }

    public static string FormatDate(LocalDate date) =>
        string.Create(CultureInfo.InvariantCulture, $"{date.Year:D4}{date.Month:D2}{date.Day:D2}");

    public static string FormatDateTime(LocalDateTime value, bool utc) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{value.Year:D4}{value.Month:D2}{value.Day:D2}T{value.Hour:D2}{value.Minute:D2}{value.Second:D2}{(utc ? "Z" : string.Empty)}");

    public static string FormatUtcOffset(Offset offset)
    {
        var total = offset.Seconds;
        var sign = total < 0 ? '-' : '+';
        total = Math.Abs(total);
        var text = string.Create(CultureInfo.InvariantCulture, $"{sign}{total / 3600:D2}{total / 60 % 60:D2}");
        return total % 60 == 0 ? text : text + (total % 60).ToString("D2", CultureInfo.InvariantCulture);
    }

    private static bool TryDigits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return s.Length > 0;
    }
}

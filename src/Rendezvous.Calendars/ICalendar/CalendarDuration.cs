using System.Globalization;
using System.Text;
using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// An RFC 5545 DURATION value (section 3.3.6). Weeks and days are nominal (calendar days in the zone of
/// the start); hours, minutes and seconds are exact. All parts are non-negative; the sign is separate.
/// </summary>
public readonly record struct CalendarDuration
{
    private const int MaxPart = 100_000_000;

    public CalendarDuration(bool isNegative, int weeks, int days, int hours, int minutes, int seconds)
    {
        IsNegative = isNegative;
        Weeks = CheckPart(weeks, nameof(weeks));
        Days = CheckPart(days, nameof(days));
        Hours = CheckPart(hours, nameof(hours));
        Minutes = CheckPart(minutes, nameof(minutes));
        Seconds = CheckPart(seconds, nameof(seconds));
    }

    public bool IsNegative { get; }

    public int Weeks { get; }

    public int Days { get; }

    public int Hours { get; }

    public int Minutes { get; }

    public int Seconds { get; }

    /// <summary>Total nominal days (weeks counted as 7 days), unsigned.</summary>
    public long NominalDays => (7L * Weeks) + Days;

    /// <summary>The exact (hours, minutes, seconds) part, unsigned.</summary>
    public Duration ExactPart => Duration.FromHours(Hours) + Duration.FromMinutes(Minutes) + Duration.FromSeconds(Seconds);

    public static CalendarDuration FromDays(int days) => new(false, 0, days, 0, 0, 0);

    public static CalendarDuration FromWeeks(int weeks) => new(false, weeks, 0, 0, 0, 0);

    /// <summary>An exact duration expressed in hours, minutes and seconds (sub-second precision is dropped).</summary>
    public static CalendarDuration FromExact(Duration duration)
    {
        var negative = duration < Duration.Zero;
        var totalSeconds = (long)Math.Abs(Math.Truncate(duration.TotalSeconds));
        if (totalSeconds / 3600 > MaxPart)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), "Duration is too long for an iCalendar value.");
        }

        return new(negative, 0, 0, (int)(totalSeconds / 3600), (int)(totalSeconds / 60 % 60), (int)(totalSeconds % 60));
    }

    /// <summary>Parses <c>[+|-]P[nW]</c> or <c>[+|-]P[nD][T[nH][nM][nS]]</c>.</summary>
    public static CalendarDuration Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not an iCalendar DURATION.");

    public static bool TryParse(string? text, out CalendarDuration value)
    {
        value = default;
        if (text is null)
        {
            return false;
        }

        var s = text.AsSpan().Trim();
        var i = 0;
        var negative = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            negative = s[i] == '-';
            i++;
        }

        if (i >= s.Length || (s[i] != 'P' && s[i] != 'p'))
        {
            return false;
        }

        i++;
        int weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0;
        var inTime = false;
        var any = false;
        var seen = new HashSet<char>();
        while (i < s.Length)
        {
            var c = char.ToUpperInvariant(s[i]);
            if (c == 'T')
            {
                if (inTime)
                {
                    return false;
                }

                inTime = true;
                i++;
                continue;
            }

            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (i == start || i >= s.Length || i - start > 9)
            {
                return false;
            }

            var number = int.Parse(s[start..i], NumberStyles.None, CultureInfo.InvariantCulture);
            if (number > MaxPart)
            {
                return false;
            }

            var designator = char.ToUpperInvariant(s[i]);
            i++;
            if (!seen.Add(inTime ? char.ToLowerInvariant(designator) : designator))
            {
                return false;
            }

            switch (designator)
            {
                case 'W' when !inTime:
                    weeks = number;
                    break;
                case 'D' when !inTime:
                    days = number;
                    break;
                case 'H' when inTime:
                    hours = number;
                    break;
                case 'M' when inTime:
                    minutes = number;
                    break;
                case 'S' when inTime:
                    seconds = number;
                    break;
                default:
                    return false;
            }

            any = true;
        }

        if (!any)
        {
            return false;
        }

        value = new CalendarDuration(negative, weeks, days, hours, minutes, seconds);
        return true;
    }

    /// <summary>
    /// Adds this duration to a local start in <paramref name="zone"/>: the nominal days move the wall clock,
    /// then the exact part is added on the time line (RFC 5545 3.3.6).
    /// </summary>
    public Instant AddTo(LocalDateTime start, DateTimeZone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var sign = IsNegative ? -1 : 1;
        var local = TimeMath.PlusDays(start, sign * NominalDays);
        var instant = TimeMath.ToInstant(local, zone);
        return TimeMath.Plus(instant, IsNegative ? -ExactPart : ExactPart);
    }

    public override string ToString()
    {
        var builder = new StringBuilder(16);
        if (IsNegative)
        {
            builder.Append('-');
        }

        builder.Append('P');
        var hasTime = Hours != 0 || Minutes != 0 || Seconds != 0;
        if (Weeks != 0 && Days == 0 && !hasTime)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{Weeks}W");
            return builder.ToString();
        }

        var days = NominalDays;
        if (days != 0)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{days}D");
        }

        if (hasTime || days == 0)
        {
            builder.Append('T');
            if (Hours != 0)
            {
                builder.Append(CultureInfo.InvariantCulture, $"{Hours}H");
            }

            if (Minutes != 0)
            {
                builder.Append(CultureInfo.InvariantCulture, $"{Minutes}M");
            }

            if (Seconds != 0 || !hasTime)
            {
                builder.Append(CultureInfo.InvariantCulture, $"{Seconds}S");
            }
        }

        return builder.ToString();
    }

    private static int CheckPart(int value, string name) =>
        value is < 0 or > MaxPart
            ? throw new ArgumentOutOfRangeException(name, value, $"Duration parts must be between 0 and {MaxPart}.")
            : value;
}

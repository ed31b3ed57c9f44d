using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// Generates the local start times of one RRULE, in ascending order, DTSTART first.
/// Each period of the rule's frequency (a year, month, week, day, hour...) is expanded by filtering its days
/// through the BYxxx parts; that covers both the "expand" and "limit" cells of the table in RFC 5545 3.3.10
/// because, inside one period, expanding then limiting selects exactly the days that pass every filter.
/// </summary>
internal sealed class RecurrenceIterator
{
    private readonly RecurrenceRule _rule;
    private readonly LocalDateTime _start;
    private readonly Func<LocalDateTime, bool> _beyondUntil;
    private readonly int _maxPeriods;
    private readonly RecurrenceFrequency _frequency;
    private readonly int[] _byMonth;
    private readonly int[] _byMonthDay;
    private readonly int[] _byYearDay;
    private readonly int[] _byWeekNo;
    private readonly int[] _bySetPos;
    private readonly WeekdayOccurrence[] _byDay;
    private readonly int[] _hours;
    private readonly int[] _minutes;
    private readonly int[] _seconds;
    private readonly LocalTime[] _times;
    private readonly IsoDayOfWeek _weekStart;
    private readonly OrdinalScope _ordinalScope;
    private readonly List<LocalDateTime> _buffer = [];

    private enum OrdinalScope
    {
        None,
        Month,
        Year,
    }

    /// <param name="rule">The rule.</param>
    /// <param name="start">DTSTART as a wall-clock time (midnight for DATE values).</param>
    /// <param name="dateOnly">True for DATE values: times are ignored and sub-daily rules behave as DAILY.</param>
    /// <param name="beyondUntil">True for a candidate after UNTIL (the caller knows the zones involved).</param>
    /// <param name="maxPeriods">How many frequency periods to examine before giving up.</param>
    public RecurrenceIterator(RecurrenceRule rule, LocalDateTime start, bool dateOnly, Func<LocalDateTime, bool> beyondUntil, int maxPeriods)
    {
        _rule = rule;
        _start = start;
        _beyondUntil = beyondUntil;
        _maxPeriods = maxPeriods;
        _frequency = dateOnly && rule.Frequency < RecurrenceFrequency.Daily ? RecurrenceFrequency.Daily : rule.Frequency;
        _weekStart = rule.EffectiveWeekStart;

        _byMonth = Distinct(rule.ByMonth);
        _byMonthDay = Distinct(rule.ByMonthDay);
        _byYearDay = Distinct(rule.ByYearDay);
        _byWeekNo = Distinct(rule.ByWeekNo);
        _bySetPos = Distinct(rule.BySetPos);
        _byDay = rule.ByDay.Distinct().ToArray();

        var noDaySpec = _byWeekNo.Length == 0 && _byYearDay.Length == 0 && _byMonthDay.Length == 0 && _byDay.Length == 0;
        if (noDaySpec)
        {
            switch (_frequency)
            {
                case RecurrenceFrequency.Yearly:
                    if (_byMonth.Length == 0)
                    {
                        _byMonth = [start.Month];
                    }

                    _byMonthDay = [start.Day];
                    break;
                case RecurrenceFrequency.Monthly:
                    _byMonthDay = [start.Day];
                    break;
                case RecurrenceFrequency.Weekly:
                    _byDay = [new WeekdayOccurrence(start.DayOfWeek)];
                    break;
                default:
                    break;
            }
        }

        _ordinalScope = _frequency switch
        {
            RecurrenceFrequency.Monthly => OrdinalScope.Month,
            RecurrenceFrequency.Yearly when _byWeekNo.Length > 0 => OrdinalScope.None,
            RecurrenceFrequency.Yearly when rule.ByMonth.Count > 0 => OrdinalScope.Month,
            RecurrenceFrequency.Yearly => OrdinalScope.Year,
            _ => OrdinalScope.None,
        };

        if (dateOnly)
        {
            _hours = [0];
            _minutes = [0];
            _seconds = [0];
        }
        else
        {
            _hours = rule.ByHour.Count > 0 ? Distinct(rule.ByHour) : [start.Hour];
            _minutes = rule.ByMinute.Count > 0 ? Distinct(rule.ByMinute) : [start.Minute];
            _seconds = rule.BySecond.Count > 0 ? Distinct(rule.BySecond.Select(s => Math.Min(s, 59))) : [start.Second];
        }

        _times = [.. from h in _hours from m in _minutes from s in _seconds select new LocalTime(h, m, s)];
    }

    /// <summary>True when enumeration stopped because <c>maxPeriods</c> periods were examined.</summary>
    public bool HitIterationCap { get; private set; }

    /// <summary>
    /// The occurrences in ascending order, DTSTART first. With <paramref name="fastForwardTo"/> (ignored when
    /// the rule has a COUNT, which must be counted from DTSTART) whole periods before that time are skipped.
    /// </summary>
    public IEnumerable<LocalDateTime> Enumerate(LocalDateTime? fastForwardTo = null)
    {
        if (_rule.Count == 0)
        {
            yield break;
        }

        yield return _start;
        var emitted = 1;
        if (_rule.Count == 1)
        {
            yield break;
        }

        long period = 0;
        if (fastForwardTo is { } target && _rule.Count is null && target > _start)
        {
            period = Math.Max(0, (UnitsBetween(_start, target) / _rule.Interval) - 1);
        }

        for (var visited = 0; ; visited++)
        {
            if (visited >= _maxPeriods)
            {
                HitIterationCap = true;
                yield break;
            }

            if (!FillPeriod(period, out var nextPeriod))
            {
                yield break;
            }

            if (_bySetPos.Length > 0 && _buffer.Count > 0)
            {
                ApplySetPos();
            }

            foreach (var candidate in _buffer)
            {
                if (candidate <= _start)
                {
                    continue;
                }

                if (_beyondUntil(candidate))
                {
                    yield break;
                }

                yield return candidate;
                emitted++;
                if (_rule.Count is { } count && emitted >= count)
                {
                    yield break;
                }
            }

            period = nextPeriod;
        }
    }

    /// <summary>Fills the buffer with the candidates of one period; false once past the supported years.</summary>
    private bool FillPeriod(long period, out long nextPeriod)
    {
        _buffer.Clear();
        nextPeriod = period + 1;
        var step = period * _rule.Interval;
        switch (_frequency)
        {
            case RecurrenceFrequency.Yearly:
            {
                var year = _start.Year + step;
                if (year > TimeMath.MaxYear)
                {
                    return false;
                }

                AddYearDays((int)year);
                return true;
            }

            case RecurrenceFrequency.Monthly:
            {
                var monthIndex = (_start.Year * 12L) + (_start.Month - 1) + step;
                var year = monthIndex / 12;
                if (year > TimeMath.MaxYear)
                {
                    return false;
                }

                var month = (int)(monthIndex % 12) + 1;
                if (_byMonth.Length == 0 || Array.IndexOf(_byMonth, month) >= 0)
                {
                    var days = CalendarSystem.Iso.GetDaysInMonth((int)year, month);
                    for (var day = 1; day <= days; day++)
                    {
                        AddDay(new LocalDate((int)year, month, day));
                    }
                }

                return true;
            }

            case RecurrenceFrequency.Weekly:
            {
                var first = TimeMath.EpochDay(WeekStartOf(_start.Date)) + (step * 7);
                for (var i = 0; i < 7; i++)
                {
                    if (TimeMath.DateFromEpochDay(first + i) is not { } date)
                    {
                        return i > 0;
                    }

                    AddDay(date);
                }

                return true;
            }

            case RecurrenceFrequency.Daily:
            {
                if (TimeMath.DateFromEpochDay(TimeMath.EpochDay(_start.Date) + step) is not { } date)
                {
                    return false;
                }

                AddDay(date);
                return true;
            }

            default:
                return FillSubDaily(period, out nextPeriod);
        }
    }

    private bool FillSubDaily(long period, out long nextPeriod)
    {
        nextPeriod = period + 1;
        var unit = UnitSeconds(_frequency);
        var baseSeconds = TimeMath.SecondsSinceEpoch(TruncateToUnit(_start));
        var periodSeconds = unit * _rule.Interval;
        if (TimeMath.FromSecondsSinceEpoch(baseSeconds + (period * periodSeconds)) is not { } at)
        {
            return false;
        }

        if (!DayMatches(at.Date))
        {
            // Jump straight to the first period on the next day rather than walking through this one.
            var nextMidnight = TimeMath.SecondsSinceEpoch(at.Date.AtMidnight()) + 86_400;
            var needed = nextMidnight - baseSeconds;
            nextPeriod = Math.Max(period + 1, (needed + periodSeconds - 1) / periodSeconds);
            return true;
        }

        if (_rule.ByHour.Count > 0 && Array.IndexOf(_hours, at.Hour) < 0)
        {
            return true;
        }

        switch (_frequency)
        {
            case RecurrenceFrequency.Hourly:
                foreach (var minute in _minutes)
                {
                    foreach (var second in _seconds)
                    {
                        _buffer.Add(at.Date + new LocalTime(at.Hour, minute, second));
                    }
                }

                break;
            case RecurrenceFrequency.Minutely:
                if (_rule.ByMinute.Count > 0 && Array.IndexOf(_minutes, at.Minute) < 0)
                {
                    break;
                }

                foreach (var second in _seconds)
                {
                    _buffer.Add(at.Date + new LocalTime(at.Hour, at.Minute, second));
                }

                break;
            default:
                if ((_rule.ByMinute.Count == 0 || Array.IndexOf(_minutes, at.Minute) >= 0)
                    && (_rule.BySecond.Count == 0 || Array.IndexOf(_seconds, at.Second) >= 0))
                {
                    _buffer.Add(at);
                }

                break;
        }

        return true;
    }

    private void AddYearDays(int year)
    {
        if (_byWeekNo.Length > 0)
        {
            // Week 1 may start in the previous December and the last week may end in the next January.
            var from = TimeMath.EpochDay(new LocalDate(year, 1, 1)) - 7;
            var to = TimeMath.EpochDay(new LocalDate(year, 12, 31)) + 7;
            for (var day = from; day <= to; day++)
            {
                if (TimeMath.DateFromEpochDay(day) is { } date && WeekOf(date, _weekStart).WeekYear == year)
                {
                    AddDay(date);
                }
            }

            return;
        }

        var months = _byMonth.Length > 0 ? _byMonth : AllMonths;
        foreach (var month in months)
        {
            var days = CalendarSystem.Iso.GetDaysInMonth(year, month);
            for (var day = 1; day <= days; day++)
            {
                AddDay(new LocalDate(year, month, day));
            }
        }
    }

    private static readonly int[] AllMonths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

    private void AddDay(LocalDate date)
    {
        if (!DayMatches(date))
        {
            return;
        }

        foreach (var time in _times)
        {
            _buffer.Add(date + time);
        }
    }

    private bool DayMatches(LocalDate date)
    {
        if (_byMonth.Length > 0 && Array.IndexOf(_byMonth, date.Month) < 0)
        {
            return false;
        }

        if (_byWeekNo.Length > 0)
        {
            var (weekYear, week) = WeekOf(date, _weekStart);
            if (weekYear >= TimeMath.MaxYear)
            {
                return false;
            }

            var weeks = WeeksInYear(weekYear, _weekStart);
            if (!_byWeekNo.Any(n => n > 0 ? week == n : week == weeks + n + 1))
            {
                return false;
            }
        }

        if (_byYearDay.Length > 0)
        {
            var daysInYear = CalendarSystem.Iso.GetDaysInYear(date.Year);
            if (!_byYearDay.Any(n => n > 0 ? date.DayOfYear == n : date.DayOfYear == daysInYear + n + 1))
            {
                return false;
            }
        }

        if (_byMonthDay.Length > 0)
        {
            var daysInMonth = CalendarSystem.Iso.GetDaysInMonth(date.Year, date.Month);
            if (!_byMonthDay.Any(n => n > 0 ? date.Day == n : date.Day == daysInMonth + n + 1))
            {
                return false;
            }
        }

        if (_byDay.Length > 0)
        {
            var matched = false;
            foreach (var entry in _byDay)
            {
                if (entry.Day == date.DayOfWeek && (entry.Ordinal == 0 || OrdinalMatches(date, entry.Ordinal)))
                {
                    matched = true;
                    break;
                }
            }

            if (!matched)
            {
                return false;
            }
        }

        return true;
    }

    private bool OrdinalMatches(LocalDate date, int ordinal)
    {
        int position, length;
        switch (_ordinalScope)
        {
            case OrdinalScope.Month:
                position = date.Day;
                length = CalendarSystem.Iso.GetDaysInMonth(date.Year, date.Month);
                break;
            case OrdinalScope.Year:
                position = date.DayOfYear;
                length = CalendarSystem.Iso.GetDaysInYear(date.Year);
                break;
            default:
                return true;
        }

        return ordinal > 0
            ? ((position - 1) / 7) + 1 == ordinal
            : ((length - position) / 7) + 1 == -ordinal;
    }

    private void ApplySetPos()
    {
        var all = _buffer.ToArray();
        _buffer.Clear();
        var picked = new SortedSet<LocalDateTime>();
        foreach (var position in _bySetPos)
        {
            var index = position > 0 ? position - 1 : all.Length + position;
            if (index >= 0 && index < all.Length)
            {
                picked.Add(all[index]);
            }
        }

        _buffer.AddRange(picked);
    }

    private long UnitsBetween(LocalDateTime from, LocalDateTime to) => _frequency switch
    {
        RecurrenceFrequency.Yearly => to.Year - from.Year,
        RecurrenceFrequency.Monthly => ((to.Year * 12L) + to.Month) - ((from.Year * 12L) + from.Month),
        RecurrenceFrequency.Weekly => (TimeMath.EpochDay(WeekStartOf(to.Date)) - TimeMath.EpochDay(WeekStartOf(from.Date))) / 7,
        RecurrenceFrequency.Daily => TimeMath.EpochDay(to.Date) - TimeMath.EpochDay(from.Date),
        _ => (TimeMath.SecondsSinceEpoch(to) - TimeMath.SecondsSinceEpoch(TruncateToUnit(from))) / UnitSeconds(_frequency),
    };

    private LocalDateTime TruncateToUnit(LocalDateTime value) => _frequency switch
    {
        RecurrenceFrequency.Hourly => value.Date + new LocalTime(value.Hour, 0),
        RecurrenceFrequency.Minutely => value.Date + new LocalTime(value.Hour, value.Minute),
        _ => value,
    };

    private static long UnitSeconds(RecurrenceFrequency frequency) => frequency switch
    {
        RecurrenceFrequency.Hourly => 3600,
        RecurrenceFrequency.Minutely => 60,
        _ => 1,
    };

    private LocalDate WeekStartOf(LocalDate date)
    {
        var back = ((int)date.DayOfWeek - (int)_weekStart + 7) % 7;
        return TimeMath.DateFromEpochDay(TimeMath.EpochDay(date) - back) ?? date;
    }

    /// <summary>The week-numbering year and week of a date: week 1 is the first week with 4 days in the year.</summary>
    internal static (int WeekYear, int Week) WeekOf(LocalDate date, IsoDayOfWeek weekStart)
    {
        var year = date.Year;
        var day = TimeMath.EpochDay(date);
        var week1 = Week1Start(year, weekStart);
        if (day < week1)
        {
            year--;
            week1 = Week1Start(year, weekStart);
        }
        else
        {
            var next = Week1Start(year + 1, weekStart);
            if (day >= next)
            {
                year++;
                week1 = next;
            }
        }

        return (year, (int)((day - week1) / 7) + 1);
    }

    internal static int WeeksInYear(int year, IsoDayOfWeek weekStart) =>
        (int)((Week1Start(year + 1, weekStart) - Week1Start(year, weekStart)) / 7);

    private static long Week1Start(int year, IsoDayOfWeek weekStart)
    {
        var jan1 = new LocalDate(year, 1, 1);
        var offset = ((int)jan1.DayOfWeek - (int)weekStart + 7) % 7;
        var start = TimeMath.EpochDay(jan1) - offset;
        return 7 - offset >= 4 ? start : start + 7;
    }

    private static int[] Distinct(IEnumerable<int> values) => values.Distinct().Order().ToArray();
}

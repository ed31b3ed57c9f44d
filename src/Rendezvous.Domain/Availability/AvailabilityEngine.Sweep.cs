using System.Buffers;
using NodaTime;
using Rendezvous.Domain.BookingPages;

namespace Rendezvous.Domain.Availability;

public static partial class AvailabilityEngine
{
    /// <summary>
    /// Walks the candidate starts of one window after another and keeps the free ones. A ref struct, so the mutable
    /// parts (busy cursor, slot buffer) are never copied by accident.
    /// </summary>
    private ref struct Sweep
    {
        private readonly BookingPageSettings _settings;
        private readonly Instant _rangeStart;
        private readonly Instant _rangeEnd;
        private readonly Dictionary<Instant, int>? _groups;
        private readonly CapCounter _caps;
        private BusyTimeline _busy;
        private SlotBuffer _slots;
        private bool _ordered;

        public Sweep(BookingPageSettings settings, Instant rangeStart, Instant rangeEnd, Dictionary<Instant, int>? groups, CapCounter caps, BusyTimeline busy)
        {
            _settings = settings;
            _rangeStart = rangeStart;
            _rangeEnd = rangeEnd;
            _groups = groups;
            _caps = caps;
            _busy = busy;
            _slots = new SlotBuffer(64);
            _ordered = true;
        }

        /// <summary>
        /// Candidates step from the window's first instant; each must fit wholly inside one of its stretches, start inside
        /// the range, and be free.
        /// </summary>
        public void Window(ReadOnlySpan<Stretch> stretches)
        {
            if (stretches.IsEmpty)
            {
                return;
            }

            var duration = _settings.Duration;
            var step = _settings.EffectiveSlotInterval;
            var start = stretches[0].Start;
            if (start < _rangeStart)
            {
                // Jump straight to the first candidate at or after the range start.
                var behind = (_rangeStart - start).ToInt64Nanoseconds();
                var stepNs = step.ToInt64Nanoseconds();
                start += Duration.FromNanoseconds((behind + stepNs - 1) / stepNs * stepNs);
            }

            var s = 0;
            for (; start < _rangeEnd; start += step)
            {
                var end = start + duration;
                while (s < stretches.Length && stretches[s].End < end)
                {
                    s++;
                }

                if (s == stretches.Length)
                {
                    return;
                }

                if (start >= stretches[s].Start && SeatsLeft(start, end) is var seats and > 0)
                {
                    if (_slots.Count > 0 && _slots.Last.Start >= start)
                    {
                        _ordered = false;
                    }

                    _slots.Add(new Slot(start, end, seats));
                }
            }
        }

        /// <summary>The slots found, ordered by start, each start once.</summary>
        public Slot[] Slots()
        {
            if (!_ordered)
            {
                // Stretches of one date interleave when its windows open or close inside a repeated autumn hour.
                _slots.SortAndDeduplicate();
            }

            return _slots.ToArray();
        }

        public readonly void Dispose()
        {
            _busy.Dispose();
            _slots.Dispose();
        }

        /// <summary>Seats a customer could still take in a slot at <paramref name="start"/>; 0 when it is not offered.</summary>
        private int SeatsLeft(Instant start, Instant end)
        {
            if (_groups is not null && _groups.TryGetValue(start, out var taken))
            {
                // An existing session: offered while seats remain, whatever else its hosts do at that time.
                return Math.Max(0, _settings.SeatsPerSlot - taken);
            }

            if (_busy.Overlaps(start - _settings.BufferBefore, end + _settings.BufferAfter) || !_caps.Allows(start))
            {
                return 0;
            }

            return _groups is not null ? _settings.SeatsPerSlot : 1;
        }
    }

    /// <summary>Slots collected in a pooled array; the caller gets an exact-size copy.</summary>
    private struct SlotBuffer : IDisposable
    {
        private Slot[] _items;

        public SlotBuffer(int capacity)
        {
            _items = ArrayPool<Slot>.Shared.Rent(capacity);
            Count = 0;
        }

        public int Count { get; private set; }

        public readonly Slot Last => _items[Count - 1];

        public void Add(Slot slot)
        {
            if (Count == _items.Length)
            {
                var larger = ArrayPool<Slot>.Shared.Rent(_items.Length * 2);
                Array.Copy(_items, larger, Count);
                ArrayPool<Slot>.Shared.Return(_items);
                _items = larger;
            }

            _items[Count++] = slot;
        }

        public void SortAndDeduplicate()
        {
            var span = _items.AsSpan(0, Count);
            span.Sort(default(SlotStartOrder));
            var kept = 0;
            for (var i = 0; i < span.Length; i++)
            {
                if (kept == 0 || span[kept - 1].Start != span[i].Start)
                {
                    span[kept++] = span[i];
                }
            }

            Count = kept;
        }

        public readonly Slot[] ToArray() => Count == 0 ? [] : _items.AsSpan(0, Count).ToArray();

        public readonly void Dispose() => ArrayPool<Slot>.Shared.Return(_items);
    }

    private readonly struct SlotStartOrder : IComparer<Slot>
    {
        public int Compare(Slot x, Slot y) => x.Start.CompareTo(y.Start);
    }

    /// <summary>A stretch of time, start inclusive, end exclusive.</summary>
    private readonly record struct Stretch(Instant Start, Instant End);

    /// <summary>The open windows of each date: the override when there is one, else that weekday's hours, by start.</summary>
    private readonly struct OpenHours
    {
        private readonly TimeOfDayRange[][] _weekly;
        private readonly Dictionary<LocalDate, TimeOfDayRange[]>? _overrides;

        private OpenHours(TimeOfDayRange[][] weekly, Dictionary<LocalDate, TimeOfDayRange[]>? overrides)
        {
            _weekly = weekly;
            _overrides = overrides;
        }

        public static OpenHours Create(BookingPageSettings settings)
        {
            var perDay = new int[8];
            foreach (var w in settings.WeeklyHours)
            {
                if (w.Day is >= IsoDayOfWeek.Monday and <= IsoDayOfWeek.Sunday)
                {
                    perDay[(int)w.Day]++;
                }
            }

            var weekly = new TimeOfDayRange[8][];
            for (var day = 0; day < weekly.Length; day++)
            {
                weekly[day] = perDay[day] == 0 ? [] : new TimeOfDayRange[perDay[day]];
                perDay[day] = 0;
            }

            foreach (var w in settings.WeeklyHours)
            {
                if (w.Day is >= IsoDayOfWeek.Monday and <= IsoDayOfWeek.Sunday)
                {
                    weekly[(int)w.Day][perDay[(int)w.Day]++] = w.Hours;
                }
            }

            foreach (var ranges in weekly)
            {
                SortByStart(ranges);
            }

            Dictionary<LocalDate, TimeOfDayRange[]>? overrides = null;
            if (settings.DateOverrides.Count > 0)
            {
                overrides = new Dictionary<LocalDate, TimeOfDayRange[]>(settings.DateOverrides.Count);
                foreach (var o in settings.DateOverrides)
                {
                    var ranges = o.Hours.ToArray();
                    SortByStart(ranges);
                    overrides[o.Date] = ranges;
                }
            }

            return new OpenHours(weekly, overrides);
        }

        /// <summary>Insertion sort: a day has a handful of ranges at most.</summary>
        private static void SortByStart(TimeOfDayRange[] ranges)
        {
            for (var i = 1; i < ranges.Length; i++)
            {
                var item = ranges[i];
                var j = i - 1;
                while (j >= 0 && ranges[j].StartMinute > item.StartMinute)
                {
                    ranges[j + 1] = ranges[j];
                    j--;
                }

                ranges[j + 1] = item;
            }
        }

        public TimeOfDayRange[] On(LocalDate date) =>
            _overrides is not null && _overrides.TryGetValue(date, out var special) ? special : _weekly[(int)date.DayOfWeek];
    }

    /// <summary>Counts the page's meetings per local date and ISO week in the page's zone.</summary>
    private readonly struct CapCounter
    {
        private readonly BookingPageSettings _settings;
        private readonly Dictionary<LocalDate, int>? _perDay;
        private readonly Dictionary<LocalDate, int>? _perWeek;

        private CapCounter(BookingPageSettings settings, Dictionary<LocalDate, int>? perDay, Dictionary<LocalDate, int>? perWeek)
        {
            _settings = settings;
            _perDay = perDay;
            _perWeek = perWeek;
        }

        public static CapCounter Create(BookingPageSettings settings, IReadOnlyList<Instant> starts)
        {
            Dictionary<LocalDate, int>? perDay = settings.MaxBookingsPerDay is null ? null : [];
            Dictionary<LocalDate, int>? perWeek = settings.MaxBookingsPerWeek is null ? null : [];
            if (perDay is null && perWeek is null)
            {
                return new CapCounter(settings, null, null);
            }

            foreach (var start in starts)
            {
                var date = start.InZone(settings.TimeZone).Date;
                if (perDay is not null)
                {
                    perDay[date] = perDay.GetValueOrDefault(date) + 1;
                }

                if (perWeek is not null)
                {
                    var monday = WeekStart(date);
                    perWeek[monday] = perWeek.GetValueOrDefault(monday) + 1;
                }
            }

            return new CapCounter(settings, perDay, perWeek);
        }

        public bool Allows(Instant start)
        {
            if (_perDay is null && _perWeek is null)
            {
                return true;
            }

            var date = start.InZone(_settings.TimeZone).Date;
            if (_perDay is not null && _perDay.GetValueOrDefault(date) >= _settings.MaxBookingsPerDay)
            {
                return false;
            }

            return _perWeek is null || _perWeek.GetValueOrDefault(WeekStart(date)) < _settings.MaxBookingsPerWeek;
        }

        private static LocalDate WeekStart(LocalDate date) => date.PlusDays(-((int)date.DayOfWeek - 1));
    }
}

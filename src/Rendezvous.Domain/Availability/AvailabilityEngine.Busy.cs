using System.Buffers;
using NodaTime;

namespace Rendezvous.Domain.Availability;

public static partial class AvailabilityEngine
{
    /// <summary>
    /// The busy time that can matter to one computation, sorted and merged into disjoint ascending [start, end) pairs of
    /// nanoseconds after the lower bound. The pairs live in arrays rented from the shared pool and go back on dispose.
    /// </summary>
    private struct BusyTimeline : IDisposable
    {
        private readonly Instant _origin;
        private readonly long[] _starts;
        private readonly long[] _ends;
        private readonly int _count;
        private int _cursor;

        private BusyTimeline(Instant origin, long[] starts, long[] ends, int count)
        {
            _origin = origin;
            _starts = starts;
            _ends = ends;
            _count = count;
        }

        /// <summary>
        /// Keeps the intervals meeting [<paramref name="from"/>, <paramref name="to"/>), clipped to it; existing group
        /// sessions count as busy for every other candidate start.
        /// </summary>
        public static BusyTimeline Create(IReadOnlyList<BusyInterval> intervals, Dictionary<Instant, int>? sessions, Duration duration, Instant from, Instant to)
        {
            var total = intervals.Count + (sessions?.Count ?? 0);
            if (total == 0)
            {
                return new BusyTimeline(from, [], [], 0);
            }

            var starts = ArrayPool<long>.Shared.Rent(total);
            var ends = ArrayPool<long>.Shared.Rent(total);
            var n = 0;
            var sorted = true;
            for (var i = 0; i < intervals.Count; i++)
            {
                var interval = intervals[i];
                Add(interval.Start, interval.End);
            }

            if (sessions is not null)
            {
                foreach (var start in sessions.Keys)
                {
                    Add(start, start + duration);
                }
            }

            if (!sorted)
            {
                SortByStart(ref starts, ref ends, n, (to - from).ToInt64Nanoseconds());
            }

            var count = 0;
            for (var i = 0; i < n; i++)
            {
                if (count > 0 && starts[i] <= ends[count - 1])
                {
                    if (ends[i] > ends[count - 1])
                    {
                        ends[count - 1] = ends[i];
                    }
                }
                else
                {
                    starts[count] = starts[i];
                    ends[count] = ends[i];
                    count++;
                }
            }

            return new BusyTimeline(from, starts, ends, count);

            void Add(Instant start, Instant end)
            {
                if (start >= end || end <= from || start >= to)
                {
                    return;
                }

                var s = start > from ? (start - from).ToInt64Nanoseconds() : 0;
                var e = (end < to ? end : to) - from;
                if (n > 0 && s < starts[n - 1])
                {
                    sorted = false;
                }

                starts[n] = s;
                ends[n] = e.ToInt64Nanoseconds();
                n++;
            }
        }

        /// <summary>
        /// Sorts the first <paramref name="n"/> pairs by start. Starts are spread over a known span, so they are first
        /// scattered into buckets of about four and then finished by insertion sort, which only moves items within a
        /// bucket: linear time, several times faster than a comparison sort for the thousands of blocks of a team page.
        /// Bunched starts (a bucket over 64) fall back to <see cref="Array.Sort{TKey, TValue}(TKey[], TValue[], int, int)"/>.
        /// </summary>
        private static void SortByStart(ref long[] starts, ref long[] ends, int n, long span)
        {
            const int PerBucket = 4;
            const int LargestBucket = 64;
            var buckets = n / PerBucket;
            if (buckets < 8 || span <= 0)
            {
                Array.Sort(starts, ends, 0, n);
                return;
            }

            // Monotonic in the start, which is all the bucketing needs; rounding only moves an item to a neighbour.
            var scale = buckets / (double)span;
            var offsets = ArrayPool<int>.Shared.Rent(buckets + 1);
            try
            {
                Array.Clear(offsets, 0, buckets + 1);
                for (var i = 0; i < n; i++)
                {
                    offsets[Bucket(starts[i]) + 1]++;
                }

                var largest = 0;
                for (var k = 1; k <= buckets; k++)
                {
                    largest = Math.Max(largest, offsets[k]);
                    offsets[k] += offsets[k - 1];
                }

                if (largest > LargestBucket)
                {
                    Array.Sort(starts, ends, 0, n);
                    return;
                }

                var sortedStarts = ArrayPool<long>.Shared.Rent(starts.Length);
                var sortedEnds = ArrayPool<long>.Shared.Rent(ends.Length);
                for (var i = 0; i < n; i++)
                {
                    var position = offsets[Bucket(starts[i])]++;
                    sortedStarts[position] = starts[i];
                    sortedEnds[position] = ends[i];
                }

                for (var i = 1; i < n; i++)
                {
                    var start = sortedStarts[i];
                    var end = sortedEnds[i];
                    var j = i - 1;
                    while (j >= 0 && sortedStarts[j] > start)
                    {
                        sortedStarts[j + 1] = sortedStarts[j];
                        sortedEnds[j + 1] = sortedEnds[j];
                        j--;
                    }

                    sortedStarts[j + 1] = start;
                    sortedEnds[j + 1] = end;
                }

                ArrayPool<long>.Shared.Return(starts);
                ArrayPool<long>.Shared.Return(ends);
                starts = sortedStarts;
                ends = sortedEnds;
            }
            finally
            {
                ArrayPool<int>.Shared.Return(offsets);
            }

            int Bucket(long start) => Math.Min((int)(start * scale), buckets - 1);
        }

        /// <summary>
        /// True when [start, end) meets busy time. Candidate starts mostly ascend, so the cursor only moves forward; when
        /// a candidate goes backwards (a new window) it is rewound by binary search.
        /// </summary>
        public bool Overlaps(Instant start, Instant end)
        {
            if (_count == 0)
            {
                return false;
            }

            var s = (start - _origin).ToInt64Nanoseconds();
            if (_cursor > 0 && (_cursor >= _count || _ends[_cursor - 1] > s))
            {
                _cursor = FirstEndingAfter(s);
            }

            while (_cursor < _count && _ends[_cursor] <= s)
            {
                _cursor++;
            }

            return _cursor < _count && _starts[_cursor] < (end - _origin).ToInt64Nanoseconds();
        }

        public readonly void Dispose()
        {
            if (_starts.Length > 0)
            {
                ArrayPool<long>.Shared.Return(_starts);
                ArrayPool<long>.Shared.Return(_ends);
            }
        }

        private readonly int FirstEndingAfter(long start)
        {
            int lo = 0, hi = _count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (_ends[mid] <= start)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }
    }
}

using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using NodaTime.Calendars;
using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Tests.Support;

namespace Rendezvous.Domain.Tests.Availability;

/// <summary>
/// Random pages, busy calendars and queries around the awkward days of several zones. Every slot must be free of busy
/// time (with buffers), ordered, inside the open hours and inside the notice and booking window; and the engine must
/// offer exactly what a slow, obvious model of the same rules offers.
/// </summary>
public class AvailabilityPropertyTests
{
    private static readonly string[] ZoneIds =
    [
        "UTC", "America/New_York", "Europe/London", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Apia",
        "America/Havana", "Pacific/Chatham", "Asia/Tokyo",
    ];

    // Offset changes of each zone near the years the tests care about (and a quiet instant for zones without any),
    // so that generated days keep landing on gaps, overlaps and skipped dates.
    private static readonly Dictionary<string, Instant[]> Changes = ZoneIds.ToDictionary(id => id, ChangesOf);

    private static Instant[] ChangesOf(string id)
    {
        var zone = DateTimeZoneProviders.Tzdb[id];
        var found = new[] { 2011, 2026, 2027 }
            .SelectMany(year => zone.GetZoneIntervals(Instant.FromUtc(year, 1, 1, 0, 0), Instant.FromUtc(year + 1, 1, 1, 0, 0)))
            .Where(i => i.HasStart && i.Start.InUtc().Year is 2011 or 2026 or 2027)
            .Select(i => i.Start)
            .Distinct()
            .ToArray();
        return found.Length > 0 ? found : [Instant.FromUtc(2027, 6, 7, 12, 0)];
    }

    public sealed record Scenario(
        string ZoneId,
        string DisplayZoneId,
        TimeOfDayRange[][] Weekly,
        int? OverrideDayOffset,
        TimeOfDayRange[] OverrideHours,
        int DurationMinutes,
        int? IntervalMinutes,
        int BufferBeforeMinutes,
        int BufferAfterMinutes,
        int NoticeMinutes,
        int WindowDays,
        int? MaxPerDay,
        int? MaxPerWeek,
        Instant Now,
        int FromOffsetDays,
        int DayCount,
        (int StartMinute, int Length)[] Busy,
        int[] MeetingMinutes)
    {
        public DateTimeZone Zone => DateTimeZoneProviders.Tzdb[ZoneId];

        public DateTimeZone DisplayZone => DateTimeZoneProviders.Tzdb[DisplayZoneId];

        public LocalDate From => Now.InZone(DisplayZone).Date.PlusDays(FromOffsetDays);

        public LocalDate? OverrideDate => OverrideDayOffset is { } d ? Now.InZone(Zone).Date.PlusDays(d) : null;

        public BookingPageSettings Settings => new()
        {
            Duration = Duration.FromMinutes(DurationMinutes),
            TimeZone = Zone,
            WeeklyHours = [.. Weekly.SelectMany((ranges, i) => ranges.Select(r => new WeeklyHours((IsoDayOfWeek)(i + 1), r)))],
            DateOverrides = OverrideDate is { } date ? [new DateOverride(date, OverrideHours)] : [],
            SlotInterval = IntervalMinutes is { } step ? Duration.FromMinutes(step) : null,
            BufferBefore = Duration.FromMinutes(BufferBeforeMinutes),
            BufferAfter = Duration.FromMinutes(BufferAfterMinutes),
            MinimumNotice = Duration.FromMinutes(NoticeMinutes),
            BookingWindowDays = WindowDays,
            MaxBookingsPerDay = MaxPerDay,
            MaxBookingsPerWeek = MaxPerWeek,
        };

        public AvailabilityQuery Query => new()
        {
            From = From,
            To = From.PlusDays(DayCount),
            DisplayZone = DisplayZone,
            Now = Now,
            Busy = [.. Busy.Select(b => new BusyInterval(Now + Duration.FromMinutes(b.StartMinute), Now + Duration.FromMinutes(b.StartMinute + b.Length)))],
            PageMeetingStarts = [.. MeetingMinutes.Select(m => Now + Duration.FromMinutes(m))],
        };

        public override string ToString()
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"zone {ZoneId}, display {DisplayZoneId}, now {Now}, from {From} for {DayCount + 1} day(s); ");
            text.Append(CultureInfo.InvariantCulture, $"duration {DurationMinutes}, step {IntervalMinutes}, buffers {BufferBeforeMinutes}/{BufferAfterMinutes}, ");
            text.Append(CultureInfo.InvariantCulture, $"notice {NoticeMinutes}, window {WindowDays}d, caps {MaxPerDay}/{MaxPerWeek}; hours ");
            for (var i = 0; i < 7; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{(IsoDayOfWeek)(i + 1)}[{string.Join(",", Weekly[i])}] ");
            }

            text.Append(CultureInfo.InvariantCulture, $"override {OverrideDate}[{string.Join(",", OverrideHours)}]; ");
            text.Append(CultureInfo.InvariantCulture, $"busy [{string.Join(",", Busy.Select(b => $"+{b.StartMinute}/{b.Length}"))}]; ");
            text.Append(CultureInfo.InvariantCulture, $"meetings [{string.Join(",", MeetingMinutes)}]");
            return text.ToString();
        }
    }

    // Clock changes happen at night, so half of the days have their cut points drawn from the small hours.
    private static Gen<TimeOfDayRange[]> DayHours() =>
        from count in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose(1, 3)))
        from night in Gen.Elements(true, false)
        from cuts in Gen.Choose(0, night ? 24 : 96).ArrayOf(count * 2)
        select Pair(cuts);

    private static TimeOfDayRange[] Pair(int[] cuts)
    {
        Array.Sort(cuts);
        var ranges = new List<TimeOfDayRange>();
        for (var i = 0; i + 1 < cuts.Length; i += 2)
        {
            if (cuts[i] < cuts[i + 1])
            {
                ranges.Add(new TimeOfDayRange(cuts[i] * 15, cuts[i + 1] * 15));
            }
        }

        return [.. ranges];
    }

    private static Gen<T?> Maybe<T>(Gen<T> gen)
        where T : struct =>
        Gen.Frequency((1, Gen.Constant<T?>(null)), (2, gen.Select(v => (T?)v)));

    private static readonly Gen<Scenario> Scenarios =
        from zone in Gen.Elements(ZoneIds)
        from display in Gen.Frequency((2, Gen.Constant(zone)), (1, Gen.Elements(ZoneIds)))
        from weekly in DayHours().ArrayOf(7)
        from overrideDay in Maybe(Gen.Choose(-1, 4))
        from overrideHours in DayHours()
        from duration in Gen.Elements(15, 30, 45, 60, 90)
        from interval in Maybe(Gen.Elements(10, 15, 20, 30, 60))
        from before in Gen.Elements(0, 0, 5, 15, 30)
        from after in Gen.Elements(0, 0, 10, 15, 60)
        from notice in Gen.Elements(0, 0, 30, 240, 1440)
        from window in Gen.Choose(1, 8)
        from perDay in Gen.Frequency((3, Gen.Constant<int?>(null)), (1, Gen.Choose(1, 3).Select(v => (int?)v)))
        from perWeek in Gen.Frequency((3, Gen.Constant<int?>(null)), (1, Gen.Choose(1, 4).Select(v => (int?)v)))
        from anchor in Gen.Elements(Changes[zone])
        from nowMinute in Gen.Choose(-3 * 1440, 60)
        from fromOffset in Gen.Choose(-1, 2)
        from dayCount in Gen.Choose(0, 3)
        from busyCount in Gen.Choose(0, 15)
        from busy in Gen.Zip(Gen.Choose(-1440, 6 * 1440), Gen.Choose(5, 240)).ArrayOf(busyCount)
        from meetingCount in Gen.Choose(0, 4)
        from meetings in Gen.Choose(-2 * 1440, 8 * 1440).ArrayOf(meetingCount)
        select new Scenario(zone, display, weekly, overrideDay, overrideHours, duration, interval, before, after, notice, window,
            perDay, perWeek, anchor + Duration.FromMinutes(nowMinute), fromOffset, dayCount, busy, meetings);

    [Fact]
    public void Slots_avoid_busy_time_stay_inside_open_hours_and_respect_notice_and_window()
    {
        Check.One(Properties.Config(400), Prop.ForAll(Scenarios.ToArbitrary(), (Action<Scenario>)CheckInvariants));
    }

    [Fact]
    public void Engine_offers_exactly_what_a_naive_model_offers()
    {
        Check.One(Properties.Config(400), Prop.ForAll(Scenarios.ToArbitrary(), (Action<Scenario>)CheckAgainstModel));
    }

    // Full calendars: many blocks spread over the days, or bunched into half an hour.
    private static readonly Gen<(int StartMinute, int Length)[]> ManyBlocks = Gen.OneOf(
        from count in Gen.Choose(40, 400)
        from blocks in Gen.Zip(Gen.Choose(-1440, 8 * 1440), Gen.Choose(5, 240)).ArrayOf(count)
        select blocks,
        from count in Gen.Choose(70, 300)
        from at in Gen.Choose(0, 5 * 1440)
        from blocks in Gen.Zip(Gen.Choose(0, 30), Gen.Choose(5, 120)).ArrayOf(count)
        select blocks.Select(b => (at + b.Item1, b.Item2)).ToArray());

    [Fact]
    public void Full_calendars_give_the_same_slots_as_the_model()
    {
        var crowded = from s in Scenarios from busy in ManyBlocks select s with { Busy = busy };

        Check.One(Properties.Config(200), Prop.ForAll(crowded.ToArbitrary(), (Action<Scenario>)(s =>
        {
            CheckInvariants(s);
            CheckAgainstModel(s);
        })));
    }

    private static void CheckInvariants(Scenario s)
    {
        var settings = s.Settings;
        var query = s.Query;
        var slots = AvailabilityEngine.ComputeSlots(settings, query);

        for (var i = 1; i < slots.Count; i++)
        {
            (slots[i - 1].Start < slots[i].Start).ShouldBeTrue($"slots out of order or repeated at {slots[i].Start}");
        }

        foreach (var slot in slots)
        {
            (slot.End - slot.Start).ShouldBe(settings.Duration);
            slot.SeatsLeft.ShouldBe(1);
            (slot.Start >= s.Now + settings.MinimumNotice).ShouldBeTrue($"{slot.Start} is inside the minimum notice");
            (slot.Start < s.Now + Duration.FromDays(settings.BookingWindowDays)).ShouldBeTrue($"{slot.Start} is beyond the booking window");
            var shown = slot.Start.InZone(query.DisplayZone).Date;
            (shown >= query.From && shown <= query.To).ShouldBeTrue($"{slot.Start} is shown on {shown}, outside the asked days");
            foreach (var busy in query.Busy)
            {
                var blocked = slot.Start - settings.BufferBefore < busy.End && busy.Start < slot.End + settings.BufferAfter && busy.Start < busy.End;
                blocked.ShouldBeFalse($"{slot.Start} meets busy {busy.Start}-{busy.End} with its buffers");
            }

            InsideOpenHours(settings, slot).ShouldBeTrue($"{slot.Start}-{slot.End} reads outside the open hours");
        }
    }

    private static void CheckAgainstModel(Scenario s)
    {
        var actual = AvailabilityEngine.ComputeSlots(s.Settings, s.Query).Starts();
        var expected = Model(s.Settings, s.Query);

        actual.ShouldBe(expected);
    }

    /// <summary>The open ranges of one local date in the page's zone.</summary>
    private static IReadOnlyList<TimeOfDayRange> RangesOn(BookingPageSettings settings, LocalDate date)
    {
        var special = settings.DateOverrides.FirstOrDefault(o => o.Date == date);
        return special is not null ? special.Hours : [.. settings.WeeklyHours.Where(w => w.Day == date.DayOfWeek).Select(w => w.Hours)];
    }

    /// <summary>True when every minute of the slot reads, in the page's zone, as a time inside one open range of one date.</summary>
    private static bool InsideOpenHours(BookingPageSettings settings, Slot slot)
    {
        var date = slot.Start.InZone(settings.TimeZone).Date;
        return RangesOn(settings, date).Any(range => Covers(settings.TimeZone, date, range, slot.Start, slot.End));
    }

    private static bool Covers(DateTimeZone zone, LocalDate date, TimeOfDayRange range, Instant start, Instant end)
    {
        var open = date.AtMidnight().PlusMinutes(range.StartMinute);
        var close = date.AtMidnight().PlusMinutes(range.EndMinute);
        for (var t = start; t < end; t += Duration.FromMinutes(1))
        {
            var local = t.InZone(zone).LocalDateTime;
            if (local < open || local >= close)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The rules, written the slow way: for every open range of every nearby date, step from the first instant that reads
    /// as the opening time, and keep a candidate when each of its minutes reads inside the range, it clears every busy
    /// interval with buffers, the caps have room, and it lies within notice, window and the asked days.
    /// </summary>
    private static List<Instant> Model(BookingPageSettings settings, AvailabilityQuery query)
    {
        var zone = settings.TimeZone;
        var step = settings.SlotInterval ?? settings.Duration;
        var earliest = query.Now + settings.MinimumNotice;
        var latest = query.Now + Duration.FromDays(settings.BookingWindowDays);
        var starts = new SortedSet<Instant>();
        var firstDate = query.From.PlusDays(-2);
        var lastDate = query.To.PlusDays(2);
        for (var date = firstDate; date <= lastDate; date = date.PlusDays(1))
        {
            foreach (var range in RangesOn(settings, date))
            {
                var open = date.AtMidnight().PlusMinutes(range.StartMinute);
                var close = date.AtMidnight().PlusMinutes(range.EndMinute);
                var first = zone.ResolveLocal(open, AvailabilityEngine.WindowStartResolver).ToInstant();
                var bound = zone.ResolveLocal(close, AvailabilityEngine.WindowEndResolver).ToInstant();
                for (var start = first; start < bound; start += step)
                {
                    var end = start + settings.Duration;
                    var shown = start.InZone(query.DisplayZone).Date;
                    if (start < earliest || start >= latest || shown < query.From || shown > query.To)
                    {
                        continue;
                    }

                    if (!Covers(zone, date, range, start, end))
                    {
                        continue;
                    }

                    if (query.Busy.Any(b => b.Start < b.End && start - settings.BufferBefore < b.End && b.Start < end + settings.BufferAfter))
                    {
                        continue;
                    }

                    var day = start.InZone(zone).Date;
                    var sameDay = query.PageMeetingStarts.Count(m => m.InZone(zone).Date == day);
                    var sameWeek = query.PageMeetingStarts.Count(m => SameIsoWeek(m.InZone(zone).Date, day));
                    if (sameDay >= (settings.MaxBookingsPerDay ?? int.MaxValue) || sameWeek >= (settings.MaxBookingsPerWeek ?? int.MaxValue))
                    {
                        continue;
                    }

                    starts.Add(start);
                }
            }
        }

        return [.. starts];
    }

    private static bool SameIsoWeek(LocalDate a, LocalDate b) =>
        WeekYearRules.Iso.GetWeekYear(a) == WeekYearRules.Iso.GetWeekYear(b)
        && WeekYearRules.Iso.GetWeekOfWeekYear(a) == WeekYearRules.Iso.GetWeekOfWeekYear(b);
}

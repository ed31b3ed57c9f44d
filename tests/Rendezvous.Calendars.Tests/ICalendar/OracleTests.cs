using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Calendars.ICalendar;
using IcalNet = Ical.Net;

namespace Rendezvous.Calendars.Tests.ICalendar;

/// <summary>
/// Differential tests: our reader and expander against Ical.Net 5.2.4, over the shared corpus and over generated
/// recurrences. Every place where the two disagree is listed here with the reason, and the list is exact: a
/// listed difference that stops happening fails the test as much as an unlisted one.
/// </summary>
public class OracleTests
{
    private static readonly Instant CorpusFrom = Instant.FromUtc(1990, 1, 1, 0, 0);
    private static readonly Instant CorpusTo = Instant.FromUtc(2030, 1, 1, 0, 0);

    /// <summary>
    /// Corpus files on which Ical.Net and we disagree, each with why and exactly what differs (occurrences as
    /// UID|start|end, window 1990 to 2030, DATE and floating values read in UTC).
    /// </summary>
    private static readonly Dictionary<string, CorpusDifference> CorpusDifferences = new()
    {
        ["icaljs/samples/google_birthday.ics"] = new(
            "RFC 5545 3.3.4: a DATE has no 'Z'. Google writes RDATE:20131210Z anyway; we read the date, Ical.Net drops the value.",
            OnlyOurs:
            [
                "2014_BIRTHDAY_79d389868f96182e@google.com|2012-12-10T00:00:00Z|2012-12-11T00:00:00Z",
                "2014_BIRTHDAY_79d389868f96182e@google.com|2013-12-10T00:00:00Z|2013-12-11T00:00:00Z",
            ]),
        ["icaljs/samples/recur_instances.ics"] = new(
            "RFC 5545 3.8.4.4: RECURRENCE-ID:20121105T180000Z names the RDATE 10:00 America/Los_Angeles (the same instant "
            + "in UTC), which Ical.Net does not match, so it keeps the replaced instance. RFC 5545 3.8.5.2: "
            + "RDATE;VALUE=PERIOD gives that instance its own end; Ical.Net uses the event's 30 minutes.",
            OnlyOurs: ["623c13c0-6c2b-45d6-a12b-c33ad61c4868|2023-11-25T09:00:00Z|2023-11-25T12:30:00Z"],
            OnlyTheirs:
            [
                "623c13c0-6c2b-45d6-a12b-c33ad61c4868|2012-11-05T18:00:00Z|2012-11-05T18:30:00Z",
                "623c13c0-6c2b-45d6-a12b-c33ad61c4868|2023-11-25T09:00:00Z|2023-11-25T09:30:00Z",
            ]),
        ["icaljs/samples/timezone_from_file.ics"] = new(
            "RFC 5545 3.2.19 / 3.6.5: TZID=Nowhere/Middle is defined by the file's own VTIMEZONE; Ical.Net only knows "
            + "tzdb and Windows ids and throws.",
            TheyThrow: typeof(ArgumentException)),
        ["icaljs/test/parser/period.ics"] = new(
            "RFC 5545 3.3.9: each period in an RDATE list is UTC or local on its own; Ical.Net throws on the mix.",
            TheyThrow: typeof(ArgumentException)),
        ["icaljs/test/parser/grouped.ics"] = new(
            "A vCard-style group prefix (GROUP1.X-TEST, RFC 6350 3.3) is not RFC 5545 3.1 syntax: Ical.Net refuses the "
            + "file, we keep the group as a tolerated extension.",
            TheyThrow: typeof(System.Runtime.Serialization.SerializationException)),
    };

    public static TheoryData<string> CorpusFiles() => CorpusTests.CorpusFiles();

    [CorpusTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_occurrences_match_ical_net_except_for_the_listed_differences(string file)
    {
        var text = File.ReadAllText(Corpus.PathOf(file));
        if (CorpusTests.InvalidOnPurpose.ContainsKey(file))
        {
            // Invalid on purpose (see CorpusTests): we refuse it, Ical.Net reads past the problem. RFC 5545 3.1 has
            // no empty content line, so refusing is our decision, not a disagreement about recurrence.
            Should.Throw<ICalendarParseException>(() => Oracle.Ours(text, CorpusFrom, CorpusTo));
            return;
        }

        var ours = Oracle.Ours(text, CorpusFrom, CorpusTo).Select(o => o.ToString()).ToList();
        CorpusDifferences.TryGetValue(file, out var known);
        if (known?.TheyThrow is { } thrown)
        {
            Should.Throw(() => Oracle.Theirs(text, CorpusFrom, CorpusTo), thrown, known.Why);
            return;
        }

        var theirs = Oracle.Theirs(text, CorpusFrom, CorpusTo).Select(o => o.ToString()).ToList();
        ours.Except(theirs).ShouldBe(known?.OnlyOurs ?? [], ignoreOrder: true, known?.Why ?? "no difference is listed for this file");
        theirs.Except(ours).ShouldBe(known?.OnlyTheirs ?? [], ignoreOrder: true, known?.Why ?? "no difference is listed for this file");
    }

    [CorpusFact]
    public void Corpus_difference_list_only_names_files_that_exist() =>
        CorpusDifferences.Keys.ShouldAllBe(file => File.Exists(Corpus.PathOf(file)));

    [CorpusFact]
    public void Corpus_typed_events_match_ical_net()
    {
        // Beyond occurrences: the properties a booking system shows must read the same.
        foreach (var file in Corpus.AllFiles().Where(f => !CorpusTests.InvalidOnPurpose.ContainsKey(f) && CorpusDifferences.GetValueOrDefault(f)?.TheyThrow is null))
        {
            var text = File.ReadAllText(Corpus.PathOf(file));

            // Ical.Net invents a UID for a VEVENT without one; compare UIDs only where the file has them.
            var hasUids = text.Contains("\nUID:", StringComparison.OrdinalIgnoreCase);
            var ours = ICalendarReader.ParseAll(text).SelectMany(d => d.Events)
                .Select(e => $"{(hasUids ? e.Uid : null)}|{e.Summary}|{e.Location}|{e.Sequence}|{string.Join(",", e.Attendees.Select(a => a.Address))}");
            var theirs = IcalNet.CalendarCollection.Load(text).SelectMany(c => c.Events)
                .Select(e => $"{(hasUids ? e.Uid : null)}|{e.Summary}|{e.Location}|{e.Sequence}|{string.Join(",", e.Attendees.Select(a => a.Value?.OriginalString))}");
            ours.ShouldBe(theirs, ignoreOrder: true, file);
        }
    }

    /// <summary>
    /// Generated RRULEs (FREQ, INTERVAL, COUNT or UNTIL, BYDAY with and without ordinals, BYMONTHDAY, BYMONTH,
    /// BYSETPOS, EXDATE, RDATE) in zones with DST (New York, London, Lord Howe's 30-minute shift), without
    /// (Kathmandu's +05:45), in UTC and floating, starting around DST days, compared over 800 days.
    /// DTSTART is always synchronized with its rule: RFC 5545 3.8.5.3 leaves other rule sets undefined
    /// (see <see cref="Unsynchronized_dtstart_counts_as_the_first_instance_for_us_and_not_for_ical_net"/>).
    /// </summary>
    [Fact]
    public void Generated_recurrences_expand_like_ical_net_except_for_the_listed_differences()
    {
        var cases = RuleCases.Select(Materialize).Where(c => c is not null).Select(c => c!);

        Prop.ForAll(cases.ToArbitrary(), Compare).Check(Config.QuickThrowOnFailure.WithMaxTest(300).WithQuietOnSuccess(true));
    }

    // Each known difference of generated rules, shown on one concrete rule with what each side produces.

    [Fact]
    public void Unsynchronized_dtstart_counts_as_the_first_instance_for_us_and_not_for_ical_net()
    {
        // RFC 5545 3.8.5.3: "The DTSTART property value always counts as the first occurrence." Ical.Net drops a
        // DTSTART its rule would not generate (2027-03-01 is a Monday, the rule wants Tuesdays).
        var text = Vevent("DTSTART:20270301T090000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=2");

        Starts(Oracle.Ours(text, From, To)).ShouldBe(["2027-03-01T09:00:00Z", "2027-03-02T09:00:00Z"]);
        Starts(Oracle.Theirs(text, From, To)).ShouldBe(["2027-03-02T09:00:00Z", "2027-03-09T09:00:00Z"]);
    }

    [Fact]
    public void Yearly_bymonthday_without_bymonth_covers_every_month_for_us_and_only_dtstarts_month_for_ical_net()
    {
        // RFC 5545 3.3.10: BYMONTHDAY expands a YEARLY rule; DTSTART only supplies parts the rule lacks, and a
        // rule with a day part does not take its month from DTSTART.
        var text = Vevent("DTSTART:20270301T090000Z", "DURATION:PT1H", "RRULE:FREQ=YEARLY;BYMONTHDAY=1;COUNT=3");

        Starts(Oracle.Ours(text, From, To)).ShouldBe(["2027-03-01T09:00:00Z", "2027-04-01T09:00:00Z", "2027-05-01T09:00:00Z"]);
        Starts(Oracle.Theirs(text, From, To)).ShouldBe(["2027-03-01T09:00:00Z", "2028-03-01T09:00:00Z", "2029-03-01T09:00:00Z"]);
    }

    [Fact]
    public void Yearly_until_keeps_the_instances_of_the_last_year_for_us_and_not_for_ical_net()
    {
        // RFC 5545 3.3.10: UNTIL bounds instances. Ical.Net stops once DTSTART's next anniversary (2028-12-02) is
        // past UNTIL and so loses the Thursdays of January 2028.
        var text = Vevent("DTSTART:20271202T090000Z", "DURATION:PT1H", "RRULE:FREQ=YEARLY;BYDAY=TH;UNTIL=20280115T000000Z");

        Starts(Oracle.Ours(text, From, To)).ShouldBe(
            ["2027-12-02T09:00:00Z", "2027-12-09T09:00:00Z", "2027-12-16T09:00:00Z", "2027-12-23T09:00:00Z", "2027-12-30T09:00:00Z", "2028-01-06T09:00:00Z", "2028-01-13T09:00:00Z"]);
        Starts(Oracle.Theirs(text, From, To)).ShouldBe(
            ["2027-12-02T09:00:00Z", "2027-12-09T09:00:00Z", "2027-12-16T09:00:00Z", "2027-12-23T09:00:00Z", "2027-12-30T09:00:00Z"]);

        // The same with BYSETPOS: the first pick of 2028 (Wednesday 01-05) is before UNTIL, the last is not.
        var picked = Vevent("DTSTART:20270430T233000Z", "DURATION:PT1H", "RRULE:FREQ=YEARLY;BYDAY=WE,-1FR;BYMONTH=1,4;BYSETPOS=1,-1;UNTIL=20280120T233000Z");
        Starts(Oracle.Ours(picked, From, To)).ShouldBe(["2027-04-30T23:30:00Z", "2028-01-05T23:30:00Z"]);
        Starts(Oracle.Theirs(picked, From, To)).ShouldBe(["2027-04-30T23:30:00Z"]);
    }

    [Fact]
    public void Rule_that_runs_dry_before_its_count_ends_quietly_for_us_and_throws_in_ical_net()
    {
        // RFC 5545 3.3.10: COUNT bounds the instances; a rule may generate fewer (there is no 9th Tuesday).
        // Ical.Net searches to the year 9999 and throws, losing the RDATE as well.
        var text = Vevent("DTSTART:20270301T090000Z", "DURATION:PT1H", "RRULE:FREQ=MONTHLY;BYDAY=TU;BYSETPOS=9;COUNT=4", "RDATE:20270305T090000Z");

        Starts(Oracle.Ours(text, From, To)).ShouldBe(["2027-03-01T09:00:00Z", "2027-03-05T09:00:00Z"]);
        Should.Throw<IcalNet.Evaluation.EvaluationOutOfRangeException>(() => Oracle.Theirs(text, From, To));
    }

    [Fact]
    public void Exact_length_across_a_dst_change_is_exact_for_us_and_wall_clock_for_ical_net()
    {
        // RFC 5545 3.3.6: PT1H is an exact duration (only days and weeks are nominal), and 3.8.5.3: with DTEND
        // every instance has the same exact duration. Ical.Net works on the wall clock when an instance touches
        // London's 2028-10-29 change (01:00 to 02:00 happens twice): the second instance shrinks.
        var byDuration = Vevent("DTSTART;TZID=Europe/London:20281028T010000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=2");
        var byEnd = Vevent("DTSTART;TZID=Europe/London:20281028T003000", "DTEND;TZID=Europe/London:20281028T023000", "RRULE:FREQ=DAILY;COUNT=2");

        Lengths(Oracle.Ours(byDuration, From, To)).ShouldBe([1, 1]);
        Lengths(Oracle.Theirs(byDuration, From, To)).ShouldBe([1, 0]);
        Lengths(Oracle.Ours(byEnd, From, To)).ShouldBe([2, 2]);
        Lengths(Oracle.Theirs(byEnd, From, To)).ShouldBe([2, 1]);
    }

    private static readonly Instant From = Instant.FromUtc(2027, 1, 1, 0, 0);
    private static readonly Instant To = Instant.FromUtc(2031, 1, 1, 0, 0);

    private static readonly string[] Zones = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "Z", ""];

    // DST days in 2027 and 2028 of those zones, plus a leap day and a month end.
    private static readonly LocalDate[] Anchors =
    [
        new(2027, 3, 14), new(2027, 11, 7), new(2027, 3, 28), new(2027, 10, 31), new(2027, 4, 4), new(2027, 10, 3),
        new(2028, 3, 12), new(2028, 10, 29), new(2028, 2, 29), new(2027, 1, 31),
    ];

    private static readonly string[] DayNames = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

    private static readonly LocalDateTimePattern DateTimeText = LocalDateTimePattern.CreateWithInvariantCulture("yyyyMMdd'T'HHmmss");

    private static readonly LocalDatePattern DateText = LocalDatePattern.CreateWithInvariantCulture("yyyyMMdd");

    /// <summary>A rule and its event before DTSTART is synchronized; see <see cref="Materialize"/>.</summary>
    public sealed record RuleCase(
        string Zone,
        bool AllDay,
        LocalDateTime Candidate,
        string Frequency,
        int Interval,
        string[] ByDay,
        int[] ByMonthDay,
        int[] ByMonth,
        int[] BySetPos,
        int Bound,
        int BoundValue,
        int Length,
        int? ExceptionDay,
        (int Days, int Hours)? ExtraDate);

    /// <summary>A generated event, with the facts the comparison needs.</summary>
    public sealed record GeneratedEvent(RuleCase Case, string Text, string Rule, LocalDateTime Start, Instant From, Instant To)
    {
        public override string ToString() => Text;
    }

    private static Gen<RuleCase> RuleCases =>
        from zone in Gen.Elements(Zones)
        from allDay in Gen.Frequency((1, Gen.Constant(true)), (5, Gen.Constant(false)))
        from anchor in Gen.Elements(Anchors)
        from shift in Gen.Choose(-3, 3)
        from hour in Gen.Elements(0, 1, 2, 2, 9, 23)
        from minute in Gen.Elements(0, 30)
        from frequency in Gen.Elements("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
        from interval in Gen.Frequency((3, Gen.Constant(1)), (1, Gen.Choose(2, 3)))
        from days in Gen.Frequency((1, Gen.Constant(Array.Empty<string>())), (1, Gen.SubListOf(DayNames).Select(d => d.Take(3).ToArray())))
        from ordinal1 in Gen.Elements("", "1", "2", "-1", "3", "-2")
        from ordinal2 in Gen.Elements("", "1", "2", "-1", "3", "-2")
        from ordinal3 in Gen.Elements("", "1", "2", "-1", "3", "-2")
        from monthDays in Gen.Frequency((2, Gen.Constant(Array.Empty<int>())), (1, Gen.SubListOf(new[] { 1, 2, 13, 15, 28, 29, 30, 31, -1, -2 }).Select(d => d.Take(2).ToArray())))
        from months in Gen.Frequency((2, Gen.Constant(Array.Empty<int>())), (1, Gen.SubListOf(Enumerable.Range(1, 12).ToArray()).Select(m => m.Take(3).ToArray())))
        from setPos in Gen.Frequency((3, Gen.Constant(Array.Empty<int>())), (1, Gen.SubListOf(new[] { 1, 2, 3, -1, -2 }).Select(p => p.Take(2).ToArray())))
        from bound in Gen.Choose(0, 2)
        from boundValue in Gen.Choose(1, 500)
        from length in Gen.Choose(0, 3)
        from exception in Gen.Frequency((2, Gen.Constant<int?>(null)), (1, Gen.Choose(0, 40).Select(d => (int?)d)))
        from extraDays in Gen.Frequency((2, Gen.Constant(0)), (1, Gen.Choose(1, 40)))
        from extraHours in Gen.Choose(0, 1)
        select new RuleCase(
            zone,
            allDay,
            anchor.PlusDays(shift) + (allDay ? LocalTime.Midnight : new LocalTime(hour, minute)),
            frequency,
            interval,
            [.. days.Select((d, i) => (frequency is "MONTHLY" or "YEARLY" ? new[] { ordinal1, ordinal2, ordinal3 }[i] : string.Empty) + d)],
            frequency == "WEEKLY" ? [] : monthDays,
            months,
            setPos,
            bound,
            boundValue,
            length,
            exception,
            extraDays == 0 ? null : (extraDays, extraHours));

    private static GeneratedEvent? Materialize(RuleCase c)
    {
        var byDay = c.ByDay;
        if (c is { Frequency: "YEARLY", ByMonth.Length: 0, ByMonthDay.Length: > 0 })
        {
            // The oracle gets this shape with BYMONTH=1..12 (see Adjust); ordinals would then count within the
            // month instead of the year, so the generated rule has none.
            byDay = [.. byDay.Select(d => d[^2..])];
        }

        var parts = new List<string> { "FREQ=" + c.Frequency };
        if (c.Interval > 1)
        {
            parts.Add("INTERVAL=" + c.Interval.ToString(CultureInfo.InvariantCulture));
        }

        AddList(parts, "BYDAY", byDay);
        AddList(parts, "BYMONTHDAY", c.ByMonthDay.Select(Number));
        AddList(parts, "BYMONTH", c.ByMonth.Select(Number));
        AddList(parts, "BYSETPOS", c.BySetPos.Select(Number));

        // Synchronize DTSTART: the first instance the rule generates after the candidate. The local time comes
        // from the instance's RECURRENCE-ID, i.e. the rule's wall clock even when it falls in a DST gap.
        var probe = ICalendarReader.Parse(Vevent(DateProperty(c, "DTSTART", c.Candidate), "RRULE:" + string.Join(';', parts))).Events[0];
        var probeFrom = Instant.FromUtc(2026, 1, 1, 0, 0);
        var next = RecurrenceExpander.Expand(probe, probeFrom, probeFrom + Duration.FromDays(366 * 6), DateTimeZone.Utc).Occurrences;
        if (next.Count < 2)
        {
            return null;
        }

        var start = next[1].RecurrenceId!.Value.Local;
        switch (c.Bound)
        {
            case 1:
                parts.Add("COUNT=" + (1 + (c.BoundValue % 30)).ToString(CultureInfo.InvariantCulture));
                break;
            case 2:
                parts.Add("UNTIL=" + UntilValue(c, start.PlusDays(10 + c.BoundValue)));
                break;
            default:
                break;
        }

        var rule = "RRULE:" + string.Join(';', parts);
        var lines = new List<string> { DateProperty(c, "DTSTART", start) };
        lines.Add(c.AllDay
            ? (c.Length % 2 == 0 ? DateProperty(c, "DTEND", start.PlusDays(1)) : "DURATION:P1D")
            : c.Length switch
            {
                0 => "DURATION:PT1H",
                1 => "DURATION:P1D",
                2 => "DURATION:PT24H",
                _ => DateProperty(c, "DTEND", start.PlusHours(2)),
            });
        lines.Add(rule);
        if (c.ExceptionDay is { } exception)
        {
            lines.Add(DateProperty(c, "EXDATE", start.PlusDays(exception)));
        }

        if (c.ExtraDate is { } extra)
        {
            lines.Add(DateProperty(c, "RDATE", start.PlusDays(extra.Days).PlusHours(c.AllDay ? 0 : extra.Hours)));
        }

        var from = start.Date.PlusDays(-2).AtMidnight().InUtc().ToInstant();
        return new GeneratedEvent(c, Vevent([.. lines]), rule, start, from, from + Duration.FromDays(800));
    }

    private static void Compare(GeneratedEvent generated)
    {
        var ours = Oracle.Ours(generated.Text, generated.From, generated.To);
        var (theirs, applied) = TheirsWithKnownDifferences(generated);
        var context = generated.Text + "known differences applied: " + (applied.Count == 0 ? "none" : string.Join(", ", applied));

        ours.Select(o => o.Start).ShouldBe(theirs.Select(o => o.Start), context);
        foreach (var (mine, other) in ours.Zip(theirs))
        {
            if (mine.End == other.End)
            {
                continue;
            }

            // Known difference: an exact length (DTEND, or a DURATION without days) across a change of UTC offset.
            // RFC 5545 3.3.6 and 3.8.5.3 make it exact; Ical.Net adds it on the wall clock. We check ours is exact.
            var zone = generated.Case.Zone is { Length: > 2 } id ? DateTimeZoneProviders.Tzdb[id] : DateTimeZone.Utc;
            var exact = generated.Case is { AllDay: false, Length: 0 or 2 or 3 };
            (exact && zone.GetUtcOffset(mine.Start) != zone.GetUtcOffset(mine.End)).ShouldBeTrue($"end of {mine} differs from {other}\n{context}");
            (mine.End - mine.Start).ShouldBe(generated.Case.Length switch { 0 => Duration.FromHours(1), 2 => Duration.FromHours(24), _ => Duration.FromHours(2) }, context);
        }
    }

    /// <summary>
    /// Ical.Net's occurrences of a generated event, after the explicit adjustments for its known mistakes. Each
    /// adjustment keeps the RFC 5545 meaning of the event inside the window, and is reported by name.
    /// </summary>
    private static (List<Oracle.Instance> Theirs, List<string> Applied) TheirsWithKnownDifferences(GeneratedEvent generated)
    {
        var applied = new List<string>();
        var rule = generated.Rule;
        var c = generated.Case;
        Instant? until = null;
        if (c is { Frequency: "YEARLY", ByMonth.Length: 0, ByMonthDay.Length: > 0 })
        {
            // RFC 5545 3.3.10: BYMONTHDAY expands a YEARLY rule over every month; Ical.Net uses DTSTART's month.
            applied.Add("YEARLY+BYMONTHDAY gets BYMONTH=1..12");
            rule += ";BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12";
        }

        if (c is { Frequency: "YEARLY", Bound: 2 } && ((c.ByMonth.Length == 0 && c.ByDay.Length > 0) || c.BySetPos.Length > 0))
        {
            // RFC 5545 3.3.10: UNTIL bounds instances; with BYDAY but no BYMONTH, or with BYSETPOS, Ical.Net drops
            // the whole year in which DTSTART's anniversary (or the year's last candidate) is past UNTIL.
            applied.Add("YEARLY+BYDAY/BYSETPOS evaluated without UNTIL, which the test applies");
            until = UntilInstant(rule);
            rule = WithoutBound(rule);
        }

        var text = generated.Text.Replace(generated.Rule, rule, StringComparison.Ordinal);
        List<Oracle.Instance> theirs;
        try
        {
            theirs = Oracle.Theirs(text, generated.From, generated.To);
        }
        catch (IcalNet.Evaluation.EvaluationOutOfRangeException)
        {
            // RFC 5545 3.3.10: a rule may generate fewer instances than COUNT, or none after some point. Ical.Net
            // then searches to the year 9999 and throws. Bounding the rule a year past the window instead keeps
            // every instance in the window; a rule that does reach its COUNT in the window would show up as extras.
            applied.Add("rule that runs dry gets UNTIL a year past the window instead of COUNT");
            var bounded = WithoutBound(rule) + ";UNTIL=" + UntilValue(c, (generated.To + Duration.FromDays(366)).InUtc().LocalDateTime, utcAlready: true);
            theirs = Oracle.Theirs(generated.Text.Replace(generated.Rule, bounded, StringComparison.Ordinal), generated.From, generated.To);
            if (c.Bound == 1)
            {
                var count = int.Parse(generated.Rule.Split(';').Single(p => p.StartsWith("COUNT=", StringComparison.Ordinal))[6..], CultureInfo.InvariantCulture);
                (theirs.Count - (c.ExtraDate is null ? 0 : 1) < count).ShouldBeTrue("Ical.Net threw although the rule reaches its COUNT\n" + generated.Text);
            }
        }

        if (until is { } last)
        {
            theirs.RemoveAll(o => o.Start > last && !IsExtraDate(generated, o.Start));
        }

        return (theirs, applied);
    }

    private static bool IsExtraDate(GeneratedEvent generated, Instant start) =>
        generated.Case.ExtraDate is { } extra
        && start == ToInstant(generated.Case, generated.Start.PlusDays(extra.Days).PlusHours(generated.Case.AllDay ? 0 : extra.Hours));

    private static Instant ToInstant(RuleCase c, LocalDateTime local) =>
        c.Zone is { Length: > 2 } id ? TimeZoneAware(local, DateTimeZoneProviders.Tzdb[id]) : local.InUtc().ToInstant();

    private static Instant TimeZoneAware(LocalDateTime local, DateTimeZone zone) => local.InZone(zone, CalendarDateTime.Rfc5545Resolver).ToInstant();

    private static Instant UntilInstant(string rule)
    {
        var value = rule.Split(';').Single(p => p.StartsWith("UNTIL=", StringComparison.Ordinal))[6..].TrimEnd('Z');
        return value.Length == 8
            ? DateText.Parse(value).Value.AtMidnight().InUtc().ToInstant()
            : DateTimeText.Parse(value).Value.InUtc().ToInstant();
    }

    private static string WithoutBound(string rule) =>
        string.Join(';', rule.Split(';').Where(p => !p.StartsWith("COUNT=", StringComparison.Ordinal) && !p.StartsWith("UNTIL=", StringComparison.Ordinal)));

    /// <summary>UNTIL in the form RFC 5545 3.3.10 wants for this DTSTART: a DATE, floating, or UTC.</summary>
    private static string UntilValue(RuleCase c, LocalDateTime local, bool utcAlready = false)
    {
        if (c.AllDay)
        {
            return DateText.Format(local.Date);
        }

        if (c.Zone.Length == 0)
        {
            return DateTimeText.Format(local);
        }

        var utc = utcAlready ? local : ToInstant(c, local).InUtc().LocalDateTime;
        return DateTimeText.Format(utc) + "Z";
    }

    private static string DateProperty(RuleCase c, string name, LocalDateTime local) => c switch
    {
        { AllDay: true } => $"{name};VALUE=DATE:{DateText.Format(local.Date)}",
        { Zone: "Z" } => $"{name}:{DateTimeText.Format(local)}Z",
        { Zone: "" } => $"{name}:{DateTimeText.Format(local)}",
        _ => $"{name};TZID={c.Zone}:{DateTimeText.Format(local)}",
    };

    private static void AddList(List<string> parts, string name, IEnumerable<string> values)
    {
        var list = values.ToList();
        if (list.Count > 0)
        {
            parts.Add(name + "=" + string.Join(',', list));
        }
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Vevent(params string[] lines)
    {
        var text = new StringBuilder("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rendezvous//Oracle tests//EN\r\nBEGIN:VEVENT\r\nUID:generated\r\nDTSTAMP:20270101T000000Z\r\n");
        foreach (var line in lines)
        {
            text.Append(line).Append("\r\n");
        }

        return text.Append("END:VEVENT\r\nEND:VCALENDAR\r\n").ToString();
    }

    private static List<string> Starts(IEnumerable<Oracle.Instance> instances) =>
        [.. instances.Select(i => InstantPattern.General.Format(i.Start))];

    private static List<double> Lengths(IEnumerable<Oracle.Instance> instances) =>
        [.. instances.Select(i => (i.End - i.Start).TotalHours)];

    private sealed record CorpusDifference(string Why, string[]? OnlyOurs = null, string[]? OnlyTheirs = null, Type? TheyThrow = null);
}

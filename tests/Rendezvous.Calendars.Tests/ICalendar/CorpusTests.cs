using NodaTime;
using NodaTime.Text;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

/// <summary>The shared corpus (samples and parser tests of ical.js, MPL-2.0), read from /work/shared/ical-corpus.</summary>
public class CorpusTests
{
    /// <summary>
    /// Files that are invalid on purpose, with the line our reader must report. Every other file must parse.
    /// Decided by reading each file:
    /// - blank_line_mid.ics says so itself: an empty line inside VCALENDAR is not a content line.
    /// Not listed, and why they count as valid:
    /// - float.ics, integer.ics, boolean.ics hold x-properties with VALUE=FLOAT/INTEGER/BOOLEAN and values like
    ///   "my foo!": the document is well-formed and x-property values are kept raw; the typed accessors
    ///   (TryGetFloat...) report the bad values.
    /// - multiple_root_components.ics is an iCalendar stream of two VCALENDARs, which RFC 5545 allows.
    /// - google_birthday.ics writes RDATE:20131210Z (a DATE with a Z), which we read as the date.
    /// - recur_instances.ics has a VTIMEZONE without TZID; nothing can refer to it, so it is ignored.
    /// </summary>
    internal static readonly Dictionary<string, (int Line, ICalendarErrorKind Kind)> InvalidOnPurpose = new()
    {
        ["icaljs/samples/blank_line_mid.ics"] = (3, ICalendarErrorKind.BlankLine),
    };

    private static readonly DateTimeZone LosAngeles = DateTimeZoneProviders.Tzdb["America/Los_Angeles"];
    private static readonly LocalDateTimePattern Pattern = LocalDateTimePattern.CreateWithInvariantCulture("yyyy-MM-dd HH:mm");

    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        if (Corpus.Directory is null && !Corpus.IsCi)
        {
            data.Add("(corpus missing: test skipped)");
            return data;
        }

        foreach (var file in Corpus.AllFiles())
        {
            data.Add(file);
        }

        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Every_corpus_file_parses_or_fails_with_a_clear_error(string file)
    {
        var bytes = File.ReadAllBytes(Corpus.PathOf(file));

        if (InvalidOnPurpose.TryGetValue(file, out var expected))
        {
            var error = Should.Throw<ICalendarParseException>(() => ICalendarReader.ParseAll(bytes));
            error.LineNumber.ShouldBe(expected.Line);
            error.Kind.ShouldBe(expected.Kind);
            return;
        }

        var documents = ICalendarReader.ParseAll(bytes);
        documents.ShouldNotBeEmpty();
        foreach (var document in documents)
        {
            // The typed view, recurrence expansion and zone building must all cope with the file.
            _ = document.GetOccurrences(Instant.FromUtc(1990, 1, 1, 0, 0), Instant.FromUtc(2030, 1, 1, 0, 0), LosAngeles);
            _ = BusyTime.Compute(document, Instant.FromUtc(2012, 1, 1, 0, 0), Instant.FromUtc(2013, 1, 1, 0, 0), LosAngeles);
            foreach (var vtimezone in document.Source!.FindComponents("VTIMEZONE").Where(v => v.FindProperty("TZID") is not null))
            {
                _ = VTimeZoneDateTimeZone.FromComponent(vtimezone).GetUtcOffset(Instant.FromUtc(2012, 6, 1, 0, 0));
            }

            // The generic tree survives a write and a read unchanged.
            var rewritten = ICalendarReader.ReadComponents(ICalendarWriter.Write(document.Source));
            Describe(rewritten.ShouldHaveSingleItem()).ShouldBe(Describe(document.Source));
        }
    }

    [CorpusFact]
    public void Invalid_files_are_readable_in_lenient_mode_with_the_problem_reported()
    {
        foreach (var (file, expected) in InvalidOnPurpose)
        {
            var skipped = new List<ICalendarParseException>();

            ICalendarReader.ParseAll(File.ReadAllBytes(Corpus.PathOf(file)), ICalendarReaderOptions.Lenient with { OnSkipped = skipped.Add }).ShouldNotBeEmpty();

            skipped.ShouldHaveSingleItem().LineNumber.ShouldBe(expected.Line);
        }
    }

    [CorpusFact]
    public void Invalid_list_only_names_files_that_exist() =>
        InvalidOnPurpose.Keys.ShouldAllBe(file => File.Exists(Corpus.PathOf(file)));

    [CorpusFact]
    public void Recurring_event_with_rdates_exdates_and_overrides()
    {
        var document = ICalendarReader.Parse(Corpus.Read("icaljs/samples/recur_instances.ics"));

        document.Events.Count.ShouldBe(3);
        var master = document.Events[0];
        master.RecurrenceDates.Count.ShouldBe(5);
        master.RecurrenceDates[1].End.ShouldBe(CalendarDateTime.FromInstant(Instant.FromUtc(2023, 11, 25, 12, 30)));
        master.ExceptionDates.Count.ShouldBe(3);
        master.Attendees[0].CommonName.ShouldBe("Sahaja Lal");
        master.Source!.FindProperty("COLOR")!.Value.ShouldBe("red");
        document.Source!.FindComponents("X-UNKNOWN").ShouldHaveSingleItem();

        var set = document.GetOccurrences(Instant.FromUtc(2012, 10, 1, 0, 0), Instant.FromUtc(2013, 6, 1, 0, 0), LosAngeles);

        set.Occurrences.Select(o => Pattern.Format(o.Start.InZone(LosAngeles).LocalDateTime)).ShouldBe(
        [
            "2012-10-02 15:00", // first instance moved from 10:00 by an override
            "2012-11-06 10:00",
            "2012-11-06 20:00", // the RDATE of 11-05 10:00 PST, overridden through a UTC RECURRENCE-ID
            "2012-11-10 10:00",
            "2012-11-30 10:00",
            "2013-01-01 10:00", // 2012-12-04 and 2013-02-05 are EXDATEs
            "2013-03-05 10:00", // 2013-04-02 is an EXDATE
            "2013-05-07 10:00",
        ]);
        set.Occurrences[0].Event.Description.ShouldBe("I HAZ CHANGED!");
        set.Occurrences[0].Interval.Duration.ShouldBe(Duration.FromMinutes(30));

        var later = document.GetOccurrences(Instant.FromUtc(2023, 11, 1, 0, 0), Instant.FromUtc(2023, 12, 1, 0, 0), LosAngeles);
        later.Occurrences.Select(o => o.Interval).ShouldBe(
        [
            new Interval(Instant.FromUtc(2023, 11, 7, 18, 0), Instant.FromUtc(2023, 11, 7, 18, 30)),
            new Interval(Instant.FromUtc(2023, 11, 23, 9, 0), Instant.FromUtc(2023, 11, 23, 9, 30)),
            new Interval(Instant.FromUtc(2023, 11, 25, 9, 0), Instant.FromUtc(2023, 11, 25, 12, 30)),
        ]);
    }

    [CorpusFact]
    public void Floating_until_is_read_in_the_event_zone()
    {
        var document = ICalendarReader.Parse(Corpus.Read("icaljs/samples/recur_instances_finite.ics"));

        var set = document.GetOccurrences(Instant.FromUtc(2012, 1, 1, 0, 0), Instant.FromUtc(2014, 1, 1, 0, 0), LosAngeles);

        set.Occurrences.Select(o => Pattern.Format(o.Start.InZone(LosAngeles).LocalDateTime)).ShouldBe(
            ["2012-10-02 10:00", "2012-11-05 10:00", "2012-11-06 10:00", "2012-11-10 10:00", "2012-12-04 10:00"]);
    }

    [CorpusFact]
    public void Date_exdate_removes_the_instance_on_that_day()
    {
        var document = ICalendarReader.Parse(Corpus.Read("icaljs/samples/rdate_exdate.ics"));

        var set = document.GetOccurrences(Instant.FromUtc(2024, 1, 1, 0, 0), Instant.FromUtc(2025, 1, 1, 0, 0), DateTimeZone.Utc);

        set.Occurrences.Select(o => o.Start).ShouldBe(
            [Instant.FromUtc(2024, 6, 9, 3, 0), Instant.FromUtc(2024, 6, 10, 3, 0), Instant.FromUtc(2024, 6, 12, 3, 0)]);
        set.Occurrences.ShouldAllBe(o => o.End == o.Start);
    }

    [CorpusFact]
    public void Duration_instead_of_dtend_is_one_local_day()
    {
        var evt = ICalendarReader.Parse(Corpus.Read("icaljs/samples/duration_instead_of_dtend.ics")).Events.ShouldHaveSingleItem();

        evt.Duration.ShouldBe(CalendarDuration.FromDays(1));
        evt.End.ShouldBeNull();
        var occurrence = RecurrenceExpander.Expand(evt, Instant.FromUtc(2012, 1, 1, 0, 0), Instant.FromUtc(2013, 1, 1, 0, 0), DateTimeZone.Utc)
            .Occurrences.ShouldHaveSingleItem();
        occurrence.Start.ShouldBe(Instant.FromUtc(2012, 6, 30, 13, 0));
        occurrence.End.ShouldBe(Instant.FromUtc(2012, 7, 1, 13, 0));
    }

    [CorpusFact]
    public void Events_with_only_dtstart_get_the_rfc_default_lengths()
    {
        var date = ICalendarReader.Parse(Corpus.Read("icaljs/samples/only_dtstart_date.ics")).Events.ShouldHaveSingleItem();
        var time = ICalendarReader.Parse(Corpus.Read("icaljs/samples/only_dtstart_time.ics")).Events.ShouldHaveSingleItem();
        var window = (From: Instant.FromUtc(2012, 1, 1, 0, 0), To: Instant.FromUtc(2013, 1, 1, 0, 0));

        date.IsAllDay.ShouldBeTrue();
        RecurrenceExpander.Expand(date, window.From, window.To, LosAngeles).Occurrences.ShouldHaveSingleItem().Interval.Duration.ShouldBe(Duration.FromDays(1));
        RecurrenceExpander.Expand(time, window.From, window.To, LosAngeles).Occurrences.ShouldHaveSingleItem().Interval.Duration.ShouldBe(Duration.Zero);
    }

    [CorpusTheory]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "1969-06-01T00:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "1970-01-01T05:59:59Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "1970-01-01T06:00:00Z", -5)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "1975-01-01T07:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "1980-01-01T03:59:59Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "1980-01-01T04:00:00Z", -5)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "1985-01-01T05:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "1990-01-01T07:00:00Z", -5)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "1995-01-01T07:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_test.ics", "2030-06-01T00:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_utc_test.ics", "1970-01-01T01:59:59Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_utc_test.ics", "1970-01-01T02:00:00Z", -5)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_utc_test.ics", "1975-01-01T02:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_utc_test.ics", "1980-01-01T04:00:00Z", -5)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RDATE_utc_test.ics", "1995-01-01T07:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RRULE_UNTIL_test.ics", "1970-01-01T01:59:59Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RRULE_UNTIL_test.ics", "1972-06-01T00:00:00Z", -5)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RRULE_UNTIL_test.ics", "1977-06-01T00:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RRULE_UNTIL_test.ics", "1980-01-01T03:00:00Z", -5)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RRULE_UNTIL_test.ics", "1982-06-01T00:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RRULE_UNTIL_test.ics", "1987-06-01T00:00:00Z", -4)]
    [InlineData("icaljs/samples/timezones/Makebelieve/RRULE_UNTIL_test.ics", "2030-06-01T00:00:00Z", -4)]
    public void Makebelieve_zones_are_built_from_their_vtimezone(string file, string instant, int offsetHours)
    {
        var zone = ZoneFrom(file);

        zone.GetUtcOffset(InstantPattern.General.Parse(instant).Value).ShouldBe(Offset.FromHours(offsetHours));
    }

    [CorpusFact]
    public void Event_in_a_custom_zone_uses_the_vtimezone_definition()
    {
        var evt = ICalendarReader.Parse(Corpus.Read("icaljs/samples/timezone_from_file.ics")).Events.ShouldHaveSingleItem();

        evt.Uid.ShouldBeNull();
        evt.Start!.Value.Zone.ShouldBeOfType<VTimeZoneDateTimeZone>();
        evt.Start.Value.ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2023, 3, 6, 21, 23));
    }

    [CorpusFact]
    public void Denver_built_from_its_vtimezone_matches_tzdb_from_2003_on()
    {
        var fromFile = ZoneFrom("icaljs/samples/timezones/America/Denver.ics");
        var tzdb = DateTimeZoneProviders.Tzdb["America/Denver"];

        for (var t = Instant.FromUtc(2003, 1, 1, 0, 0); t < Instant.FromUtc(2031, 1, 1, 0, 0); t += Duration.FromHours(1))
        {
            if (fromFile.GetUtcOffset(t) != tzdb.GetUtcOffset(t))
            {
                throw new ShouldAssertException($"Offsets differ at {t}: {fromFile.GetUtcOffset(t)} vs {tzdb.GetUtcOffset(t)}");
            }
        }
    }

    [CorpusFact]
    public void Los_angeles_built_from_its_vtimezone_matches_tzdb_for_current_rules()
    {
        var fromFile = ZoneFrom("icaljs/samples/timezones/America/Los_Angeles.ics");
        var tzdb = DateTimeZoneProviders.Tzdb["America/Los_Angeles"];

        for (var t = Instant.FromUtc(2007, 1, 1, 0, 0); t < Instant.FromUtc(2031, 1, 1, 0, 0); t += Duration.FromMinutes(30))
        {
            fromFile.GetUtcOffset(t).ShouldBe(tzdb.GetUtcOffset(t));
        }
    }

    [CorpusFact]
    public void Single_observance_zone_is_fixed()
    {
        var zone = ZoneFrom("icaljs/samples/timezones/America/Atikokan.ics");

        zone.GetUtcOffset(Instant.FromUtc(1950, 1, 1, 0, 0)).ShouldBe(Offset.FromHours(-5));
        zone.GetUtcOffset(Instant.FromUtc(2050, 7, 1, 0, 0)).ShouldBe(Offset.FromHours(-5));
        zone.GetZoneInterval(Instant.FromUtc(2050, 7, 1, 0, 0)).Name.ShouldBe("EST");
    }

    [CorpusFact]
    public void Minus_zero_offsets_are_read_as_utc()
    {
        var document = ICalendarReader.Parse(Corpus.Read("icaljs/samples/utc_negative_zero.ics"));

        VTimeZoneDateTimeZone.FromComponent(document.Source!.FindComponents("VTIMEZONE").Single()).GetUtcOffset(Instant.FromUtc(2012, 8, 21, 0, 0)).ShouldBe(Offset.Zero);
        document.Events.Single().Start!.Value.ToInstant(LosAngeles).ShouldBe(Instant.FromUtc(2012, 8, 21, 21, 0));
    }

    [CorpusFact]
    public void Quoted_and_caret_encoded_parameters()
    {
        var root = ICalendarReader.ReadComponents(Corpus.Read("icaljs/test/parser/property_params.ics")).Single();
        var attendees = root.FindProperties("ATTENDEE").ToList();

        attendees[0].GetParameter("CN").ShouldBe("Foo, Bar");
        attendees[0].GetParameterValues("DELEGATED-TO").ShouldBe(["mailto:foo7@bar", "mailto:foo8@bar"]);
        attendees[0].Value.ShouldBe("mailto:foo1@bar");
        attendees[1].GetParameter("CN").ShouldBe("Foo; Bar");
        attendees[6].GetParameter("CN").ShouldBe("^Ж 4 <>\\'\"\n:");
        attendees[7].GetParameter("ROLE").ShouldBe("REQ-PARTICIPANT;foo");
        attendees[7].GetParameter("PARTSTAT").ShouldBe("ACCEPTED");
        attendees[8].GetParameter("CN").ShouldBe("X\\");
        attendees[9].GetParameter("CN").ShouldBe("Y\\");
        root.FindProperty("X-BAZ2")!.GetParameter("PARAM2").ShouldBe("VAL2:FOO");
        root.FindProperty("X-BAZ2")!.Value.ShouldBe("BAZ;BAR");

        var quoted = ICalendarReader.ReadComponents(Corpus.Read("icaljs/test/parser/quoted_params.ics")).Single().FindProperty("X-FOO")!;
        quoted.GetParameter("BAR").ShouldBe(";hidden=value");
        quoted.Value.ShouldBe("realvalue yep");
    }

    [CorpusFact]
    public void Folded_properties_and_parameter_names_are_unfolded()
    {
        var attendee = ICalendarReader.ReadComponents(Corpus.Read("icaljs/test/parser/unfold_properties.ics")).Single().FindProperty("ATTENDEE")!;
        var attach = ICalendarReader.ReadComponents(Corpus.Read("icaljs/test/parser/base64.ics")).Single().FindProperty("ATTACH")!;
        var period = ICalendarReader.ReadComponents(Corpus.Read("icaljs/test/parser/period.ics")).Single().FindProperty("RDATE")!;

        attendee.GetParameter("RSVP").ShouldBe("TRUE");
        attendee.Value.ShouldBe("mailto:person@foo.com");
        attach.GetParameter("X-BASE64-PARAM").ShouldBe("UGFyYW1ldGVyCg=");
        attach.Value.ShouldBe("WW91IHJlYWxseSBzcGVudCB0aGUgdGltZSB0byBiYXNlNjQgZGVjb2RlIHRoaXM/Cg=");
        period.Value.ShouldBe("19960403T020000Z/19960403T040000Z,19960404T010000/PT3H");
    }

    [CorpusFact]
    public void Text_escapes_in_components_and_alarms()
    {
        var root = ICalendarReader.ReadComponents(Corpus.Read("icaljs/test/parser/component.ics")).Single();
        var first = root.FindComponents("VEVENT").First();

        first.FindProperty("SUMMARY")!.GetText().ShouldBe("foo \\nbar");
        first.FindComponents("VALARM").Single().FindProperty("SUMMARY")!.GetText().ShouldBe("escaped, comma and; semicolon\nnewline");
        ICalendarReader.Parse(Corpus.Read("icaljs/test/parser/values.ics")).Source!.FindProperty("LOCATION")!.GetText().ShouldBe(string.Empty);
        ICalendarReader.Parse(Corpus.Read("icaljs/samples/blank_description.ics")).Events.Single().Description.ShouldBe(string.Empty);
    }

    [CorpusFact]
    public void Typed_accessors_report_invalid_x_property_values()
    {
        var floats = ICalendarReader.Parse(Corpus.Read("icaljs/test/parser/float.ics")).Source!;
        var integers = ICalendarReader.Parse(Corpus.Read("icaljs/test/parser/integer.ics")).Source!;
        var booleans = ICalendarReader.Parse(Corpus.Read("icaljs/test/parser/boolean.ics")).Source!;
        var offsets = ICalendarReader.Parse(Corpus.Read("icaljs/test/parser/utc_offset.ics")).Source!;

        floats.FindProperty("X-FLOAT")!.TryGetFloat(out var value).ShouldBeTrue();
        value.ShouldBe(10.35);
        floats.FindProperty("X-INVALID-FLOAT")!.TryGetFloat(out _).ShouldBeFalse();
        integers.FindProperty("X-INTEGER")!.TryGetInteger(out var number).ShouldBeTrue();
        number.ShouldBe(105);
        integers.FindProperty("X-INVALID")!.TryGetInteger(out _).ShouldBeFalse();
        booleans.FindProperty("X-TRUE")!.TryGetBoolean(out var truth).ShouldBeTrue();
        truth.ShouldBeTrue();
        booleans.FindProperty("X-MAYBE")!.TryGetBoolean(out _).ShouldBeFalse();
        offsets.FindProperty("X-OFFSET")!.TryGetUtcOffset(out var offset).ShouldBeTrue();
        offset.ShouldBe(Offset.FromHours(-5));
        offsets.FindProperty("X-OFFSET-SECONDS")!.TryGetUtcOffset(out offset).ShouldBeTrue();
        offset.ShouldBe(Offset.FromHoursAndMinutes(5, 50) + Offset.FromSeconds(1));
    }

    [CorpusFact]
    public void Stream_with_two_calendars()
    {
        var text = Corpus.Read("icaljs/test/parser/multiple_root_components.ics");

        ICalendarReader.ParseAll(text).Select(d => d.Source!.FindProperty("DTSTAMP")!.Value).ShouldBe(["20140401T010101Z", "20140401T020202Z"]);
        Should.Throw<ICalendarParseException>(() => ICalendarReader.Parse(text)).Kind.ShouldBe(ICalendarErrorKind.CalendarCount);
    }

    [CorpusFact]
    public void Google_birthdays_expand_rdates_and_orphan_overrides()
    {
        var document = ICalendarReader.Parse(Corpus.Read("icaljs/samples/google_birthday.ics"));

        document.Events[0].RecurrenceDates.Select(r => r.Start).ShouldBe(
            [CalendarDateTime.FromDate(new LocalDate(2013, 12, 10)), CalendarDateTime.FromDate(new LocalDate(2012, 12, 10))]);
        var set = document.GetOccurrences(Instant.FromUtc(2012, 1, 1, 0, 0), Instant.FromUtc(2016, 1, 1, 0, 0), LosAngeles);

        set.Occurrences.Count.ShouldBe(6);
        set.Occurrences.ShouldAllBe(o => o.IsAllDay && o.Interval.Duration == Duration.FromDays(1));
        set.Occurrences.Count(o => o.IsOverride).ShouldBe(3);
        set.Occurrences.Select(o => o.Start.InZone(LosAngeles).Date.Year).ShouldBe([2012, 2012, 2013, 2013, 2014, 2014]);
    }

    [CorpusFact]
    public void Two_rrules_are_united()
    {
        var evt = ICalendarReader.Parse(Corpus.Read("icaljs/samples/multiple_rrules.ics")).Events.Single();

        var set = RecurrenceExpander.Expand(evt, Instant.FromUtc(2012, 1, 1, 0, 0), Instant.FromUtc(2013, 1, 1, 0, 0), LosAngeles);

        evt.RecurrenceRules.Count.ShouldBe(2);
        evt.Organizer.ShouldBe(new CalendarOrganizer("mailto:frashed@mozilla.com") { CommonName = "Faramarz Rashed" });
        evt.Attendees.Single().ShouldBe(new CalendarAttendee("mailto:jlal@mozilla.com")
        {
            CommonName = "James Lal",
            Role = ParticipationRole.Required,
            Status = ParticipationStatus.NeedsAction,
            UserType = CalendarUserType.Individual,
            Rsvp = true,
        });
        set.Occurrences.Count.ShouldBe(36); // 18 Mondays (03-26 to 07-23) and 18 Sundays (04-01 to 07-29)
        set.Occurrences.ShouldAllBe(o => o.Start.InZone(LosAngeles).TimeOfDay == new LocalTime(11, 0));
        set.Occurrences.Select(o => o.Start.InZone(LosAngeles).DayOfWeek).Distinct().Order().ShouldBe([IsoDayOfWeek.Monday, IsoDayOfWeek.Sunday]);
    }

    [CorpusFact]
    public void Daily_rule_limited_to_weekdays()
    {
        var evt = ICalendarReader.Parse(Corpus.Read("icaljs/samples/parserv2.ics")).Events.Single();

        var set = RecurrenceExpander.Expand(evt, Instant.FromUtc(2012, 9, 1, 0, 0), Instant.FromUtc(2012, 9, 19, 0, 0), LosAngeles);

        set.Occurrences.Select(o => o.Start.InZone(LosAngeles).Day).ShouldBe([11, 12, 13, 14, 17, 18]);
        evt.Attendees.Select(a => a.Email).ShouldBe(["foo@bar.com", "x@bar.com"]);
        evt.Sequence.ShouldBe(1);
        evt.Status.ShouldBe(EventStatus.Confirmed);
    }

    [CorpusFact]
    public void Transparent_all_day_series_is_not_busy()
    {
        var document = ICalendarReader.Parse(Corpus.Read("icaljs/samples/day_long_recur_yearly.ics"));
        var from = Instant.FromUtc(2012, 8, 1, 0, 0);
        var to = Instant.FromUtc(2012, 8, 15, 0, 0);

        document.GetOccurrences(from, to, LosAngeles).Occurrences.Select(o => o.Start.InZone(LosAngeles).Day).ShouldBe([3, 6, 7, 8, 9, 10, 13, 14]);
        BusyTime.Compute(document, from, to, LosAngeles).Intervals.ShouldBeEmpty();
    }

    private static VTimeZoneDateTimeZone ZoneFrom(string file) =>
        VTimeZoneDateTimeZone.FromComponent(ICalendarReader.ReadComponents(Corpus.Read(file)).Single().FindComponents("VTIMEZONE").Single());

    private static string Describe(CalendarComponent component)
    {
        var lines = new List<string> { "BEGIN " + component.Name };
        lines.AddRange(component.Properties.Select(p =>
            $"{p.Group}|{p.Name}|{string.Join("|", p.Parameters.Select(x => x.Name + "=" + string.Join("\u0001", x.Values)))}|{p.Value}"));
        lines.AddRange(component.Components.Select(Describe));
        lines.Add("END " + component.Name);
        return string.Join("\n", lines);
    }
}

using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

public class ContentLineTests
{
    private static CalendarComponent Single(string text) => ICalendarReader.ReadComponents(text).ShouldHaveSingleItem();

    [Fact]
    public void Unfolds_crlf_lf_and_tab_continuations()
    {
        var root = Single("BEGIN:VCALENDAR\r\nSUMMARY:Hel\r\n lo\n\tWor\r\n ld\r\nEND:VCALENDAR\r\n");

        root.FindProperty("SUMMARY")!.GetText().ShouldBe("HelloWorld");
    }

    [Fact]
    public void Continuation_removes_exactly_one_whitespace_character()
    {
        var root = Single("BEGIN:VCALENDAR\nX-FOO;BAR=\";hidden=value\";FOO=baz:realvalue\n  yep\nEND:VCALENDAR");

        var property = root.FindProperty("x-foo")!;
        property.Value.ShouldBe("realvalue yep");
        property.GetParameter("BAR").ShouldBe(";hidden=value");
        property.GetParameter("foo").ShouldBe("baz");
    }

    [Fact]
    public void Tolerates_missing_final_newline_and_blank_lines_outside_components()
    {
        var roots = ICalendarReader.ReadComponents("\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n\r\n\n");

        roots.ShouldHaveSingleItem().Name.ShouldBe("VCALENDAR");
        Single("BEGIN:VCALENDAR\r\nEND:VCALENDAR").Name.ShouldBe("VCALENDAR");
    }

    [Fact]
    public void Ignores_junk_before_the_first_and_after_the_last_component()
    {
        var roots = ICalendarReader.ReadComponents("Content-Type: text/calendar\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n-- \nsignature\n");

        roots.ShouldHaveSingleItem();
    }

    [Fact]
    public void Strips_a_utf8_byte_order_mark()
    {
        var bytes = "\uFEFFBEGIN:VCALENDAR\r\nX-A:1\r\nEND:VCALENDAR\r\n"u8.ToArray();

        ICalendarReader.ReadComponents(bytes).ShouldHaveSingleItem().FindProperty("X-A")!.Value.ShouldBe("1");
    }

    [Fact]
    public void Unfolding_bytes_rejoins_a_multibyte_character_split_by_a_careless_producer()
    {
        // "é" is C3 A9; this producer folded between the two bytes.
        byte[] bytes = [.. "BEGIN:VCALENDAR\r\nSUMMARY:caf"u8, 0xC3, .. "\r\n "u8, 0xA9, .. "\r\nEND:VCALENDAR\r\n"u8];

        ICalendarReader.ReadComponents(bytes).ShouldHaveSingleItem().FindProperty("SUMMARY")!.GetText().ShouldBe("café");
    }

    [Fact]
    public void Names_are_case_insensitive_and_stored_upper_case()
    {
        var root = Single("begin:vcalendar\nbegin:vevent\nsummary;language=en:Hi\nend:VEVENT\nEND:vcalendar\n");

        root.Name.ShouldBe("VCALENDAR");
        var vevent = root.FindComponents("vEvent").ShouldHaveSingleItem();
        var summary = vevent.FindProperty("Summary").ShouldNotBeNull();
        summary.Name.ShouldBe("SUMMARY");
        summary.Parameters.ShouldHaveSingleItem().Name.ShouldBe("LANGUAGE");
        summary.GetParameter("Language").ShouldBe("en");
    }

    [Fact]
    public void Keeps_x_names_iana_names_groups_and_unknown_components()
    {
        var root = Single("BEGIN:VCALENDAR\nX-WR-CALNAME:Mine\nCOLOR:red\nGROUP1.X-TEST;VALUE=TEXT:test!\nBEGIN:X-UNKNOWN\nX-INNER:1\nEND:X-UNKNOWN\nEND:VCALENDAR\n");

        root.FindProperty("X-WR-CALNAME")!.GetText().ShouldBe("Mine");
        root.FindProperty("COLOR")!.Value.ShouldBe("red");
        var grouped = root.FindProperty("X-TEST")!;
        grouped.Group.ShouldBe("GROUP1");
        grouped.GetText().ShouldBe("test!");
        root.FindComponents("X-UNKNOWN").ShouldHaveSingleItem().FindProperty("X-INNER")!.Value.ShouldBe("1");
    }

    [Fact]
    public void Quoted_parameter_values_may_contain_semicolons_colons_and_commas()
    {
        var root = Single(
            "BEGIN:VCALENDAR\n" +
            "ATTENDEE;DELEGATED-TO=\"mailto:foo7@bar\",\"mailto:foo8@bar\";CN=\"Foo, Bar\":mailto:foo1@bar\n" +
            "X-BAZ;PARAM1=\"VAL1:FOO\";PARAM2=VAL2:BAZ;BAR\n" +
            "END:VCALENDAR\n");

        var attendee = root.FindProperty("ATTENDEE")!;
        attendee.GetParameterValues("DELEGATED-TO").ShouldBe(["mailto:foo7@bar", "mailto:foo8@bar"]);
        attendee.GetParameter("CN").ShouldBe("Foo, Bar");
        attendee.Value.ShouldBe("mailto:foo1@bar");
        var baz = root.FindProperty("X-BAZ")!;
        baz.GetParameter("PARAM1").ShouldBe("VAL1:FOO");
        baz.GetParameter("PARAM2").ShouldBe("VAL2");
        baz.Value.ShouldBe("BAZ;BAR");
    }

    [Fact]
    public void Parameter_values_use_rfc6868_caret_encoding_and_backslash_is_literal()
    {
        var root = Single("BEGIN:VCALENDAR\nATTENDEE;CN=\"^^x ^'q^' a^nb\":mailto:a@b\nATTENDEE;CN=X\\:mailto:x@example.org\nEND:VCALENDAR\n");

        var attendees = root.FindProperties("ATTENDEE").ToList();
        attendees[0].GetParameter("CN").ShouldBe("^x \"q\" a\nb");
        attendees[1].GetParameter("CN").ShouldBe("X\\");
        attendees[1].Value.ShouldBe("mailto:x@example.org");
    }

    [Fact]
    public void Value_keeps_everything_after_the_first_unquoted_colon()
    {
        var root = Single("BEGIN:VCALENDAR\nREQUEST-STATUS:3.1;Invalid property value;DTSTART:96-Apr-01\nEND:VCALENDAR\n");

        root.FindProperty("REQUEST-STATUS")!.Value.ShouldBe("3.1;Invalid property value;DTSTART:96-Apr-01");
    }

    [Fact]
    public void Multi_valued_text_splits_on_unescaped_commas_only()
    {
        var root = Single("BEGIN:VCALENDAR\nCATEGORIES:foo,blue\\, fish,woot\nEND:VCALENDAR\n");

        root.FindProperty("CATEGORIES")!.GetTextList().ShouldBe(["foo", "blue, fish", "woot"]);
    }

    [Theory]
    [InlineData("BEGIN:VCALENDAR\nX-A:1\n\nEND:VCALENDAR\n", 3, ICalendarErrorKind.BlankLine)]
    [InlineData("BEGIN:VCALENDAR\nthis is junk\nEND:VCALENDAR\n", 2, ICalendarErrorKind.InvalidContentLine)]
    [InlineData("BEGIN:VCALENDAR\nX-A;P=\"open:value\nEND:VCALENDAR\n", 2, ICalendarErrorKind.InvalidContentLine)]
    [InlineData("BEGIN:VCALENDAR\nX-A;NOEQUALS:value\nEND:VCALENDAR\n", 2, ICalendarErrorKind.InvalidContentLine)]
    [InlineData("BEGIN:VCALENDAR\n:novalue\nEND:VCALENDAR\n", 2, ICalendarErrorKind.InvalidContentLine)]
    [InlineData("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR\n", 3, ICalendarErrorKind.UnbalancedComponent)]
    [InlineData("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VEVENT\n", 1, ICalendarErrorKind.UnbalancedComponent)]
    [InlineData("END:VCALENDAR\n", 1, ICalendarErrorKind.UnbalancedComponent)]
    [InlineData("BEGIN:VCALENDAR\nBEGIN:\nEND:VCALENDAR\n", 2, ICalendarErrorKind.InvalidContentLine)]
    public void Invalid_structure_gives_a_typed_error_with_the_line_number(string text, int line, ICalendarErrorKind kind)
    {
        var error = Should.Throw<ICalendarParseException>(() => ICalendarReader.ReadComponents(text));

        error.LineNumber.ShouldBe(line);
        error.Kind.ShouldBe(kind);
        error.Message.ShouldStartWith($"Line {line}:");
    }

    [Fact]
    public void Line_numbers_count_physical_lines_of_folded_properties()
    {
        var text = "BEGIN:VCALENDAR\r\nX-A:1\r\n 2\r\n 3\r\nX-B;BROKEN\r\nEND:VCALENDAR\r\n";

        Should.Throw<ICalendarParseException>(() => ICalendarReader.ReadComponents(text)).LineNumber.ShouldBe(5);
    }

    [Fact]
    public void Deep_nesting_is_rejected_before_it_hurts()
    {
        var text = string.Concat(Enumerable.Repeat("BEGIN:X-A\n", 100)) + string.Concat(Enumerable.Repeat("END:X-A\n", 100));

        Should.Throw<ICalendarParseException>(() => ICalendarReader.ReadComponents(text)).Kind.ShouldBe(ICalendarErrorKind.NestingTooDeep);
    }

    [Fact]
    public void Parse_needs_exactly_one_vcalendar_and_parse_all_reads_a_stream()
    {
        const string two = "BEGIN:VCALENDAR\nEND:VCALENDAR\nBEGIN:VCALENDAR\nEND:VCALENDAR\n";

        ICalendarReader.ParseAll(two).Count.ShouldBe(2);
        Should.Throw<ICalendarParseException>(() => ICalendarReader.Parse(two)).Kind.ShouldBe(ICalendarErrorKind.CalendarCount);
        Should.Throw<ICalendarParseException>(() => ICalendarReader.Parse("hello")).Kind.ShouldBe(ICalendarErrorKind.CalendarCount);
    }

    [Fact]
    public void Try_parse_reports_errors_as_values()
    {
        ICalendarReader.TryParse("BEGIN:VCALENDAR\nX\nEND:VCALENDAR", out var document, out var error).ShouldBeFalse();
        document.ShouldBeNull();
        error.ShouldNotBeNull().LineNumber.ShouldBe(2);

        ICalendarReader.TryParse("BEGIN:VCALENDAR\nEND:VCALENDAR", out document).ShouldBeTrue();
        document.ShouldNotBeNull();
    }
}

public class LenientReadingTests
{
    [Fact]
    public void Lenient_reading_skips_bad_lines_and_bad_events_and_reports_each()
    {
        const string text =
            "BEGIN:VCALENDAR\n" +
            "X-OK:1\n" +
            "\n" +
            "garbage without colon\n" +
            "BEGIN:VEVENT\nUID:bad\nDTSTART:not-a-date\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:good\nDTSTART:20270101T090000Z\nEND:VEVENT\n" +
            "END:VCALENDAR\n";
        var skipped = new List<ICalendarParseException>();

        var document = ICalendarReader.Parse(text, ICalendarReaderOptions.Lenient with { OnSkipped = skipped.Add });

        document.Events.ShouldHaveSingleItem().Uid.ShouldBe("good");
        document.Source!.FindProperty("X-OK").ShouldNotBeNull();
        skipped.Select(e => (e.LineNumber, e.Kind)).ShouldBe(
        [
            (3, ICalendarErrorKind.BlankLine),
            (4, ICalendarErrorKind.InvalidContentLine),
            (7, ICalendarErrorKind.InvalidValue),
        ]);
        Should.Throw<ICalendarParseException>(() => ICalendarReader.Parse(text)).LineNumber.ShouldBe(3);
    }

    [Fact]
    public void Lenient_reading_still_refuses_a_broken_structure()
    {
        Should.Throw<ICalendarParseException>(() => ICalendarReader.Parse("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n", ICalendarReaderOptions.Lenient))
            .Kind.ShouldBe(ICalendarErrorKind.UnbalancedComponent);
    }
}

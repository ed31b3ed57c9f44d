using NodaTime;
using Rendezvous.Calendars.ICalendar;
using IcalNet = Ical.Net;

namespace Rendezvous.Calendars.Tests.ICalendar;

/// <summary>
/// Components outside a VCALENDAR. Some producers export bare VEVENTs, and ical.js (where the corpus comes from)
/// reads any top-level component; Ical.Net 5.2.4 silently reads nothing. We read what can only mean one calendar
/// and refuse what could mean several.
/// </summary>
public class BareComponentTests
{
    private const string EventA =
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;TZID=Europe/London:20270301T090000\r\n"
        + "DTEND;TZID=Europe/London:20270301T100000\r\nSUMMARY:A\r\nEND:VEVENT\r\n";

    private const string EventB = "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270302T090000Z\r\nSUMMARY:B\r\nEND:VEVENT\r\n";

    private const string Alarm = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Soon\r\nEND:VALARM\r\n";

    private const string Custom =
        "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0300\r\n"
        + "TZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

    private const string Open = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n";

    private const string Close = "END:VCALENDAR\r\n";

    [Fact]
    public void A_bare_vevent_is_read_as_a_calendar_holding_it()
    {
        var document = ICalendarReader.Parse(EventA);

        var evt = document.Events.ShouldHaveSingleItem();
        evt.Summary.ShouldBe("A");
        evt.Start!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2027, 3, 1, 9, 0));
        document.Source!.Name.ShouldBe("VCALENDAR");
        document.Version.ShouldBeNull("nothing was written, nothing is invented");
    }

    [Fact]
    public void Several_bare_events_and_their_vtimezone_form_one_calendar()
    {
        var document = ICalendarReader.Parse(EventA + Custom + EventB.Replace("DTSTART:20270302T090000Z", "DTSTART;TZID=Custom:20270302T090000", StringComparison.Ordinal));

        document.Events.Select(e => e.Uid).ShouldBe(["a", "b"]);
        document.Events[1].Start!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(Instant.FromUtc(2027, 3, 2, 6, 0), "TZID resolves against the sibling VTIMEZONE");
        ICalendarReader.ParseAll(EventA + EventB).ShouldHaveSingleItem();
    }

    [Fact]
    public void A_bare_vevent_keeps_its_alarm_and_a_bare_vtodo_is_kept_in_the_tree()
    {
        var withAlarm = ICalendarReader.Parse(EventA.Replace("END:VEVENT", Alarm + "END:VEVENT", StringComparison.Ordinal));
        var todo = ICalendarReader.Parse("BEGIN:VTODO\r\nUID:t\r\nSUMMARY:T\r\nEND:VTODO\r\n");

        withAlarm.Events.Single().Source!.FindComponents("VALARM").ShouldHaveSingleItem();
        todo.Events.ShouldBeEmpty();
        todo.Source!.FindComponents("VTODO").ShouldHaveSingleItem();
    }

    [Fact]
    public void A_bare_valarm_on_its_own_is_kept_like_one_inside_a_vcalendar()
    {
        var bare = ICalendarReader.Parse(Alarm);
        var wrapped = ICalendarReader.Parse(Open + Alarm + Close);

        bare.Events.ShouldBeEmpty();
        bare.Source!.FindComponents("VALARM").Single().FindProperty("TRIGGER")!.Value.ShouldBe("-PT15M");
        wrapped.Source!.FindComponents("VALARM").ShouldHaveSingleItem();
    }

    [Theory]
    [InlineData(Open + EventA + Close + EventB, 12)]
    [InlineData(EventB + Open + EventA + Close, 1)]
    [InlineData(EventA + Alarm, 8)]
    [InlineData(Alarm + EventB, 1)]
    public void Ambiguous_strays_are_refused_with_their_line(string text, int line)
    {
        var error = Should.Throw<ICalendarParseException>(() => ICalendarReader.ParseAll(text));

        error.Kind.ShouldBe(ICalendarErrorKind.StrayComponent);
        error.Code.ShouldBe("ical.stray_component");
        error.LineNumber.ShouldBe(line);
    }

    [Fact]
    public void Lenient_reading_drops_ambiguous_strays_and_reports_them()
    {
        var skipped = new List<ICalendarParseException>();
        var options = ICalendarReaderOptions.Lenient with { OnSkipped = skipped.Add };

        ICalendarReader.Parse(Open + EventA + Close + EventB, options).Events.Select(e => e.Uid).ShouldBe(["a"]);
        ICalendarReader.Parse(EventA + Alarm, options).Events.Select(e => e.Uid).ShouldBe(["a"]);

        skipped.Select(s => s.Kind).ShouldBe([ICalendarErrorKind.StrayComponent, ICalendarErrorKind.StrayComponent]);
    }

    [Fact]
    public void Components_that_are_not_calendar_data_are_still_not_a_calendar()
    {
        const string card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Someone\r\nEND:VCARD\r\n";

        ICalendarReader.ParseAll(card).ShouldBeEmpty();
        Should.Throw<ICalendarParseException>(() => ICalendarReader.Parse(card)).Kind.ShouldBe(ICalendarErrorKind.CalendarCount);
    }

    [Fact]
    public void Ical_net_reads_nothing_from_a_bare_vevent()
    {
        // Why we do not simply follow the oracle here: it drops the event without an error.
        IcalNet.CalendarCollection.Load(EventA).ShouldBeEmpty();
    }
}

using System.Text;
using NodaTime;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

public class WriterTests
{
    private static readonly DateTimeZone NewYork = DateTimeZoneProviders.Tzdb["America/New_York"];

    internal static CalendarEvent Booking() => new()
    {
        Uid = "booking-42@rendezvous.example",
        Sequence = 3,
        DtStamp = Instant.FromUtc(2027, 3, 1, 12, 0, 5),
        Start = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 15, 9, 0), NewYork),
        End = CalendarDateTime.InZone(new LocalDateTime(2027, 3, 15, 9, 30), NewYork),
        Summary = "Intro call, with Ana; 30 min",
        Description = "Agenda:\n1. Hello\n2. C:\\path\\to\\notes",
        Location = "https://meet.example/abc?x=1;y=2",
        Status = EventStatus.Confirmed,
        Transparency = EventTransparency.Opaque,
        Organizer = new CalendarOrganizer("mailto:host@example.com") { CommonName = "Host, The" },
        Attendees =
        [
            new CalendarAttendee("mailto:ana@example.org")
            {
                CommonName = "Ana \"Nan\" Núñez",
                Status = ParticipationStatus.Accepted,
                Role = ParticipationRole.Required,
                Rsvp = true,
            },
            new CalendarAttendee("mailto:room1@example.com") { UserType = CalendarUserType.Room, Role = ParticipationRole.NonParticipant },
        ],
        Extensions = [new CalendarExtensionProperty("X-RENDEZVOUS-BOOKING-ID", "42"), new CalendarExtensionProperty("X-RENDEZVOUS-NOTE", "a, b; c")],
    };

    [Fact]
    public void Request_uses_crlf_has_method_and_a_vtimezone_for_the_zone_used()
    {
        var text = ICalendarWriter.Write(new CalendarDocument { Method = ITipMethod.Request, Events = [Booking()] });

        text.ShouldStartWith("BEGIN:VCALENDAR\r\n");
        text.ShouldEndWith("END:VCALENDAR\r\n");
        text.Replace("\r\n", string.Empty, StringComparison.Ordinal).ShouldNotContain('\n');
        text.ShouldContain("\r\nMETHOD:REQUEST\r\n");
        text.ShouldContain("\r\nVERSION:2.0\r\n");
        text.ShouldContain("\r\nPRODID:" + CalendarDocument.DefaultProductId + "\r\n");
        text.ShouldContain("\r\nDTSTART;TZID=America/New_York:20270315T090000\r\n");
        text.ShouldContain("\r\nDTSTAMP:20270301T120005Z\r\n");
        text.ShouldContain("\r\nSUMMARY:Intro call\\, with Ana\\; 30 min\r\n");
        text.ShouldContain("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n");
        text.ShouldContain("CN=\"Host, The\"");
        text.ShouldContain("CN=Ana ^'Nan^' Núñez");
    }

    [Fact]
    public void What_we_write_reads_back_to_the_same_event()
    {
        var booking = Booking();
        var document = new CalendarDocument { Method = ITipMethod.Request, Events = [booking] };

        var read = ICalendarReader.Parse(ICalendarWriter.Write(document));

        read.Method.ShouldBe(ITipMethod.Request);
        var evt = read.Events.ShouldHaveSingleItem();
        evt.ShouldBe(booking);
        evt.Start!.Value.Zone.ShouldBe(NewYork);
        evt.GetExtension("x-rendezvous-note").ShouldBe("a, b; c");
    }

    [Fact]
    public void Cancel_round_trips_with_status_cancelled_and_a_higher_sequence()
    {
        var cancelled = Booking() with { Status = EventStatus.Cancelled, Sequence = 4 };

        var read = ICalendarReader.Parse(ICalendarWriter.Write(new CalendarDocument { Method = ITipMethod.Cancel, Events = [cancelled] }));

        read.Method.ShouldBe(ITipMethod.Cancel);
        read.Events.ShouldHaveSingleItem().ShouldBe(cancelled);
    }

    [Fact]
    public void Publish_and_no_method_and_utc_times()
    {
        var utc = Booking() with
        {
            Start = CalendarDateTime.FromInstant(Instant.FromUtc(2027, 3, 15, 13, 0)),
            End = CalendarDateTime.FromInstant(Instant.FromUtc(2027, 3, 15, 13, 30)),
        };

        var published = ICalendarWriter.Write(new CalendarDocument { Method = ITipMethod.Publish, Events = [utc] });
        var plain = ICalendarWriter.Write(new CalendarDocument { Events = [utc] });

        published.ShouldContain("\r\nMETHOD:PUBLISH\r\n");
        plain.ShouldNotContain("METHOD");
        plain.ShouldNotContain("VTIMEZONE");
        plain.ShouldContain("\r\nDTSTART:20270315T130000Z\r\n");
        ICalendarReader.Parse(plain).Method.ShouldBeNull();
        ICalendarReader.Parse(plain).Events.ShouldHaveSingleItem().ShouldBe(utc);
    }

    [Fact]
    public void All_day_and_duration_round_trip()
    {
        var allDay = new CalendarEvent
        {
            Uid = "offsite",
            DtStamp = Instant.FromUtc(2027, 1, 1, 0, 0),
            Start = CalendarDateTime.FromDate(new LocalDate(2027, 10, 30)),
            Duration = CalendarDuration.FromDays(2),
            Transparency = EventTransparency.Transparent,
        };

        var text = ICalendarWriter.Write(new CalendarDocument { Events = [allDay] });

        text.ShouldContain("\r\nDTSTART;VALUE=DATE:20271030\r\n");
        text.ShouldContain("\r\nDURATION:P2D\r\n");
        ICalendarReader.Parse(text).Events.ShouldHaveSingleItem().ShouldBe(allDay);
    }

    [Fact]
    public void Long_lines_are_folded_at_75_octets_without_splitting_characters()
    {
        var summary = string.Concat(Enumerable.Repeat("Zürich 日本 😀 ", 30));
        var text = ICalendarWriter.Write(new CalendarDocument { Events = [Booking() with { Summary = summary }] });

        foreach (var line in text.Split("\r\n"))
        {
            Encoding.UTF8.GetByteCount(line).ShouldBeLessThanOrEqualTo(75);
        }

        FoldingAssertions.AssertFoldedCorrectly(Encoding.UTF8.GetBytes(text));
        ICalendarReader.Parse(text).Events.ShouldHaveSingleItem().Summary.ShouldBe(summary);
    }

    [Fact]
    public void Fold_breaks_before_a_character_that_would_cross_the_limit()
    {
        var line = "SUMMARY:" + new string('a', 66) + "é" + "tail";

        var folded = ICalendarWriter.Fold(line);

        // 8 + 66 = 74 octets, and "é" needs two: it moves to the continuation line.
        folded.ShouldBe("SUMMARY:" + new string('a', 66) + "\r\n é" + "tail");
    }

    [Fact]
    public void Event_with_both_dtend_and_duration_is_refused()
    {
        var invalid = Booking() with { Duration = CalendarDuration.FromDays(1) };

        Should.Throw<InvalidOperationException>(() => invalid.ToComponent());
    }

    [Fact]
    public void Raw_values_with_line_breaks_are_refused()
    {
        var component = new CalendarComponent("VCALENDAR").AddProperty(new CalendarProperty("X-RAW", "a\nb"));

        Should.Throw<ArgumentException>(() => ICalendarWriter.Write(component));
    }

    [Fact]
    public void Recurrence_properties_round_trip()
    {
        var recurring = Booking() with
        {
            RecurrenceRules = [RecurrenceRule.Parse("FREQ=MONTHLY;BYDAY=-1FR;BYSETPOS=1;COUNT=10;WKST=SU")],
            RecurrenceDates =
            [
                new RecurrenceDate(CalendarDateTime.InZone(new LocalDateTime(2027, 12, 24, 9, 0), NewYork)),
                new RecurrenceDate(CalendarDateTime.FromInstant(Instant.FromUtc(2028, 1, 2, 3, 4, 5)), Duration: CalendarDuration.FromExact(Duration.FromMinutes(90))),
            ],
            ExceptionDates = [CalendarDateTime.InZone(new LocalDateTime(2027, 4, 30, 9, 0), NewYork)],
        };
        var overrideEvent = Booking() with
        {
            RecurrenceId = CalendarDateTime.InZone(new LocalDateTime(2027, 5, 28, 9, 0), NewYork),
            Start = CalendarDateTime.InZone(new LocalDateTime(2027, 5, 28, 11, 0), NewYork),
            End = CalendarDateTime.InZone(new LocalDateTime(2027, 5, 28, 11, 30), NewYork),
        };

        var read = ICalendarReader.Parse(ICalendarWriter.Write(new CalendarDocument { Events = [recurring, overrideEvent] }));

        read.Events.Count.ShouldBe(2);
        read.Events[0].ShouldBe(recurring);
        read.Events[1].ShouldBe(overrideEvent);
    }
}

internal static class FoldingAssertions
{
    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    /// <summary>Every physical line is at most 75 octets and is valid UTF-8 on its own (no split characters).</summary>
    public static void AssertFoldedCorrectly(byte[] utf8)
    {
        var start = 0;
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] != '\n')
            {
                continue;
            }

            utf8[i - 1].ShouldBe((byte)'\r', "lines end in CRLF");
            var length = i - 1 - start;
            length.ShouldBeLessThanOrEqualTo(75);
            Should.NotThrow(() => Strict.GetString(utf8, start, length));
            start = i + 1;
        }

        start.ShouldBe(utf8.Length, "the text ends with CRLF");
    }
}

public class ITipValidatorTests
{
    [Fact]
    public void A_complete_booking_is_a_valid_request_publish_and_cancel()
    {
        var booking = WriterTests.Booking();

        ITipValidator.Validate(new CalendarDocument { Method = ITipMethod.Request, Events = [booking] }).ShouldBeEmpty();
        ITipValidator.Validate(new CalendarDocument { Method = ITipMethod.Publish, Events = [booking] }).ShouldBeEmpty();
        ITipValidator.Validate(new CalendarDocument { Method = ITipMethod.Cancel, Events = [booking with { Status = EventStatus.Cancelled }] }).ShouldBeEmpty();
        ITipValidator.Validate(new CalendarDocument { Events = [new CalendarEvent()] }).ShouldBeEmpty();
    }

    [Fact]
    public void Missing_properties_are_named()
    {
        var bare = new CalendarEvent { Uid = "u" };

        ITipValidator.Validate(new CalendarDocument { Method = ITipMethod.Request, Events = [bare] }).ShouldBe(
        [
            "REQUEST: event u has no DTSTAMP.",
            "REQUEST: event u has no ORGANIZER.",
            "REQUEST: event u has no DTSTART.",
            "REQUEST: event u has no SUMMARY.",
            "REQUEST: event u has no ATTENDEE.",
        ]);
        ITipValidator.Validate(new CalendarDocument { Method = ITipMethod.Cancel, Events = [WriterTests.Booking()] })
            .ShouldBe([$"CANCEL: event {WriterTests.Booking().Uid} cancels the whole event, so its STATUS must be CANCELLED."]);
        ITipValidator.Validate(new CalendarDocument { Method = ITipMethod.Reply, Events = [WriterTests.Booking()] }).ShouldHaveSingleItem();
        ITipValidator.Validate(new CalendarDocument { Method = ITipMethod.Publish }).ShouldBe(["PUBLISH: the message has no VEVENT."]);
    }

    [Fact]
    public void Unknown_methods_are_kept_as_written()
    {
        var document = ICalendarReader.Parse("BEGIN:VCALENDAR\r\nMETHOD:x-custom\r\nEND:VCALENDAR\r\n");

        document.Method.ShouldBe(new ITipMethod("X-CUSTOM"));
        ICalendarWriter.Write(document).ShouldContain("\r\nMETHOD:X-CUSTOM\r\n");
    }
}

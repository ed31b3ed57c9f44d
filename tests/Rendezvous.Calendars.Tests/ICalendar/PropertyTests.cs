using System.Text;
using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

/// <summary>Property tests run through FsCheck's runner from plain xunit facts (FsCheck.Xunit is not available).</summary>
public class PropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300).WithQuietOnSuccess(true);

    private static readonly string[] TextPieces =
    [
        "a", "B", "z", "0", "9", " ", "  ", ",", ";", ":", "\\", "\\n", "\n", "\t", "\"", "^", "^n", "'", "=", "/",
        "é", "ß", "Ж", "日本", "😀", "👩‍💻", "mailto:", "BEGIN:VEVENT", "END:VCALENDAR", "long text that goes on ",
    ];

    private static readonly string[] ZoneIds =
    [
        "America/New_York", "Europe/London", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Apia", "UTC",
        "America/Sao_Paulo", "Asia/Tokyo", "America/St_Johns",
    ];

    private static readonly string[] Rules =
    [
        "FREQ=DAILY;COUNT=5", "FREQ=WEEKLY;BYDAY=MO,WE,FR;WKST=SU", "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;UNTIL=20300101T000000Z", "FREQ=MONTHLY;BYMONTHDAY=1,-1;BYSETPOS=1",
    ];

    private static Gen<string> Text =>
        Gen.Elements(TextPieces).ListOf().Select(pieces => string.Concat(pieces));

    private static Gen<LocalDateTime> LocalTimes =>
        from day in Gen.Choose(0, 365 * 150)
        from second in Gen.Choose(0, 86_399)
        select new LocalDate(1950, 1, 1).PlusDays(day).AtMidnight().PlusSeconds(second);

    private static Gen<CalendarDateTime> DateTimes =>
        from kind in Gen.Choose(0, 3)
        from local in LocalTimes
        from zone in Gen.Elements(ZoneIds)
        select kind switch
        {
            0 => CalendarDateTime.FromDate(local.Date),
            1 => CalendarDateTime.Floating(local),
            2 => CalendarDateTime.FromInstant(local.InUtc().ToInstant()),
            _ => CalendarDateTime.InZone(local, DateTimeZoneProviders.Tzdb[zone]),
        };

    private static Gen<T?> Maybe<T>(Gen<T> gen)
        where T : class =>
        Gen.Frequency((1, Gen.Constant<T?>(null)), (3, gen.Select(v => (T?)v)));

    private static Gen<T?> MaybeValue<T>(Gen<T> gen)
        where T : struct =>
        Gen.Frequency((1, Gen.Constant<T?>(null)), (3, gen.Select(v => (T?)v)));

    private static Gen<CalendarAttendee> Attendees =>
        from user in Gen.Choose(1, 999)
        from name in Maybe(Text)
        from status in Gen.Elements(ParticipationStatus.Accepted, ParticipationStatus.Declined, ParticipationStatus.NeedsAction, ParticipationStatus.Tentative, new ParticipationStatus("X-MAYBE"))
        from role in Gen.Elements(ParticipationRole.Chair, ParticipationRole.Required, ParticipationRole.Optional, ParticipationRole.NonParticipant)
        from type in Gen.Elements(CalendarUserType.Individual, CalendarUserType.Room, CalendarUserType.Resource, CalendarUserType.Group)
        from rsvp in Gen.Elements(true, false)
        select new CalendarAttendee($"mailto:user{user}@example.org") { CommonName = name, Status = status, Role = role, UserType = type, Rsvp = rsvp };

    private static Gen<CalendarDuration> Durations =>
        Gen.OneOf(
            Gen.Choose(0, 10).Select(CalendarDuration.FromWeeks),
            from days in Gen.Choose(0, 30)
            from hours in Gen.Choose(0, 23)
            from minutes in Gen.Choose(0, 59)
            from seconds in Gen.Choose(0, 59)
            select new CalendarDuration(false, 0, days, hours, minutes, seconds));

    private static Gen<CalendarEvent> Events =>
        from uid in Text
        from sequence in Gen.Choose(0, 1000)
        from stampSeconds in MaybeValue(Gen.Choose(0, int.MaxValue))
        from start in DateTimes
        from endKind in Gen.Choose(0, 2)
        from end in DateTimes
        from duration in Durations
        from summary in Maybe(Text)
        from description in Maybe(Text)
        from location in Maybe(Text)
        from status in MaybeValue(Gen.Elements(EventStatus.Tentative, EventStatus.Confirmed, EventStatus.Cancelled))
        from transparency in MaybeValue(Gen.Elements(EventTransparency.Opaque, EventTransparency.Transparent))
        from organizerName in Maybe(Text)
        from hasOrganizer in Gen.Elements(true, false)
        from attendees in Attendees.ListOf(4)
        from rule in Maybe(Gen.Elements(Rules))
        from exdates in DateTimes.ListOf(2)
        from extensionValues in Text.ListOf(3)
        select new CalendarEvent
        {
            Uid = uid,
            Sequence = sequence,
            DtStamp = stampSeconds is { } s ? Instant.FromUnixTimeSeconds(s) : null,
            Start = start,
            End = endKind == 1 ? end : null,
            Duration = endKind == 2 ? duration : null,
            Summary = summary,
            Description = description,
            Location = location,
            Status = status,
            Transparency = transparency,
            Organizer = hasOrganizer ? new CalendarOrganizer("mailto:host@example.com") { CommonName = organizerName } : null,
            Attendees = [.. attendees],
            RecurrenceRules = rule is null ? [] : [RecurrenceRule.Parse(rule)],
            ExceptionDates = [.. exdates],
            Extensions = [.. extensionValues.Select((v, i) => new CalendarExtensionProperty($"X-RENDEZVOUS-{(char)('A' + i)}", v))],
        };

    [Fact]
    public void Random_events_survive_write_then_read_and_every_line_is_folded_correctly()
    {
        var methods = Gen.Elements<ITipMethod?>(null, ITipMethod.Request, ITipMethod.Cancel, ITipMethod.Publish);
        var documents =
            from events in Events.NonEmptyListOf().Select(l => l.Take(3).ToList())
            from method in methods
            select new CalendarDocument { Method = method, Events = events };

        Prop.ForAll(documents.ToArbitrary(), document =>
        {
            var text = ICalendarWriter.Write(document);
            FoldingAssertions.AssertFoldedCorrectly(Encoding.UTF8.GetBytes(text));
            var read = ICalendarReader.Parse(text);
            read.Method.ShouldBe(document.Method);
            read.Events.Count.ShouldBe(document.Events.Count);
            for (var i = 0; i < document.Events.Count; i++)
            {
                read.Events[i].ShouldBe(document.Events[i]);
            }
        }).Check(Runs);
    }

    [Fact]
    public void Folding_never_exceeds_75_octets_never_splits_a_character_and_unfolds_to_the_original()
    {
        var lines = Text.Select(t => "X-A:" + t.Replace("\n", "\\n", StringComparison.Ordinal));

        Prop.ForAll(lines.ToArbitrary(), line =>
        {
            var folded = ICalendarWriter.Fold(line);
            FoldingAssertions.AssertFoldedCorrectly(Encoding.UTF8.GetBytes(folded + "\r\n"));
            var unfolded = ICalendarReader.Unfold(Encoding.UTF8.GetBytes(folded)).ShouldHaveSingleItem();
            unfolded.Line.ShouldBe(line);
        }).Check(Runs);
    }

    [Fact]
    public void Expanding_a_window_far_from_dtstart_matches_walking_from_dtstart()
    {
        var zone = DateTimeZoneProviders.Tzdb["Europe/London"];
        var rules =
            from frequency in Gen.Elements("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
            from interval in Gen.Choose(1, 3)
            from days in Gen.SubListOf(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])
            from ordinal in Gen.Elements("", "", "1", "2", "-1")
            from monthDays in Gen.SubListOf(["1", "15", "31", "-1"])
            from months in Gen.SubListOf(["1", "3", "6", "10", "12"])
            from setPos in Gen.Elements("", "", "1", "-1", "2")
            from weekStart in Gen.Elements("MO", "SU")
            select BuildRule(frequency, interval, days, ordinal, monthDays, months, setPos, weekStart);
        var cases =
            from rule in rules
            from startDay in Gen.Choose(0, 3650)
            from hour in Gen.Choose(0, 23)
            from windowAfter in Gen.Choose(400, 2000)
            select (rule, Start: new LocalDate(1995, 1, 1).PlusDays(startDay).At(new LocalTime(hour, 30)), From: Instant.FromUtc(1995, 1, 1, 0, 0) + Duration.FromDays(startDay + windowAfter));
        var options = new RecurrenceExpansionOptions { MaxOccurrences = 200_000, MaxIterations = 1_000_000 };

        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var evt = new CalendarEvent
            {
                Start = CalendarDateTime.InZone(c.Start, zone),
                Duration = CalendarDuration.FromExact(Duration.FromHours(2)),
                RecurrenceRules = [RecurrenceRule.Parse(c.rule)],
            };
            var to = c.From + Duration.FromDays(90);
            var windowed = RecurrenceExpander.Expand(evt, c.From, to, zone, options).Occurrences.Select(o => o.Start).ToList();
            var walked = RecurrenceExpander.Expand(evt, evt.Start.Value.ToInstant(zone), to, zone, options).Occurrences
                .Where(o => o.End > c.From).Select(o => o.Start).ToList();
            windowed.ShouldBe(walked, c.rule);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150).WithQuietOnSuccess(true));
    }

    private static string BuildRule(string frequency, int interval, IList<string> days, string ordinal, IList<string> monthDays, IList<string> months, string setPos, string weekStart)
    {
        var parts = new List<string> { "FREQ=" + frequency, "INTERVAL=" + interval, "WKST=" + weekStart };
        if (days.Count > 0)
        {
            var prefix = frequency is "MONTHLY" or "YEARLY" ? ordinal : string.Empty;
            parts.Add("BYDAY=" + string.Join(',', days.Select(d => prefix + d)));
        }

        if (monthDays.Count > 0 && frequency != "WEEKLY")
        {
            parts.Add("BYMONTHDAY=" + string.Join(',', monthDays));
        }

        if (months.Count > 0)
        {
            parts.Add("BYMONTH=" + string.Join(',', months));
        }

        if (setPos.Length > 0)
        {
            parts.Add("BYSETPOS=" + setPos);
        }

        return string.Join(';', parts);
    }
}

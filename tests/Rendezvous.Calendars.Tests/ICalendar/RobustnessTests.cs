using System.Text;
using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Tests.ICalendar;

/// <summary>Mangled input may be rejected, but only with <see cref="ICalendarParseException"/>: never a crash.</summary>
public class RobustnessTests
{
    private const string Seed =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:seed\r\nMETHOD:REQUEST\r\n" +
        "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n" +
        "BEGIN:DAYLIGHT\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n" +
        "BEGIN:VEVENT\r\nUID:1\r\nSEQUENCE:2\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;TZID=Custom:20270301T090000\r\nDURATION:PT1H\r\n" +
        "RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1;UNTIL=20290101T000000Z\r\nRDATE;VALUE=PERIOD:20270405T100000Z/PT2H\r\nEXDATE;TZID=Custom:20270329T090000\r\n" +
        "ATTENDEE;CN=\"A, B\";PARTSTAT=ACCEPTED:mailto:a@b\r\nSUMMARY:Hello\\, world\r\nEND:VEVENT\r\n" +
        "BEGIN:VEVENT\r\nUID:1\r\nRECURRENCE-ID;TZID=Custom:20270426T090000\r\nDTSTART;VALUE=DATE:20270427\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    private static readonly string[] Insertions =
    [
        ":", ";", ",", "\"", "\r\n", "\n", " ", "\t", "=", "Z", "T", "0", "9", "-", "/", "P", "W", "\\",
        "BEGIN:VEVENT\r\n", "END:VEVENT\r\n", "BEGIN:VCALENDAR\r\n", "END:VCALENDAR\r\n", "DTSTART:", "RRULE:FREQ=SECONDLY;",
        "TZID=", "VALUE=DATE", "VALUE=PERIOD", "COUNT=", "BYSETPOS=", "99991231", "00000101", "T235960", "+9999", "\r\n \r\n",
        "BYDAY=-53MO,53SU;", "INTERVAL=1000000;", "BYWEEKNO=53;", "BYYEARDAY=-366;",
    ];

    [Fact]
    public void Mutated_calendars_either_parse_and_expand_or_fail_with_a_parse_exception()
    {
        var seeds = new List<string> { Seed };
        if (Corpus.Directory is not null)
        {
            seeds.AddRange(Corpus.AllFiles().Select(Corpus.Read));
        }

        var mutations =
            from seed in Gen.Elements(seeds.ToArray())
            from edits in Gen.ListOf(Edit(), 4)
            select edits.Aggregate(seed, (text, edit) => edit(text));

        Prop.ForAll(mutations.ToArbitrary(), text =>
        {
            try
            {
                foreach (var document in ICalendarReader.ParseAll(text))
                {
                    _ = BusyTime.Compute(document, Instant.FromUtc(2000, 1, 1, 0, 0), Instant.FromUtc(2040, 1, 1, 0, 0), DateTimeZone.Utc);
                    _ = ICalendarWriter.Write(document);
                }
            }
            catch (ICalendarParseException)
            {
                // Expected for broken input.
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(400).WithQuietOnSuccess(true));
    }

    [Fact]
    public void Random_bytes_never_crash_the_reader()
    {
        var bytes = Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf();

        Prop.ForAll(bytes.ToArbitrary(), data =>
        {
            byte[] framed = [.. "BEGIN:VCALENDAR\r\n"u8, .. data, .. "\r\nEND:VCALENDAR\r\n"u8];
            try
            {
                _ = ICalendarReader.ParseAll(framed);
            }
            catch (ICalendarParseException)
            {
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300).WithQuietOnSuccess(true));
    }

    [Theory]
    [InlineData("BEGIN:VEVENT\nUID:1\nDTSTART:2027XX01T000000Z\nEND:VEVENT\n", 4, ICalendarErrorKind.InvalidValue)]
    [InlineData("BEGIN:VEVENT\nUID:1\nDTSTART:20270230T000000Z\nEND:VEVENT\n", 4, ICalendarErrorKind.InvalidValue)]
    [InlineData("BEGIN:VEVENT\nUID:1\nDTSTART:20270101T250000Z\nEND:VEVENT\n", 4, ICalendarErrorKind.InvalidValue)]
    [InlineData("BEGIN:VEVENT\nUID:1\nDTSTART:20270101T000000Z\nDURATION:1H\nEND:VEVENT\n", 5, ICalendarErrorKind.InvalidValue)]
    [InlineData("BEGIN:VEVENT\nUID:1\nSEQUENCE:-1\nEND:VEVENT\n", 4, ICalendarErrorKind.InvalidValue)]
    [InlineData("BEGIN:VEVENT\nUID:1\nSEQUENCE:99999999999\nEND:VEVENT\n", 4, ICalendarErrorKind.InvalidValue)]
    [InlineData("BEGIN:VEVENT\nUID:1\nRRULE:FREQ=DAILY;BYHOUR=24\nEND:VEVENT\n", 4, ICalendarErrorKind.InvalidRecurrenceRule)]
    [InlineData("BEGIN:VEVENT\nUID:1\nEXDATE:20270101T000000Z,nonsense\nEND:VEVENT\n", 4, ICalendarErrorKind.InvalidValue)]
    [InlineData("BEGIN:VEVENT\nUID:1\nRDATE;VALUE=PERIOD:20270101T000000Z/soon\nEND:VEVENT\n", 4, ICalendarErrorKind.InvalidValue)]
    [InlineData("BEGIN:VEVENT\nUID:1\nDTSTAMP:yesterday\nEND:VEVENT\n", 4, ICalendarErrorKind.InvalidValue)]
    public void Malformed_typed_values_name_the_line(string vevent, int line, ICalendarErrorKind kind)
    {
        var error = Should.Throw<ICalendarParseException>(() => ICalendarReader.Parse("BEGIN:VCALENDAR\n" + vevent + "END:VCALENDAR\n"));

        error.LineNumber.ShouldBe(line);
        error.Kind.ShouldBe(kind);
    }

    [Fact]
    public void Extreme_but_valid_dates_do_not_overflow()
    {
        var document = ICalendarReader.Parse(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nDTSTART;TZID=Pacific/Kiritimati:99991231T230000\nDURATION:P100000000W\nRRULE:FREQ=DAILY\nEND:VEVENT\n" +
            "BEGIN:VEVENT\nUID:2\nDTSTART;TZID=Pacific/Pago_Pago:00000101T000000\nDTEND:99991231T235959Z\nRRULE:FREQ=YEARLY;UNTIL=99991231\nEND:VEVENT\nEND:VCALENDAR\n");

        var busy = BusyTime.Compute(document, Instant.MinValue, Instant.MaxValue, DateTimeZone.Utc);

        busy.Occurrences.ShouldNotBeEmpty();
    }

    private static Gen<Func<string, string>> Edit() =>
        Gen.OneOf(
            from position in Gen.Choose(0, 10_000)
            from insertion in Gen.Elements(Insertions)
            select (Func<string, string>)(text => text.Insert(position % (text.Length + 1), insertion)),
            from position in Gen.Choose(0, 10_000)
            from length in Gen.Choose(1, 20)
            select (Func<string, string>)(text =>
            {
                if (text.Length == 0)
                {
                    return text;
                }

                var start = position % text.Length;
                return text.Remove(start, Math.Min(length, text.Length - start));
            }),
            from position in Gen.Choose(0, 10_000)
            select (Func<string, string>)(text => text[..(position % (text.Length + 1))]),
            from a in Gen.Choose(0, 10_000)
            from b in Gen.Choose(0, 10_000)
            select (Func<string, string>)(text =>
            {
                var lines = text.Split('\n');
                var source = a % lines.Length;
                var target = b % lines.Length;
                var copy = lines.ToList();
                copy.Insert(target, lines[source]);
                return string.Join('\n', copy);
            }));
}

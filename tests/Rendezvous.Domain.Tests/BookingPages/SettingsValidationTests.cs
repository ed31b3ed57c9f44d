using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Tests.Support;

namespace Rendezvous.Domain.Tests.BookingPages;

public class SettingsValidationTests
{
    private static readonly BookingPageSettings Valid = new()
    {
        Duration = Duration.FromMinutes(30),
        TimeZone = Zones.Berlin,
        WeeklyHours =
        [
            new WeeklyHours(IsoDayOfWeek.Monday, new TimeOfDayRange(9 * 60, 12 * 60)),
            new WeeklyHours(IsoDayOfWeek.Monday, new TimeOfDayRange(13 * 60, 17 * 60)),
        ],
        DateOverrides = [new DateOverride(new LocalDate(2027, 6, 7), [])],
    };

    private static BookingPageSettings Group(int seats) => Valid with { SchedulingOption = SchedulingOption.GroupSession, SeatsPerSlot = seats };

    private static BookingPageSettings Panel(params UserId[] members) => Valid with { SchedulingOption = SchedulingOption.Panel, PanelMemberIds = members };

    public static TheoryData<string, BookingPageSettings, string> OneBadField()
    {
        var same = UserId.New();
        return new TheoryData<string, BookingPageSettings, string>
        {
            { "duration too short", Valid with { Duration = Duration.FromMinutes(4) }, "durationMinutes" },
            { "duration over a day", Valid with { Duration = Duration.FromMinutes(1441) }, "durationMinutes" },
            { "slot interval too short", Valid with { SlotInterval = Duration.FromMinutes(1) }, "slotIntervalMinutes" },
            { "slot interval over a day", Valid with { SlotInterval = Duration.FromDays(2) }, "slotIntervalMinutes" },
            { "negative buffer before", Valid with { BufferBefore = Duration.FromMinutes(-5) }, "bufferBeforeMinutes" },
            { "buffer before over a day", Valid with { BufferBefore = Duration.FromHours(25) }, "bufferBeforeMinutes" },
            { "negative buffer after", Valid with { BufferAfter = Duration.FromMinutes(-1) }, "bufferAfterMinutes" },
            { "buffer after over a day", Valid with { BufferAfter = Duration.FromHours(25) }, "bufferAfterMinutes" },
            { "negative notice", Valid with { MinimumNotice = Duration.FromMinutes(-1) }, "minimumNoticeMinutes" },
            { "notice over a year", Valid with { MinimumNotice = Duration.FromDays(366) }, "minimumNoticeMinutes" },
            { "empty window", Valid with { BookingWindowDays = 0 }, "bookingWindowDays" },
            { "window over two years", Valid with { BookingWindowDays = 731 }, "bookingWindowDays" },
            { "zero per day", Valid with { MaxBookingsPerDay = 0 }, "maxBookingsPerDay" },
            { "zero per week", Valid with { MaxBookingsPerWeek = 0 }, "maxBookingsPerWeek" },
            { "group of one", Group(1), "seatsPerSlot" },
            { "group too large", Group(1001), "seatsPerSlot" },
            { "seats on a one-on-one page", Valid with { SeatsPerSlot = 3 }, "seatsPerSlot" },
            { "package of none", Valid with { SchedulingOption = SchedulingOption.SessionPackage, SessionCount = 0 }, "sessionCount" },
            { "package too long", Valid with { SchedulingOption = SchedulingOption.SessionPackage, SessionCount = 21 }, "sessionCount" },
            { "sessions on a one-on-one page", Valid with { SessionCount = 2 }, "sessionCount" },
            { "panel without members", Panel(), "panelMemberIds" },
            { "panel too large", Panel([.. Enumerable.Range(0, 51).Select(_ => UserId.New())]), "panelMemberIds" },
            { "panel member twice", Panel(same, same), "panelMemberIds" },
            { "members on a one-on-one page", Valid with { PanelMemberIds = [UserId.New()] }, "panelMemberIds" },
            {
                "overlapping weekly hours",
                Valid with
                {
                    WeeklyHours =
                    [
                        new WeeklyHours(IsoDayOfWeek.Tuesday, new TimeOfDayRange(9 * 60, 12 * 60)),
                        new WeeklyHours(IsoDayOfWeek.Tuesday, new TimeOfDayRange(11 * 60, 13 * 60)),
                    ],
                },
                "weeklyHours"
            },
            {
                "empty weekly range",
                Valid with { WeeklyHours = [new WeeklyHours(IsoDayOfWeek.Tuesday, default)] },
                "weeklyHours"
            },
            {
                "weekly range without a day",
                Valid with { WeeklyHours = [new WeeklyHours(IsoDayOfWeek.None, new TimeOfDayRange(540, 600))] },
                "weeklyHours"
            },
            {
                "date overridden twice",
                Valid with
                {
                    DateOverrides = [new DateOverride(new LocalDate(2027, 6, 8), []), new DateOverride(new LocalDate(2027, 6, 8), [])],
                },
                "dateOverrides"
            },
            {
                "overlapping override hours",
                Valid with
                {
                    DateOverrides =
                    [
                        new DateOverride(new LocalDate(2027, 6, 8), [new TimeOfDayRange(600, 700), new TimeOfDayRange(650, 800)]),
                    ],
                },
                "dateOverrides"
            },
            {
                "empty override range",
                Valid with { DateOverrides = [new DateOverride(new LocalDate(2027, 6, 8), [default])] },
                "dateOverrides"
            },
            { "negative cancellation notice", Valid with { CancellationPolicy = ChangePolicy.UpTo(Duration.FromMinutes(-1)) }, "cancellationPolicy" },
            { "negative reschedule notice", Valid with { ReschedulePolicy = ChangePolicy.UpTo(Duration.FromMinutes(-1)) }, "reschedulePolicy" },
        };
    }

    [Fact]
    public void Reasonable_settings_are_valid()
    {
        Valid.Validate().ShouldBeEmpty();
        Group(2).Validate().ShouldBeEmpty();
        Panel(UserId.New()).Validate().ShouldBeEmpty();
        (Valid with { SchedulingOption = SchedulingOption.SessionPackage, SessionCount = 20 }).Validate().ShouldBeEmpty();
        (Valid with
        {
            Duration = Duration.FromMinutes(5),
            SlotInterval = Duration.FromHours(24),
            BufferBefore = Duration.FromHours(24),
            BookingWindowDays = 730,
            MinimumNotice = Duration.FromDays(365),
            MaxBookingsPerDay = 1,
            MaxBookingsPerWeek = 1,
            CancellationPolicy = ChangePolicy.UpTo(Duration.Zero),
        }).Validate().ShouldBeEmpty();
    }

    [Fact]
    public void Touching_ranges_do_not_overlap()
    {
        (Valid with
        {
            WeeklyHours =
            [
                new WeeklyHours(IsoDayOfWeek.Friday, new TimeOfDayRange(13 * 60, 24 * 60)),
                new WeeklyHours(IsoDayOfWeek.Friday, new TimeOfDayRange(0, 13 * 60)),
            ],
        }).Validate().ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(OneBadField))]
    public void Each_invalid_field_is_named_by_its_api_name(string because, BookingPageSettings settings, string field)
    {
        var errors = settings.Validate();

        errors.Select(e => e.Field).ShouldBe([field], because);
        errors[0].Message.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Several_invalid_fields_are_all_named()
    {
        var settings = Valid with
        {
            Duration = Duration.FromMinutes(1),
            BufferAfter = Duration.FromMinutes(-3),
            BookingWindowDays = 0,
            SeatsPerSlot = 4,
        };

        settings.Validate().Select(e => e.Field).ShouldBe(["durationMinutes", "bufferAfterMinutes", "bookingWindowDays", "seatsPerSlot"], ignoreOrder: true);
    }

    [Fact]
    public void Validation_errors_become_one_problem_naming_every_field()
    {
        var errors = (Valid with { Duration = Duration.FromMinutes(1), BookingWindowDays = 0 }).Validate();

        var problem = DomainError.Validation(errors);

        problem.Kind.ShouldBe(ErrorKind.Validation);
        problem.Field.ShouldBe("durationMinutes");
        problem.Fields.Select(f => f.Field).ShouldBe(["durationMinutes", "bookingWindowDays"]);
    }

    [Theory]
    [InlineData(-1, 60)]
    [InlineData(60, 60)]
    [InlineData(120, 60)]
    [InlineData(0, 1441)]
    public void Time_of_day_range_refuses_a_backwards_empty_or_overlong_range(int start, int end)
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new TimeOfDayRange(start, end));
    }

    [Theory]
    [InlineData("00:00", 0)]
    [InlineData("09:30", 570)]
    [InlineData("23:59", 1439)]
    [InlineData("24:00", 1440)]
    public void Times_parse_as_minutes_from_midnight(string text, int minutes)
    {
        TimeOfDayRange.TryParseTime(text, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(minutes);
        TimeOfDayRange.FormatTime(minutes).ShouldBe(text);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("9:30")]
    [InlineData("24:01")]
    [InlineData("25:00")]
    [InlineData("12:60")]
    [InlineData("12-30")]
    [InlineData("+1:30")]
    [InlineData("１２:３０")]
    public void Malformed_times_do_not_parse(string? text)
    {
        TimeOfDayRange.TryParseTime(text, out _).ShouldBeFalse();
    }
}

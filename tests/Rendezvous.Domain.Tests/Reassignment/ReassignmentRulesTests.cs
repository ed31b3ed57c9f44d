using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Calendars;
using Rendezvous.Domain.Conferencing;
using Rendezvous.Domain.Reassignment;
using Codes = Rendezvous.Domain.Reassignment.ReassignmentRuleCodes;

namespace Rendezvous.Domain.Tests.Reassignment;

/// <summary>
/// Seed 001, rule for rule, as tables: each row is one booking (or target page) and the exact rules it fails. A row with no
/// codes may be reassigned. Every status, scheduling option, package session, calendar provider and role appears.
/// </summary>
public class ReassignmentRulesTests
{
    private static ReassignmentSubject Eligible() =>
        new(BookingStatus.Scheduled, SchedulingOption.OneOnOne, IsGroupSession: false, IsPackageSession: false, PageCalendar: null, ActorIsAdministrator: true);

    public static TheoryData<string, ReassignmentSubject, string[]> Bookings() => new()
    {
        // The user must be an administrator.
        { "administrator, scheduled one-on-one, no calendar", Eligible(), [] },
        { "member", Eligible() with { ActorIsAdministrator = false }, [Codes.AdministratorRequired] },

        // The scheduling status is not No-show, Canceled, Completed or Requested.
        { "scheduled", Eligible() with { Status = BookingStatus.Scheduled }, [] },
        { "rescheduled", Eligible() with { Status = BookingStatus.Rescheduled }, [] },
        { "requested", Eligible() with { Status = BookingStatus.Requested }, [Codes.StatusNotReassignable] },
        { "completed", Eligible() with { Status = BookingStatus.Completed }, [Codes.StatusNotReassignable] },
        { "canceled", Eligible() with { Status = BookingStatus.Canceled }, [Codes.StatusNotReassignable] },
        { "no-show", Eligible() with { Status = BookingStatus.NoShow }, [Codes.StatusNotReassignable] },
        // Not yet paid: like a request, not a booking yet.
        { "awaiting payment", Eligible() with { Status = BookingStatus.AwaitingPayment }, [Codes.StatusNotReassignable] },

        // One-on-one meetings only; never a group session, a session package or a session of one.
        { "one-on-one", Eligible() with { PageOption = SchedulingOption.OneOnOne }, [] },
        { "group session", Eligible() with { PageOption = SchedulingOption.GroupSession, IsGroupSession = true }, [Codes.GroupSession] },
        { "seat of a group session on a page since changed", Eligible() with { IsGroupSession = true }, [Codes.GroupSession] },
        { "session package page", Eligible() with { PageOption = SchedulingOption.SessionPackage }, [Codes.SessionPackage] },
        { "single session of a package", Eligible() with { PageOption = SchedulingOption.SessionPackage, IsPackageSession = true }, [Codes.SessionPackage] },
        { "session of a package on a page since changed", Eligible() with { IsPackageSession = true }, [Codes.SessionPackage] },
        { "panel", Eligible() with { PageOption = SchedulingOption.Panel }, [Codes.NotOneOnOne] },
        // A round-robin booking holds one member, like a one-on-one meeting; a collective one holds the whole team, like a panel.
        { "round-robin", Eligible() with { PageOption = SchedulingOption.RoundRobin }, [] },
        { "collective", Eligible() with { PageOption = SchedulingOption.Collective }, [Codes.NotOneOnOne] },

        // The page is connected to no calendar or to Google Calendar; never Outlook, Office 365, Exchange or iCloud.
        { "no calendar", Eligible() with { PageCalendar = null }, [] },
        { "Google Calendar", Eligible() with { PageCalendar = CalendarProvider.Google }, [] },
        { "Outlook", Eligible() with { PageCalendar = CalendarProvider.Outlook }, [Codes.CalendarNotSupported] },
        { "Office 365", Eligible() with { PageCalendar = CalendarProvider.Office365 }, [Codes.CalendarNotSupported] },
        { "Exchange", Eligible() with { PageCalendar = CalendarProvider.Exchange }, [Codes.CalendarNotSupported] },
        { "iCloud", Eligible() with { PageCalendar = CalendarProvider.ICloud }, [Codes.CalendarNotSupported] },
        // The document allows only "none" or Google, so a generic CalDAV calendar is not eligible either.
        { "generic CalDAV", Eligible() with { PageCalendar = CalendarProvider.CalDav }, [Codes.CalendarNotSupported] },

        // Every failing rule is named, in the order of the document.
        {
            "member, canceled group session on iCloud",
            new(BookingStatus.Canceled, SchedulingOption.GroupSession, true, false, CalendarProvider.ICloud, false),
            [Codes.AdministratorRequired, Codes.StatusNotReassignable, Codes.GroupSession, Codes.CalendarNotSupported]
        },
        {
            "requested package session on Exchange",
            new(BookingStatus.Requested, SchedulingOption.SessionPackage, false, true, CalendarProvider.Exchange, true),
            [Codes.StatusNotReassignable, Codes.SessionPackage, Codes.CalendarNotSupported]
        },
    };

    [Theory]
    [MemberData(nameof(Bookings))]
    public void Booking_rules_follow_seed_001(string row, ReassignmentSubject subject, string[] expected)
    {
        var refusals = ReassignmentRules.CheckBooking(subject);
        refusals.Select(r => r.Code).ShouldBe(expected, row);
        refusals.ShouldAllBe(r => r.Message.Length > 10 && r.Message.EndsWith('.'));
    }

    [Fact]
    public void Every_status_scheduling_option_provider_and_role_appears_in_the_table()
    {
        var rows = Bookings().Select(r => (ReassignmentSubject)r[1]).ToList();
        Enum.GetValues<BookingStatus>().ShouldAllBe(s => rows.Any(r => r.Status == s));
        Enum.GetValues<SchedulingOption>().ShouldAllBe(o => rows.Any(r => r.PageOption == o));
        Enum.GetValues<CalendarProvider>().ShouldAllBe(p => rows.Any(r => r.PageCalendar == p));
        rows.ShouldContain(r => r.PageCalendar == null);
        rows.ShouldContain(r => r.IsPackageSession);
        rows.ShouldContain(r => r.ActorIsAdministrator);
        rows.ShouldContain(r => !r.ActorIsAdministrator);
    }

    [Theory]
    [InlineData(CalendarProvider.Outlook, "Outlook")]
    [InlineData(CalendarProvider.Office365, "Office 365")]
    [InlineData(CalendarProvider.Exchange, "Exchange")]
    [InlineData(CalendarProvider.ICloud, "iCloud Calendar")]
    [InlineData(CalendarProvider.CalDav, "a CalDAV calendar")]
    public void A_calendar_refusal_names_the_provider(CalendarProvider provider, string name)
    {
        var refusal = ReassignmentRules.CheckBooking(Eligible() with { PageCalendar = provider }).ShouldHaveSingleItem();
        refusal.Message.ShouldStartWith($"The booking page is connected to {name};");
        refusal.Message.ShouldContain("no calendar or to Google Calendar");
    }

    [Theory]
    [InlineData(BookingStatus.Requested, "Requested")]
    [InlineData(BookingStatus.Completed, "Completed")]
    [InlineData(BookingStatus.Canceled, "Canceled")]
    [InlineData(BookingStatus.NoShow, "No-show")]
    [InlineData(BookingStatus.AwaitingPayment, "Awaiting payment")]
    public void A_status_refusal_names_the_status(BookingStatus status, string name) =>
        ReassignmentRules.CheckBooking(Eligible() with { Status = status }).ShouldHaveSingleItem().Message
            .ShouldBe($"A booking that is {name} cannot be reassigned; only Scheduled and Rescheduled bookings can.");

    private static ReassignmentTarget Target() => new(SchedulingOption.OneOnOne, null, CanAcceptBookings: true, IsCurrentPage: false);

    public static TheoryData<string, ReassignmentTarget, string[]> Targets() => new()
    {
        { "one-on-one, no calendar", Target(), [] },
        { "one-on-one, Google Calendar", Target() with { Calendar = CalendarProvider.Google }, [] },
        { "group session", Target() with { Option = SchedulingOption.GroupSession }, [Codes.TargetNotOneOnOne] },
        { "session package", Target() with { Option = SchedulingOption.SessionPackage }, [Codes.TargetNotOneOnOne] },
        { "panel", Target() with { Option = SchedulingOption.Panel }, [Codes.TargetNotOneOnOne] },
        { "Outlook", Target() with { Calendar = CalendarProvider.Outlook }, [Codes.TargetCalendarNotSupported] },
        { "Office 365", Target() with { Calendar = CalendarProvider.Office365 }, [Codes.TargetCalendarNotSupported] },
        { "Exchange", Target() with { Calendar = CalendarProvider.Exchange }, [Codes.TargetCalendarNotSupported] },
        { "iCloud", Target() with { Calendar = CalendarProvider.ICloud }, [Codes.TargetCalendarNotSupported] },
        { "generic CalDAV", Target() with { Calendar = CalendarProvider.CalDav }, [Codes.TargetCalendarNotSupported] },
        { "cannot accept bookings (system error)", Target() with { CanAcceptBookings = false }, [Codes.TargetUnavailable] },
        { "the booking's own page", Target() with { IsCurrentPage = true }, [Codes.TargetIsCurrentPage] },
        { "a paid page without a payment connection", Target() with { CanTakePayments = false }, [Codes.TargetPaymentsUnavailable] },
        {
            "panel on Exchange in error",
            new(SchedulingOption.Panel, CalendarProvider.Exchange, false, false),
            [Codes.TargetNotOneOnOne, Codes.TargetCalendarNotSupported, Codes.TargetUnavailable]
        },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public void Target_rules_follow_seed_001(string row, ReassignmentTarget target, string[] expected) =>
        ReassignmentRules.CheckTarget(target).Select(r => r.Code).ShouldBe(expected, row);

    public static TheoryData<ConferencingProvider?, bool, ConferencingProvider?, bool, LocationOutcome> Locations() => new()
    {
        // Same service, Zoom or GoTo Meeting: ownership moves.
        { ConferencingProvider.Zoom, false, ConferencingProvider.Zoom, false, LocationOutcome.TransferOwnership },
        { ConferencingProvider.GoToMeeting, false, ConferencingProvider.GoToMeeting, false, LocationOutcome.TransferOwnership },
        // Webex is not supported.
        { ConferencingProvider.Webex, false, ConferencingProvider.Webex, false, LocationOutcome.WebexNotSupported },
        // Different solutions.
        { ConferencingProvider.Zoom, false, ConferencingProvider.GoToMeeting, false, LocationOutcome.LocationNotUpdated },
        { ConferencingProvider.GoToMeeting, false, ConferencingProvider.Webex, false, LocationOutcome.LocationNotUpdated },
        { ConferencingProvider.Webex, false, ConferencingProvider.Zoom, false, LocationOutcome.LocationNotUpdated },
        { ConferencingProvider.Zoom, false, null, false, LocationOutcome.LocationNotUpdated },
        { null, false, ConferencingProvider.Zoom, false, LocationOutcome.LocationNotUpdated },
        // Physical or "other" locations are never updated.
        { null, true, null, true, LocationOutcome.LocationNotUpdated },
        { null, true, null, false, LocationOutcome.LocationNotUpdated },
        { null, true, ConferencingProvider.Zoom, false, LocationOutcome.LocationNotUpdated },
        { ConferencingProvider.Zoom, false, null, true, LocationOutcome.LocationNotUpdated },
        // Nothing to carry.
        { null, false, null, false, LocationOutcome.NoLocation },
    };

    [Theory]
    [MemberData(nameof(Locations))]
    public void Location_outcome_follows_seed_001(ConferencingProvider? from, bool fromText, ConferencingProvider? to, bool toText, LocationOutcome expected)
    {
        var outcome = ReassignmentRules.LocationOutcomeOf(new PageLocation(from, fromText), new PageLocation(to, toText));
        outcome.ShouldBe(expected);
        ReassignmentRules.WithholdsLocation(outcome).ShouldBe(expected is LocationOutcome.WebexNotSupported or LocationOutcome.LocationNotUpdated);
        var notice = ReassignmentRules.Notice(outcome, new PageLocation(from, fromText));
        (notice is null).ShouldBe(expected == LocationOutcome.NoLocation);
        if (expected == LocationOutcome.WebexNotSupported)
        {
            notice.ShouldNotBeNull().ShouldContain("does not support Webex");
        }
    }
}

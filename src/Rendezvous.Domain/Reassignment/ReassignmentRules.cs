using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Calendars;
using Rendezvous.Domain.Conferencing;

namespace Rendezvous.Domain.Reassignment;

/// <summary>
/// What the reassignment rules need to know about a booking and the person asking. <see cref="PageCalendar"/> is the
/// provider of the booking page owner's calendar connection, or null when the owner has none ("not connected to any
/// calendar").
/// </summary>
public sealed record ReassignmentSubject(
    BookingStatus Status,
    SchedulingOption PageOption,
    bool IsGroupSession,
    bool IsPackageSession,
    CalendarProvider? PageCalendar,
    bool ActorIsAdministrator);

/// <summary>
/// A booking page that might receive a reassigned booking. <see cref="Calendar"/> is the page owner's connection provider
/// (null: none); <see cref="CanAcceptBookings"/> is false while the page cannot take bookings because of a system error
/// (a host's calendar connection in error). <see cref="CanTakePayments"/> is false for a page with a price whose
/// organization has no payment connection: such a page cannot accept bookings either.
/// </summary>
public sealed record ReassignmentTarget(
    SchedulingOption Option,
    CalendarProvider? Calendar,
    bool CanAcceptBookings,
    bool IsCurrentPage,
    bool CanTakePayments = true);

/// <summary>One rule that failed: a stable <see cref="Code"/> and a sentence that says what to do about it.</summary>
public sealed record ReassignmentRefusal(string Code, string Message);

/// <summary>Where a page's meetings take place: a conferencing service, a physical or "other" location text, or nothing.</summary>
public sealed record PageLocation(ConferencingProvider? Conferencing, bool HasLocationText)
{
    public static PageLocation None { get; } = new(null, false);
}

/// <summary>What happens to a booking's location when it moves between two pages (seed 001).</summary>
public enum LocationOutcome
{
    /// <summary>Neither page has a location: there is nothing to carry over.</summary>
    NoLocation,
    /// <summary>Both pages use Zoom, or both GoTo Meeting: the meeting's ownership moves to the new owner in that service.</summary>
    TransferOwnership,
    /// <summary>Both pages use Webex, which reassignment does not support: the meeting is not updated and the location is withheld.</summary>
    WebexNotSupported,
    /// <summary>Different services, or a physical or "other" location: the location is not updated and is withheld from the customer.</summary>
    LocationNotUpdated,
}

/// <summary>Stable codes of the reassignment rules, as the API reports them.</summary>
public static class ReassignmentRuleCodes
{
    public const string AdministratorRequired = "administrator_required";
    public const string StatusNotReassignable = "status_not_reassignable";
    public const string GroupSession = "group_session";
    public const string SessionPackage = "session_package";
    public const string NotOneOnOne = "not_one_on_one";
    public const string CalendarNotSupported = "calendar_not_supported";
    public const string TargetIsCurrentPage = "target_is_current_page";
    public const string TargetNotOneOnOne = "target_not_one_on_one";
    public const string TargetCalendarNotSupported = "target_calendar_not_supported";
    public const string TargetUnavailable = "target_unavailable";
    public const string TargetPaymentsUnavailable = "target_payments_unavailable";
}

/// <summary>
/// The rules of booking reassignment (seed 001), as pure functions over plain inputs. Every rule that fails is
/// reported, in the order the product document lists them; an empty list means the rules allow it.
/// <list type="bullet">
/// <item>Only an administrator may reassign.</item>
/// <item>The status must not be No-show, Canceled, Completed or Requested (so: Scheduled or Rescheduled).</item>
/// <item>Never a group session, a session package, or a single session that is part of a package; only one-on-one
/// meetings (a panel is not one).</item>
/// <item>The page must be connected to no calendar or to Google Calendar: Outlook, Office 365, Exchange and iCloud are
/// refused, and so is a generic CalDAV calendar (the document allows only "none" or Google).</item>
/// </list>
/// A target page must be one-on-one, connected to no calendar or to Google Calendar, able to accept bookings (not in a
/// system error, and not a paid page without a payment connection), and not the booking's current page. Whether its owner is free at the meeting time is shown, not
/// required.
/// </summary>
public static class ReassignmentRules
{
    /// <summary>Every rule the booking (and the person asking) fails; empty when it may be reassigned.</summary>
    public static IReadOnlyList<ReassignmentRefusal> CheckBooking(ReassignmentSubject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var refusals = new List<ReassignmentRefusal>();
        if (!subject.ActorIsAdministrator)
        {
            refusals.Add(new(ReassignmentRuleCodes.AdministratorRequired, "Only administrators can reassign bookings."));
        }

        if (subject.Status is not (BookingStatus.Scheduled or BookingStatus.Rescheduled))
        {
            refusals.Add(new(ReassignmentRuleCodes.StatusNotReassignable,
                $"A booking that is {BookingLifecycle.DisplayName(subject.Status)} cannot be reassigned; only Scheduled and Rescheduled bookings can."));
        }

        if (subject.IsGroupSession || subject.PageOption == SchedulingOption.GroupSession)
        {
            refusals.Add(new(ReassignmentRuleCodes.GroupSession, "A group session cannot be reassigned."));
        }

        if (subject.IsPackageSession || subject.PageOption == SchedulingOption.SessionPackage)
        {
            refusals.Add(new(ReassignmentRuleCodes.SessionPackage,
                subject.IsPackageSession
                    ? "A session that is part of a session package cannot be reassigned."
                    : "A session package cannot be reassigned."));
        }

        if (subject.PageOption is SchedulingOption.Panel or SchedulingOption.Collective)
        {
            // A round-robin booking is a one-on-one meeting with its assigned member, so it stays reassignable.
            refusals.Add(new(ReassignmentRuleCodes.NotOneOnOne, subject.PageOption == SchedulingOption.Panel
                ? "Only one-on-one meetings can be reassigned; this booking is a panel meeting."
                : "Only one-on-one meetings can be reassigned; this booking is a collective team meeting."));
        }

        if (!IsSupportedCalendar(subject.PageCalendar))
        {
            refusals.Add(new(ReassignmentRuleCodes.CalendarNotSupported,
                $"The booking page is connected to {CalendarName(subject.PageCalendar!.Value)}; only bookings of pages connected to no calendar "
                + "or to Google Calendar can be reassigned."));
        }

        return refusals;
    }

    /// <summary>Every rule <paramref name="target"/> fails as a page to receive a booking; empty when it may.</summary>
    public static IReadOnlyList<ReassignmentRefusal> CheckTarget(ReassignmentTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var refusals = new List<ReassignmentRefusal>();
        if (target.IsCurrentPage)
        {
            refusals.Add(new(ReassignmentRuleCodes.TargetIsCurrentPage, "This is the booking's current page."));
        }

        if (target.Option != SchedulingOption.OneOnOne)
        {
            refusals.Add(new(ReassignmentRuleCodes.TargetNotOneOnOne, "The page is not set to one-on-one meetings."));
        }

        if (!IsSupportedCalendar(target.Calendar))
        {
            refusals.Add(new(ReassignmentRuleCodes.TargetCalendarNotSupported,
                $"The page is connected to {CalendarName(target.Calendar!.Value)}; only pages connected to no calendar or to Google Calendar can receive a booking."));
        }

        if (!target.CanAcceptBookings)
        {
            refusals.Add(new(ReassignmentRuleCodes.TargetUnavailable,
                "The page cannot accept bookings because of a system error (its owner's calendar connection is in error)."));
        }

        if (!target.CanTakePayments)
        {
            refusals.Add(new(ReassignmentRuleCodes.TargetPaymentsUnavailable,
                "The page takes payments but its organization has no payment connection, so it cannot accept bookings."));
        }

        return refusals;
    }

    /// <summary>True for no calendar and for Google Calendar: the only connections reassignment supports.</summary>
    public static bool IsSupportedCalendar(CalendarProvider? provider) => provider is null or CalendarProvider.Google;

    /// <summary>What happens to the location when a booking moves from a page at <paramref name="source"/> to one at <paramref name="target"/>.</summary>
    public static LocationOutcome LocationOutcomeOf(PageLocation source, PageLocation target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.Conferencing is { } s && s == target.Conferencing)
        {
            return s == ConferencingProvider.Webex ? LocationOutcome.WebexNotSupported : LocationOutcome.TransferOwnership;
        }

        var sourceHasNone = source.Conferencing is null && !source.HasLocationText;
        var targetHasNone = target.Conferencing is null && !target.HasLocationText;
        return sourceHasNone && targetHasNone ? LocationOutcome.NoLocation : LocationOutcome.LocationNotUpdated;
    }

    /// <summary>True when the outcome leaves the location out of later customer notifications.</summary>
    public static bool WithholdsLocation(LocationOutcome outcome) =>
        outcome is LocationOutcome.WebexNotSupported or LocationOutcome.LocationNotUpdated;

    /// <summary>The sentence an administrator sees about the location before and after reassigning; null when there is nothing to say.</summary>
    public static string? Notice(LocationOutcome outcome, PageLocation source) => outcome switch
    {
        LocationOutcome.TransferOwnership =>
            $"The {ConferencingProviders.DisplayName(source.Conferencing!.Value)} meeting moves to the new owner's account; later notifications carry its details.",
        LocationOutcome.WebexNotSupported =>
            "Reassignment does not support Webex: the Webex meeting is not updated. Tell the customer where you will meet; later customer "
            + "notifications leave location details out.",
        LocationOutcome.LocationNotUpdated =>
            "The location is not updated (the pages do not share a conferencing service, or use a physical or other location). Tell the customer "
            + "where you will meet; later customer notifications leave location details out.",
        _ => null,
    };

    /// <summary>How a calendar provider is named in refusals: "Outlook", "Office 365", "Exchange", "iCloud Calendar", "a CalDAV calendar", "Google Calendar".</summary>
    public static string CalendarName(CalendarProvider provider) => provider switch
    {
        CalendarProvider.CalDav => "a CalDAV calendar",
        CalendarProvider.ICloud => "iCloud Calendar",
        CalendarProvider.Google => "Google Calendar",
        CalendarProvider.Exchange => "Exchange",
        CalendarProvider.Office365 => "Office 365",
        CalendarProvider.Outlook => "Outlook",
        _ => provider.ToString(),
    };
}

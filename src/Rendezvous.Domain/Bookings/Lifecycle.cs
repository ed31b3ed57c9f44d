namespace Rendezvous.Domain.Bookings;

/// <summary>Where a booking stands in its lifecycle.</summary>
public enum BookingStatus
{
    /// <summary>Waiting for a user to approve or decline (pages that require approval). Holds the time.</summary>
    Requested,
    Scheduled,
    Rescheduled,
    /// <summary>Set by the system once the end has passed.</summary>
    Completed,
    Canceled,
    /// <summary>Set by a user when the customer did not attend.</summary>
    NoShow,
}

/// <summary>What someone does to a booking. Each action is a column of the transition table.</summary>
public enum BookingAction
{
    Approve,
    Decline,
    Cancel,
    Reschedule,
    MarkNoShow,
    Complete,
    /// <summary>An administrator moves the booking to another booking page (and its owner); status and time stay.</summary>
    Reassign,
}

/// <summary>Who acted.</summary>
public enum ActorKind
{
    Customer,
    User,
    System,
    /// <summary>The user, through a change in their own calendar (two-way sync). Treated as the user.</summary>
    CalendarSync,
}

/// <summary>Who acted, and their id when they have one (a user id or a customer id).</summary>
public sealed record Actor(ActorKind Kind, string? Id = null)
{
    public static Actor System { get; } = new(ActorKind.System);

    public static Actor ForUser(UserId id) => new(ActorKind.User, id.ToString());

    public static Actor ForCustomer(CustomerId id) => new(ActorKind.Customer, id.ToString());

    public static Actor FromCalendar(UserId id) => new(ActorKind.CalendarSync, id.ToString());

    /// <summary>Users (directly or through their calendar) and the system are not bound by customer policies.</summary>
    public bool IsCustomer => Kind == ActorKind.Customer;
}

/// <summary>
/// The legal transitions of a booking, as one table. Anything not in the table is refused with
/// <c>illegal_transition</c>, and the booking is left as it was.
/// </summary>
public static class BookingLifecycle
{
    private static readonly Dictionary<(BookingStatus, BookingAction), BookingStatus> Table = new()
    {
        [(BookingStatus.Requested, BookingAction.Approve)] = BookingStatus.Scheduled,
        [(BookingStatus.Requested, BookingAction.Decline)] = BookingStatus.Canceled,
        [(BookingStatus.Requested, BookingAction.Cancel)] = BookingStatus.Canceled,
        // A request moved to another time is still a request.
        [(BookingStatus.Requested, BookingAction.Reschedule)] = BookingStatus.Requested,

        [(BookingStatus.Scheduled, BookingAction.Cancel)] = BookingStatus.Canceled,
        [(BookingStatus.Scheduled, BookingAction.Reschedule)] = BookingStatus.Rescheduled,
        [(BookingStatus.Scheduled, BookingAction.MarkNoShow)] = BookingStatus.NoShow,
        [(BookingStatus.Scheduled, BookingAction.Complete)] = BookingStatus.Completed,
        // Reassignment keeps the lifecycle where it is (seed 001: "Scheduled (Reassigned by User)").
        [(BookingStatus.Scheduled, BookingAction.Reassign)] = BookingStatus.Scheduled,

        [(BookingStatus.Rescheduled, BookingAction.Cancel)] = BookingStatus.Canceled,
        [(BookingStatus.Rescheduled, BookingAction.Reschedule)] = BookingStatus.Rescheduled,
        [(BookingStatus.Rescheduled, BookingAction.MarkNoShow)] = BookingStatus.NoShow,
        [(BookingStatus.Rescheduled, BookingAction.Complete)] = BookingStatus.Completed,
        [(BookingStatus.Rescheduled, BookingAction.Reassign)] = BookingStatus.Rescheduled,

        // A completed meeting may turn out to have been missed: users mark no-shows after the fact.
        [(BookingStatus.Completed, BookingAction.MarkNoShow)] = BookingStatus.NoShow,
    };

    /// <summary>The status after <paramref name="action"/>, or null when the table has no such transition.</summary>
    public static BookingStatus? Next(BookingStatus from, BookingAction action) =>
        Table.TryGetValue((from, action), out var to) ? to : null;

    /// <summary>Every legal transition, for documentation and tests.</summary>
    public static IEnumerable<(BookingStatus From, BookingAction Action, BookingStatus To)> Transitions =>
        Table.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value));

    /// <summary>Statuses in which the booking holds its hosts' time (and counts toward caps and seats).</summary>
    public static bool HoldsTime(BookingStatus status) => status is not BookingStatus.Canceled;

    /// <summary>Statuses a booking can never leave.</summary>
    public static bool IsFinal(BookingStatus status) => status is BookingStatus.Canceled or BookingStatus.NoShow;

    /// <summary>The API name of a status (camelCase).</summary>
    public static string ApiName(BookingStatus status) => status switch
    {
        BookingStatus.Requested => "requested",
        BookingStatus.Scheduled => "scheduled",
        BookingStatus.Rescheduled => "rescheduled",
        BookingStatus.Completed => "completed",
        BookingStatus.Canceled => "canceled",
        BookingStatus.NoShow => "noShow",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    /// <summary>The human name of a status, as the activity stream shows it.</summary>
    public static string DisplayName(BookingStatus status) => status switch
    {
        BookingStatus.NoShow => "No-show",
        _ => status.ToString(),
    };

    /// <summary>
    /// The detailed status shown next to the status: who brought it about, e.g. "Canceled by Customer",
    /// "Rescheduled by User", "Canceled by User (in calendar)". Decline reads "Declined by User"; a reassignment reads
    /// "Scheduled (Reassigned by User)" or "Rescheduled (Reassigned by User)", after the status it keeps.
    /// </summary>
    public static string DetailedStatus(BookingStatus status, BookingAction? action, Actor actor)
    {
        if (action == BookingAction.Decline)
        {
            return $"Declined by {ActorName(actor)}";
        }

        if (action == BookingAction.Approve)
        {
            return $"Scheduled (Approved by {ActorName(actor)})";
        }

        if (action == BookingAction.Reassign)
        {
            return $"{DisplayName(status)} (Reassigned by {ActorName(actor)})";
        }

        return status switch
        {
            BookingStatus.Completed => "Completed",
            BookingStatus.Requested when action is null => "Requested by Customer",
            _ when actor.Kind == ActorKind.System => $"{DisplayName(status)} by System",
            _ => $"{DisplayName(status)} by {ActorName(actor)}",
        };
    }

    private static string ActorName(Actor actor) => actor.Kind switch
    {
        ActorKind.Customer => "Customer",
        ActorKind.User => "User",
        ActorKind.CalendarSync => "User (in calendar)",
        _ => "System",
    };
}

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
    /// <summary>
    /// Made on a page that requires payment and not paid yet. Holds the time like a request; becomes Scheduled once the
    /// payment is captured, or Canceled by the system when the payment window closes unpaid.
    /// </summary>
    AwaitingPayment,
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
    /// <summary>The customer's payment was captured: an unpaid booking becomes Scheduled.</summary>
    ConfirmPayment,
    /// <summary>The payment window closed unpaid: the system cancels the booking and releases its time.</summary>
    ExpirePayment,
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

    /// <summary>
    /// The reason a customer may see for a change made by <paramref name="kind"/>: only words a person wrote (a user in
    /// Rendezvous, or the customer). Reasons Rendezvous records for itself ("Deleted in the host's calendar", a payment
    /// window closing) are for staff; the customer sees no reason rather than an internal one.
    /// </summary>
    public static string? ReasonForCustomer(ActorKind kind, string? reason) =>
        kind is ActorKind.User or ActorKind.Customer && !string.IsNullOrWhiteSpace(reason) ? reason : null;
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

        // An unpaid booking holds its time like a request: it can be moved or canceled, and only payment schedules it.
        [(BookingStatus.AwaitingPayment, BookingAction.ConfirmPayment)] = BookingStatus.Scheduled,
        [(BookingStatus.AwaitingPayment, BookingAction.ExpirePayment)] = BookingStatus.Canceled,
        [(BookingStatus.AwaitingPayment, BookingAction.Cancel)] = BookingStatus.Canceled,
        [(BookingStatus.AwaitingPayment, BookingAction.Reschedule)] = BookingStatus.AwaitingPayment,
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
        BookingStatus.AwaitingPayment => "awaitingPayment",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    /// <summary>The human name of a status, as the activity stream shows it.</summary>
    public static string DisplayName(BookingStatus status) => status switch
    {
        BookingStatus.NoShow => "No-show",
        BookingStatus.AwaitingPayment => "Awaiting payment",
        _ => status.ToString(),
    };

    /// <summary>
    /// The detailed status shown next to the status: who brought it about, e.g. "Canceled by Customer",
    /// "Rescheduled by User", "Canceled by User (in calendar)". Decline reads "Declined by User"; a captured payment
    /// "Scheduled (Paid by Customer)"; a payment window that closed unpaid "Canceled by System (payment not received)"; a
    /// reassignment "Scheduled (Reassigned by User)" or "Rescheduled (Reassigned by User)", after the status it keeps.
    /// </summary>
    public static string DetailedStatus(BookingStatus status, BookingAction? action, Actor actor)
    {
        if (action == BookingAction.ConfirmPayment)
        {
            return $"Scheduled (Paid by {ActorName(actor)})";
        }

        if (action == BookingAction.ExpirePayment)
        {
            return "Canceled by System (payment not received)";
        }

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
            BookingStatus.AwaitingPayment => "Awaiting payment",
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

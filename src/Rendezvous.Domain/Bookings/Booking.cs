using NodaTime;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Payments;

namespace Rendezvous.Domain.Bookings;

/// <summary>A host of a booking, holding that host's time while the booking is active.</summary>
public sealed class BookingHost
{
    private BookingHost()
    {
        HoldKey = "";
    }

    internal BookingHost(UserId userId, bool isPrimary, Instant start, Instant end, string holdKey)
    {
        UserId = userId;
        IsPrimary = isPrimary;
        Start = start;
        End = end;
        HoldKey = holdKey;
        Active = true;
    }

    public UserId UserId { get; private set; }

    /// <summary>The page owner; for a panel the primary team member.</summary>
    public bool IsPrimary { get; private set; }

    public Instant Start { get; private set; }

    public Instant End { get; private set; }

    /// <summary>
    /// Holds with the same key may overlap on one host (the seats of one group session); any other overlap on
    /// one host is refused by the database.
    /// </summary>
    public string HoldKey { get; private set; }

    /// <summary>False once the booking no longer holds the time (canceled).</summary>
    public bool Active { get; private set; }

    internal void Move(Instant start, Instant end, string holdKey)
    {
        Start = start;
        End = end;
        HoldKey = holdKey;
    }

    internal void Release() => Active = false;
}

/// <summary>One entry in a booking's history: the activity stream is made of these.</summary>
public sealed class BookingActivity
{
    private BookingActivity()
    {
        DetailedStatus = "";
    }

    internal BookingActivity(Instant at, BookingAction? action, BookingStatus? from, BookingStatus to, string detailedStatus,
        Actor actor, string? reason, Instant start, Instant end)
    {
        At = at;
        Action = action;
        FromStatus = from;
        ToStatus = to;
        DetailedStatus = detailedStatus;
        ActorKind = actor.Kind;
        ActorId = actor.Id;
        Reason = reason;
        Start = start;
        End = end;
    }

    public long Id { get; private set; }

    public Instant At { get; private set; }

    /// <summary>Null for the creation entry.</summary>
    public BookingAction? Action { get; private set; }

    public BookingStatus? FromStatus { get; private set; }

    public BookingStatus ToStatus { get; private set; }

    public string DetailedStatus { get; private set; }

    public ActorKind ActorKind { get; private set; }

    public string? ActorId { get; private set; }

    public string? Reason { get; private set; }

    /// <summary>The meeting time after this entry.</summary>
    public Instant Start { get; private set; }

    public Instant End { get; private set; }

    /// <summary>For a reassignment: the owner before it.</summary>
    public UserId? PreviousOwnerId { get; private set; }

    /// <summary>For a reassignment: the booking page before it.</summary>
    public BookingPageId? PreviousBookingPageId { get; private set; }

    internal BookingActivity WithPrevious(UserId owner, BookingPageId page)
    {
        PreviousOwnerId = owner;
        PreviousBookingPageId = page;
        return this;
    }
}

/// <summary>The appointment type (booking page) a booking switches to while rescheduling: its id, duration and customer policies.</summary>
public sealed record AppointmentType(BookingPageId PageId, Duration Duration, ChangePolicy CancellationPolicy, ChangePolicy ReschedulePolicy);

/// <summary>What a new booking is made of; validated by <see cref="Booking.Create"/>.</summary>
public sealed record NewBooking(
    OrganizationId OrganizationId,
    BookingPageId BookingPageId,
    UserId OwnerId,
    IReadOnlyList<UserId> AdditionalHosts,
    CustomerId CustomerId,
    Instant Start,
    Duration Duration,
    bool RequiresApproval,
    ChangePolicy CancellationPolicy,
    ChangePolicy ReschedulePolicy,
    IReadOnlyDictionary<string, string> Answers,
    Actor Actor,
    string? GroupKey = null,
    PackageId? PackageId = null,
    int SessionNumber = 1,
    int SessionCount = 1,
    PaymentRequirement? Payment = null);

/// <summary>
/// A booking: one meeting (or one session of a package) between its hosts and one customer. All changes go
/// through the methods below, which enforce the lifecycle table, the customer policies captured at booking
/// time, and record history and events.
/// </summary>
public sealed class Booking
{
    private readonly List<BookingHost> _hosts = [];
    private readonly List<BookingActivity> _history = [];
    private readonly List<BookingEvent> _events = [];

    private Booking()
    {
        DetailedStatus = "";
        CancellationPolicy = ChangePolicy.AnyTime;
        ReschedulePolicy = ChangePolicy.AnyTime;
        Answers = new Dictionary<string, string>();
    }

    public BookingId Id { get; private set; }

    public OrganizationId OrganizationId { get; private set; }

    public BookingPageId BookingPageId { get; private set; }

    /// <summary>The page owner at booking time (the primary team member of a panel).</summary>
    public UserId OwnerId { get; private set; }

    public CustomerId CustomerId { get; private set; }

    /// <summary>Start of the meeting (inclusive).</summary>
    public Instant Start { get; private set; }

    /// <summary>End of the meeting (exclusive).</summary>
    public Instant End { get; private set; }

    public BookingStatus Status { get; private set; }

    public string DetailedStatus { get; private set; }

    /// <summary>The reason given with the latest cancel, reschedule, decline or no-show.</summary>
    public string? LastReason { get; private set; }

    /// <summary>Notes from the team that the customer sees (in emails and, later, the customer portal); null when there are none.</summary>
    public string? PublicNotes { get; private set; }

    /// <summary>
    /// True once the booking was reassigned between pages that do not share a conferencing service (or that have a
    /// physical or "other" location): its location was not updated, so later customer notifications leave location
    /// details out and the host tells the customer where to meet (seed 001).
    /// </summary>
    public bool LocationWithheld { get; private set; }

    /// <summary>The cancellation policy in force when the booking was made; binds customers only.</summary>
    public ChangePolicy CancellationPolicy { get; private set; }

    /// <summary>The reschedule policy in force when the booking was made; binds customers only.</summary>
    public ChangePolicy ReschedulePolicy { get; private set; }

    public PackageId? PackageId { get; private set; }

    /// <summary>1-based position within the package (1 outside packages).</summary>
    public int SessionNumber { get; private set; } = 1;

    public int SessionCount { get; private set; } = 1;

    /// <summary>Set on a group session's bookings: every seat of one session shares it.</summary>
    public string? GroupKey { get; private set; }

    /// <summary>The canceled booking this one replaces, when the customer booked again after canceling.</summary>
    public BookingId? ReplacesBookingId { get; private set; }

    /// <summary>The booking that replaced this canceled one.</summary>
    public BookingId? ReplacedByBookingId { get; private set; }

    public IReadOnlyDictionary<string, string> Answers { get; private set; }

    /// <summary>The payment this booking needs (pages with a price); null when it needs none.</summary>
    public BookingPayment? Payment { get; private set; }

    public Instant CreatedAt { get; private set; }

    public Instant UpdatedAt { get; private set; }

    public IReadOnlyList<BookingHost> Hosts => _hosts;

    public IReadOnlyList<BookingActivity> History => _history;

    /// <summary>Events raised since load; the persistence layer moves them to the outbox on save.</summary>
    public IReadOnlyList<BookingEvent> PendingEvents => _events;

    public Duration Duration => End - Start;

    /// <summary>
    /// Creates a booking in Scheduled, Requested when the page requires approval, or AwaitingPayment when it has a price
    /// (then it is due within the payment window, and never later than its start). A price cannot be combined with
    /// approval or with a package of sessions (validation error).
    /// </summary>
    public static Result<Booking> Create(NewBooking spec, Instant now)
    {
        if (spec.Payment is not null && spec.RequiresApproval)
        {
            return DomainError.Validation("payment", "a page that requires payment cannot also require approval");
        }

        if (spec.Payment is not null && spec.SessionCount > 1)
        {
            return DomainError.Validation("payment", "session packages cannot require payment yet");
        }

        if (spec.Duration <= Duration.Zero)
        {
            return DomainError.Validation("durationMinutes", "must be positive");
        }

        if (spec.Start < now)
        {
            return DomainError.Validation("start", "must be in the future");
        }

        if (spec.SessionNumber < 1 || spec.SessionNumber > spec.SessionCount)
        {
            return DomainError.Validation("starts", "session number out of range");
        }

        var booking = new Booking
        {
            Id = BookingId.New(),
            OrganizationId = spec.OrganizationId,
            BookingPageId = spec.BookingPageId,
            OwnerId = spec.OwnerId,
            CustomerId = spec.CustomerId,
            Start = spec.Start,
            End = spec.Start + spec.Duration,
            Status = spec.Payment is not null ? BookingStatus.AwaitingPayment
                : spec.RequiresApproval ? BookingStatus.Requested : BookingStatus.Scheduled,
            CancellationPolicy = spec.CancellationPolicy,
            ReschedulePolicy = spec.ReschedulePolicy,
            PackageId = spec.PackageId,
            SessionNumber = spec.SessionNumber,
            SessionCount = spec.SessionCount,
            GroupKey = spec.GroupKey,
            Answers = spec.Answers,
            CreatedAt = now,
            UpdatedAt = now,
        };
        booking.DetailedStatus = LifecycleText(booking.Status, null, spec.Actor);
        if (spec.Payment is { } payment)
        {
            var due = now + payment.PaymentWindow;
            booking.Payment = new BookingPayment(payment.Price, due < booking.Start ? due : booking.Start);
        }

        var holdKey = booking.HoldKeyFor(booking.Start);
        booking._hosts.Add(new BookingHost(spec.OwnerId, true, booking.Start, booking.End, holdKey));
        foreach (var host in spec.AdditionalHosts.Where(h => h != spec.OwnerId).Distinct())
        {
            booking._hosts.Add(new BookingHost(host, false, booking.Start, booking.End, holdKey));
        }

        booking._history.Add(new BookingActivity(now, null, null, booking.Status, booking.DetailedStatus, spec.Actor, null, booking.Start, booking.End));
        booking.Raise(booking.Status switch
        {
            BookingStatus.Requested => BookingEvent.Requested,
            BookingStatus.AwaitingPayment => BookingEvent.AwaitingPayment,
            _ => BookingEvent.Created,
        }, spec.Actor, null, null, null, now);
        return booking;
    }

    /// <summary>Approves a request (users only).</summary>
    public Result Approve(Actor actor, string? reason, Instant now) =>
        RequireStaff(actor, "approve") ?? Transition(BookingAction.Approve, actor, reason, now);

    /// <summary>Declines a request (users only); the time is released.</summary>
    public Result Decline(Actor actor, string? reason, Instant now) =>
        RequireStaff(actor, "decline") ?? Transition(BookingAction.Decline, actor, reason, now);

    /// <summary>
    /// Cancels the booking and releases its hosts' time. Customers are bound by the cancellation policy captured at
    /// booking time and cannot cancel once the meeting has started; users may always cancel.
    /// </summary>
    public Result Cancel(Actor actor, string? reason, Instant now)
    {
        if (actor.IsCustomer)
        {
            if (now >= Start)
            {
                return new DomainError(ErrorKind.PolicyViolation, "meeting_started", "The meeting has already started; please contact the host.");
            }

            if (!CancellationPolicy.Allows(now, Start))
            {
                return new DomainError(ErrorKind.PolicyViolation, "cancellation_policy",
                    $"Cancellations are accepted up to {Describe(CancellationPolicy.MinimumNotice!.Value)} before the start; please contact the host.");
            }
        }

        var wasUnpaid = Status == BookingStatus.AwaitingPayment;
        var result = Transition(BookingAction.Cancel, actor, reason, now);
        if (result.IsSuccess && wasUnpaid)
        {
            Payment?.MarkUnpaid(PaymentStatus.Canceled);
        }

        // A paid booking keeps its payment as it is: canceling never refunds (refunds are made by hand).
        return result;
    }

    /// <summary>
    /// Moves the booking to <paramref name="newStart"/>, keeping its duration. The caller has checked that the new time is
    /// free (the database refuses overlaps in any case). Customers are bound by the reschedule policy.
    /// </summary>
    public Result Reschedule(Instant newStart, Actor actor, string? reason, Instant now) => Reschedule(newStart, actor, reason, now, quiet: false);

    /// <summary>
    /// As <see cref="Reschedule(Instant, Actor, string?, Instant)"/>; a <paramref name="quiet"/> reschedule raises an event
    /// that integrations and notifications ignore (a calendar move applied when its reminder comes due).
    /// </summary>
    public Result Reschedule(Instant newStart, Actor actor, string? reason, Instant now, bool quiet) =>
        newStart == Start
            ? DomainError.Validation("start", "is the booking's current start")
            : Move(newStart, null, actor, reason, now, quiet);

    /// <summary>
    /// Reschedules into another appointment type (seed 003): the booking moves to <paramref name="newStart"/> on
    /// <paramref name="type"/>'s page, takes its duration and customer policies, and keeps its owner, customer and answers.
    /// Only a one-on-one booking (one host, not a group seat, not a package session, no payment) can switch; the caller
    /// has checked that its owner hosts <paramref name="type"/>. Raises <c>booking.rescheduled</c> with the previous page,
    /// so every integration follows it as a reschedule. Customers are bound by the booking's reschedule policy.
    /// </summary>
    public Result RescheduleInto(AppointmentType type, Instant newStart, Actor actor, string? reason, Instant now)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.PageId == BookingPageId)
        {
            return Reschedule(newStart, actor, reason, now);
        }

        if (type.Duration <= Duration.Zero)
        {
            return DomainError.Validation("bookingPageId", "the page has no duration");
        }

        if (GroupKey is not null || PackageId is not null || _hosts.Count != 1 || Payment is not null)
        {
            return DomainError.Conflict("type_switch_unavailable",
                "Only a one-on-one booking without a payment can move to another appointment type.");
        }

        return Move(newStart, type, actor, reason, now, quiet: false);
    }

    private Result Move(Instant newStart, AppointmentType? type, Actor actor, string? reason, Instant now, bool quiet)
    {
        if (actor.Kind != ActorKind.CalendarSync && newStart < now)
        {
            return DomainError.Validation("start", "must be in the future");
        }

        if (actor.IsCustomer)
        {
            if (now >= Start)
            {
                return new DomainError(ErrorKind.PolicyViolation, "meeting_started", "The meeting has already started; please contact the host.");
            }

            if (!ReschedulePolicy.Allows(now, Start))
            {
                return new DomainError(ErrorKind.PolicyViolation, "reschedule_policy",
                    $"Rescheduling is possible up to {Describe(ReschedulePolicy.MinimumNotice!.Value)} before the start; please contact the host.");
            }
        }

        var next = BookingLifecycle.Next(Status, BookingAction.Reschedule);
        if (next is null)
        {
            return Illegal(BookingAction.Reschedule);
        }

        var previousStart = Start;
        var previousEnd = End;
        var previousPage = BookingPageId;
        var duration = type?.Duration ?? Duration;
        Start = newStart;
        End = newStart + duration;
        if (type is not null)
        {
            BookingPageId = type.PageId;
            CancellationPolicy = type.CancellationPolicy;
            ReschedulePolicy = type.ReschedulePolicy;
        }

        var holdKey = HoldKeyFor(Start);
        foreach (var host in _hosts)
        {
            host.Move(Start, End, holdKey);
        }

        if (Payment is { Status: PaymentStatus.Pending } pending && pending.DueAt > Start)
        {
            // An unpaid booking never holds its time past its own start.
            pending.MoveDueAt(Start);
        }

        Apply(BookingAction.Reschedule, next.Value, actor, reason, now, previousStart, previousEnd, quiet,
            type is null ? null : previousPage);
        return Result.Success;
    }

    /// <summary>
    /// Reassigns the booking to another booking page and its owner (users only): the time, status and customer stay; the
    /// primary host's hold moves to <paramref name="newOwnerId"/> (the database refuses it when that user already holds
    /// the time); the detailed status reads "Scheduled (Reassigned by User)" or "Rescheduled (Reassigned by User)"; a
    /// history entry and a <c>booking.reassigned</c> event record the previous owner and page. Only one-on-one meetings
    /// in Scheduled or Rescheduled can move; whether the organization's rules allow it (administrators, calendars,
    /// target pages) is decided before, by <see cref="Reassignment.ReassignmentRules"/>. <paramref name="withholdLocation"/>
    /// marks the location as not updated (<see cref="LocationWithheld"/>); once set it stays set.
    /// </summary>
    public Result Reassign(BookingPageId newPageId, UserId newOwnerId, bool withholdLocation, Actor actor, string? reason, Instant now)
    {
        if (RequireStaff(actor, "reassign a booking") is { } denied)
        {
            return denied;
        }

        if (newPageId == BookingPageId)
        {
            return DomainError.Validation("bookingPageId", "is the booking's current page");
        }

        if (GroupKey is not null || PackageId is not null || _hosts.Count != 1)
        {
            return DomainError.Conflict("not_one_on_one", "Only one-on-one meetings can be reassigned.");
        }

        var next = BookingLifecycle.Next(Status, BookingAction.Reassign);
        if (next is null)
        {
            return Illegal(BookingAction.Reassign);
        }

        var previousOwner = OwnerId;
        var previousPage = BookingPageId;
        if (newOwnerId != previousOwner)
        {
            var old = _hosts.Single();
            _hosts.Remove(old);
            _hosts.Add(new BookingHost(newOwnerId, true, Start, End, old.HoldKey));
        }

        OwnerId = newOwnerId;
        BookingPageId = newPageId;
        LocationWithheld |= withholdLocation;
        var from = Status;
        Status = next.Value;
        DetailedStatus = LifecycleText(Status, BookingAction.Reassign, actor);
        if (!string.IsNullOrWhiteSpace(reason))
        {
            LastReason = reason;
        }

        UpdatedAt = now;
        _history.Add(new BookingActivity(now, BookingAction.Reassign, from, Status, DetailedStatus, actor, reason, Start, End)
            .WithPrevious(previousOwner, previousPage));
        _events.Add(new BookingEvent(BookingEvent.Reassigned, Id, OrganizationId, BookingPageId, Status, DetailedStatus, actor, reason, Start, End,
            null, null, now, OwnerId: OwnerId, PreviousOwnerId: previousOwner, PreviousBookingPageId: previousPage));
        return Result.Success;
    }

    /// <summary>Marks the customer as not having attended (users only, once the meeting has started).</summary>
    public Result MarkNoShow(Actor actor, string? reason, Instant now)
    {
        if (RequireStaff(actor, "mark a no-show") is { } denied)
        {
            return denied;
        }

        return now < Start
            ? DomainError.Conflict("not_started", "A no-show can only be recorded once the meeting has started.")
            : Transition(BookingAction.MarkNoShow, actor, reason, now);
    }

    /// <summary>Completes the booking once its end has passed (the system does this on its own).</summary>
    public Result Complete(Instant now) =>
        now < End
            ? DomainError.Conflict("not_ended", "A booking completes only once its end has passed.")
            : Transition(BookingAction.Complete, Actor.System, null, now);

    /// <summary>Records the provider's order for an unpaid booking (and where the customer approves it). Raises no event.</summary>
    public Result AttachPaymentOrder(string orderId, string? approveUrl, Instant now)
    {
        if (Payment is null)
        {
            return DomainError.Conflict("no_payment", "This booking needs no payment.");
        }

        if (Status != BookingStatus.AwaitingPayment || Payment.Status != PaymentStatus.Pending)
        {
            return DomainError.Conflict("not_awaiting_payment", "This booking is not waiting for a payment.");
        }

        if (string.IsNullOrWhiteSpace(orderId))
        {
            throw new ArgumentException("An order id is required.", nameof(orderId));
        }

        Payment.AttachOrder(orderId, approveUrl);
        UpdatedAt = now;
        return Result.Success;
    }

    /// <summary>
    /// Records the captured payment: the booking becomes Scheduled ("Scheduled (Paid by Customer)") and raises
    /// <c>booking.created</c>. Recording the same capture again succeeds and changes nothing. Allowed after
    /// <see cref="BookingPayment.DueAt"/> as long as the booking has not been expired: the money is in.
    /// </summary>
    public Result ConfirmPayment(string captureId, Actor actor, Instant now)
    {
        if (Payment?.CaptureId is { } known && known == captureId)
        {
            return Result.Success;
        }

        // Only an unpaid booking (which always has a payment) may be confirmed; everything else is refused by the table.
        var next = BookingLifecycle.Next(Status, BookingAction.ConfirmPayment);
        if (next is null || Payment is not { Status: PaymentStatus.Pending })
        {
            return Illegal(BookingAction.ConfirmPayment);
        }

        Payment.MarkPaid(captureId, now);
        Apply(BookingAction.ConfirmPayment, next.Value, actor, null, now, null, null);
        return Result.Success;
    }

    /// <summary>
    /// Cancels an unpaid booking whose payment window has closed (<paramref name="now"/> at or after
    /// <see cref="BookingPayment.DueAt"/>): the system acts, the time is released, <c>booking.paymentExpired</c> is raised.
    /// </summary>
    public Result ExpirePayment(Instant now)
    {
        if (BookingLifecycle.Next(Status, BookingAction.ExpirePayment) is null || Payment is null)
        {
            return Illegal(BookingAction.ExpirePayment);
        }

        if (now < Payment.DueAt)
        {
            return DomainError.Conflict("not_due", "The payment window has not closed yet.");
        }

        Transition(BookingAction.ExpirePayment, Actor.System, "Payment not received in time", now);
        Payment.MarkUnpaid(PaymentStatus.Expired);
        return Result.Success;
    }

    /// <summary>Longest refund reason accepted, in characters.</summary>
    public const int MaxRefundReasonLength = 500;

    /// <summary>
    /// Records a refund an administrator asked for: <paramref name="amount"/> (null: everything still refundable) of a
    /// captured payment, with a reason. The refund starts Pending; the provider's answer is recorded with
    /// <see cref="CompleteRefund"/> or <see cref="FailRefund"/>. Only users may refund (Forbidden otherwise); nothing is
    /// ever refunded by canceling. Fails with a validation error for a bad amount or reason, a conflict when nothing is
    /// refundable.
    /// </summary>
    public Result<BookingRefund> RequestRefund(decimal? amount, string? reason, Actor actor, Instant now)
    {
        if (actor.Kind != ActorKind.User)
        {
            return new DomainError(ErrorKind.Forbidden, "staff_only", "Only a team member can refund a payment.");
        }

        if (Payment is null || Payment.CaptureId is null
            || Payment.Status is not (PaymentStatus.Paid or PaymentStatus.PartiallyRefunded or PaymentStatus.Refunded))
        {
            return DomainError.Conflict("not_paid", "This booking has no captured payment to refund.");
        }

        var trimmed = reason?.Trim() ?? "";
        if (trimmed.Length == 0 || trimmed.Length > MaxRefundReasonLength)
        {
            return DomainError.Validation("reason", $"is required (1-{MaxRefundReasonLength} characters)");
        }

        var refundable = Payment.Refundable;
        if (refundable <= 0)
        {
            return DomainError.Conflict("nothing_refundable", "Everything paid has already been refunded (or is being refunded).");
        }

        var wanted = amount ?? refundable;
        var money = Money.Create(wanted, Payment.Currency, "amount");
        if (!money.IsSuccess)
        {
            return DomainError.Validation("amount", money.Error!.Message);
        }

        if (wanted <= 0 || wanted > refundable)
        {
            return DomainError.Validation("amount", $"must be more than 0 and at most {new Money(refundable, Payment.Currency)}");
        }

        var refund = Payment.AddRefund(money.Value, trimmed, actor, now);
        UpdatedAt = now;
        return refund;
    }

    /// <summary>Records that the provider made refund <paramref name="refundId"/>. A repeat changes nothing.</summary>
    public Result CompleteRefund(Guid refundId, string providerRefundId, Instant now)
    {
        var refund = Payment?.Refunds.FirstOrDefault(r => r.Id == refundId);
        if (refund is null)
        {
            return DomainError.NotFound("Refund");
        }

        if (refund.Status == RefundStatus.Completed)
        {
            return Result.Success;
        }

        if (refund.Status != RefundStatus.Pending)
        {
            return DomainError.Conflict("refund_not_pending", "This refund is no longer pending.");
        }

        refund.Complete(providerRefundId, now);
        Payment!.RefundCompleted(refund);
        UpdatedAt = now;
        return Result.Success;
    }

    /// <summary>Records that the provider refused refund <paramref name="refundId"/> for good; nothing was refunded.</summary>
    public Result FailRefund(Guid refundId, string reason, Instant now)
    {
        var refund = Payment?.Refunds.FirstOrDefault(r => r.Id == refundId);
        if (refund is null)
        {
            return DomainError.NotFound("Refund");
        }

        if (refund.Status != RefundStatus.Pending)
        {
            return DomainError.Conflict("refund_not_pending", "This refund is no longer pending.");
        }

        refund.Fail(reason, now);
        UpdatedAt = now;
        return Result.Success;
    }

    /// <summary>
    /// Links this canceled booking to the booking that replaces it. The link is one-to-one: a canceled booking is
    /// replaced at most once, and a booking replaces at most one other.
    /// </summary>
    public Result LinkReplacement(Booking replacement)
    {
        if (Status != BookingStatus.Canceled)
        {
            return DomainError.Conflict("not_canceled", "Only a canceled booking can be replaced.");
        }

        if (replacement.Id == Id)
        {
            return DomainError.Validation("replacesBookingId", "a booking cannot replace itself");
        }

        if (replacement.CustomerId != CustomerId)
        {
            return DomainError.Validation("replacesBookingId", "belongs to another customer");
        }

        if (ReplacedByBookingId is not null)
        {
            return DomainError.Conflict("already_replaced", "This booking has already been replaced.");
        }

        if (replacement.ReplacesBookingId is not null)
        {
            return DomainError.Conflict("already_replaces", "The new booking already replaces another booking.");
        }

        ReplacedByBookingId = replacement.Id;
        replacement.ReplacesBookingId = Id;
        return Result.Success;
    }

    /// <summary>Longest <see cref="PublicNotes"/> accepted, in characters.</summary>
    public const int MaxPublicNotesLength = 5000;

    /// <summary>
    /// Sets the notes the customer sees; null or blank removes them. Only team members (users, the system) may; fails
    /// with a validation error when longer than <see cref="MaxPublicNotesLength"/>. Raises no event: the notes travel with
    /// the next change or reminder.
    /// </summary>
    public Result SetPublicNotes(string? notes, Actor actor, Instant now)
    {
        if (actor.IsCustomer)
        {
            return new DomainError(ErrorKind.Forbidden, "staff_only", "Only a team member can change the public notes.");
        }

        var trimmed = string.IsNullOrWhiteSpace(notes) ? null : notes.Trim();
        if (trimmed is { Length: > MaxPublicNotesLength })
        {
            return DomainError.Validation("publicNotes", $"must be at most {MaxPublicNotesLength} characters");
        }

        if (trimmed != PublicNotes)
        {
            PublicNotes = trimmed;
            UpdatedAt = now;
        }

        return Result.Success;
    }

    /// <summary>
    /// Records something that happened to the booking without changing it (its status, time and detailed status stay),
    /// so the activity stream shows it: for example a move made in the host's calendar that could not be applied.
    /// No event is raised.
    /// </summary>
    public void RecordNote(string text, Actor actor, Instant now)
    {
        UpdatedAt = now;
        _history.Add(new BookingActivity(now, null, Status, Status, text, actor, null, Start, End));
    }

    /// <summary>Forgets raised events once they are in the outbox.</summary>
    public void ClearPendingEvents() => _events.Clear();

    private Result Transition(BookingAction action, Actor actor, string? reason, Instant now)
    {
        var next = BookingLifecycle.Next(Status, action);
        if (next is null)
        {
            return Illegal(action);
        }

        Apply(action, next.Value, actor, reason, now, null, null);
        return Result.Success;
    }

    private void Apply(BookingAction action, BookingStatus next, Actor actor, string? reason, Instant now, Instant? previousStart, Instant? previousEnd,
        bool quiet = false, BookingPageId? previousPage = null)
    {
        var from = Status;
        Status = next;
        DetailedStatus = LifecycleText(next, action, actor);
        if (!string.IsNullOrWhiteSpace(reason))
        {
            LastReason = reason;
        }

        if (!BookingLifecycle.HoldsTime(next))
        {
            foreach (var host in _hosts)
            {
                host.Release();
            }
        }

        UpdatedAt = now;
        var entry = new BookingActivity(now, action, from, next, DetailedStatus, actor, reason, Start, End);
        _history.Add(previousPage is { } page ? entry.WithPrevious(OwnerId, page) : entry);
        if (previousPage is not null)
        {
            // The previous page travels with the event, so readers see that the type changed with the time.
            _events.Add(new BookingEvent(BookingEvent.TypeOf(action), Id, OrganizationId, BookingPageId, Status, DetailedStatus, actor, reason,
                Start, End, previousStart, previousEnd, now, quiet, OwnerId: OwnerId, PreviousOwnerId: OwnerId, PreviousBookingPageId: previousPage));
            return;
        }

        Raise(BookingEvent.TypeOf(action), actor, reason, previousStart, previousEnd, now, quiet);
    }

    private DomainError Illegal(BookingAction action) =>
        DomainError.Conflict("illegal_transition",
            $"A booking that is {BookingLifecycle.DisplayName(Status)} cannot be {Verb(action)}.");

    private static DomainError? RequireStaff(Actor actor, string what) =>
        actor.Kind is ActorKind.User or ActorKind.CalendarSync or ActorKind.System
            ? null
            : new DomainError(ErrorKind.Forbidden, "staff_only", $"Only a team member can {what}.");

    private void Raise(string type, Actor actor, string? reason, Instant? previousStart, Instant? previousEnd, Instant now, bool quiet = false) =>
        _events.Add(new BookingEvent(type, Id, OrganizationId, BookingPageId, Status, DetailedStatus, actor, reason, Start, End,
            previousStart, previousEnd, now, quiet));

    private string HoldKeyFor(Instant start) =>
        GroupKey is null ? Id.ToString() : $"{GroupKey}@{start.ToUnixTimeTicks()}";

    private static string LifecycleText(BookingStatus status, BookingAction? action, Actor actor) =>
        BookingLifecycle.DetailedStatus(status, action, actor);

    private static string Verb(BookingAction action) => action switch
    {
        BookingAction.Approve => "approved",
        BookingAction.Decline => "declined",
        BookingAction.Cancel => "canceled",
        BookingAction.Reschedule => "rescheduled",
        BookingAction.MarkNoShow => "marked as a no-show",
        BookingAction.Complete => "completed",
        BookingAction.ConfirmPayment => "confirmed as paid",
        BookingAction.ExpirePayment => "expired for want of payment",
        BookingAction.Reassign => "reassigned",
        _ => action.ToString(),
    };

    private static string Describe(Duration d) =>
        d.TotalHours >= 1 && d.TotalHours == Math.Floor(d.TotalHours)
            ? $"{d.TotalHours:0} hour{(d.TotalHours == 1 ? "" : "s")}"
            : $"{d.TotalMinutes:0} minutes";
}

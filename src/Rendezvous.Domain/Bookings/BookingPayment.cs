using NodaTime;
using Rendezvous.Domain.Payments;

namespace Rendezvous.Domain.Bookings;

/// <summary>Where a booking's payment stands.</summary>
public enum PaymentStatus
{
    /// <summary>Not paid yet; the booking is <see cref="BookingStatus.AwaitingPayment"/> until <see cref="BookingPayment.DueAt"/>.</summary>
    Pending,
    /// <summary>Captured in full; nothing refunded.</summary>
    Paid,
    /// <summary>Captured, and part of it refunded by hand.</summary>
    PartiallyRefunded,
    /// <summary>Captured, and all of it refunded by hand.</summary>
    Refunded,
    /// <summary>Never paid: the payment window closed and the system canceled the booking.</summary>
    Expired,
    /// <summary>Never paid: the booking was canceled before it was paid.</summary>
    Canceled,
}

/// <summary>Where a refund stands. Refunds are only ever made by hand; canceling a booking never refunds it.</summary>
public enum RefundStatus
{
    /// <summary>Recorded and being sent to the payment provider (again after a failure that may pass).</summary>
    Pending,
    Completed,
    /// <summary>The provider refused it for good; nothing was refunded.</summary>
    Failed,
}

/// <summary>One refund an administrator issued, as the booking's history shows it.</summary>
public sealed class BookingRefund
{
    private BookingRefund()
    {
        Currency = "";
        Reason = "";
    }

    internal BookingRefund(Guid id, Money amount, string reason, Actor actor, Instant at)
    {
        Id = id;
        Amount = amount.Amount;
        Currency = amount.Currency;
        Reason = reason;
        ActorKind = actor.Kind;
        ActorId = actor.Id;
        RequestedAt = at;
        Status = RefundStatus.Pending;
    }

    /// <summary>Also the idempotency key sent to the provider, so a retry never refunds twice.</summary>
    public Guid Id { get; private set; }

    public decimal Amount { get; private set; }

    public string Currency { get; private set; }

    public string Reason { get; private set; }

    public ActorKind ActorKind { get; private set; }

    public string? ActorId { get; private set; }

    public Instant RequestedAt { get; private set; }

    public RefundStatus Status { get; private set; }

    /// <summary>The provider's id for the refund, once it answered.</summary>
    public string? ProviderRefundId { get; private set; }

    public Instant? CompletedAt { get; private set; }

    public string? FailureReason { get; private set; }

    public Money Money => new(Amount, Currency);

    internal void Complete(string providerRefundId, Instant at)
    {
        Status = RefundStatus.Completed;
        ProviderRefundId = providerRefundId;
        CompletedAt = at;
        FailureReason = null;
    }

    internal void Fail(string reason, Instant at)
    {
        Status = RefundStatus.Failed;
        FailureReason = reason;
        CompletedAt = at;
    }
}

/// <summary>
/// The payment a booking needs (pages with a price): the amount, the provider's order and capture, and any refunds.
/// Only the booking changes it, through <see cref="Booking.ConfirmPayment"/>, <see cref="Booking.ExpirePayment"/>,
/// <see cref="Booking.RequestRefund"/> and the like.
/// </summary>
public sealed class BookingPayment
{
    /// <summary>The provider every payment goes through for now.</summary>
    public const string PayPal = "paypal";

    private readonly List<BookingRefund> _refunds = [];

    private BookingPayment()
    {
        Currency = "";
        Provider = PayPal;
    }

    internal BookingPayment(Money price, Instant dueAt)
    {
        Amount = price.Amount;
        Currency = price.Currency;
        DueAt = dueAt;
        Provider = PayPal;
        Status = PaymentStatus.Pending;
    }

    public decimal Amount { get; private set; }

    public string Currency { get; private set; }

    public PaymentStatus Status { get; private set; }

    /// <summary>When an unpaid booking is canceled by the system (exclusive: at this instant it may be expired).</summary>
    public Instant DueAt { get; private set; }

    public string Provider { get; private set; }

    /// <summary>The provider's order, once created.</summary>
    public string? OrderId { get; private set; }

    /// <summary>Where the customer approves the payment at the provider.</summary>
    public string? ApproveUrl { get; private set; }

    /// <summary>The provider's id of the captured payment; refunds are made against it.</summary>
    public string? CaptureId { get; private set; }

    public Instant? PaidAt { get; private set; }

    /// <summary>The total of completed refunds.</summary>
    public decimal RefundedAmount { get; private set; }

    public IReadOnlyList<BookingRefund> Refunds => _refunds;

    public Money Price => new(Amount, Currency);

    /// <summary>What may still be refunded: the price less completed and pending refunds.</summary>
    public decimal Refundable => Amount - RefundedAmount - _refunds.Where(r => r.Status == RefundStatus.Pending).Sum(r => r.Amount);

    internal void AttachOrder(string orderId, string? approveUrl)
    {
        OrderId = orderId;
        ApproveUrl = approveUrl;
    }

    internal void MarkPaid(string captureId, Instant at)
    {
        Status = PaymentStatus.Paid;
        CaptureId = captureId;
        PaidAt = at;
    }

    internal void MarkUnpaid(PaymentStatus status) => Status = status;

    internal void MoveDueAt(Instant dueAt) => DueAt = dueAt;

    internal BookingRefund AddRefund(Money amount, string reason, Actor actor, Instant at)
    {
        var refund = new BookingRefund(Guid.CreateVersion7(), amount, reason, actor, at);
        _refunds.Add(refund);
        return refund;
    }

    internal void RefundCompleted(BookingRefund refund)
    {
        RefundedAmount += refund.Amount;
        Status = RefundedAmount >= Amount ? PaymentStatus.Refunded : PaymentStatus.PartiallyRefunded;
    }
}

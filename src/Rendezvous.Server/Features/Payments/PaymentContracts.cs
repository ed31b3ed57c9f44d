using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Payments;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Payments;

/// <summary><c>PUT /payments/paypal</c>: the organization's PayPal REST app. The secret may be left out to keep the stored one.</summary>
public sealed record PayPalAccountRequest(string? ClientId, string? ClientSecret);

/// <summary>The organization's PayPal app; the secret is never returned.</summary>
public sealed record PayPalAccountResponse(bool Configured, string? ClientId, string? UpdatedAt);

/// <summary><c>POST /bookings/{id}/refund</c>: <c>amount</c> in the payment's currency (default: everything still refundable) and a reason.</summary>
public sealed record RefundRequest(decimal? Amount, string? Reason);

public sealed record RefundResponse(string Id, decimal Amount, string Currency, string Reason, string Status, string Actor, string? ActorId,
    string RequestedAt, string? CompletedAt, string? ProviderRefundId, string? FailureReason);

/// <summary>
/// A booking's payment. <c>status</c>: pending, paid, partiallyRefunded, refunded, expired (never paid in time) or
/// canceled (canceled before it was paid). <c>approveUrl</c> is where the customer pays while it is pending.
/// </summary>
public sealed record PaymentResponse(
    string Status,
    decimal Amount,
    string Currency,
    string DueAt,
    string Provider,
    string? OrderId,
    string? ApproveUrl,
    string? CaptureId,
    string? PaidAt,
    decimal RefundedAmount,
    RefundResponse[] Refunds)
{
    public static PaymentResponse From(BookingPayment p) => new(
        StatusName(p.Status), p.Amount, p.Currency, ApiFormat.Format(p.DueAt), p.Provider, p.OrderId,
        p.Status == PaymentStatus.Pending ? p.ApproveUrl : null, p.CaptureId, p.PaidAt is { } paid ? ApiFormat.Format(paid) : null,
        p.RefundedAmount,
        [.. p.Refunds.OrderBy(r => r.RequestedAt).Select(r => new RefundResponse(
            r.Id.ToString(), r.Amount, r.Currency, r.Reason, RefundStatusName(r.Status), Bookings.BookingResponse.ActorName(r.ActorKind), r.ActorId,
            ApiFormat.Format(r.RequestedAt), r.CompletedAt is { } done ? ApiFormat.Format(done) : null, r.ProviderRefundId, r.FailureReason))]);

    public static string StatusName(PaymentStatus status) => status switch
    {
        PaymentStatus.Pending => "pending",
        PaymentStatus.Paid => "paid",
        PaymentStatus.PartiallyRefunded => "partiallyRefunded",
        PaymentStatus.Refunded => "refunded",
        PaymentStatus.Expired => "expired",
        PaymentStatus.Canceled => "canceled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static string RefundStatusName(RefundStatus status) => status switch
    {
        RefundStatus.Pending => "pending",
        RefundStatus.Completed => "completed",
        RefundStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };
}

/// <summary>
/// What the public payment routes show about a booking: enough for a checkout page (amount, status, where to approve),
/// nothing about the customer or the organization.
/// </summary>
public sealed record PublicPaymentResponse(
    string BookingId,
    string BookingStatus,
    string Status,
    decimal Amount,
    string Currency,
    string DueAt,
    string? ApproveUrl,
    string? PaidAt)
{
    public static PublicPaymentResponse From(Booking b)
    {
        var p = b.Payment!;
        return new(b.Id.ToString(), BookingLifecycle.ApiName(b.Status), PaymentResponse.StatusName(p.Status), p.Amount, p.Currency,
            ApiFormat.Format(p.DueAt), p.Status == PaymentStatus.Pending ? p.ApproveUrl : null, p.PaidAt is { } paid ? ApiFormat.Format(paid) : null);
    }
}

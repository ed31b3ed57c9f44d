using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Payments;
using Rendezvous.Integrations;

namespace Rendezvous.Integrations.Payments;

/// <summary>What trying to take a payment came to: the booking as it now is, or why not.</summary>
public sealed record PaymentAttempt(Booking? Booking, DomainError? Error = null, IntegrationException? Upstream = null)
{
    public bool IsSuccess => Error is null && Upstream is null;
}

/// <summary>
/// Payments for bookings on pages with a price, through PayPal Orders v2. A booking is made unpaid (AwaitingPayment,
/// holding its time) in its own transaction; the order is created right after, outside it. The customer approves at
/// PayPal and comes back (or a front end calls capture); capturing schedules the booking. When the window closes the
/// worker asks PayPal what became of the order: a payment that went through is recorded (a payer who approved but never
/// came back is captured then), anything else expires the booking and frees its time. The expiry worker and a capture
/// never act on one booking at once: each first leases the payment row. Refunds are only made by hand.
/// </summary>
public sealed partial class PaymentService(
    RendezvousDbContext db, PayPalClient paypal, IntegrationSecrets secrets, IClock clock,
    IOptions<PublicUrlOptions> urls, ILogger<PaymentService> logger)
{
    /// <summary>How long one process may talk to PayPal about one payment or refund before another may take over.</summary>
    public static Duration Lease { get; } = Duration.FromMinutes(2);

    /// <summary>How long to wait before looking again at a payment PayPal is still processing.</summary>
    public static Duration PendingRecheck { get; } = Duration.FromMinutes(15);

    public string ReturnUrl(BookingId id) => $"{urls.Value.PublicBaseUrl.TrimEnd('/')}/payments/paypal/return?bookingId={id}";

    public string CancelUrl(BookingId id) => $"{urls.Value.PublicBaseUrl.TrimEnd('/')}/payments/paypal/cancel?bookingId={id}";

    /// <summary>The booking (tracked), across organizations: payment routes are reached by the booking id alone.</summary>
    public Task<Booking?> LoadAsync(BookingId id, CancellationToken ct) =>
        db.Bookings.AcrossTenants().FirstOrDefaultAsync(b => b.Id == id, ct);

    public async Task<bool> IsConfiguredAsync(OrganizationId org, CancellationToken ct) =>
        await db.PayPalAccounts.AcrossTenants().AnyAsync(a => a.OrganizationId == org, ct);

    /// <summary>
    /// Creates the PayPal order of an unpaid booking if it has none yet. A failure is noted on the payment (the worker tries
    /// again) and the booking is returned without an approve URL; the booking itself is never in doubt.
    /// </summary>
    public async Task<Booking?> EnsureOrderAsync(BookingId id, CancellationToken ct)
    {
        var booking = await LoadAsync(id, ct);
        if (booking is not { Status: BookingStatus.AwaitingPayment, Payment: { Status: PaymentStatus.Pending, OrderId: null } payment })
        {
            return booking;
        }

        var credentials = await CredentialsAsync(booking.OrganizationId, ct);
        if (credentials is null)
        {
            await NoteAsync(id, "PayPal is not connected for this organization", ct);
            return booking;
        }

        var title = await db.BookingPages.AcrossTenants().Where(p => p.Id == booking.BookingPageId).Select(p => p.Title).FirstAsync(ct);
        try
        {
            var order = await paypal.CreateOrderAsync(credentials, id.ToString(), payment.Price, title, ReturnUrl(id), CancelUrl(id), ct);
            var attached = booking.AttachPaymentOrder(order.Id, order.ApproveUrl, clock.GetCurrentInstant());
            if (attached.IsSuccess)
            {
                await db.SaveChangesAsync(ct);
            }
        }
        catch (IntegrationException ex)
        {
            LogOrderFailed(logger, ex, id.ToString());
            await NoteAsync(id, ex.Message, ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Changed meanwhile (another process attached the same order: PayPal-Request-Id made it one order).
            await db.Entry(booking).ReloadAsync(ct);
        }

        return booking;
    }

    /// <summary>
    /// Captures an unpaid booking's approved order and schedules the booking. Safe to call any number of times (a return
    /// URL reloaded, a front end and the return URL both calling): a paid booking answers as paid.
    /// </summary>
    public async Task<PaymentAttempt> CaptureAsync(BookingId id, string? orderToken, CancellationToken ct)
    {
        var booking = await LoadAsync(id, ct);
        if (booking is null)
        {
            return new(null, DomainError.NotFound("Booking"));
        }

        if (booking.Payment is not { } payment)
        {
            return new(booking, DomainError.Conflict("no_payment", "This booking needs no payment."));
        }

        if (payment.Status is PaymentStatus.Paid or PaymentStatus.PartiallyRefunded or PaymentStatus.Refunded)
        {
            return new(booking);
        }

        if (payment.Status != PaymentStatus.Pending || booking.Status != BookingStatus.AwaitingPayment)
        {
            return new(booking, DomainError.Conflict("payment_window_closed",
                "This booking is no longer waiting for payment (the time to pay has passed, or it was canceled). You have not been charged."));
        }

        if (orderToken is not null && payment.OrderId is not null && orderToken != payment.OrderId)
        {
            return new(booking, DomainError.Validation("token", "is not this booking's PayPal order"));
        }

        if (payment.OrderId is null)
        {
            booking = await EnsureOrderAsync(id, ct) ?? booking;
            return new(booking, DomainError.Conflict("payment_not_approved", "Approve the payment at PayPal first."));
        }

        var credentials = await CredentialsAsync(booking.OrganizationId, ct);
        if (credentials is null)
        {
            return new(booking, DomainError.Conflict("payments_unavailable", "PayPal is not connected for this organization."));
        }

        if (!await TryLeaseAsync(id, ct))
        {
            return new(booking, DomainError.Conflict("payment_in_progress", "This payment is being processed right now; try again in a moment."));
        }

        try
        {
            var result = await paypal.CaptureAsync(credentials, payment.OrderId, id.ToString(), ct);
            return await ApplyCaptureAsync(booking, credentials, result, Actor.ForCustomer(booking.CustomerId), ct);
        }
        catch (IntegrationException ex)
        {
            LogCaptureFailed(logger, ex, id.ToString());
            await NoteAsync(id, ex.Message, ct);
            return new(booking, null, ex);
        }
        finally
        {
            await ReleaseAsync(id, null, CancellationToken.None);
        }
    }

    /// <summary>
    /// Settles one unpaid booking whose window has closed (the caller holds its lease): records a payment PayPal took,
    /// captures an order the payer approved, and otherwise expires the booking. When PayPal cannot be asked, nothing is
    /// expired: the booking is looked at again a minute later, because it may have been paid.
    /// </summary>
    public async Task SettleDueAsync(BookingId id, CancellationToken ct)
    {
        var booking = await LoadAsync(id, ct);
        var now = clock.GetCurrentInstant();
        if (booking is not { Status: BookingStatus.AwaitingPayment, Payment: { Status: PaymentStatus.Pending } payment } || now < payment.DueAt)
        {
            await ReleaseAsync(id, null, ct);
            return;
        }

        var credentials = await CredentialsAsync(booking.OrganizationId, ct);
        try
        {
            if (payment.OrderId is not null && credentials is not null)
            {
                var order = await paypal.GetOrderAsync(credentials, payment.OrderId, ct);
                if (order is { CaptureStatus: "COMPLETED", CaptureId: { } captureId })
                {
                    await ConfirmAsync(booking, captureId, Actor.ForCustomer(booking.CustomerId), ct);
                    await ReleaseAsync(id, null, ct);
                    return;
                }

                if (order is { CaptureStatus: "PENDING" })
                {
                    await ReleaseAsync(id, now + PendingRecheck, ct);
                    return;
                }

                if (order is { Status: "APPROVED" })
                {
                    // Approved, but the payer never came back to us: take the payment now.
                    var result = await paypal.CaptureAsync(credentials, order.Id, id.ToString(), ct);
                    var attempt = await ApplyCaptureAsync(booking, credentials, result, Actor.ForCustomer(booking.CustomerId), ct);
                    if (attempt.IsSuccess || attempt.Error?.Code == "payment_pending")
                    {
                        await ReleaseAsync(id, attempt.IsSuccess ? null : now + PendingRecheck, ct);
                        return;
                    }
                }
            }

            booking.ExpirePayment(now);
            await db.SaveChangesAsync(ct);
            await ReleaseAsync(id, null, ct);
        }
        catch (IntegrationException ex)
        {
            LogSettleFailed(logger, ex, id.ToString());
            await NoteAsync(id, ex.Message, ct);
            await ReleaseAsync(id, now + Duration.FromMinutes(1), ct);
        }
    }

    /// <summary>
    /// Records a refund an administrator asked for and sends it to PayPal at once. If PayPal cannot be reached it stays
    /// pending and the worker sends it again (with the same idempotency key, so it is refunded once).
    /// </summary>
    public async Task<Result<Booking>> RefundAsync(Booking booking, decimal? amount, string? reason, UserId by, CancellationToken ct)
    {
        var refund = booking.RequestRefund(amount, reason, Actor.ForUser(by), clock.GetCurrentInstant());
        if (!refund.IsSuccess)
        {
            return refund.Error!;
        }

        await db.SaveChangesAsync(ct);
        await ExecuteRefundAsync(booking.Id, refund.Value.Id, ct);
        return booking;
    }

    /// <summary>Sends a pending refund to PayPal and records the answer; a failure that may pass is retried later by the worker.</summary>
    public async Task ExecuteRefundAsync(BookingId bookingId, Guid refundId, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var attempts = await TryLeaseRefundAsync(refundId, now, ct);
        if (attempts is null)
        {
            return;
        }

        var booking = await LoadAsync(bookingId, ct);
        var refund = booking?.Payment?.Refunds.FirstOrDefault(r => r.Id == refundId);
        if (booking is null || refund is not { Status: RefundStatus.Pending })
        {
            return;
        }

        Instant? retryAt = null;
        string? error = null;
        try
        {
            var credentials = await CredentialsAsync(booking.OrganizationId, ct)
                ?? throw new IntegrationException(PayPalClient.Provider, IntegrationFailureKind.Configuration, "PayPal is not connected for this organization");
            var done = await paypal.RefundAsync(credentials, booking.Payment!.CaptureId!, refund.Id, refund.Money, refund.Reason, ct);
            booking.CompleteRefund(refund.Id, done.Id, clock.GetCurrentInstant());
        }
        catch (IntegrationException ex) when (ex.Kind == IntegrationFailureKind.Rejected)
        {
            LogRefundRefused(logger, ex, refundId.ToString());
            booking.FailRefund(refund.Id, ex.Message, clock.GetCurrentInstant());
        }
        catch (IntegrationException ex)
        {
            LogRefundRetry(logger, ex, refundId.ToString(), attempts.Value);
            error = ex.Message;
            retryAt = now + Data.Outbox.OutboxProcessor.Backoff(attempts.Value);
        }

        await db.SaveChangesAsync(ct);
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE booking_refunds SET locked_until = NULL, next_attempt_at = {retryAt}, last_error = {error} WHERE id = {refundId}
            """, ct);
    }

    /// <summary>Leases up to <paramref name="batchSize"/> unpaid payments whose window has closed; returns their bookings.</summary>
    public static async Task<IReadOnlyList<BookingId>> ClaimDueAsync(NpgsqlDataSource dataSource, Instant now, int batchSize, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            WITH due AS (
                SELECT booking_id FROM booking_payments
                WHERE status = 'Pending' AND due_at <= @now AND (locked_until IS NULL OR locked_until < @now)
                ORDER BY due_at
                LIMIT @limit
                FOR UPDATE SKIP LOCKED)
            UPDATE booking_payments p SET locked_until = @until FROM due WHERE p.booking_id = due.booking_id
            RETURNING p.booking_id
            """);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("until", now + Lease);
        cmd.Parameters.AddWithValue("limit", batchSize);
        return await ReadIdsAsync(cmd, ct);
    }

    /// <summary>Unpaid payments still open whose order could not be created yet (PayPal was down when they were booked).</summary>
    public static async Task<IReadOnlyList<BookingId>> FindWithoutOrderAsync(NpgsqlDataSource dataSource, Instant now, int batchSize, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT booking_id FROM booking_payments
            WHERE status = 'Pending' AND order_id IS NULL AND due_at > @now AND (locked_until IS NULL OR locked_until < @now)
            ORDER BY due_at LIMIT @limit
            """);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("limit", batchSize);
        return await ReadIdsAsync(cmd, ct);
    }

    /// <summary>Pending refunds that are due to be (re)sent.</summary>
    public static async Task<IReadOnlyList<(BookingId Booking, Guid Refund)>> FindRefundsDueAsync(NpgsqlDataSource dataSource, Instant now,
        int batchSize, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT booking_id, id FROM booking_refunds
            WHERE status = 'Pending' AND (next_attempt_at IS NULL OR next_attempt_at <= @now) AND (locked_until IS NULL OR locked_until < @now)
            ORDER BY requested_at LIMIT @limit
            """);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("limit", batchSize);
        var result = new List<(BookingId, Guid)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add((new BookingId(reader.GetGuid(0)), reader.GetGuid(1)));
        }

        return result;
    }

    private async Task<PaymentAttempt> ApplyCaptureAsync(Booking booking, PayPalCredentials credentials, CaptureResult result, Actor actor,
        CancellationToken ct)
    {
        var captureId = result.CaptureId;
        if (result.Outcome == CaptureOutcome.AlreadyCaptured)
        {
            var order = await paypal.GetOrderAsync(credentials, booking.Payment!.OrderId!, ct);
            captureId = order is { CaptureStatus: "COMPLETED" } ? order.CaptureId : null;
        }

        if (result.Outcome is CaptureOutcome.Completed or CaptureOutcome.AlreadyCaptured && captureId is not null)
        {
            return await ConfirmAsync(booking, captureId, actor, ct);
        }

        return result.Outcome switch
        {
            CaptureOutcome.Pending => new(booking, DomainError.Conflict("payment_pending",
                "PayPal is still processing this payment; the booking is confirmed once it completes.")),
            CaptureOutcome.Declined => new(booking, DomainError.Conflict("payment_declined",
                "PayPal declined the payment; approve it again with another way to pay.")),
            CaptureOutcome.OrderGone => new(booking, DomainError.Conflict("payment_window_closed",
                "The PayPal order has expired. You have not been charged.")),
            _ => new(booking, DomainError.Conflict("payment_not_approved", "Approve the payment at PayPal first.")),
        };
    }

    private async Task<PaymentAttempt> ConfirmAsync(Booking booking, string captureId, Actor actor, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var confirmed = booking.ConfirmPayment(captureId, actor, clock.GetCurrentInstant());
            if (!confirmed.IsSuccess)
            {
                // Paid for a booking that was canceled meanwhile: keep the trace for an administrator to refund by hand.
                LogPaidAfterCancel(logger, booking.Id.ToString(), captureId);
                await NoteAsync(booking.Id, $"PayPal captured {captureId} after the booking was {BookingLifecycle.DisplayName(booking.Status)}; refund it by hand", ct);
                return new(booking, confirmed.Error);
            }

            try
            {
                await db.SaveChangesAsync(ct);
                return new(booking);
            }
            catch (DbUpdateConcurrencyException) when (attempt == 0)
            {
                db.ChangeTracker.Clear();
                booking = await LoadAsync(booking.Id, ct) ?? booking;
            }
        }
    }

    private async Task<PayPalCredentials?> CredentialsAsync(OrganizationId org, CancellationToken ct)
    {
        var account = await db.PayPalAccounts.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(a => a.OrganizationId == org, ct);
        if (account is null)
        {
            return null;
        }

        try
        {
            return new PayPalCredentials(account.ClientId, secrets.UnprotectPayPalSecret(account.ProtectedClientSecret));
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private async Task<bool> TryLeaseAsync(BookingId id, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var leased = await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE booking_payments SET locked_until = {now + Lease}
            WHERE booking_id = {id.Value} AND status = 'Pending' AND (locked_until IS NULL OR locked_until < {now})
            """, ct);
        return leased == 1;
    }

    private Task ReleaseAsync(BookingId id, Instant? until, CancellationToken ct) =>
        db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE booking_payments SET locked_until = {until} WHERE booking_id = {id.Value}
            """, ct);

    private async Task<int?> TryLeaseRefundAsync(Guid refundId, Instant now, CancellationToken ct)
    {
        var attempts = await db.Database.SqlQuery<int>($"""
            UPDATE booking_refunds SET locked_until = {now + Lease}, attempts = attempts + 1
            WHERE id = {refundId} AND status = 'Pending' AND (locked_until IS NULL OR locked_until < {now})
            RETURNING attempts AS "Value"
            """).ToListAsync(ct);
        return attempts.Count == 1 ? attempts[0] : null;
    }

    private Task NoteAsync(BookingId id, string error, CancellationToken ct) =>
        db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE booking_payments SET last_error = {error}, attempts = attempts + 1 WHERE booking_id = {id.Value}
            """, ct);

    private static async Task<IReadOnlyList<BookingId>> ReadIdsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var ids = new List<BookingId>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(new BookingId(reader.GetGuid(0)));
        }

        return ids;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Creating the PayPal order of booking {BookingId} failed; the worker tries again")]
    private static partial void LogOrderFailed(ILogger logger, Exception exception, string bookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Capturing the PayPal payment of booking {BookingId} failed")]
    private static partial void LogCaptureFailed(ILogger logger, Exception exception, string bookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ask PayPal about the expired payment of booking {BookingId}; looking again shortly")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string bookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PayPal refused refund {RefundId} for good")]
    private static partial void LogRefundRefused(ILogger logger, Exception exception, string refundId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refund {RefundId} could not be sent (attempt {Attempt}); retrying later")]
    private static partial void LogRefundRetry(ILogger logger, Exception exception, string refundId, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Booking {BookingId} was paid ({CaptureId}) after it stopped waiting for payment; refund by hand")]
    private static partial void LogPaidAfterCancel(ILogger logger, string bookingId, string captureId);
}

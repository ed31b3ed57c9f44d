using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Payments;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Integrations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Payments;

/// <summary>
/// The organization's PayPal app (administrators), the public payment routes of a booking (reached by its id, showing
/// nothing but the payment), the pages PayPal sends the payer back to, and manual refunds (administrators).
/// </summary>
public static class PaymentsEndpoints
{
    public static void MapPayments(this IEndpointRouteBuilder api)
    {
        var account = api.MapGroup("/payments/paypal").WithTags("Payments").RequireAuthorization(ApiKeys.AdministratorPolicy);
        account.MapGet("/", GetAccountAsync);
        account.MapPut("/", PutAccountAsync);
        account.MapDelete("/", DeleteAccountAsync);

        var bookings = api.MapGroup("/bookings/{id}").WithTags("Payments");
        bookings.MapGet("/payment", GetPaymentAsync).AllowAnonymous();
        bookings.MapPost("/payment/capture", CaptureAsync).AllowAnonymous();
        bookings.MapPost("/refund", RefundAsync).RequireAuthorization(ApiKeys.AdministratorPolicy);
    }

    /// <summary>The pages PayPal sends the payer back to (return_url and cancel_url of the order).</summary>
    public static void MapPaymentPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/payments/paypal/return", ReturnPageAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/payments/paypal/cancel", CancelPageAsync).AllowAnonymous().ExcludeFromDescription();
    }

    internal static async Task<Ok<PayPalAccountResponse>> GetAccountAsync(RendezvousDbContext db, CancellationToken ct)
    {
        var account = await db.PayPalAccounts.AsNoTracking().FirstOrDefaultAsync(ct);
        return TypedResults.Ok(ToResponse(account));
    }

    internal static async Task<Results<Ok<PayPalAccountResponse>, ProblemHttpResult>> PutAccountAsync(
        PayPalAccountRequest request, RendezvousDbContext db, IntegrationSecrets secrets, IClock clock, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var account = await db.PayPalAccounts.FirstOrDefaultAsync(ct);
        var errors = new List<FieldError>();
        if (!ApiFormat.TryText(request.ClientId, 200, out var clientId))
        {
            errors.Add(new("clientId", "is required: the client id of the organization's PayPal REST app"));
        }

        string? secret = null;
        if (request.ClientSecret is not null && !ApiFormat.TryText(request.ClientSecret, 500, out secret))
        {
            errors.Add(new("clientSecret", "must be 1-500 characters"));
        }
        else if (request.ClientSecret is null && account is null)
        {
            errors.Add(new("clientSecret", "is required the first time"));
        }

        if (errors.Count > 0)
        {
            return Problems.From(DomainError.Validation(errors));
        }

        var now = clock.GetCurrentInstant();
        if (account is null)
        {
            account = new PayPalAccount
            {
                OrganizationId = me.OrganizationId,
                ClientId = clientId,
                ProtectedClientSecret = secrets.ProtectPayPalSecret(secret!),
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.PayPalAccounts.Add(account);
        }
        else
        {
            account.ClientId = clientId;
            if (secret is not null)
            {
                account.ProtectedClientSecret = secrets.ProtectPayPalSecret(secret);
            }

            account.UpdatedAt = now;
        }

        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResponse(account));
    }

    internal static async Task<NoContent> DeleteAccountAsync(RendezvousDbContext db, CancellationToken ct)
    {
        var account = await db.PayPalAccounts.FirstOrDefaultAsync(ct);
        if (account is not null)
        {
            db.PayPalAccounts.Remove(account);
            await db.SaveChangesAsync(ct);
        }

        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<PublicPaymentResponse>, ProblemHttpResult>> GetPaymentAsync(
        string id, PaymentService payments, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid))
        {
            return Problems.NotFound("Payment");
        }

        var booking = await payments.EnsureOrderAsync(new BookingId(guid), ct);
        return booking?.Payment is null ? Problems.NotFound("Payment") : TypedResults.Ok(PublicPaymentResponse.From(booking));
    }

    /// <summary>Captures the approved payment and schedules the booking; 409 with the payment (and where to approve it) otherwise.</summary>
    private static async Task<Results<Ok<PublicPaymentResponse>, ProblemHttpResult>> CaptureAsync(
        string id, PaymentService payments, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid))
        {
            return Problems.NotFound("Booking");
        }

        var attempt = await payments.CaptureAsync(new BookingId(guid), null, ct);
        return attempt.IsSuccess ? TypedResults.Ok(PublicPaymentResponse.From(attempt.Booking!)) : ProblemOf(attempt);
    }

    private static async Task<Results<Ok<BookingResponse>, ProblemHttpResult>> RefundAsync(
        string id, RefundRequest request, BookingService bookings, PaymentService payments, RendezvousDbContext db, HttpContext http,
        CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var booking = await bookings.FindForStaffAsync(id, me, ct);
        if (!booking.IsSuccess)
        {
            return Problems.From(booking.Error!);
        }

        var refunded = await payments.RefundAsync(booking.Value, request.Amount, request.Reason, me.Id, ct);
        if (!refunded.IsSuccess)
        {
            return Problems.From(refunded.Error!);
        }

        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == refunded.Value.CustomerId, ct);
        return TypedResults.Ok(BookingResponse.From(refunded.Value, customer, withHistory: true));
    }

    private static async Task<IResult> ReturnPageAsync(string? bookingId, string? token, PaymentService payments, RendezvousDbContext db,
        CancellationToken ct)
    {
        if (!Ids.TryParse(bookingId, out var guid))
        {
            return Html.Page("Payment not found", "<p>We could not find this payment.</p>", StatusCodes.Status404NotFound);
        }

        var attempt = await payments.CaptureAsync(new BookingId(guid), token, ct);
        if (attempt.IsSuccess)
        {
            var b = attempt.Booking!;
            // Shown in the zone the customer booked from.
            var zoneId = await db.Customers.AcrossTenants().Where(c => c.Id == b.CustomerId).Select(c => c.TimeZoneId).FirstOrDefaultAsync(ct);
            var zone = Domain.TimeZones.Find(zoneId) ?? NodaTime.DateTimeZone.Utc;
            return Html.Page("Payment received",
                $"<p>Thank you: we received your payment of {Html.E(b.Payment!.Price.ToString())}, and your booking on " +
                $"{Html.E(ApiFormat.Format(b.Start, zone))} ({Html.E(zone.Id)}) is confirmed. A confirmation email is on its way.</p>");
        }

        if (attempt.Upstream is not null)
        {
            return Html.Page("Payment not finished yet",
                "<p>We could not reach PayPal to complete your payment. Please reload this page in a minute; your time is still held for you.</p>",
                StatusCodes.Status502BadGateway);
        }

        var approve = attempt.Booking?.Payment?.Status == PaymentStatus.Pending ? attempt.Booking.Payment.ApproveUrl : null;
        var again = approve is null ? "" : $"<p class=\"actions\"><a href=\"{Html.E(approve)}\">Pay with PayPal</a></p>";
        return Html.Page("Payment not completed", $"<p>{Html.E(attempt.Error!.Message)}</p>{again}",
            attempt.Error.Kind == ErrorKind.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> CancelPageAsync(string? bookingId, PaymentService payments, CancellationToken ct)
    {
        var booking = Ids.TryParse(bookingId, out var guid) ? await payments.LoadAsync(new BookingId(guid), ct) : null;
        if (booking?.Payment is not { } payment)
        {
            return Html.Page("Payment not found", "<p>We could not find this payment.</p>", StatusCodes.Status404NotFound);
        }

        if (payment.Status != PaymentStatus.Pending || payment.ApproveUrl is null)
        {
            return Html.Page("Payment not completed", "<p>You have not been charged. This booking is no longer waiting for payment.</p>");
        }

        return Html.Page("Payment not completed",
            $"<p>You have not been charged. Your time is held until {Html.E(ApiFormat.Format(payment.DueAt))}; after that it is released.</p>" +
            $"<p class=\"actions\"><a href=\"{Html.E(payment.ApproveUrl)}\">Pay with PayPal</a></p>");
    }

    private static ProblemHttpResult ProblemOf(PaymentAttempt attempt)
    {
        ProblemHttpResult problem;
        if (attempt.Upstream is { } upstream)
        {
            problem = TypedResults.Problem(detail: upstream.Message, statusCode: StatusCodes.Status502BadGateway, title: "PayPal is unavailable.",
                extensions: new Dictionary<string, object?> { ["code"] = upstream.Kind == IntegrationFailureKind.Configuration ? "paypal_refused" : "paypal_unavailable" });
        }
        else
        {
            problem = Problems.From(attempt.Error!);
        }

        if (attempt.Booking?.Payment is not null)
        {
            problem.ProblemDetails.Extensions["payment"] = PublicPaymentResponse.From(attempt.Booking);
        }

        return problem;
    }

    private static PayPalAccountResponse ToResponse(PayPalAccount? account) =>
        new(account is not null, account?.ClientId, account is null ? null : ApiFormat.Format(account.UpdatedAt));
}

using Microsoft.AspNetCore.Mvc;
using Rendezvous.Data;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>
/// One booking: its details and actions on a page of its own (also what the details pane loads), and the actions'
/// handlers (approve, decline, cancel, no-show), which go through <see cref="BookingService"/> like the API.
/// </summary>
public sealed class BookingModel(RendezvousDbContext db, BookingDetailsLoader loader, BookingService bookings,
    Rendezvous.Integrations.Payments.PaymentService payments) : StaffPageModel
{
    public BookingDetails Details { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct) => await ShowAsync(id, null, ct);

    /// <summary>The details alone, for the script that opens them beside a list.</summary>
    public async Task<IActionResult> OnGetPaneAsync(string id, string? returnUrl, CancellationToken ct)
    {
        var loaded = await loader.LoadAsync(id, Me, await MyZoneAsync(db, ct), ct);
        if (!loaded.IsSuccess)
        {
            return NotFound();
        }

        loaded.Value.ReturnUrl = LocalOr(returnUrl, loaded.Value.Path);
        return Partial("_BookingDetails", loaded.Value);
    }

    public Task<IActionResult> OnPostApproveAsync(string id, string? reason, string? returnUrl, CancellationToken ct) =>
        ActAsync(id, BookingAction.Approve, reason, returnUrl, "The request is approved; the customer is told by email.", ct);

    public Task<IActionResult> OnPostDeclineAsync(string id, string? reason, string? returnUrl, CancellationToken ct) =>
        ActAsync(id, BookingAction.Decline, reason, returnUrl, "The request is declined; the customer is told by email.", ct);

    public Task<IActionResult> OnPostCancelAsync(string id, string? reason, string? returnUrl, CancellationToken ct) =>
        ActAsync(id, BookingAction.Cancel, reason, returnUrl, "The booking is canceled; the customer is told by email.", ct);

    public Task<IActionResult> OnPostNoShowAsync(string id, string? reason, string? returnUrl, CancellationToken ct) =>
        ActAsync(id, BookingAction.MarkNoShow, reason, returnUrl, "The booking is marked as a no-show.", ct);

    /// <summary>
    /// Gives back some or all of a paid booking's payment (administrators), as <c>POST /bookings/{id}/refund</c> does: the
    /// refund is recorded at once and sent to PayPal, whose answer the booking's payment then shows.
    /// </summary>
    public async Task<IActionResult> OnPostRefundAsync(string id, string? amount, string? reason, string? returnUrl, CancellationToken ct)
    {
        var back = LocalOr(returnUrl, $"/app/bookings/{id}");
        if (!Me.IsAdministrator)
        {
            TempData["FlashError"] = "Only administrators can refund payments.";
            return Go(back);
        }

        decimal? value = null;
        if (!string.IsNullOrWhiteSpace(amount))
        {
            if (!decimal.TryParse(amount.Trim(), System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
            {
                TempData["FlashError"] = "The amount must be a number such as 12.50, or empty to refund everything still paid.";
                return Go(back);
            }

            value = parsed;
        }

        var booking = await bookings.FindForStaffAsync(id, Me, ct);
        if (!booking.IsSuccess)
        {
            FlashError(booking.Error!);
            return Go(back);
        }

        var refunded = await payments.RefundAsync(booking.Value, value, string.IsNullOrWhiteSpace(reason) ? null : reason.Trim(), Me.Id, ct);
        if (refunded.IsSuccess)
        {
            var last = refunded.Value.Payment!.Refunds[^1];
            Flash(last.Status switch
            {
                Domain.Bookings.RefundStatus.Completed => $"Refunded {last.Amount.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)} {last.Currency}.",
                Domain.Bookings.RefundStatus.Failed => "PayPal refused the refund; the booking's payment shows why.",
                _ => $"The refund of {last.Amount.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)} {last.Currency} is on its way to PayPal.",
            });
        }
        else
        {
            FlashError(refunded.Error!);
        }

        return Go(back);
    }

    private async Task<IActionResult> ActAsync(string id, BookingAction action, string? reason, string? returnUrl, string done, CancellationToken ct)
    {
        var clean = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        if (clean is { Length: > 2000 })
        {
            clean = clean[..2000];
        }

        var result = await bookings.ActAsync(id, action, clean, Me, ct);
        if (result.IsSuccess)
        {
            Flash(done);
        }
        else
        {
            FlashError(result.Error!);
        }

        return Go(LocalOr(returnUrl, $"/app/bookings/{Uri.EscapeDataString(id)}"));
    }

    private async Task<IActionResult> ShowAsync(string id, string? returnUrl, CancellationToken ct)
    {
        ViewData["Nav"] = "activity";
        var loaded = await loader.LoadAsync(id, Me, await MyZoneAsync(db, ct), ct);
        if (!loaded.IsSuccess)
        {
            return Missing("Booking not found", "There is no such booking, or it is not one of yours.");
        }

        Details = loaded.Value;
        Details.ReturnUrl = LocalOr(returnUrl, Details.Path);
        ViewData["Title"] = $"{Details.Page.Title}: {Details.Customer?.Name}";
        return Page();
    }
}

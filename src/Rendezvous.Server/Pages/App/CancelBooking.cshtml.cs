using Microsoft.AspNetCore.Mvc;
using Rendezvous.Data;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>
/// A staff cancellation asks first (seed 003: "a warning message will appear asking you to confirm the Cancellation"): the
/// booking, what canceling does, an optional reason for the customer, then the cancellation through
/// <see cref="BookingService"/> as the API does it.
/// </summary>
public sealed class CancelBookingModel(RendezvousDbContext db, BookingDetailsLoader loader, BookingService bookings) : StaffPageModel
{
    public BookingDetails Details { get; private set; } = null!;

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct) => await LoadAsync(id, ct) ?? Page();

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        var result = await bookings.ActAsync(id, BookingAction.Cancel, SelfServiceService.Clean(Reason), Me, ct);
        if (!result.IsSuccess)
        {
            FlashError(result.Error!);
            return Go(LocalOr(ReturnUrl, Details.Path));
        }

        Flash("The booking is canceled; the customer is told by email.");
        return Go(LocalOr(ReturnUrl, Details.Path));
    }

    private async Task<IActionResult?> LoadAsync(string id, CancellationToken ct)
    {
        ViewData["Nav"] = "activity";
        var loaded = await loader.LoadAsync(id, Me, await MyZoneAsync(db, ct), ct);
        if (!loaded.IsSuccess)
        {
            return Missing("Booking not found", "There is no such booking, or it is not one of yours.");
        }

        Details = loaded.Value;
        Details.ReturnUrl = LocalOr(ReturnUrl, Details.Path);
        ViewData["Title"] = "Cancel this booking? · " + Details.Page.Title;
        return null;
    }
}

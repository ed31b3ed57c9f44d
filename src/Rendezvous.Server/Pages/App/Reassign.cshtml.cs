using Microsoft.AspNetCore.Mvc;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Server.Features.Reassignment;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App;

/// <summary>
/// An administrator reassigns a booking to another booking page (and so another team member), from the booking's action
/// menu (seed 001): the pages that can receive it, whether each owner is free at the meeting time, and what happens to the
/// location; then the reassignment through <see cref="ReassignmentService"/>, as the API does it.
/// </summary>
public sealed class ReassignModel(RendezvousDbContext db, BookingDetailsLoader loader, ReassignmentService reassignment) : StaffPageModel
{
    public BookingDetails Details { get; private set; } = null!;

    public ReassignmentTargetsResponse? Targets { get; private set; }

    public IReadOnlyList<RefusalResponse> Refusals { get; private set; } = [];

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? TargetPageId { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct) => await LoadAsync(id, ct) ?? Page();

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken ct)
    {
        if (await LoadAsync(id, ct) is { } missing)
        {
            return missing;
        }

        ReassignmentFailure? refused = null;
        var result = await reassignment.ReassignAsync(id, new ReassignRequest(TargetPageId, string.IsNullOrWhiteSpace(Reason) ? null : Reason.Trim()),
            Me, f => refused = f, ct);
        if (!result.IsSuccess)
        {
            Errors.Labels["bookingPageId"] = "The new booking page";
            Errors.Labels["reason"] = "The reason";
            Errors.Add(result.Error!, f => f);
            Refusals = refused is null ? [] : [.. refused.Refusals.Select(r => new RefusalResponse(r.Code, r.Message))];
            return Page();
        }

        var (booking, location) = result.Value;
        var target = Targets?.Targets.FirstOrDefault(t => t.BookingPageId == booking.BookingPageId.ToString());
        Flash($"The booking is reassigned{(target is null ? "" : $" to {target.OwnerName} ({target.Title})")}.{(location.Notice is { } notice ? " " + notice : "")}");
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
        ViewData["Title"] = "Reassign · " + Details.Page.Title;
        var targets = await reassignment.TargetsAsync(id, Me, ct);
        if (!targets.IsSuccess)
        {
            if (targets.Error!.Kind == ErrorKind.Forbidden)
            {
                Response.StatusCode = StatusCodes.Status403Forbidden;
                Refusals = [new RefusalResponse(targets.Error.Code, targets.Error.Message)];
                return Page();
            }

            return Missing("Booking not found", targets.Error.Message);
        }

        Targets = targets.Value;
        Refusals = targets.Value.Refusals;
        return null;
    }
}

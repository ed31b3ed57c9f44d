using Microsoft.AspNetCore.Mvc;
using Rendezvous.Data;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Infrastructure;
using static Rendezvous.Integrations.Localization.Texts;

namespace Rendezvous.Server.Pages.Manage;

/// <summary>Cancel behind a cancel link: a confirmation step with an optional reason, then the cancellation within policy.</summary>
public sealed class CancelModel(RendezvousDbContext db, SelfServiceService selfService) : ManagePageModel(db, selfService)
{
    public const int MaxReason = SelfServiceService.MaxReason;

    /// <summary>Set once the appointment is canceled.</summary>
    public bool Done { get; private set; }

    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct)
    {
        if (await OpenAsync(token, LinkPurpose.Cancel, ct) is { } missing)
        {
            return missing;
        }

        ViewData["Title"] = View.CanCancel ? (IsStaff ? T("Cancel this booking?") : T("Cancel this appointment?")) : T("This appointment cannot be canceled online");
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string token, [FromForm] string? reason, CancellationToken ct)
    {
        if (await OpenAsync(token, LinkPurpose.Cancel, ct) is { } missing)
        {
            return missing;
        }

        var result = await SelfService.CancelAsync(Target, reason, ct);
        if (!result.IsSuccess)
        {
            Problem = SelfServiceEndpoints.WithContact(result.Error!, Target).Message;
            ViewData["Title"] = T("The appointment was not canceled");
            Response.StatusCode = Problems.StatusOf(result.Error!.Kind);
            return Page();
        }

        Refresh(Target with { Booking = result.Value });
        Done = true;
        ViewData["Title"] = IsStaff ? T("The booking is canceled") : T("Your appointment is canceled");
        return Page();
    }
}

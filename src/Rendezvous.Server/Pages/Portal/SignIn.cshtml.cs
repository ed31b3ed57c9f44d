using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Server.Features.Portal;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.Portal;

/// <summary>Where an emailed sign-in link leads: used once, it signs the customer in and goes to their appointments.</summary>
public sealed class SignInModel(RendezvousDbContext db, IClock clock) : WebPageModel
{
    public string Org { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string org, string token, CancellationToken ct)
    {
        Org = org;
        if (await PortalEndpoints.UseSignInLinkAsync(org, token, HttpContext, db, clock, ct))
        {
            return Redirect($"/portal/{Uri.EscapeDataString(org)}");
        }

        return Missing("This sign-in link is no longer valid",
            $"Sign-in links work once and for {PortalEndpoints.LinkLifetime.TotalMinutes:0} minutes. Ask for a new one from the portal.");
    }
}

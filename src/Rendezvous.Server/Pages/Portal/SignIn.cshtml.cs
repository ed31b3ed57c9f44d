using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Server.Features.Portal;
using Rendezvous.Server.Features.Web;
using static Rendezvous.Integrations.Localization.Texts;

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

        return Missing(T("This sign-in link is no longer valid"),
            T("Sign-in links work once and for {0:0} minutes. Ask for a new one from the portal.", PortalEndpoints.LinkLifetime.TotalMinutes));
    }
}

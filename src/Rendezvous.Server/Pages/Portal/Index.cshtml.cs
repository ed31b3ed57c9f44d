using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Portal;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;
using static Rendezvous.Integrations.Localization.Texts;

namespace Rendezvous.Server.Pages.Portal;

/// <summary>
/// The customer portal of one organization: sign in with an emailed one-time link or a password, then see every
/// appointment and reschedule or cancel through the same self-service pages as the emailed links.
/// </summary>
[Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(Rendezvous.Server.Features.Security.RateLimits.SignIn)]
public sealed class IndexModel(RendezvousDbContext db, IPortalMailer mailer, SelfServiceService selfService, SelfServiceLinks links, IClock clock,
    Rendezvous.Server.Features.Security.EmailLimiter perEmail)
    : WebPageModel
{
    public Organization Organization { get; private set; } = null!;

    public Customer? Customer { get; private set; }

    public IReadOnlyList<PortalAppointment> Appointments { get; private set; } = [];

    public bool HasPassword { get; private set; }

    /// <summary>Shown after a sign-in link was asked for.</summary>
    public string? LinkSentTo { get; private set; }

    public string? SignInProblem { get; private set; }

    /// <summary>How the appointments are shown: <c>list</c>, or a calendar of a <c>month</c> or a <c>week</c>.</summary>
    [BindProperty(SupportsGet = true, Name = "view")]
    public string? View { get; set; }

    /// <summary>The month (uuuu-MM) or the week (any day of it, uuuu-MM-dd) the calendar shows.</summary>
    [BindProperty(SupportsGet = true, Name = "at")]
    public string? At { get; set; }

    public PortalCalendar? Calendar { get; private set; }

    public async Task<IActionResult> OnGetAsync(string org, CancellationToken ct) => await ShowAsync(org, ct);

    public async Task<IActionResult> OnPostLinkAsync(string org, [FromForm] string? email, CancellationToken ct)
    {
        if (await FindAsync(org, ct) is { } missing)
        {
            return missing;
        }

        Errors.Labels["link-email"] = "Email";
        if (!ApiFormat.TryNormalizeEmail(email, out var address))
        {
            Errors.Add("link-email", "must be a valid email address");
            return await ShowAsync(org, ct);
        }

        // Past the per-email limit the page answers as if sent: the inbox already holds fresh links.
        if (perEmail.TryAcquire(address) is null)
        {
            await PortalEndpoints.SendSignInLinkAsync(org, address, db, mailer, links, clock, ct);
        }

        LinkSentTo = address;
        return await ShowAsync(org, ct);
    }

    public async Task<IActionResult> OnPostPasswordAsync(string org, [FromForm] string? email, [FromForm] string? password, CancellationToken ct)
    {
        if (await FindAsync(org, ct) is { } missing)
        {
            return missing;
        }

        var customer = ApiFormat.TryNormalizeEmail(email, out var address) && password is { Length: > 0 and <= 200 }
            ? await PortalEndpoints.SignInWithPasswordAsync(org, address, password, HttpContext, db, ct)
            : null;
        if (customer is null)
        {
            SignInProblem = T("The email or password is not right.");
            return await ShowAsync(org, ct);
        }

        return Go($"/portal/{Organization.Slug}");
    }

    public async Task<IActionResult> OnPostSetPasswordAsync(string org, [FromForm] string? password, [FromForm] string? confirm, CancellationToken ct)
    {
        var me = await PortalEndpoints.CurrentAsync(org, HttpContext, db, ct);
        if (me is null)
        {
            return Go($"/portal/{Uri.EscapeDataString(org)}");
        }

        Errors.Labels["password"] = T("The password");
        // The two must match only once the password itself will do; the store checks that again.
        if (PortalEndpoints.CheckPassword(password) is null && password != confirm)
        {
            Errors.Add("confirm", T("The two passwords are not the same."));
            return await ShowAsync(org, ct);
        }

        var stored = await PortalEndpoints.StorePasswordAsync(me.Value.Customer, password, db, ct);
        if (!stored.IsSuccess)
        {
            Errors.Add(stored.Error!);
            return await ShowAsync(org, ct);
        }

        Flash(T("Your password is set. Next time you can sign in with it."));
        return Go($"/portal/{me.Value.Organization.Slug}");
    }

    public async Task<IActionResult> OnPostSignOutAsync(string org)
    {
        await HttpContext.SignOutAsync(PortalEndpoints.Scheme);
        Flash(T("You are signed out."));
        return Go($"/portal/{Uri.EscapeDataString(org)}");
    }

    private async Task<IActionResult?> FindAsync(string org, CancellationToken ct)
    {
        var organization = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Slug == org, ct);
        if (organization is null)
        {
            return Missing(T("Portal not found"), T("There is no customer portal at this address. Please check the link you were given."));
        }

        Organization = organization;
        ViewData["Brand"] = organization.Name;
        ViewData["BrandHref"] = $"/portal/{organization.Slug}";
        return null;
    }

    private async Task<IActionResult> ShowAsync(string org, CancellationToken ct)
    {
        if (await FindAsync(org, ct) is { } missing)
        {
            return missing;
        }

        var me = await PortalEndpoints.CurrentAsync(org, HttpContext, db, ct);
        if (me is null)
        {
            ViewData["Title"] = T("Sign in to see your appointments");
            return Page();
        }

        Customer = me.Value.Customer;
        Appointments = await PortalEndpoints.ListAsync(Customer, db, selfService, links, clock, ct);
        HasPassword = await PortalEndpoints.HasPasswordAsync(Customer, db, ct);
        if (View is "month" or "week")
        {
            Calendar = PortalCalendar.Build(Appointments, View == "week", At, clock.GetCurrentInstant());
        }
        ViewData["Title"] = T("Your appointments");
        return Page();
    }
}

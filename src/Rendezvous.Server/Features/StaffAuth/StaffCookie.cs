using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.StaffAuth;

/// <summary>
/// The web application's sign-in for team members: an HTTP-only, SameSite=Lax cookie carrying the same claims as an API
/// key (so <see cref="CurrentUser"/> works unchanged) plus a fingerprint of the password hash. Every request re-reads the
/// user: a removed user, a changed password or a changed role takes effect at once. The API does not accept this cookie;
/// it stays bearer-only, so no API call can be forged from another site.
/// </summary>
public static class StaffCookie
{
    public const string Scheme = "Staff";
    public const string Policy = "staff";
    public const string AdministratorPolicy = "staff-administrator";
    public const string StampClaim = "rdv:stamp";

    public static void AddStaffCookie(this AuthenticationBuilder authentication) =>
        authentication.AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "rdv_staff";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(12);
            o.SlidingExpiration = true;
            o.LoginPath = "/app/sign-in";
            o.LogoutPath = "/app/sign-out";
            o.AccessDeniedPath = "/app/denied";
            o.ReturnUrlParameter = "returnUrl";
            o.Events.OnValidatePrincipal = ValidateAsync;
        });

    public static AuthorizationBuilder AddStaffPolicies(this AuthorizationBuilder authorization) => authorization
        .AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser())
        .AddPolicy(AdministratorPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole("administrator"));

    public static ClaimsPrincipal PrincipalFor(User user, string? passwordHash) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()),
        new Claim(ClaimTypes.Name, user.Name),
        new Claim(ClaimTypes.Role, user.IsAdministrator ? "administrator" : "member"),
        new Claim(ApiKeys.OrganizationClaim, user.OrganizationId.ToString()),
        new Claim(StampClaim, StaffAccounts.StampOf(passwordHash)),
    ], Scheme, ClaimTypes.Name, ClaimTypes.Role));

    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        if (principal is null || !Ids.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id))
        {
            context.RejectPrincipal();
            return;
        }

        var services = context.HttpContext.RequestServices;
        var db = services.GetRequiredService<RendezvousDbContext>();
        var user = await db.Users.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(u => u.Id == new UserId(id), context.HttpContext.RequestAborted);
        var hash = user is null ? null : await services.GetRequiredService<StaffAccounts>().PasswordHashAsync(user.Id, context.HttpContext.RequestAborted);
        if (user is null || hash is null || StaffAccounts.StampOf(hash) != principal.FindFirstValue(StampClaim))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
            return;
        }

        db.TenantId = user.OrganizationId;
        if (principal.IsInRole("administrator") != user.IsAdministrator || principal.Identity?.Name != user.Name)
        {
            context.ReplacePrincipal(PrincipalFor(user, hash));
            context.ShouldRenew = true;
        }
    }
}

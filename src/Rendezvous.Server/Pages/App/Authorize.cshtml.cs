using System.Collections.Immutable;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Rendezvous.Data;
using Rendezvous.Server.Features.OAuth;
using Rendezvous.Server.Features.Web;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Rendezvous.Server.Pages.App;

/// <summary>
/// The consent screen of the OAuth authorization endpoint: a signed-in team member sees which app asks for which scopes
/// and allows or denies it. Allowing records a permanent grant (listed under "Connected apps", where it can be revoked)
/// and sends the app back with a code. Apps of another organization are refused.
/// </summary>
public sealed class AuthorizeModel(IOpenIddictApplicationManager applications, IOpenIddictAuthorizationManager authorizations,
    RendezvousDbContext db) : StaffPageModel
{
    public string AppName { get; private set; } = "";

    public IReadOnlyList<string> Scopes { get; private set; } = [];

    /// <summary>The request's parameters, posted back unchanged with the decision.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; private set; } = [];

    public string? Refusal { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var (request, application) = await LoadAsync(ct);
        if (request is null || application is null)
        {
            return Page();
        }

        Parameters = [.. Request.Query.SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? "")))];
        // Allowing answers with a redirect to the app; the pages' form-action 'self' would stop the browser from following
        // it. The address was checked against the app's registered ones before this page ran.
        if (Uri.TryCreate(request.RedirectUri, UriKind.Absolute, out var back))
        {
            var csp = Response.Headers.ContentSecurityPolicy.ToString();
            Response.Headers.ContentSecurityPolicy = csp.Replace("form-action 'self'", $"form-action 'self' {back.GetLeftPart(UriPartial.Authority)}",
                StringComparison.Ordinal);
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? decision, CancellationToken ct)
    {
        var (request, application) = await LoadAsync(ct);
        if (request is null || application is null)
        {
            return Page();
        }

        if (decision != "allow")
        {
            return Forbid(new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = OpenIddictConstants.Errors.AccessDenied,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The user denied the app access.",
            }), OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        var subject = Me.Id.ToString();
        var applicationId = await applications.GetIdAsync(application, ct);
        var scopes = request.GetScopes();
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, subject).SetClaim(Claims.Name, User.FindFirstValue(ClaimTypes.Name));
        identity.SetScopes(scopes);

        // One grant per user, app and set of scopes: allowing the same again reuses it instead of piling up rows.
        object? authorization = null;
        await foreach (var existing in authorizations.FindAsync(subject, applicationId, Statuses.Valid, AuthorizationTypes.Permanent, scopes, ct))
        {
            authorization = existing;
            break;
        }

        authorization ??= await authorizations.CreateAsync(identity, subject, applicationId!, AuthorizationTypes.Permanent, scopes, ct);
        identity.SetAuthorizationId(await authorizations.GetIdAsync(authorization, ct));
        identity.SetDestinations(static _ => [Destinations.AccessToken]);
        return SignIn(new ClaimsPrincipal(identity), OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private async Task<(OpenIddictRequest? Request, object? Application)> LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Allow an app";
        var request = HttpContext.GetOpenIddictServerRequest();
        if (request?.ClientId is null)
        {
            Refusal = "This page is where apps send you to ask for access; open it from the app.";
            return (null, null);
        }

        var application = await applications.FindByClientIdAsync(request.ClientId, ct);
        if (application is null || await OAuthSetup.OrganizationOfAsync(applications, application, ct) != Me.OrganizationId)
        {
            // An app registered by another organization cannot act in this one.
            Refusal = "This app is not registered in your organization. Ask an administrator to register it.";
            return (null, null);
        }

        AppName = await applications.GetDisplayNameAsync(application, ct) ?? request.ClientId;
        Scopes = [.. request.GetScopes().OrderBy(s => Infrastructure.ApiScopes.All.ToList().IndexOf(s))];
        await MeAsync(db, ct);
        return (request, application);
    }
}

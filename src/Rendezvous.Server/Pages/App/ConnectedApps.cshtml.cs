using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using OpenIddict.Abstractions;
using Rendezvous.Data;
using Rendezvous.Server.Features.OAuth;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Rendezvous.Server.Pages.App;

/// <summary>An app a user allowed: the grant, the app's name and the scopes.</summary>
public sealed record ConnectedApp(string AuthorizationId, string Name, IReadOnlyList<string> Scopes, DateTimeOffset? Since);

/// <summary>An app the organization registered.</summary>
public sealed record RegisteredApp(string ClientId, string Name, string ClientType, IReadOnlyList<string> RedirectUris);

/// <summary>
/// "Connected apps": every team member sees the apps they allowed and revokes them (the grant and every token from it
/// stop working at once); administrators also register apps for their organization and remove them.
/// </summary>
public sealed class ConnectedAppsModel(IOpenIddictApplicationManager applications, IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens) : StaffPageModel
{
    public IReadOnlyList<ConnectedApp> Granted { get; private set; } = [];

    public IReadOnlyList<RegisteredApp> Registered { get; private set; } = [];

    /// <summary>A just-registered app's credentials: the secret is shown this once (only its hash is kept).</summary>
    public (string ClientId, string? Secret)? NewApp { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(string? authorizationId, CancellationToken ct)
    {
        var authorization = authorizationId is null ? null : await authorizations.FindByIdAsync(authorizationId, ct);
        // Only the user who gave a grant takes it back here.
        if (authorization is not null && await authorizations.GetSubjectAsync(authorization, ct) == Me.Id.ToString())
        {
            var name = await NameOfAsync(await authorizations.GetApplicationIdAsync(authorization, ct), ct);
            await authorizations.TryRevokeAsync(authorization, ct);
            await tokens.RevokeByAuthorizationIdAsync(authorizationId!, ct);
            Flash($"{name} can no longer use your account; its tokens are refused from now on.");
        }

        return Go("/app/connected-apps");
    }

    public async Task<IActionResult> OnPostRegisterAsync(string? name, string? redirectUris, string? clientType, CancellationToken ct)
    {
        if (!Me.IsAdministrator)
        {
            return Forbid();
        }

        Errors.Labels["name"] = "The name";
        Errors.Labels["redirectUris"] = "The redirect addresses";
        if (!ApiFormat.TryText(name, 100, out var cleanName))
        {
            Errors.Add("name", "Enter the app's name (up to 100 characters).");
        }

        var uris = (redirectUris ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var parsed = uris.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Fragment.Length == 0
            && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)) ? uri : null).ToList();
        if (parsed.Count is 0 or > 10 || parsed.Any(u => u is null))
        {
            Errors.Add("redirectUris", "Enter one to ten absolute https addresses (http only for localhost), one a line, without #.");
        }

        if (Errors.Any)
        {
            await LoadAsync(ct);
            return Page();
        }

        var isPublic = clientType == ClientTypes.Public;
        var secret = isPublic ? null : ApiKeys.Generate().Replace("rdv_", "rdvs_", StringComparison.Ordinal);
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = "rdv_app_" + Guid.NewGuid().ToString("N"),
            ClientSecret = secret,
            ClientType = isPublic ? ClientTypes.Public : ClientTypes.Confidential,
            ConsentType = ConsentTypes.Explicit,
            DisplayName = cleanName,
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.Revocation,
                Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
            Properties =
            {
                [OAuthSetup.OrganizationProperty] = JsonSerializer.SerializeToElement(Me.OrganizationId.ToString()),
            },
        };
        foreach (var scope in ApiScopes.All.Append(Scopes.OfflineAccess))
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + scope);
        }

        foreach (var uri in parsed)
        {
            descriptor.RedirectUris.Add(uri!);
        }

        await applications.CreateAsync(descriptor, ct);
        NewApp = (descriptor.ClientId, secret);
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRemoveAsync(string? clientId, CancellationToken ct)
    {
        var application = clientId is null || !Me.IsAdministrator ? null : await applications.FindByClientIdAsync(clientId, ct);
        if (application is not null && await OAuthSetup.OrganizationOfAsync(applications, application, ct) == Me.OrganizationId)
        {
            var name = await applications.GetDisplayNameAsync(application, ct);
            // The store removes the app's grants and tokens with it.
            await applications.DeleteAsync(application, ct);
            Flash($"{name} is removed; every grant and token it had is gone.");
        }

        return Go("/app/connected-apps");
    }

    private async Task<string> NameOfAsync(string? applicationId, CancellationToken ct)
    {
        var application = applicationId is null ? null : await applications.FindByIdAsync(applicationId, ct);
        return application is null ? "The app" : await applications.GetDisplayNameAsync(application, ct) ?? "The app";
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Nav"] = "connected-apps";
        ViewData["Title"] = "Connected apps";
        var granted = new List<ConnectedApp>();
        await foreach (var authorization in authorizations.FindBySubjectAsync(Me.Id.ToString(), ct))
        {
            if (await authorizations.GetStatusAsync(authorization, ct) != Statuses.Valid)
            {
                continue;
            }

            granted.Add(new ConnectedApp(
                (await authorizations.GetIdAsync(authorization, ct))!,
                await NameOfAsync(await authorizations.GetApplicationIdAsync(authorization, ct), ct),
                [.. await authorizations.GetScopesAsync(authorization, ct)],
                await authorizations.GetCreationDateAsync(authorization, ct)));
        }

        Granted = granted;
        if (!Me.IsAdministrator)
        {
            return;
        }

        // The application table is global (decision 0032): keep only this organization's apps.
        var registered = new List<RegisteredApp>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, ct))
        {
            if (await OAuthSetup.OrganizationOfAsync(applications, application, ct) != Me.OrganizationId)
            {
                continue;
            }

            registered.Add(new RegisteredApp(
                (await applications.GetClientIdAsync(application, ct))!,
                await applications.GetDisplayNameAsync(application, ct) ?? "",
                await applications.GetClientTypeAsync(application, ct) ?? "",
                [.. await applications.GetRedirectUrisAsync(application, ct)]));
        }

        Registered = registered;
    }
}

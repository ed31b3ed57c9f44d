using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Server.Infrastructure;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Rendezvous.Server.Features.OAuth;

/// <summary>Settings of the OAuth server (section "Rendezvous:OAuth").</summary>
public sealed class OAuthOptions
{
    /// <summary>
    /// Refuse OAuth requests over plain HTTP (RFC 6749 section 3.1). Only for development and the test suites, which
    /// talk to the server without TLS; behind a TLS-terminating proxy keep it on and forward the scheme.
    /// </summary>
    public bool RequireHttps { get; set; } = true;

    public int AccessTokenMinutes { get; set; } = 60;

    public int RefreshTokenDays { get; set; } = 30;
}

/// <summary>
/// OAuth 2.0 for third-party apps (decision 0032), on OpenIddict: the authorization code flow with PKCE required, refresh
/// tokens and revocation, at /oauth/authorize (the consent page), /oauth/token and /oauth/revoke. Tokens are protected by
/// the shared Data Protection key ring, so every server process reads every token, across restarts. Access tokens are
/// accepted on /api/v1 by <see cref="ApiKeyAuthenticationHandler"/>, limited to their scopes and to their user's rights.
/// </summary>
public static class OAuthSetup
{
    public const string AuthorizePath = "/oauth/authorize";
    public const string TokenPath = "/oauth/token";
    public const string RevokePath = "/oauth/revoke";

    /// <summary>The property of an application naming the organization that registered it.</summary>
    public const string OrganizationProperty = "rdv_organization";

    public static IServiceCollection AddRendezvousOAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection("Rendezvous:OAuth").Get<OAuthOptions>() ?? new OAuthOptions();
        services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<RendezvousDbContext>().ReplaceDefaultEntities<Guid>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris(AuthorizePath).SetTokenEndpointUris(TokenPath).SetRevocationEndpointUris(RevokePath);
                o.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow().RequireProofKeyForCodeExchange();
                // offline_access is OAuth's way to ask for a refresh token; the API scopes say what the tokens may do.
                o.RegisterScopes([.. ApiScopes.All, Scopes.OfflineAccess]);
                o.SetAccessTokenLifetime(TimeSpan.FromMinutes(Math.Max(1, options.AccessTokenMinutes)));
                o.SetRefreshTokenLifetime(TimeSpan.FromDays(Math.Max(1, options.RefreshTokenDays)));
                // Codes, access and refresh tokens use the Data Protection format with the shared key ring (decision 0029):
                // valid on every node and after restarts. OpenIddict still insists on a signing and an encryption key; they
                // would only serve JWTs (identity tokens, which need the "openid" scope this server does not offer), so
                // throw-away keys made at start-up are enough.
                o.UseDataProtection();
                o.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                var aspNet = o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().EnableTokenEndpointPassthrough();
                if (!options.RequireHttps)
                {
                    aspNet.DisableTransportSecurityRequirement();
                }
            })
            .AddValidation(o =>
            {
                o.UseLocalServer();
                o.UseDataProtection();
                o.UseAspNetCore();
                // Each API call checks the token and its grant in the database, so a revocation takes effect at once.
                o.EnableAuthorizationEntryValidation();
                o.EnableTokenEntryValidation();
            });
        return services;
    }

    /// <summary>The token endpoint: redeems a code or a refresh token for a user who still exists (OpenIddict checked the rest).</summary>
    public static void MapOAuth(this IEndpointRouteBuilder app) =>
        app.MapPost(TokenPath, ExchangeAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

    private static async Task<IResult> ExchangeAsync(HttpContext http, RendezvousDbContext db, CancellationToken ct)
    {
        var request = http.GetOpenIddictServerRequest();
        if (request is null || !(request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType()))
        {
            return Refuse(Errors.UnsupportedGrantType, "Only the authorization_code and refresh_token grants are offered.");
        }

        var redeemed = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var subject = redeemed.Principal?.GetClaim(Claims.Subject);
        if (redeemed.Principal is null || !Ids.TryParse(subject, out var id))
        {
            return Refuse(Errors.InvalidGrant, "The code or refresh token is no longer valid.");
        }

        var user = await db.Users.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(u => u.Id == new UserId(id), ct);
        if (user is null)
        {
            return Refuse(Errors.InvalidGrant, "The user who granted this app no longer exists.");
        }

        var identity = new ClaimsIdentity(redeemed.Principal.Claims, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Name, user.Name);
        identity.SetDestinations(static _ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static IResult Refuse(string error, string description) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    /// <summary>The organization that registered <paramref name="application"/> (null: none recorded).</summary>
    public static async Task<OrganizationId?> OrganizationOfAsync(IOpenIddictApplicationManager applications, object application,
        CancellationToken ct)
    {
        var properties = await applications.GetPropertiesAsync(application, ct);
        return properties.TryGetValue(OrganizationProperty, out var value) && value.ValueKind == JsonValueKind.String
            && Guid.TryParse(value.GetString(), out var org)
                ? new OrganizationId(org)
                : null;
    }
}

using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;

namespace Rendezvous.Server.Infrastructure;

/// <summary>API keys: random secrets shown once; only their SHA-256 is stored (they are long and random, so no salt is needed).</summary>
public static class ApiKeys
{
    public const string Scheme = "ApiKey";
    public const string OrganizationClaim = "rdv:org";
    public const string AdministratorPolicy = "administrator";

    /// <summary>A new key: "rdv_" and 32 random bytes in base64url.</summary>
    public static string Generate() =>
        "rdv_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string PrefixOf(string key) => key.Length <= 10 ? key : key[..10];
}

/// <summary>
/// Reads <c>Authorization: Bearer &lt;key or token&gt;</c>: an API key (looked up by its hash) or else an OAuth access
/// token (validated by OpenIddict), finds the user it acts for, and sets the request's tenant. Either way the principal
/// carries the user's claims, the scopes it may use (<see cref="ApiScopes.Claim"/>) and the partition of its request limit.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, RendezvousDbContext db, IClock clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>Keys are short; an OAuth access token (Data Protection format) is far longer than any key.</summary>
    private const int LongestKey = 256;

    /// <summary>Last-used times are kept to the minute: at most one write per key and minute, however busy the key.</summary>
    private static readonly Duration _lastUsedGranularity = Duration.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        // A public route reads no identity: a key sent along anyway (a script's default header) costs no look-up there.
        if (string.IsNullOrEmpty(header) || Context.GetEndpoint()?.Metadata.GetMetadata<PublicRouteAttribute>() is not null)
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 8192)
        {
            return AuthenticateResult.Fail("Use Authorization: Bearer <api key>.");
        }

        var secret = header["Bearer ".Length..].Trim();
        return secret.Length <= LongestKey
            ? await KeyAsync(secret).ConfigureAwait(false)
            : await OAuthTokenAsync().ConfigureAwait(false);
    }

    private async Task<AuthenticateResult> KeyAsync(string secret)
    {
        var hash = ApiKeys.Hash(secret);
        var match = await db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyHash == hash && k.RevokedAt == null)
            .Join(db.Users.AcrossTenants(), k => k.UserId, u => u.Id,
                (k, u) => new { KeyId = k.Id, k.Scopes, k.ExpiresAt, k.LastUsedAt, u.Id, u.OrganizationId, u.Role, u.Name })
            .FirstOrDefaultAsync(Context.RequestAborted).ConfigureAwait(false);
        if (match is null)
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        var now = clock.GetCurrentInstant();
        if (match.ExpiresAt is { } expires && expires <= now)
        {
            return AuthenticateResult.Fail("The API key has expired.");
        }

        if (match.LastUsedAt is not { } used || now - used >= _lastUsedGranularity || used > now)
        {
            // Conditional, so several servers seeing the same key in the same minute write once between them.
            var before = now - _lastUsedGranularity;
            await db.ApiKeys.Where(k => k.Id == match.KeyId && (k.LastUsedAt == null || k.LastUsedAt <= before || k.LastUsedAt > now))
                .ExecuteUpdateAsync(u => u.SetProperty(k => k.LastUsedAt, now), Context.RequestAborted).ConfigureAwait(false);
        }

        return Success(match.Id, match.OrganizationId, match.Role, match.Name, match.Scopes, "key:" + match.KeyId.ToString("N"));
    }

    private async Task<AuthenticateResult> OAuthTokenAsync()
    {
        var result = await Context.AuthenticateAsync(OpenIddict.Validation.AspNetCore.OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
            .ConfigureAwait(false);
        if (!result.Succeeded || !Ids.TryParse(result.Principal.FindFirst(OpenIddict.Abstractions.OpenIddictConstants.Claims.Subject)?.Value, out var id))
        {
            return AuthenticateResult.Fail("Unknown, expired or revoked access token.");
        }

        // The token acts with the rights its user has now: a removed user's tokens stop working, a demoted one's shrink.
        var user = await db.Users.AcrossTenants().AsNoTracking().Where(u => u.Id == new UserId(id))
            .Select(u => new { u.Id, u.OrganizationId, u.Role, u.Name })
            .FirstOrDefaultAsync(Context.RequestAborted).ConfigureAwait(false);
        if (user is null)
        {
            return AuthenticateResult.Fail("The user of this access token no longer exists.");
        }

        var scopes = OpenIddict.Abstractions.OpenIddictExtensions.GetScopes(result.Principal).Where(ApiScopes.IsKnown).ToArray();
        var client = OpenIddict.Abstractions.OpenIddictExtensions.GetClaim(result.Principal, OpenIddict.Abstractions.OpenIddictConstants.Claims.ClientId);
        return Success(user.Id, user.OrganizationId, user.Role, user.Name, scopes, $"app:{client}:{user.Id}");
    }

    private AuthenticateResult Success(UserId user, OrganizationId organization, UserRole role, string name, IEnumerable<string> scopes,
        string limitPartition)
    {
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, user.ToString()),
            new Claim(ClaimTypes.Name, name),
            new Claim(ClaimTypes.Role, role == UserRole.Administrator ? "administrator" : "member"),
            new Claim(ApiKeys.OrganizationClaim, organization.ToString()),
            new Claim(Rendezvous.Server.Features.Security.ApiRequestLimits.PartitionClaim, limitPartition),
            .. scopes.Select(s => new Claim(ApiScopes.Claim, s)),
        ], ApiKeys.Scheme);
        db.TenantId = organization;
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeys.Scheme));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(statusCode: 401, title: "Authentication required.",
                detail: "Send Authorization: Bearer <api key>.", extensions: new Dictionary<string, object?> { ["code"] = "unauthenticated" })
            .ExecuteAsync(Context).ConfigureAwait(false);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Results.Problem(statusCode: 403, title: "Forbidden.", detail: "Only administrators may do this.",
                extensions: new Dictionary<string, object?> { ["code"] = "administrators_only" })
            .ExecuteAsync(Context).ConfigureAwait(false);
    }
}

/// <summary>
/// Marks a route anyone may call that never looks at who calls it (the public slots and booking routes): API-key
/// authentication skips it, so a request there never queries the keys.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class PublicRouteAttribute : Attribute
{
    public static readonly PublicRouteAttribute Instance = new();
}

/// <summary>The signed-in user of a request, as the endpoints need it.</summary>
public sealed record CurrentUser(UserId Id, OrganizationId OrganizationId, bool IsAdministrator)
{
    public static CurrentUser From(ClaimsPrincipal principal) => new(
        new UserId(Guid.Parse(principal.FindFirstValue(ClaimTypes.NameIdentifier)!)),
        new OrganizationId(Guid.Parse(principal.FindFirstValue(ApiKeys.OrganizationClaim)!)),
        principal.IsInRole("administrator"));
}

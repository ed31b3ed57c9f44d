using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
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

/// <summary>Reads <c>Authorization: Bearer &lt;key&gt;</c>, finds the key's user, and sets the request's tenant.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, RendezvousDbContext db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        // A public route reads no identity: a key sent along anyway (a script's default header) costs no look-up there.
        if (string.IsNullOrEmpty(header) || Context.GetEndpoint()?.Metadata.GetMetadata<PublicRouteAttribute>() is not null)
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 512)
        {
            return AuthenticateResult.Fail("Use Authorization: Bearer <api key>.");
        }

        var hash = ApiKeys.Hash(header["Bearer ".Length..].Trim());
        var match = await db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyHash == hash && k.RevokedAt == null)
            .Join(db.Users.AcrossTenants(), k => k.UserId, u => u.Id, (k, u) => new { u.Id, u.OrganizationId, u.Role, u.Name })
            .FirstOrDefaultAsync(Context.RequestAborted).ConfigureAwait(false);
        if (match is null)
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, match.Id.ToString()),
            new Claim(ClaimTypes.Name, match.Name),
            new Claim(ClaimTypes.Role, match.Role == UserRole.Administrator ? "administrator" : "member"),
            new Claim(ApiKeys.OrganizationClaim, match.OrganizationId.ToString()),
        ], ApiKeys.Scheme);
        db.TenantId = match.OrganizationId;
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

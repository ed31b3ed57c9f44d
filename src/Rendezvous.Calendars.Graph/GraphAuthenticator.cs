using System.Text;
using Microsoft.Identity.Client;

namespace Rendezvous.Calendars.Graph;

/// <summary>
/// What is stored for one connected Microsoft account: MSAL's token cache for it (holding the refresh token; the caller
/// encrypts it at rest) and the account's home id, which finds the account in that cache again.
/// </summary>
public sealed record GraphGrant(string TokenCache, string HomeAccountId, string Username);

/// <summary>An access token source for the Graph client; <c>forceRefresh</c> after the service refused the last one.</summary>
public interface IGraphTokenSource
{
    Task<string> GetAccessTokenAsync(bool forceRefresh, CancellationToken cancellationToken);
}

/// <summary>
/// The OAuth 2.0 authorization code flow and refreshes, through MSAL
/// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow). Every connection keeps its
/// own serialized token cache, so refresh tokens never mix between accounts and any server process can refresh.
/// </summary>
public sealed class GraphAuthenticator(GraphOptions options, IMsalHttpClientFactory httpClients)
{
    public GraphOptions Options => options;

    /// <summary>True when an app registration is configured (a client id and secret).</summary>
    public bool IsConfigured => options.ClientId.Length > 0 && options.ClientSecret.Length > 0 && options.RedirectUri is not null;

    /// <summary>Where to send the user to sign in and consent; <paramref name="state"/> comes back to the redirect URI.</summary>
    public Uri AuthorizationUrl(string state, string? loginHint)
    {
        var scopes = string.Join(' ', options.Scopes.Concat(["offline_access", "openid", "profile"]));
        var query = new StringBuilder()
            .Append("client_id=").Append(Uri.EscapeDataString(options.ClientId))
            .Append("&response_type=code&response_mode=query")
            .Append("&redirect_uri=").Append(Uri.EscapeDataString(options.RedirectUri!.ToString()))
            .Append("&scope=").Append(Uri.EscapeDataString(scopes))
            .Append("&state=").Append(Uri.EscapeDataString(state));
        if (!string.IsNullOrEmpty(loginHint))
        {
            query.Append("&login_hint=").Append(Uri.EscapeDataString(loginHint));
        }

        return new Uri(new Uri(options.Authority, "oauth2/v2.0/authorize"), "?" + query);
    }

    /// <summary>Redeems the code the redirect brought back; the grant holds the refresh token.</summary>
    public async Task<GraphGrant> RedeemCodeAsync(string code, CancellationToken cancellationToken)
    {
        var cache = new CacheSlot(null);
        var app = Build(cache);
        try
        {
            var result = await app.AcquireTokenByAuthorizationCode(options.Scopes, code).ExecuteAsync(cancellationToken);
            return new GraphGrant(cache.Serialized ?? "", result.Account.HomeAccountId.Identifier, result.Account.Username ?? "");
        }
        catch (MsalServiceException ex)
        {
            throw new GraphException(ex.ErrorCode == "invalid_grant" ? GraphErrorKind.ConsentRevoked : GraphErrorKind.Protocol, ex.StatusCode,
                ex.ErrorCode, "Microsoft refused the sign-in: " + ex.Message, ex);
        }
        catch (MsalClientException ex)
        {
            throw new GraphException(GraphErrorKind.Unavailable, null, ex.ErrorCode, "Microsoft's sign-in service could not be reached: " + ex.Message, ex);
        }
    }

    /// <summary>A token source for one stored grant. Read <see cref="GraphTokenSession.Updated"/> afterwards: MSAL rotates refresh tokens.</summary>
    public GraphTokenSession Open(GraphGrant grant) => new(this, grant);

    internal IConfidentialClientApplication Build(CacheSlot cache)
    {
        var app = ConfidentialClientApplicationBuilder.Create(options.ClientId)
            .WithClientSecret(options.ClientSecret)
            .WithAuthority(options.Authority.ToString())
            // Instance discovery asks Microsoft which hosts are authorities; a sovereign cloud or a local emulator is not listed.
            .WithInstanceDiscovery(false)
            .WithHttpClientFactory(httpClients)
            .WithRedirectUri(options.RedirectUri?.ToString() ?? "https://localhost/")
            .Build();
        app.UserTokenCache.SetBeforeAccess(args =>
        {
            if (cache.Serialized is { Length: > 0 } text)
            {
                args.TokenCache.DeserializeMsalV3(Convert.FromBase64String(text), shouldClearExistingCache: true);
            }
        });
        app.UserTokenCache.SetAfterAccess(args =>
        {
            if (args.HasStateChanged)
            {
                cache.Serialized = Convert.ToBase64String(args.TokenCache.SerializeMsalV3());
                cache.Changed = true;
            }
        });
        return app;
    }

    internal sealed class CacheSlot(string? serialized)
    {
        public string? Serialized { get; set; } = serialized;

        public bool Changed { get; set; }
    }
}

/// <summary>Access tokens for one connection, refreshed by MSAL from the stored grant when they expire or are refused.</summary>
public sealed class GraphTokenSession : IGraphTokenSource
{
    private readonly GraphAuthenticator.CacheSlot _cache;
    private readonly IConfidentialClientApplication _app;
    private readonly GraphGrant _grant;
    private readonly SemaphoreSlim _lock = new(1, 1);

    internal GraphTokenSession(GraphAuthenticator authenticator, GraphGrant grant)
    {
        _grant = grant;
        _cache = new GraphAuthenticator.CacheSlot(grant.TokenCache);
        _app = authenticator.Build(_cache);
        Scopes = authenticator.Options.Scopes;
    }

    private IReadOnlyList<string> Scopes { get; }

    /// <summary>The grant to store when MSAL changed the cache (a new access or refresh token); null when nothing changed.</summary>
    public GraphGrant? Updated => _cache.Changed ? _grant with { TokenCache = _cache.Serialized ?? "" } : null;

    public async Task<string> GetAccessTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var account = await _app.GetAccountAsync(_grant.HomeAccountId)
                ?? throw new GraphException(GraphErrorKind.ConsentRevoked, null, "no_account", "The stored Microsoft sign-in is missing; connect the calendar again.");
            var result = await _app.AcquireTokenSilent(Scopes, account).WithForceRefresh(forceRefresh).ExecuteAsync(cancellationToken);
            return result.AccessToken;
        }
        catch (MsalUiRequiredException ex)
        {
            // invalid_grant and friends: consent withdrawn, password changed, refresh token expired or revoked.
            throw new GraphException(GraphErrorKind.ConsentRevoked, ex.StatusCode, ex.ErrorCode,
                "Microsoft no longer accepts this connection's sign-in (" + ex.ErrorCode + "); connect the calendar again.", ex);
        }
        catch (MsalServiceException ex)
        {
            var kind = ex.StatusCode is 429 or >= 500 ? GraphErrorKind.Unavailable : GraphErrorKind.AccessDenied;
            throw new GraphException(kind, ex.StatusCode, ex.ErrorCode, "Microsoft's sign-in service refused to refresh the token: " + ex.Message, ex);
        }
        catch (MsalClientException ex)
        {
            throw new GraphException(GraphErrorKind.Unavailable, null, ex.ErrorCode, "Microsoft's sign-in service could not be reached: " + ex.Message, ex);
        }
        finally
        {
            _lock.Release();
        }
    }
}

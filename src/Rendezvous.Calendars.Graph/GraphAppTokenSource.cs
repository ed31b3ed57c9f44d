using Microsoft.Identity.Client;

namespace Rendezvous.Calendars.Graph;

/// <summary>
/// Application (app-only) tokens for Microsoft Graph through the OAuth 2.0 client credentials grant
/// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow), for mailboxes no user
/// signs in to, such as room mailboxes. The app registration needs the Calendars.ReadWrite application permission, which
/// an Exchange application access policy may narrow to the rooms' mailboxes. MSAL keeps the token in memory and renews
/// it before it expires; one instance serves one (tenant, client) pair.
/// </summary>
public sealed class GraphAppTokenSource : IGraphTokenSource
{
    /// <summary>Client credentials ask for the resource's static permissions as a whole.</summary>
    public const string GraphDefaultScope = "https://graph.microsoft.com/.default";

    private readonly IConfidentialClientApplication _app;

    public GraphAppTokenSource(Uri authorityHost, string tenant, string clientId, string clientSecret, IMsalHttpClientFactory httpClients)
    {
        ArgumentNullException.ThrowIfNull(authorityHost);
        ArgumentException.ThrowIfNullOrWhiteSpace(tenant);
        _app = ConfidentialClientApplicationBuilder.Create(clientId)
            .WithClientSecret(clientSecret)
            .WithAuthority(new Uri(authorityHost, tenant.Trim('/') + "/").ToString())
            // A sovereign cloud or a local emulator is not in Microsoft's instance list (see GraphAuthenticator).
            .WithInstanceDiscovery(false)
            .WithHttpClientFactory(httpClients)
            .Build();
    }

    public async Task<string> GetAccessTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _app.AcquireTokenForClient([GraphDefaultScope]).WithForceRefresh(forceRefresh).ExecuteAsync(cancellationToken);
            return result.AccessToken;
        }
        catch (MsalServiceException ex)
        {
            var kind = ex.StatusCode is 429 or >= 500 ? GraphErrorKind.Unavailable : GraphErrorKind.AccessDenied;
            throw new GraphException(kind, ex.StatusCode, ex.ErrorCode, "Microsoft's sign-in service refused the application's credentials: " + ex.Message, ex);
        }
        catch (MsalClientException ex)
        {
            throw new GraphException(GraphErrorKind.Unavailable, null, ex.ErrorCode, "Microsoft's sign-in service could not be reached: " + ex.Message, ex);
        }
    }
}

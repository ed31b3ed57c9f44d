using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Flows;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Util.Store;
using NodaTime;

namespace Rendezvous.Calendars.Google;

/// <summary>Tokens Google handed out: the access token and when it expires, and the refresh token when one came.</summary>
public sealed record GoogleTokens(string AccessToken, Instant ExpiresAt, string? RefreshToken);

/// <summary>
/// The OAuth 2.0 web-server flow with Google (https://developers.google.com/identity/protocols/oauth2/web-server):
/// the consent URL, the code exchange and refreshing. Google.Apis.Auth does the protocol; we keep the tokens ourselves
/// (encrypted in the database), so its token store is a no-op and its own clock reads ours.
/// </summary>
public sealed class GoogleOAuth : IDisposable
{
    private readonly Flow _flow;
    private readonly IClock _clock;

    public GoogleOAuth(GoogleCalendarOptions options, IClock clock, HttpMessageHandler? handler = null)
    {
        _clock = clock;
        var initializer = new FlowInitializer(options.AuthorizationUrl, options.TokenUrl, options.RevokeUrl)
        {
            ClientSecrets = new ClientSecrets { ClientId = options.ClientId, ClientSecret = options.ClientSecret },
            Scopes = options.Scopes,
            DataStore = new NoStore(),
            Clock = new ClockAdapter(clock),
        };
        if (handler is not null)
        {
            initializer.HttpClientFactory = new HandlerFactory(handler);
        }

        _flow = new Flow(initializer);
    }

    /// <summary>
    /// Where to send the user to grant access. <c>access_type=offline</c> and <c>prompt=consent</c> make Google hand out a
    /// refresh token every time, also when the user connects again after revoking.
    /// </summary>
    public Uri AuthorizationUri(Uri redirectUri, string state, string? loginHint = null)
    {
        var request = (global::Google.Apis.Auth.OAuth2.Requests.GoogleAuthorizationCodeRequestUrl)_flow.CreateAuthorizationCodeRequest(redirectUri.ToString());
        request.State = state;
        request.AccessType = "offline";
        request.Prompt = "consent";
        request.IncludeGrantedScopes = "true";
        request.LoginHint = loginHint;
        return request.Build();
    }

    public async Task<GoogleTokens> ExchangeCodeAsync(string code, Uri redirectUri, CancellationToken ct)
    {
        var response = await CallAsync(() => _flow.ExchangeCodeForTokenAsync("rendezvous", code, redirectUri.ToString(), ct));
        return ToTokens(response);
    }

    /// <summary>A new access token; Google may also rotate the refresh token, which is then returned too.</summary>
    public async Task<GoogleTokens> RefreshAsync(string refreshToken, CancellationToken ct)
    {
        var response = await CallAsync(() => _flow.RefreshTokenAsync("rendezvous", refreshToken, ct));
        return ToTokens(response);
    }

    /// <summary>Withdraws the grant at Google (on disconnect); a grant already gone is fine.</summary>
    public async Task RevokeAsync(string token, CancellationToken ct)
    {
        try
        {
            await _flow.RevokeTokenAsync("rendezvous", token, ct);
        }
        catch (TokenResponseException)
        {
            // Already revoked or expired: the outcome we wanted.
        }
    }

    private GoogleTokens ToTokens(TokenResponse response) =>
        new(response.AccessToken, _clock.GetCurrentInstant() + Duration.FromSeconds(response.ExpiresInSeconds ?? 3600), response.RefreshToken);

    private static async Task<TokenResponse> CallAsync(Func<Task<TokenResponse>> call)
    {
        try
        {
            return await call();
        }
        catch (TokenResponseException ex) when (ex.Error?.Error is "invalid_grant" or "unauthorized_client" or "invalid_client")
        {
            throw new GoogleGrantRevokedException("Google no longer accepts our access to this account: " + (ex.Error.ErrorDescription ?? ex.Error.Error), ex);
        }
        catch (TokenResponseException ex)
        {
            throw new GoogleApiException(ex.StatusCode ?? 0, ex.Error?.Error, "Google's token endpoint answered: " + (ex.Error?.Error ?? ex.Message), ex);
        }
        catch (HttpRequestException ex)
        {
            throw new GoogleApiException(0, null, "Google's token endpoint could not be reached: " + ex.Message, ex);
        }
        catch (TaskCanceledException ex)
        {
            throw new GoogleApiException(0, null, "Google's token endpoint did not answer in time.", ex);
        }
    }

    public void Dispose() => _flow.Dispose();

    private sealed class Flow(GoogleAuthorizationCodeFlow.Initializer initializer) : GoogleAuthorizationCodeFlow(initializer);

    /// <summary>The library's constructor that takes custom endpoint URLs is protected: reachable from a subclass only.</summary>
    private sealed class FlowInitializer(Uri authorization, Uri token, Uri revoke)
        : GoogleAuthorizationCodeFlow.Initializer(authorization.ToString(), token.ToString(), revoke.ToString());

    private sealed class NoStore : IDataStore
    {
        public Task StoreAsync<T>(string key, T value) => Task.CompletedTask;

        public Task DeleteAsync<T>(string key) => Task.CompletedTask;

        public Task<T> GetAsync<T>(string key) => Task.FromResult(default(T)!);

        public Task ClearAsync() => Task.CompletedTask;
    }

    private sealed class ClockAdapter(IClock clock) : global::Google.Apis.Util.IClock
    {
        [Obsolete("Google's interface still declares it; we answer in UTC.")]
        public DateTime Now => clock.GetCurrentInstant().ToDateTimeUtc();

        public DateTime UtcNow => clock.GetCurrentInstant().ToDateTimeUtc();
    }

    private sealed class HandlerFactory(HttpMessageHandler handler) : global::Google.Apis.Http.HttpClientFactory
    {
        protected override HttpMessageHandler CreateHandler(global::Google.Apis.Http.CreateHttpClientArgs args) => new NonDisposing(handler);
    }

    private sealed class NonDisposing(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
            // The handler is shared by the whole process; the library's client must not dispose it.
        }
    }
}

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Conferencing;
using Rendezvous.Integrations.Crm;
using Rendezvous.Integrations.OAuth;

namespace Rendezvous.Integrations.Conferencing;

/// <summary>
/// One account's credentials while calls are made with them. <see cref="AccessToken"/> changes when the token is refreshed
/// during a call; <see cref="ExternalUserId"/> is the user's id in the service once known.
/// </summary>
public sealed class ConferencingSession(Guid accountId, UserId userId, ConferencingProvider provider, string accessToken, string? externalUserId)
{
    public Guid AccountId { get; } = accountId;

    public UserId UserId { get; } = userId;

    public ConferencingProvider Provider { get; } = provider;

    public string AccessToken { get; internal set; } = accessToken;

    public string? ExternalUserId { get; internal set; } = externalUserId;
}

/// <summary>Opens accounts for use and refreshes their tokens.</summary>
public interface IConferencingTokens
{
    /// <summary>The user's account with the service, its access token refreshed first when it is about to expire.</summary>
    Task<ConferencingSession> OpenAsync(UserId userId, ConferencingProvider provider, CancellationToken ct);

    /// <summary>Refreshes the session's access token (the service answered 401). Another process's refresh is picked up rather than repeated.</summary>
    Task RefreshAsync(ConferencingSession session, CancellationToken ct);

    /// <summary>Remembers the user's id in the service.</summary>
    Task SaveExternalUserIdAsync(ConferencingSession session, string externalUserId, CancellationToken ct);
}

/// <summary>
/// Conferencing accounts in the database; their tokens are encrypted, decrypted and renewed by the
/// <see cref="OAuthTokenStore"/>, so two callers never spend one refresh token twice (Zoom and Webex rotate it: the
/// second use would fail and lock the account out); whoever waited finds the new token and uses it.
/// </summary>
public sealed class ConferencingTokenStore(
    IServiceScopeFactory scopes, OAuthTokenStore store, ConferencingHttp http, IOptions<ConferencingOptions> options, IClock clock) : IConferencingTokens
{
    public async Task<ConferencingSession> OpenAsync(UserId userId, ConferencingProvider provider, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var account = await db.ConferencingAccounts.AcrossTenants().AsNoTracking()
            .FirstOrDefaultAsync(a => a.UserId == userId && a.Provider == provider, ct)
            ?? throw new ConferencingAccountMissingException(
                $"User {userId} has no {ConferencingProviders.DisplayName(provider)} account connected (POST /api/v1/conferencing-accounts).");
        var session = new ConferencingSession(account.Id, userId, provider,
            store.Unprotect(OAuthAccountKind.Conferencing, account.ProtectedAccessToken), account.ExternalUserId);
        if (account.AccessTokenExpiresAt is { } expires && account.ProtectedRefreshToken is not null
            && expires <= clock.GetCurrentInstant() + Duration.FromTimeSpan(options.Value.RefreshAhead))
        {
            await RefreshAsync(session, ct);
        }

        return session;
    }

    public async Task RefreshAsync(ConferencingSession session, CancellationToken ct)
    {
        var name = ConferencingProviders.DisplayName(session.Provider);
        var policy = new OAuthRefreshPolicy(
            OAuthAccountKind.Conferencing,
            () => new ConferencingAccountMissingException($"The {name} account of user {session.UserId} was removed."),
            message => new ConferencingAuthorizationException(message),
            $"The {name} access token of user {session.UserId} expired and there is no refresh token: connect the account again.",
            ex => ex is ConferencingAuthorizationException);
        var endpoint = options.Value.For(session.Provider);
        var tokens = await store.RefreshAsync(policy, session.AccountId, session.AccessToken, async (refreshToken, token) =>
        {
            var refreshed = await http.RefreshAsync(session.Provider, endpoint, refreshToken, token)
                ?? throw new ConferencingAuthorizationException($"{name} refused to refresh the token of user {session.UserId}: connect the account again.");
            return new TokenGrant(refreshed.AccessToken, refreshed.RefreshToken,
                refreshed.ExpiresIn is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
        }, ct);
        session.AccessToken = tokens.AccessToken;
    }

    public async Task SaveExternalUserIdAsync(ConferencingSession session, string externalUserId, CancellationToken ct)
    {
        session.ExternalUserId = externalUserId;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"UPDATE conferencing_accounts SET external_user_id = {externalUserId} WHERE id = {session.AccountId}", ct);
    }
}

/// <summary>A token endpoint's answer.</summary>
public sealed record RefreshedToken(string AccessToken, string? RefreshToken, long? ExpiresIn);

/// <summary>
/// HTTP for every conferencing service, through one named <see cref="IHttpClientFactory"/> client per service (see
/// <see cref="ResilientHttp"/>): a bearer token on each call; on 401 the token is refreshed once and the call repeated;
/// the pipeline waits out a 429 in place when the service asks for at most <see cref="ConferencingOptions.MaxRetryAfter"/>
/// (Retry-After in seconds, as an HTTP date, or as the ISO-8601 time Zoom sends for daily limits), else it is handed back
/// to the outbox; server failures and timeouts are retried with exponential backoff and jitter, but only for calls that
/// are safe to repeat (a create is not: its answer may have been lost after the meeting was made, and the caller looks
/// for it first). Repeated failures open the service's circuit, and calls fail at once until it closes.
/// </summary>
public sealed class ConferencingHttp(IHttpClientFactory factory, IClock clock)
{
    /// <summary>The named client of <paramref name="provider"/>.</summary>
    public static string ClientName(ConferencingProvider provider) => "conferencing-" + provider.ToString().ToLowerInvariant();

    /// <summary>Sends what <paramref name="build"/> makes (it is called again after a token refresh) with the session's token.</summary>
    public async Task<HttpResponseMessage> SendAsync(ConferencingSession session, IConferencingTokens tokens, Func<HttpRequestMessage> build, bool safeToRepeat,
        CancellationToken ct)
    {
        var name = ConferencingProviders.DisplayName(session.Provider);
        var refreshed = false;
        while (true)
        {
            using var request = build().WithRetryScope(safeToRepeat ? RetryScope.Transient : RetryScope.ThrottlingOnly);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session.AccessToken);
            HttpResponseMessage response;
            try
            {
                response = await SendOnceAsync(session.Provider, request, ct);
            }
            catch (Exception ex) when (ResilientHttp.IsNoAnswer(ex, ct))
            {
                throw new ConferencingTransientException($"{name} did not answer {request.Method} {request.RequestUri?.AbsolutePath}: {ResilientHttp.Describe(ex)}", ex);
            }

            var status = (int)response.StatusCode;
            if (status == 401)
            {
                response.Dispose();
                if (refreshed)
                {
                    throw new ConferencingAuthorizationException($"{name} refused a freshly refreshed token of user {session.UserId}: connect the account again.");
                }

                refreshed = true;
                await tokens.RefreshAsync(session, ct);
                continue;
            }

            if (status == 429)
            {
                // The pipeline already waited out what it could; what remains is the outbox's to schedule.
                var wait = RetryAfter(response);
                response.Dispose();
                var until = wait is { } w ? clock.GetCurrentInstant() + Duration.FromTimeSpan(w) : (Instant?)null;
                throw new ConferencingThrottledException($"{name} is throttling requests" + (until is { } u ? $" until {u}" : "") + ".", until);
            }

            if (status >= 500)
            {
                var body = await response.Content.ReadAsStringAsync(ct);
                response.Dispose();
                throw new ConferencingTransientException($"{name} failed ({status}) on {request.Method} {request.RequestUri?.AbsolutePath}: {body}");
            }

            return response;
        }
    }

    /// <summary>Exchanges a refresh token at the service's token endpoint; null when the service refuses it (the user must connect again).</summary>
    public async Task<RefreshedToken?> RefreshAsync(ConferencingProvider provider, ConferencingEndpoint endpoint, string refreshToken, CancellationToken ct)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken };
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.TokenUrl);
        if (provider == ConferencingProvider.Webex)
        {
            // Webex takes the client's credentials in the form; Zoom and GoTo in a Basic Authorization header.
            form["client_id"] = endpoint.ClientId ?? "";
            form["client_secret"] = endpoint.ClientSecret ?? "";
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{endpoint.ClientId}:{endpoint.ClientSecret}")));
        }

        request.Content = new FormUrlEncodedContent(form);
        HttpResponseMessage response;
        try
        {
            // Never retried: Zoom and Webex rotate refresh tokens, and a lost answer would leave us holding a spent one.
            response = await SendOnceAsync(provider, request.WithRetryScope(RetryScope.None), ct);
        }
        catch (Exception ex) when (ResilientHttp.IsNoAnswer(ex, ct))
        {
            throw new ConferencingTransientException($"The {ConferencingProviders.DisplayName(provider)} token endpoint did not answer: {ResilientHttp.Describe(ex)}", ex);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is 400 or 401 or 403)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new ConferencingTransientException($"The {ConferencingProviders.DisplayName(provider)} token endpoint failed ({status}).");
            }

            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var root = json.RootElement;
            var access = root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            if (string.IsNullOrEmpty(access))
            {
                throw new ConferencingTransientException($"The {ConferencingProviders.DisplayName(provider)} token endpoint answered without an access token.");
            }

            var refresh = root.TryGetProperty("refresh_token", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            long? expires = root.TryGetProperty("expires_in", out var e) && e.TryGetInt64(out var s) ? s : null;
            return new RefreshedToken(access, refresh, expires);
        }
    }

    private Task<HttpResponseMessage> SendOnceAsync(ConferencingProvider provider, HttpRequestMessage request, CancellationToken ct) =>
        factory.CreateClient(ClientName(provider)).SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);

    /// <summary>How long the service asked us to wait, from Retry-After: seconds, an HTTP date, or an ISO-8601 time.</summary>
    public TimeSpan? RetryAfter(HttpResponseMessage response) => ResilientHttp.RetryAfter(response, clock.GetCurrentInstant());
}

using System.Globalization;
using System.Security.Cryptography;
using NodaTime;
using Npgsql;
using Rendezvous.Domain;
using Rendezvous.Integrations;
using Rendezvous.Integrations.OAuth;

namespace Rendezvous.Integrations.Crm;

/// <summary>What a token endpoint gave us.</summary>
public sealed record TokenGrant(
    string AccessToken,
    string? RefreshToken,
    TimeSpan? ExpiresIn,
    string? InstanceUrl = null,
    string? AccountId = null,
    string? AccountUserId = null);

/// <summary>A usable access token for one connection, and where to send calls.</summary>
public sealed record CrmAccess(Guid ConnectionId, string AccessToken, string? InstanceUrl, Instant? ExpiresAt);

/// <summary>
/// Reads a connection's OAuth tokens and renews them through the <see cref="OAuthTokenStore"/> (one lock discipline for
/// every OAuth account, which matters for Keap, whose refresh tokens are single-use). A refused refresh token marks the
/// connection as needing a new authorization.
/// </summary>
public sealed class CrmTokens(NpgsqlDataSource dataSource, OAuthTokenStore store)
{
    public async Task<CrmAccess> GetAsync(Guid connectionId, string provider, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var select = new NpgsqlCommand(
            "SELECT protected_access_token, instance_url, access_token_expires_at FROM crm_connections WHERE id = @id", connection);
        select.Parameters.AddWithValue("id", connectionId);
        await using var reader = await select.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct) || reader.IsDBNull(0))
        {
            throw NotConnected(provider);
        }

        return new CrmAccess(connectionId, Decrypt(provider, reader.GetString(0)), reader.IsDBNull(1) ? null : reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<Instant>(2));
    }

    /// <summary>
    /// Returns a fresh access token: the one another caller stored since <paramref name="stale"/> was read, or a new one
    /// from <paramref name="refresh"/> (given the stored refresh token). Throws <see cref="IntegrationException"/>.
    /// </summary>
    public async Task<CrmAccess> RefreshAsync(Guid connectionId, string provider, string? stale,
        Func<string, CancellationToken, Task<TokenGrant>> refresh, CancellationToken ct)
    {
        var policy = new OAuthRefreshPolicy(
            OAuthAccountKind.Crm,
            () => NotConnected(provider),
            message => new IntegrationException(provider, IntegrationFailureKind.AuthorizationRequired, message),
            $"{provider} gave no refresh token; authorize the connection again.",
            ex => ex is IntegrationException { Kind: IntegrationFailureKind.AuthorizationRequired });
        var tokens = await store.RefreshAsync(policy, connectionId, stale, refresh, ct);
        return new CrmAccess(connectionId, tokens.AccessToken, tokens.InstanceUrl, tokens.ExpiresAt);
    }

    private static IntegrationException NotConnected(string provider) =>
        new(provider, IntegrationFailureKind.AuthorizationRequired, $"{provider} is not connected for this booking page.");

    private string Decrypt(string provider, string protectedToken)
    {
        try
        {
            return store.Unprotect(OAuthAccountKind.Crm, protectedToken);
        }
        catch (CryptographicException ex)
        {
            throw new IntegrationException(provider, IntegrationFailureKind.AuthorizationRequired,
                $"The stored {provider} tokens cannot be decrypted (the data protection keys changed); authorize the connection again.", inner: ex);
        }
    }
}

/// <summary>
/// The <c>state</c> of an OAuth authorization: which provider, page and organization it is for, a single-use nonce
/// (also stored on the connection), an expiry, and whether the web app started it (then the callback sends the browser
/// back to the page's CRM screen instead of answering JSON), signed and encrypted with Data Protection.
/// </summary>
public sealed record OAuthState(string Provider, BookingPageId PageId, OrganizationId OrganizationId, string Nonce, Instant ExpiresAt,
    bool FromWeb = false)
{
    /// <summary>How long an authorize URL stays usable.</summary>
    public static Duration Lifetime { get; } = Duration.FromMinutes(15);

    public static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    // A sixth part "web" marks a connect started from the web app; states of API callers keep the five parts they always had.
    public string Protect(IntegrationSecrets secrets) =>
        secrets.ProtectState(string.Join('|', new[]
        {
            Provider, PageId.Value.ToString("N"), OrganizationId.Value.ToString("N"), Nonce,
            ExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
        }.Concat(FromWeb ? ["web"] : [])));

    /// <summary>The state, or null when it is not one of ours, is for another provider, or has expired.</summary>
    public static OAuthState? Read(IntegrationSecrets secrets, string? text, string provider, Instant now) =>
        ReadIgnoringExpiry(secrets, text, provider) is { } state && now <= state.ExpiresAt ? state : null;

    /// <summary>
    /// The state even when it has expired (null when it is not one of ours or is for another provider): enough to know
    /// where to send the browser back to, never to connect anything.
    /// </summary>
    public static OAuthState? ReadIgnoringExpiry(IntegrationSecrets secrets, string? text, string provider)
    {
        var parts = secrets.UnprotectState(text)?.Split('|');
        if (parts is not { Length: 5 or 6 } || parts[0] != provider
            || !Guid.TryParseExact(parts[1], "N", out var page) || !Guid.TryParseExact(parts[2], "N", out var org)
            || !long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || (parts.Length == 6 && parts[5] != "web"))
        {
            return null;
        }

        return new OAuthState(provider, new BookingPageId(page), new OrganizationId(org), parts[3], Instant.FromUnixTimeSeconds(expires),
            FromWeb: parts.Length == 6);
    }
}

using System.Globalization;
using System.Security.Cryptography;
using NodaTime;
using Npgsql;
using Rendezvous.Domain;
using Rendezvous.Integrations;

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
/// Reads and renews a connection's OAuth tokens. Renewal happens under a row lock on the connection, so two processes
/// (or two outbox messages) that find the same token expired refresh it once: the second sees the new token and uses it.
/// That matters for Keap, whose refresh tokens are single-use. A refused refresh token marks the connection as needing a
/// new authorization.
/// </summary>
public sealed class CrmTokens(NpgsqlDataSource dataSource, IntegrationSecrets secrets, IClock clock)
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
            throw new IntegrationException(provider, IntegrationFailureKind.AuthorizationRequired, $"{provider} is not connected for this booking page.");
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
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        string? protectedAccess;
        string? protectedRefresh;
        string? instanceUrl;
        await using (var select = new NpgsqlCommand("""
            SELECT protected_access_token, protected_refresh_token, instance_url FROM crm_connections WHERE id = @id FOR UPDATE
            """, connection, tx))
        {
            select.Parameters.AddWithValue("id", connectionId);
            await using var reader = await select.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                throw new IntegrationException(provider, IntegrationFailureKind.AuthorizationRequired, $"{provider} is not connected for this booking page.");
            }

            protectedAccess = reader.IsDBNull(0) ? null : reader.GetString(0);
            protectedRefresh = reader.IsDBNull(1) ? null : reader.GetString(1);
            instanceUrl = reader.IsDBNull(2) ? null : reader.GetString(2);
        }

        if (protectedAccess is not null && stale is not null)
        {
            var current = Decrypt(provider, protectedAccess);
            if (current != stale)
            {
                // Someone renewed it while we waited for the lock.
                await tx.CommitAsync(ct);
                return new CrmAccess(connectionId, current, instanceUrl, null);
            }
        }

        if (protectedRefresh is null)
        {
            throw new IntegrationException(provider, IntegrationFailureKind.AuthorizationRequired,
                $"{provider} gave no refresh token; authorize the connection again.");
        }

        TokenGrant grant;
        try
        {
            grant = await refresh(Decrypt(provider, protectedRefresh), ct);
        }
        catch (IntegrationException ex) when (ex.Kind == IntegrationFailureKind.AuthorizationRequired)
        {
            await using var mark = new NpgsqlCommand("""
                UPDATE crm_connections SET needs_reauthorization = true, last_error = @error, last_error_at = @now, updated_at = @now WHERE id = @id
                """, connection, tx);
            mark.Parameters.AddWithValue("id", connectionId);
            mark.Parameters.AddWithValue("error", ex.Message);
            mark.Parameters.AddWithValue("now", clock.GetCurrentInstant());
            await mark.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            throw;
        }

        var now = clock.GetCurrentInstant();
        Instant? expires = grant.ExpiresIn is { } life ? now + Duration.FromTimeSpan(life) : null;
        await using (var update = new NpgsqlCommand("""
            UPDATE crm_connections
            SET protected_access_token = @access,
                protected_refresh_token = COALESCE(@refresh, protected_refresh_token),
                instance_url = COALESCE(@instance, instance_url),
                access_token_expires_at = @expires,
                needs_reauthorization = false,
                updated_at = @now
            WHERE id = @id
            """, connection, tx))
        {
            update.Parameters.AddWithValue("id", connectionId);
            update.Parameters.AddWithValue("access", secrets.ProtectToken(grant.AccessToken));
            update.Parameters.AddWithValue("refresh", grant.RefreshToken is null ? DBNull.Value : secrets.ProtectToken(grant.RefreshToken));
            update.Parameters.AddWithValue("instance", (object?)grant.InstanceUrl ?? DBNull.Value);
            update.Parameters.AddWithValue("expires", expires is { } e ? e : DBNull.Value);
            update.Parameters.AddWithValue("now", now);
            await update.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return new CrmAccess(connectionId, grant.AccessToken, grant.InstanceUrl ?? instanceUrl, expires);
    }

    private string Decrypt(string provider, string protectedToken)
    {
        try
        {
            return secrets.UnprotectToken(protectedToken);
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
/// (also stored on the connection) and an expiry, signed and encrypted with Data Protection.
/// </summary>
public sealed record OAuthState(string Provider, BookingPageId PageId, OrganizationId OrganizationId, string Nonce, Instant ExpiresAt)
{
    /// <summary>How long an authorize URL stays usable.</summary>
    public static Duration Lifetime { get; } = Duration.FromMinutes(15);

    public static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public string Protect(IntegrationSecrets secrets) =>
        secrets.ProtectState(string.Join('|', Provider, PageId.Value.ToString("N"), OrganizationId.Value.ToString("N"), Nonce,
            ExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));

    /// <summary>The state, or null when it is not one of ours, is for another provider, or has expired.</summary>
    public static OAuthState? Read(IntegrationSecrets secrets, string? text, string provider, Instant now)
    {
        var parts = secrets.UnprotectState(text)?.Split('|');
        if (parts is not { Length: 5 } || parts[0] != provider
            || !Guid.TryParseExact(parts[1], "N", out var page) || !Guid.TryParseExact(parts[2], "N", out var org)
            || !long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return null;
        }

        var state = new OAuthState(provider, new BookingPageId(page), new OrganizationId(org), parts[3], Instant.FromUnixTimeSeconds(expires));
        return now > state.ExpiresAt ? null : state;
    }
}

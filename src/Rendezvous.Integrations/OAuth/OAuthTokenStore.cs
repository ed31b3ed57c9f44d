using System.Collections.Concurrent;
using System.Security.Cryptography;
using NodaTime;
using Npgsql;
using Rendezvous.Integrations.Crm;

namespace Rendezvous.Integrations.OAuth;

/// <summary>Whose OAuth tokens: a booking page's CRM connection (<c>crm_connections</c>) or a user's conferencing account (<c>conferencing_accounts</c>).</summary>
public enum OAuthAccountKind
{
    Crm,
    Conferencing,
}

/// <summary>How one caller wants the store's failures said: its own exception types and words.</summary>
public sealed record OAuthRefreshPolicy(
    OAuthAccountKind Kind,
    Func<Exception> Missing,
    Func<string, Exception> AuthorizationRequired,
    string NoRefreshTokenMessage,
    Func<Exception, bool> IsRefusal);

/// <summary>A usable access token after a refresh, and where to send calls when the provider said.</summary>
public sealed record OAuthTokens(string AccessToken, string? InstanceUrl, Instant? ExpiresAt);

/// <summary>
/// The one place OAuth tokens of CRM connections and conferencing accounts are encrypted, decrypted and renewed. The
/// rows stay in their own tables (each also holds what only its kind has), but renewal follows one protocol: callers in
/// this process for the same account queue on a lock, then the row is locked (<c>SELECT ... FOR UPDATE</c>) against other
/// processes; whoever finds the stored token changed since it read it uses that one instead of refreshing again. That
/// matters because Keap, Zoom and Webex rotate refresh tokens: a second use of a spent one is refused and would lock the
/// account out. A refused refresh token, or none at all, is recorded on the row for an administrator to see.
/// </summary>
public sealed class OAuthTokenStore(NpgsqlDataSource dataSource, IntegrationSecrets integrationSecrets, Secrets secrets, IClock clock)
{
    // One gate per account ever refreshed in this process; a few bytes each, so they are never removed.
    private readonly ConcurrentDictionary<(OAuthAccountKind, Guid), SemaphoreSlim> _gates = new();

    public string Protect(OAuthAccountKind kind, string token) =>
        kind == OAuthAccountKind.Crm ? integrationSecrets.ProtectToken(token) : secrets.ProtectConferencingToken(token);

    /// <summary>The token in clear; throws <see cref="CryptographicException"/> when the Data Protection keys are gone.</summary>
    public string Unprotect(OAuthAccountKind kind, string protectedToken) =>
        kind == OAuthAccountKind.Crm ? integrationSecrets.UnprotectToken(protectedToken) : secrets.UnprotectConferencingToken(protectedToken);

    /// <summary>
    /// A fresh access token for account <paramref name="accountId"/>: the one another caller stored since
    /// <paramref name="stale"/> was read, or a new one from <paramref name="refresh"/> (given the stored refresh token).
    /// </summary>
    public async Task<OAuthTokens> RefreshAsync(OAuthRefreshPolicy policy, Guid accountId, string? stale,
        Func<string, CancellationToken, Task<TokenGrant>> refresh, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(refresh);
        var gate = _gates.GetOrAdd((policy.Kind, accountId), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            return await RefreshLockedAsync(policy, accountId, stale, refresh, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<OAuthTokens> RefreshLockedAsync(OAuthRefreshPolicy policy, Guid accountId, string? stale,
        Func<string, CancellationToken, Task<TokenGrant>> refresh, CancellationToken ct)
    {
        var crm = policy.Kind == OAuthAccountKind.Crm;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        string? protectedAccess;
        string? protectedRefresh;
        string? instanceUrl;
        var select = crm
            ? "SELECT protected_access_token, protected_refresh_token, instance_url FROM crm_connections WHERE id = @id FOR UPDATE"
            : "SELECT protected_access_token, protected_refresh_token, NULL::text FROM conferencing_accounts WHERE id = @id FOR UPDATE";
        await using (var command = new NpgsqlCommand(select, connection, tx))
        {
            command.Parameters.AddWithValue("id", accountId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                throw policy.Missing();
            }

            protectedAccess = reader.IsDBNull(0) ? null : reader.GetString(0);
            protectedRefresh = reader.IsDBNull(1) ? null : reader.GetString(1);
            instanceUrl = reader.IsDBNull(2) ? null : reader.GetString(2);
        }

        if (protectedAccess is not null && stale is not null)
        {
            var current = Decrypt(policy, protectedAccess);
            if (current != stale)
            {
                // Renewed by someone else while we waited for the lock (or replaced through the API): use theirs.
                await tx.CommitAsync(ct);
                return new OAuthTokens(current, instanceUrl, null);
            }
        }

        if (protectedRefresh is null)
        {
            await MarkAsync(crm, connection, tx, accountId, policy.NoRefreshTokenMessage, ct);
            await tx.CommitAsync(ct);
            throw policy.AuthorizationRequired(policy.NoRefreshTokenMessage);
        }

        TokenGrant grant;
        try
        {
            grant = await refresh(Decrypt(policy, protectedRefresh), ct);
        }
        catch (Exception ex) when (policy.IsRefusal(ex))
        {
            await MarkAsync(crm, connection, tx, accountId, ex.Message, ct);
            await tx.CommitAsync(ct);
            throw;
        }

        var now = clock.GetCurrentInstant();
        Instant? expires = grant.ExpiresIn is { } life ? now + Duration.FromTimeSpan(life) : null;
        var update = crm
            ? """
              UPDATE crm_connections
              SET protected_access_token = @access,
                  protected_refresh_token = COALESCE(@refresh, protected_refresh_token),
                  instance_url = COALESCE(@instance, instance_url),
                  access_token_expires_at = @expires,
                  needs_reauthorization = false,
                  updated_at = @now
              WHERE id = @id
              """
            : """
              UPDATE conferencing_accounts
              SET protected_access_token = @access,
                  protected_refresh_token = COALESCE(@refresh, protected_refresh_token),
                  access_token_expires_at = @expires,
                  last_error = NULL,
                  updated_at = @now
              WHERE id = @id
              """;
        await using (var command = new NpgsqlCommand(update, connection, tx))
        {
            command.Parameters.AddWithValue("id", accountId);
            command.Parameters.AddWithValue("access", Protect(policy.Kind, grant.AccessToken));
            command.Parameters.AddWithValue("refresh", grant.RefreshToken is { Length: > 0 } rotated ? Protect(policy.Kind, rotated) : DBNull.Value);
            command.Parameters.AddWithValue("expires", expires is { } e ? e : DBNull.Value);
            command.Parameters.AddWithValue("now", now);
            if (crm)
            {
                command.Parameters.AddWithValue("instance", (object?)grant.InstanceUrl ?? DBNull.Value);
            }

            await command.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return new OAuthTokens(grant.AccessToken, grant.InstanceUrl ?? instanceUrl, expires);
    }

    private async Task MarkAsync(bool crm, NpgsqlConnection connection, NpgsqlTransaction tx, Guid accountId, string error, CancellationToken ct)
    {
        var sql = crm
            ? "UPDATE crm_connections SET needs_reauthorization = true, last_error = @error, last_error_at = @now, updated_at = @now WHERE id = @id"
            : "UPDATE conferencing_accounts SET last_error = @error, updated_at = @now WHERE id = @id";
        await using var mark = new NpgsqlCommand(sql, connection, tx);
        mark.Parameters.AddWithValue("id", accountId);
        mark.Parameters.AddWithValue("error", error);
        mark.Parameters.AddWithValue("now", clock.GetCurrentInstant());
        await mark.ExecuteNonQueryAsync(ct);
    }

    private string Decrypt(OAuthRefreshPolicy policy, string protectedToken)
    {
        try
        {
            return Unprotect(policy.Kind, protectedToken);
        }
        catch (CryptographicException ex)
        {
            throw policy.AuthorizationRequired(
                $"The stored tokens cannot be decrypted (the data protection keys changed); authorize again. ({ex.Message})");
        }
    }
}

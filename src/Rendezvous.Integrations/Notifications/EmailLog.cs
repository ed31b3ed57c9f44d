using Npgsql;
using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Integrations.Notifications;

/// <summary>Where one email stands in <c>email_log</c>.</summary>
public enum EmailClaim
{
    /// <summary>This caller holds the email now and sends it.</summary>
    Claimed,
    /// <summary>Sent before: nothing to do.</summary>
    AlreadySent,
    /// <summary>Failed for good before (the recipient was refused): nothing to do.</summary>
    Failed,
    /// <summary>Another process is sending it right now; try again later.</summary>
    Busy,
}

/// <summary>
/// The log of every email and its deduplication. Before an email is sent its key is claimed (inserted, or taken over when
/// an earlier attempt failed or its lease ran out); after the server accepts it, it is marked sent. A key marked sent is
/// never sent again. The one gap: a process that dies after the server accepted the message and before "sent" is
/// committed leaves a claim that runs out, and the retry sends the message once more (with the same Message-ID, so mail
/// programs can tell it is the same message).
/// </summary>
public sealed class EmailLog(NpgsqlDataSource dataSource)
{
    /// <summary>How long a claim keeps other processes away; longer than any one SMTP exchange.</summary>
    public static Duration Lease { get; } = Duration.FromMinutes(5);

    public sealed record Entry(string Key, OrganizationId OrganizationId, BookingId? BookingId, string Kind, string Recipient, string MessageId);

    /// <summary>Claims <paramref name="entry"/>; returns the outcome and the Message-ID to use (the first attempt's, on a retry).</summary>
    public async Task<(EmailClaim Claim, string MessageId)> ClaimAsync(Entry entry, Instant now, CancellationToken ct)
    {
        await using (var claim = dataSource.CreateCommand("""
            INSERT INTO email_log (dedup_key, organization_id, booking_id, kind, recipient, message_id, status, attempts, created_at, lease_until)
            VALUES (@key, @org, @booking, @kind, @recipient, @mid, 'sending', 1, @now, @lease)
            ON CONFLICT (dedup_key) DO UPDATE
                SET status = 'sending', attempts = email_log.attempts + 1, lease_until = EXCLUDED.lease_until,
                    recipient = EXCLUDED.recipient
                WHERE email_log.status = 'pending' OR (email_log.status = 'sending' AND email_log.lease_until < EXCLUDED.created_at)
            RETURNING message_id
            """))
        {
            claim.Parameters.AddWithValue("key", entry.Key);
            claim.Parameters.AddWithValue("org", entry.OrganizationId.Value);
            claim.Parameters.AddWithValue("booking", (object?)entry.BookingId?.Value ?? DBNull.Value);
            claim.Parameters.AddWithValue("kind", entry.Kind);
            claim.Parameters.AddWithValue("recipient", entry.Recipient);
            claim.Parameters.AddWithValue("mid", entry.MessageId);
            claim.Parameters.AddWithValue("now", now);
            claim.Parameters.AddWithValue("lease", now + Lease);
            if (await claim.ExecuteScalarAsync(ct).ConfigureAwait(false) is string messageId)
            {
                return (EmailClaim.Claimed, messageId);
            }
        }

        await using var status = dataSource.CreateCommand("SELECT status, message_id FROM email_log WHERE dedup_key = @key");
        status.Parameters.AddWithValue("key", entry.Key);
        await using var reader = await status.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            // Deleted between the two statements; treat as busy and let the retry settle it.
            return (EmailClaim.Busy, entry.MessageId);
        }

        return (reader.GetString(0) switch
        {
            "sent" => EmailClaim.AlreadySent,
            "failed" => EmailClaim.Failed,
            _ => EmailClaim.Busy,
        }, reader.GetString(1));
    }

    /// <summary>
    /// Claims many emails in one statement (a round of reminders). Each key maps to its claim and the message id to use;
    /// keys that could not be claimed report what they are (sent, failed or busy).
    /// </summary>
    public async Task<Dictionary<string, (EmailClaim Claim, string MessageId)>> ClaimManyAsync(IReadOnlyList<Entry> entries, Instant now, CancellationToken ct)
    {
        var result = new Dictionary<string, (EmailClaim, string)>(entries.Count, StringComparer.Ordinal);
        if (entries.Count == 0)
        {
            return result;
        }

        await using (var claim = dataSource.CreateCommand("""
            INSERT INTO email_log (dedup_key, organization_id, booking_id, kind, recipient, message_id, status, attempts, created_at, lease_until)
            SELECT t.k, t.o, t.b, t.kind, t.r, t.m, 'sending', 1, @now, @lease
            FROM unnest(@keys, @orgs, @bookings, @kinds, @recipients, @mids) AS t(k, o, b, kind, r, m)
            ON CONFLICT (dedup_key) DO UPDATE
                SET status = 'sending', attempts = email_log.attempts + 1, lease_until = EXCLUDED.lease_until,
                    recipient = EXCLUDED.recipient
                WHERE email_log.status = 'pending' OR (email_log.status = 'sending' AND email_log.lease_until < EXCLUDED.created_at)
            RETURNING dedup_key, message_id
            """))
        {
            claim.Parameters.AddWithValue("keys", entries.Select(e => e.Key).ToArray());
            claim.Parameters.AddWithValue("orgs", entries.Select(e => e.OrganizationId.Value).ToArray());
            claim.Parameters.AddWithValue("bookings", entries.Select(e => e.BookingId?.Value).ToArray());
            claim.Parameters.AddWithValue("kinds", entries.Select(e => e.Kind).ToArray());
            claim.Parameters.AddWithValue("recipients", entries.Select(e => e.Recipient).ToArray());
            claim.Parameters.AddWithValue("mids", entries.Select(e => e.MessageId).ToArray());
            claim.Parameters.AddWithValue("now", now);
            claim.Parameters.AddWithValue("lease", now + Lease);
            await using var reader = await claim.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                result[reader.GetString(0)] = (EmailClaim.Claimed, reader.GetString(1));
            }
        }

        var missing = entries.Select(e => e.Key).Where(k => !result.ContainsKey(k)).ToArray();
        if (missing.Length > 0)
        {
            await using var status = dataSource.CreateCommand("SELECT dedup_key, status, message_id FROM email_log WHERE dedup_key = ANY(@keys)");
            status.Parameters.AddWithValue("keys", missing);
            await using var reader = await status.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                result[reader.GetString(0)] = (reader.GetString(1) switch
                {
                    "sent" => EmailClaim.AlreadySent,
                    "failed" => EmailClaim.Failed,
                    _ => EmailClaim.Busy,
                }, reader.GetString(2));
            }
        }

        return result;
    }

    /// <summary>Marks many claimed emails sent in one statement.</summary>
    public async Task MarkManySentAsync(IReadOnlyCollection<string> keys, Instant now, CancellationToken ct)
    {
        if (keys.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand(
            "UPDATE email_log SET status = 'sent', lease_until = NULL, last_error = NULL, sent_at = @now WHERE dedup_key = ANY(@keys)");
        command.Parameters.AddWithValue("keys", keys.ToArray());
        command.Parameters.AddWithValue("now", now);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public Task MarkSentAsync(string key, Instant now, CancellationToken ct) =>
        UpdateAsync(key, "sent", now, null, ct);

    /// <summary>Records a failure: <paramref name="permanent"/> ones are never tried again, the others on the next retry.</summary>
    public Task MarkFailedAsync(string key, bool permanent, string error, Instant now, CancellationToken ct) =>
        UpdateAsync(key, permanent ? "failed" : "pending", now, error.Length > 2000 ? error[..2000] : error, ct);

    private async Task UpdateAsync(string key, string status, Instant now, string? error, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE email_log
            SET status = @status, lease_until = NULL, last_error = @error,
                sent_at = CASE WHEN @status = 'sent' THEN @now ELSE sent_at END
            WHERE dedup_key = @key
            """);
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("error", (object?)error ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}

using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;

namespace Rendezvous.Integrations.Webhooks;

/// <summary>
/// Sends due deliveries. Deliveries are claimed with <c>FOR UPDATE SKIP LOCKED</c> and leased by moving their next
/// attempt past the lease, so any number of server processes share the work, each delivery is sent by one of them at a
/// time, and one that dies mid-send hands its deliveries back when the lease runs out. Nothing is held locked while a
/// request is in flight. Each attempt is recorded, and the delivery is marked delivered, scheduled again or failed.
/// </summary>
public sealed partial class WebhookDispatcher(
    NpgsqlDataSource dataSource, WebhookSecrets secrets, WebhookHttp http, IClock clock, IOptions<WebhookOptions> options,
    ILogger<WebhookDispatcher> logger)
{
    private sealed record Claimed(Guid Id, Guid SubscriptionId, long OutboxMessageId, string EventId, string EventType, string Payload,
        string Url, string ProtectedSecret);

    /// <summary>Claims up to a batch of due deliveries of active subscriptions and sends them; returns how many were claimed.</summary>
    public async Task<int> ProcessDueAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = clock.GetCurrentInstant();
        var claimed = await ClaimAsync(now, Duration.FromTimeSpan(o.Lease), o.BatchSize, cancellationToken);
        if (claimed.Count == 0)
        {
            return 0;
        }

        // One subscription's deliveries go one after another, in the order the events happened; subscriptions in parallel.
        var queues = claimed.GroupBy(c => c.SubscriptionId).Select(g => g.OrderBy(c => c.OutboxMessageId).ToList()).ToList();
        await Parallel.ForEachAsync(queues, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Parallelism), CancellationToken = cancellationToken },
            async (queue, ct) =>
            {
                foreach (var delivery in queue)
                {
                    await AttemptAsync(delivery, replay: false, ct);
                }
            });
        return claimed.Count;
    }

    /// <summary>
    /// Sends one delivery again now, whatever its status and even when its subscription is paused: a new attempt with the
    /// same event id and body, newly signed. Returns false when the delivery does not exist.
    /// </summary>
    public async Task<bool> ReplayAsync(Guid deliveryId, CancellationToken cancellationToken)
    {
        Claimed? delivery = null;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var select = new NpgsqlCommand("""
            SELECT d.id, d.subscription_id, d.outbox_message_id, d.event_id, d.event_type, d.payload, s.url, s.protected_secret
            FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
            WHERE d.id = @id
            """, connection))
        {
            select.Parameters.AddWithValue("id", deliveryId);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                delivery = Read(reader);
            }
        }

        if (delivery is null)
        {
            return false;
        }

        await AttemptAsync(delivery, replay: true, cancellationToken);
        return true;
    }

    private async Task<List<Claimed>> ClaimAsync(Instant now, Duration lease, int limit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var claim = new NpgsqlCommand("""
            WITH due AS (
                SELECT d.id FROM webhook_deliveries d
                JOIN webhook_subscriptions s ON s.id = d.subscription_id
                WHERE d.status = 'Pending' AND d.next_attempt_at <= @now AND s.active
                ORDER BY d.next_attempt_at, d.outbox_message_id
                LIMIT @limit
                FOR UPDATE OF d SKIP LOCKED)
            UPDATE webhook_deliveries d SET next_attempt_at = @leased
            FROM due, webhook_subscriptions s
            WHERE d.id = due.id AND s.id = d.subscription_id
            RETURNING d.id, d.subscription_id, d.outbox_message_id, d.event_id, d.event_type, d.payload, s.url, s.protected_secret
            """, connection);
        claim.Parameters.AddWithValue("now", now);
        claim.Parameters.AddWithValue("leased", now + lease);
        claim.Parameters.AddWithValue("limit", limit);
        var claimed = new List<Claimed>();
        await using var reader = await claim.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            claimed.Add(Read(reader));
        }

        return claimed;
    }

    private static Claimed Read(NpgsqlDataReader r) =>
        new(r.GetGuid(0), r.GetGuid(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetString(7));

    private async Task AttemptAsync(Claimed delivery, bool replay, CancellationToken ct)
    {
        var at = clock.GetCurrentInstant();
        WebhookAttemptOutcome outcome;
        try
        {
            var signature = WebhookSecrets.Signature(secrets.Unprotect(delivery.ProtectedSecret), at.ToUnixTimeSeconds(), delivery.Payload);
            outcome = await http.SendAsync(delivery.Url, delivery.EventId, delivery.EventType, delivery.Payload, signature, ct);
        }
        catch (CryptographicException)
        {
            // The Data Protection keys that encrypted the secret are gone: nothing can be signed until the secret is rotated.
            outcome = new WebhookAttemptOutcome(null, null, "The signing secret cannot be decrypted; rotate the secret.", TimeSpan.Zero);
        }

        await RecordAsync(delivery, replay, at, outcome, ct);
        if (!outcome.Succeeded)
        {
            LogAttemptFailed(logger, delivery.Id, delivery.EventId, outcome.Summary ?? "");
        }
    }

    /// <summary>Records the attempt and moves the delivery on, under the delivery's row lock.</summary>
    private async Task RecordAsync(Claimed delivery, bool replay, Instant at, WebhookAttemptOutcome outcome, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);

        string status;
        int attempts, automatic;
        Instant? next;
        await using (var select = new NpgsqlCommand(
            "SELECT status, attempts, automatic_attempts, next_attempt_at FROM webhook_deliveries WHERE id = @id FOR UPDATE", connection, tx))
        {
            select.Parameters.AddWithValue("id", delivery.Id);
            await using var reader = await select.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return; // Deleted with its subscription while the request was in flight.
            }

            status = reader.GetString(0);
            attempts = reader.GetInt32(1) + 1;
            automatic = reader.GetInt32(2);
            next = reader.IsDBNull(3) ? null : reader.GetFieldValue<Instant>(3);
        }

        if (!replay)
        {
            automatic++;
        }

        if (outcome.Succeeded)
        {
            status = "Delivered";
            next = null;
        }
        else if (status == "Pending" && outcome.Gone)
        {
            status = "Failed";
            next = null;
        }
        else if (status == "Pending" && !replay)
        {
            var wait = WebhookRetrySchedule.WaitAfter(automatic);
            status = wait is null ? "Failed" : "Pending";
            next = wait is { } w ? now + w : null;
        }

        await using (var attempt = new NpgsqlCommand("""
            INSERT INTO webhook_attempts (delivery_id, number, at, replay, status_code, response_excerpt, error, duration_ms)
            VALUES (@id, @number, @at, @replay, @status_code, @excerpt, @error, @duration)
            """, connection, tx))
        {
            attempt.Parameters.AddWithValue("id", delivery.Id);
            attempt.Parameters.AddWithValue("number", attempts);
            attempt.Parameters.AddWithValue("at", at);
            attempt.Parameters.AddWithValue("replay", replay);
            attempt.Parameters.AddWithValue("status_code", (object?)outcome.StatusCode ?? DBNull.Value);
            attempt.Parameters.AddWithValue("excerpt", (object?)outcome.ResponseExcerpt ?? DBNull.Value);
            attempt.Parameters.AddWithValue("error", (object?)outcome.Error ?? DBNull.Value);
            attempt.Parameters.AddWithValue("duration", (int)Math.Min(int.MaxValue, Math.Round(outcome.Duration.TotalMilliseconds)));
            await attempt.ExecuteNonQueryAsync(ct);
        }

        await using (var update = new NpgsqlCommand("""
            UPDATE webhook_deliveries
            SET status = @status, attempts = @attempts, automatic_attempts = @automatic, next_attempt_at = @next,
                delivered_at = CASE WHEN @delivered THEN coalesce(delivered_at, @now) ELSE delivered_at END,
                last_status_code = @status_code, last_error = @error
            WHERE id = @id
            """, connection, tx))
        {
            update.Parameters.AddWithValue("id", delivery.Id);
            update.Parameters.AddWithValue("status", status);
            update.Parameters.AddWithValue("attempts", attempts);
            update.Parameters.AddWithValue("automatic", automatic);
            update.Parameters.AddWithValue("next", NpgsqlTypes.NpgsqlDbType.TimestampTz, (object?)next ?? DBNull.Value);
            update.Parameters.AddWithValue("delivered", outcome.Succeeded);
            update.Parameters.AddWithValue("now", now);
            update.Parameters.AddWithValue("status_code", (object?)outcome.StatusCode ?? DBNull.Value);
            update.Parameters.AddWithValue("error", (object?)outcome.Summary ?? DBNull.Value);
            await update.ExecuteNonQueryAsync(ct);
        }

        if (outcome.Gone)
        {
            // The receiver says this endpoint is gone for good: stop sending to it until a person resumes it.
            await using var disable = new NpgsqlCommand("""
                UPDATE webhook_subscriptions SET active = false, disabled_reason = @reason, updated_at = @now WHERE id = @id AND active
                """, connection, tx);
            disable.Parameters.AddWithValue("id", delivery.SubscriptionId);
            disable.Parameters.AddWithValue("reason", $"The receiver answered 410 Gone to {delivery.EventId} at {ApiFormat.Format(at)}.");
            disable.Parameters.AddWithValue("now", now);
            await disable.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery {DeliveryId} ({EventId}) failed: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, Guid deliveryId, string eventId, string error);
}

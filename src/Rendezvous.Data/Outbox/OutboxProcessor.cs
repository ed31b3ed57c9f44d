using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NodaTime;
using Npgsql;
using NpgsqlTypes;
using Rendezvous.Data.Diagnostics;
using Rendezvous.Domain;

namespace Rendezvous.Data.Outbox;

/// <summary>One outbox message as a handler sees it.</summary>
public sealed record OutboxEnvelope(long Id, string Type, string Payload, OrganizationId? OrganizationId, int Attempt);

/// <summary>
/// Something that reacts to outbox messages (notifications, calendars, CRM, webhooks). Delivery is at least once:
/// a handler must tolerate seeing the same message again, which happens only when it failed or the process died
/// before the message was marked done.
/// </summary>
public interface IOutboxHandler
{
    /// <summary>Stable name, recorded once the handler has succeeded for a message so a retry skips it.</summary>
    string Name { get; }

    bool Handles(string type);

    Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken);

    /// <summary>
    /// Names of handlers that run before this one for the same message (the calendar writer and the emails after
    /// conferencing, so they can carry the meeting link). It orders, it does not gate: when one of them fails, this one
    /// still runs, as it would have without the other, and only the failed one is retried.
    /// </summary>
    IReadOnlyCollection<string> RunsAfter => [];
}

/// <summary>
/// Claims due outbox messages with <c>FOR UPDATE SKIP LOCKED</c> (so several server processes share the work and each
/// message is worked on by one of them at a time), runs every handler that has not yet succeeded for it, and marks it
/// done or schedules a retry with capped exponential backoff and jitter.
/// </summary>
public sealed partial class OutboxProcessor(NpgsqlDataSource dataSource, IEnumerable<IOutboxHandler> handlers, IClock clock, ILogger<OutboxProcessor> logger)
{
    // Handlers run in an order fixed by their names and RunsAfter, never by the order they were registered in.
    private readonly IOutboxHandler[] _handlers = Order(handlers);

    /// <summary>The longest wait between two attempts.</summary>
    public static Duration MaxBackoff { get; } = Duration.FromHours(1);

    /// <summary>Processes up to <paramref name="batchSize"/> due messages; returns how many were claimed.</summary>
    public async Task<int> ProcessBatchAsync(int batchSize, CancellationToken cancellationToken)
    {
        var now = clock.GetCurrentInstant();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        var claimed = new List<(OutboxEnvelope Message, List<string> HandledBy, Instant Written)>();
        await using (var select = new NpgsqlCommand("""
            SELECT id, type, payload::text, organization_id, attempts, handled_by, created_at
            FROM outbox_messages
            WHERE processed_at IS NULL AND available_at <= @now
            ORDER BY id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
            """, connection, tx))
        {
            select.Parameters.AddWithValue("now", now);
            select.Parameters.AddWithValue("limit", batchSize);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var org = reader.IsDBNull(3) ? (OrganizationId?)null : new OrganizationId(reader.GetGuid(3));
                claimed.Add((new OutboxEnvelope(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), org, reader.GetInt32(4) + 1),
                    [.. reader.GetFieldValue<string[]>(5)], reader.GetFieldValue<Instant>(6)));
            }
        }

        foreach (var (message, handledBy, written) in claimed)
        {
            using var activity = RendezvousTelemetry.Source.StartActivity("outbox " + message.Type, ActivityKind.Consumer);
            activity?.SetTag("rendezvous.outbox.message_id", message.Id);
            activity?.SetTag("rendezvous.outbox.attempt", message.Attempt);
            string? error = null;
            foreach (var handler in _handlers)
            {
                if (!handler.Handles(message.Type) || handledBy.Contains(handler.Name))
                {
                    continue;
                }

                try
                {
                    await handler.HandleAsync(message, cancellationToken).ConfigureAwait(false);
                    handledBy.Add(handler.Name);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    error = $"{handler.Name}: {ex.GetType().Name}: {ex.Message}";
                    LogHandlerFailed(logger, ex, handler.Name, message.Id, message.Type, message.Attempt);
                }
            }

            await using var update = new NpgsqlCommand(error is null
                ? "UPDATE outbox_messages SET processed_at = @now, attempts = attempts + 1, handled_by = @handled, last_error = NULL WHERE id = @id"
                : "UPDATE outbox_messages SET available_at = @retry, attempts = attempts + 1, handled_by = @handled, last_error = @error WHERE id = @id",
                connection, tx);
            update.Parameters.AddWithValue("id", message.Id);
            update.Parameters.AddWithValue("now", now);
            update.Parameters.Add(new NpgsqlParameter("handled", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = handledBy.ToArray() });
            update.Parameters.AddWithValue("retry", now + Backoff(message.Attempt));
            update.Parameters.AddWithValue("error", (object?)error ?? DBNull.Value);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            var type = new KeyValuePair<string, object?>("type", message.Type);
            RendezvousTelemetry.OutboxMessages.Add(1, type, new("outcome", error is null ? "done" : "retry"));
            if (error is null)
            {
                RendezvousTelemetry.OutboxDelay.Record((now - written).TotalSeconds, type);
            }
            else
            {
                activity?.SetStatus(ActivityStatusCode.Error, error);
            }
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return claimed.Count;
    }

    /// <summary>
    /// The handlers sorted so each comes after those it names in <see cref="IOutboxHandler.RunsAfter"/>, otherwise by name.
    /// Names must be unique (they are what a message records as done) and the prerequisites must not form a cycle.
    /// </summary>
    public static IOutboxHandler[] Order(IEnumerable<IOutboxHandler> handlers)
    {
        var byName = new SortedDictionary<string, IOutboxHandler>(StringComparer.Ordinal);
        foreach (var handler in handlers)
        {
            if (!byName.TryAdd(handler.Name, handler))
            {
                throw new InvalidOperationException($"Two outbox handlers are named '{handler.Name}'.");
            }
        }

        var ordered = new List<IOutboxHandler>(byName.Count);
        var placed = new HashSet<string>(StringComparer.Ordinal);
        while (ordered.Count < byName.Count)
        {
            // A prerequisite that is not registered (a feature left out of this host) is no reason to wait.
            var next = byName.Values.FirstOrDefault(h => !placed.Contains(h.Name)
                && h.RunsAfter.All(p => placed.Contains(p) || !byName.ContainsKey(p)))
                ?? throw new InvalidOperationException("The outbox handlers' RunsAfter form a cycle: "
                    + string.Join(", ", byName.Keys.Where(n => !placed.Contains(n))) + ".");
            ordered.Add(next);
            placed.Add(next.Name);
        }

        return [.. ordered];
    }

    /// <summary>2^attempt seconds, capped at <see cref="MaxBackoff"/>, plus up to 20% jitter so retries spread out.</summary>
    public static Duration Backoff(int attempt)
    {
        var seconds = Math.Min(Math.Pow(2, Math.Clamp(attempt, 0, 30)), MaxBackoff.TotalSeconds);
#pragma warning disable CA5394 // Jitter needs no cryptographic randomness.
        var jitter = 1 + (Random.Shared.NextDouble() * 0.2);
#pragma warning restore CA5394
        return Duration.FromSeconds(seconds * jitter);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox handler {Handler} failed for message {MessageId} ({Type}), attempt {Attempt}")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string handler, long messageId, string type, int attempt);
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
/// Runs the outbox (decision 0027). A batch of due messages is claimed in one short transaction: each row gets this
/// processor's name and a lease, and the transaction commits before any handler runs, so no database transaction is open
/// across an SMTP, CalDAV, CRM or payment call. The messages then run outside any transaction, several at a time, and
/// each one's outcome is written by its own statement: done, a retry at a capped exponential backoff, or dead once it has
/// used <see cref="OutboxOptions.MaxAttempts"/> attempts. The lease is renewed while the batch runs; a lease that ran
/// out (the process died) makes the message claimable again. Messages that share an ordering key (one booking) are
/// claimed in id order, run one after another, and are never claimed while another process holds one of them.
/// </summary>
public sealed partial class OutboxProcessor(
    NpgsqlDataSource dataSource,
    IEnumerable<IOutboxHandler> handlers,
    IClock clock,
    ILogger<OutboxProcessor> logger,
    IOptions<OutboxOptions>? options = null)
{
    // Handlers run in an order fixed by their names and RunsAfter, never by the order they were registered in.
    private readonly IOutboxHandler[] _handlers = Order(handlers);
    private readonly OutboxOptions _options = options?.Value ?? new OutboxOptions();

    /// <summary>Names this processor in claimed_by; unique per instance, so two processors in one process are told apart too.</summary>
    public string Worker { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The longest wait between two attempts.</summary>
    public static Duration MaxBackoff { get; } = Duration.FromHours(1);

    private const string ClaimSql = """
        WITH due AS (
            SELECT m.id FROM outbox_messages m
            WHERE m.processed_at IS NULL AND m.dead_at IS NULL AND m.available_at <= @now
              AND (m.lease_until IS NULL OR m.lease_until <= @now)
              AND (m.ordering_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM outbox_messages o
                  WHERE o.ordering_key = m.ordering_key AND o.processed_at IS NULL AND o.dead_at IS NULL
                    AND o.lease_until > @now AND o.id <> m.id))
            ORDER BY m.id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED)
        UPDATE outbox_messages m
        SET claimed_by = @worker, lease_until = @lease, attempts = m.attempts + 1
        FROM due WHERE m.id = due.id
        RETURNING m.id, m.type, m.payload::text, m.organization_id, m.attempts, m.handled_by, m.ordering_key, m.created_at
        """;

    /// <summary>Claims and runs up to <paramref name="batchSize"/> due messages; returns how many were claimed.</summary>
    public async Task<int> ProcessBatchAsync(int batchSize, CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(batchSize, cancellationToken).ConfigureAwait(false);
        if (claimed.Count == 0)
        {
            return 0;
        }

        // One lane per ordering key, in id order; lanes run side by side, the messages of one lane one after another.
        var lanes = claimed.GroupBy(c => c.Key ?? "#" + c.Message.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Select(g => g.ToList())
            .ToList();
        // Handlers see the batch (OutboxBatch.Current), so they can load what its messages need once for all of them.
        using var ambient = OutboxBatch.Enter(new OutboxBatch([.. claimed.Select(c => c.Message)]));
        using var renewing = new CancellationTokenSource();
        var renewal = RenewLeasesAsync(renewing.Token);
        try
        {
            await Parallel.ForEachAsync(lanes, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Parallelism) },
                async (lane, _) =>
                {
                    foreach (var item in lane)
                    {
                        await RunAsync(item.Message, item.HandledBy, item.Written, cancellationToken).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
        }
        finally
        {
            await renewing.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return claimed.Count;
    }

    private async Task<List<(OutboxEnvelope Message, List<string> HandledBy, string? Key, Instant Written)>> ClaimAsync(int batchSize, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var claimed = new List<(OutboxEnvelope, List<string>, string?, Instant)>();
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        // Claims are taken one process at a time (a few milliseconds each), so a claim always sees the leases the previous
        // one committed: without it, two processes could each take a different message of one booking at the same moment.
        await using var batch = new NpgsqlBatch(connection, tx)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(hashtextextended('rendezvous.outbox.claim', 0))"),
                new NpgsqlBatchCommand(ClaimSql),
            },
        };
        var claim = batch.BatchCommands[1].Parameters;
        claim.AddWithValue("now", now);
        claim.AddWithValue("limit", batchSize);
        claim.AddWithValue("worker", Worker);
        claim.AddWithValue("lease", now + Duration.FromTimeSpan(_options.Lease));
        await using (var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await reader.NextResultAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var org = reader.IsDBNull(3) ? (OrganizationId?)null : new OrganizationId(reader.GetGuid(3));
                claimed.Add((new OutboxEnvelope(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), org, reader.GetInt32(4)),
                    [.. reader.GetFieldValue<string[]>(5)], reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetFieldValue<Instant>(7)));
            }
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        claimed.Sort((a, b) => a.Item1.Id.CompareTo(b.Item1.Id));
        return claimed;
    }

    /// <summary>Runs every handler that has not yet succeeded for the message, then records the outcome.</summary>
    private async Task RunAsync(OutboxEnvelope message, List<string> handledBy, Instant written, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            await ReleaseAsync(message, handledBy).ConfigureAwait(false);
            return;
        }

        using var tenant = TenantScope.Enter(message.OrganizationId);
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
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Shutting down: the attempt does not count, and the message is free for the next process at once.
                await ReleaseAsync(message, handledBy).ConfigureAwait(false);
                return;
            }
            catch (Exception ex)
            {
                error = $"{handler.Name}: {ex.GetType().Name}: {ex.Message}";
                LogHandlerFailed(logger, ex, handler.Name, message.Id, message.Type, message.Attempt);
            }
        }

        var now = clock.GetCurrentInstant();
        var dead = error is not null && message.Attempt >= _options.MaxAttempts;
        await using var update = dataSource.CreateCommand(error is null
            ? """
              UPDATE outbox_messages SET processed_at = @now, handled_by = @handled, last_error = NULL, claimed_by = NULL, lease_until = NULL
              WHERE id = @id AND claimed_by = @worker
              """
            : dead
                ? """
                  UPDATE outbox_messages SET dead_at = @now, handled_by = @handled, last_error = @error, claimed_by = NULL, lease_until = NULL
                  WHERE id = @id AND claimed_by = @worker
                  """
                : """
                  UPDATE outbox_messages SET available_at = @retry, handled_by = @handled, last_error = @error, claimed_by = NULL, lease_until = NULL
                  WHERE id = @id AND claimed_by = @worker
                  """);
        update.Parameters.AddWithValue("id", message.Id);
        update.Parameters.AddWithValue("worker", Worker);
        update.Parameters.AddWithValue("now", now);
        update.Parameters.Add(new NpgsqlParameter("handled", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = handledBy.ToArray() });
        update.Parameters.AddWithValue("retry", now + Backoff(message.Attempt));
        update.Parameters.AddWithValue("error", (object?)Truncate(error) ?? DBNull.Value);
        // The outcome is written even while shutting down: the handlers' work is done and must not be repeated.
        if (await update.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false) == 0)
        {
            LogLeaseLost(logger, message.Id, message.Type);
        }
        else if (dead)
        {
            LogDead(logger, message.Id, message.Type, message.Attempt, error!);
        }

        var type = new KeyValuePair<string, object?>("type", message.Type);
        RendezvousTelemetry.OutboxMessages.Add(1, type, new("outcome", error is null ? "done" : dead ? "dead" : "retry"));
        if (error is null)
        {
            RendezvousTelemetry.OutboxDelay.Record((now - written).TotalSeconds, type);
        }
        else
        {
            activity?.SetStatus(ActivityStatusCode.Error, error);
        }
    }

    /// <summary>Gives a claimed message back without counting the attempt (shutdown).</summary>
    private async Task ReleaseAsync(OutboxEnvelope message, List<string> handledBy)
    {
        await using var release = dataSource.CreateCommand("""
            UPDATE outbox_messages SET claimed_by = NULL, lease_until = NULL, attempts = attempts - 1, handled_by = @handled
            WHERE id = @id AND claimed_by = @worker
            """);
        release.Parameters.AddWithValue("id", message.Id);
        release.Parameters.AddWithValue("worker", Worker);
        release.Parameters.Add(new NpgsqlParameter("handled", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = handledBy.ToArray() });
        try
        {
            await release.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            // The lease runs out on its own and the message is claimed again then.
        }
    }

    /// <summary>Extends the lease of every message this processor still holds, every third of the lease, until the batch ends.</summary>
    private async Task RenewLeasesAsync(CancellationToken ct)
    {
        var every = _options.Lease / 3;
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(every, ct).ConfigureAwait(false);
            try
            {
                await using var renew = dataSource.CreateCommand(
                    "UPDATE outbox_messages SET lease_until = @lease WHERE claimed_by = @worker AND processed_at IS NULL AND dead_at IS NULL");
                renew.Parameters.AddWithValue("worker", Worker);
                renew.Parameters.AddWithValue("lease", clock.GetCurrentInstant() + Duration.FromTimeSpan(_options.Lease));
                await renew.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            catch (NpgsqlException ex)
            {
                LogRenewFailed(logger, ex);
            }
        }
    }

    private static string? Truncate(string? error) => error is { Length: > 4000 } ? error[..4000] : error;

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

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox message {MessageId} ({Type}) is dead after {Attempts} attempts: {Error}")]
    private static partial void LogDead(ILogger logger, long messageId, string type, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox message {MessageId} ({Type}) finished after its lease had passed to another process")]
    private static partial void LogLeaseLost(ILogger logger, long messageId, string type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the outbox leases failed")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception);
}

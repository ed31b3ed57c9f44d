using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Webhooks;

namespace Rendezvous.Server.Features.Automations;

/// <summary>Why a run did not act, for good: recorded as the run's result and not retried.</summary>
public sealed class AutomationSkippedException(string status, string message) : Exception(message)
{
    /// <summary>Skipped (nothing to do) or Failed (it cannot be done).</summary>
    public string Status { get; } = status;
}

/// <summary>
/// Runs one automation run when its outbox message comes due. The run is claimed in <c>automation_runs</c> (Pending and due,
/// or Running with an expired lease, becomes Running with a lease), so a repeat or a second process finds nothing to do,
/// and a message for a run that moved later or was stopped does nothing. The booking and the rule are checked again at
/// that moment (a time-based run whose booking was canceled or moved is stopped; a switched-off rule is skipped). A
/// failure that may pass goes back to Pending and the outbox retries the message; after <see cref="MaxAttempts"/>, or
/// for a failure that cannot pass, the run ends Failed. Every outcome is written in the booking's activity stream.
/// </summary>
public sealed partial class AutomationRunner(IServiceScopeFactory scopes, IClock clock, ILogger<AutomationRunner> logger) : IOutboxHandler
{
    public const string HandlerName = "automation-runs";

    public const int MaxAttempts = 8;

    private static readonly Duration Lease = Duration.FromMinutes(5);

    public string Name => HandlerName;

    public bool Handles(string type) => type == AutomationRunMessage.Type;

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        var runId = JsonSerializer.Deserialize<AutomationRunMessage>(message.Payload, JsonDefaults.Options)!.RunId;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var now = clock.GetCurrentInstant();
        var claimed = await db.Database.SqlQuery<Claimed>($"""
            UPDATE automation_runs SET status = 'Running', locked_until = {now + Lease}, attempts = attempts + 1
            WHERE id = {runId} AND ((status = 'Pending' AND due_at <= {now}) OR (status = 'Running' AND locked_until < {now}))
            RETURNING automation_id AS "AutomationId", booking_id AS "BookingId", organization_id AS "OrganizationId", trigger AS "Trigger",
                for_start AS "ForStart", attempts AS "Attempts"
            """).ToListAsync(cancellationToken);
        if (claimed.Count == 0)
        {
            // Held by a runner that may yet die: keep the message, so the run is picked up again once the lease is over.
            var busy = await db.Database.SqlQuery<int>($"SELECT 1 AS \"Value\" FROM automation_runs WHERE id = {runId} AND status = 'Running'")
                .AnyAsync(cancellationToken);
            if (busy)
            {
                throw new InvalidOperationException($"Automation run {runId} is being run by another process.");
            }

            return;
        }

        var run = claimed[0];
        var org = new OrganizationId(run.OrganizationId);
        var rule = await AutomationStore.FindAsync(db, org, run.AutomationId, cancellationToken);
        var booking = await db.Bookings.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(b => b.Id == new BookingId(run.BookingId), cancellationToken);
        if (rule is null || booking is null)
        {
            return;
        }

        string status;
        string result;
        try
        {
            Check(rule, booking, run);
            var actions = scope.ServiceProvider.GetRequiredService<AutomationActions>();
            result = await actions.ExecuteAsync(rule, booking, runId, cancellationToken);
            status = "Succeeded";
        }
        catch (AutomationSkippedException skipped)
        {
            status = skipped.Status;
            result = skipped.Message;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogRunFailed(logger, ex, runId.ToString(), run.Attempts);
            if (run.Attempts < MaxAttempts)
            {
                await db.Database.ExecuteSqlInterpolatedAsync($"""
                    UPDATE automation_runs SET status = 'Pending', locked_until = NULL, last_error = {ex.Message} WHERE id = {runId}
                    """, CancellationToken.None);
                throw;
            }

            status = "Failed";
            result = $"Gave up after {run.Attempts} attempts: {ex.Message}";
        }

        await FinishAsync(db, runId, rule, booking.Id, status, result, cancellationToken);
    }

    /// <summary>The booking and the rule, as they are now, still call for this run.</summary>
    private static void Check(AutomationRule rule, Booking booking, Claimed run)
    {
        if (!rule.Enabled)
        {
            throw new AutomationSkippedException("Skipped", "Skipped: the rule is switched off");
        }

        if (AutomationTriggers.IsTimed(run.Trigger))
        {
            var live = run.Trigger == AutomationTriggers.BeforeStart
                ? booking.Status is BookingStatus.Scheduled or BookingStatus.Rescheduled
                : booking.Status is BookingStatus.Scheduled or BookingStatus.Rescheduled or BookingStatus.Completed;
            if (!live)
            {
                throw new AutomationSkippedException("Canceled", "Stopped: the booking is " + BookingLifecycle.DisplayName(booking.Status).ToLowerInvariant());
            }

            if (booking.Start != run.ForStart)
            {
                throw new AutomationSkippedException("Canceled", "Moved: the booking's time changed");
            }

            if (!rule.Filters.Matches(booking))
            {
                throw new AutomationSkippedException("Skipped", "Skipped: the booking no longer matches the rule's filters");
            }
        }
    }

    /// <summary>
    /// Records the run's final status and, in the same transaction, the outbox message of its outcome's webhook event
    /// (succeeded, failed or skipped; a run stopped because its booking moved or ended publishes nothing). Only the process
    /// that holds the run ends it, so a run ends, and publishes, once.
    /// </summary>
    private async Task FinishAsync(RendezvousDbContext db, Guid runId, AutomationRule rule, BookingId bookingId, string status, string result,
        CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var type = status switch
        {
            "Succeeded" => WebhookEventTypes.AutomationSucceeded,
            "Failed" => WebhookEventTypes.AutomationFailed,
            "Skipped" => WebhookEventTypes.AutomationSkipped,
            _ => null,
        };
        string? payload = null;
        if (type is not null)
        {
            // The booking as the run left it (a mark action has just changed it).
            db.ChangeTracker.Clear();
            var booking = await db.Bookings.AcrossTenants().AsNoTracking().FirstAsync(b => b.Id == bookingId, CancellationToken.None);
            var outcome = new AutomationOutcome(
                rule.OrganizationId.Value, now, runId,
                new WebhookAutomationRule(rule.Id.ToString(), rule.Name, rule.Trigger, rule.OffsetMinutes, rule.Action.Kind),
                await AutomationActions.BookingDataAsync(db, booking, CancellationToken.None), status.ToLowerInvariant(), result);
            payload = JsonSerializer.Serialize(outcome, JsonDefaults.Options);
        }

        var ended = 0;
        var strategy = db.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            ended = await db.Database.ExecuteSqlInterpolatedAsync($"""
                UPDATE automation_runs SET status = {status}, result = {result}, finished_at = {now}, locked_until = NULL
                WHERE id = {runId} AND status = 'Running'
                """, CancellationToken.None);
            if (ended == 1 && type is not null)
            {
                db.OutboxMessages.Add(new OutboxMessage
                {
                    OrganizationId = rule.OrganizationId,
                    Type = type,
                    Payload = payload!,
                    CreatedAt = now,
                    AvailableAt = now,
                });
                await db.SaveChangesAsync(CancellationToken.None);
            }

            await tx.CommitAsync(CancellationToken.None);
        });
        if (ended == 1)
        {
            await NoteAsync(db, bookingId, $"Automation \"{rule.Name}\" ({AutomationTriggers.Describe(rule.Trigger, rule.OffsetMinutes)}): {result}", now, ct);
        }
    }

    /// <summary>Writes a line in the booking's activity stream, retrying when another change to the booking won the race.</summary>
    public static async Task NoteAsync(RendezvousDbContext db, BookingId bookingId, string text, Instant now, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var booking = await db.Bookings.AcrossTenants().FirstAsync(b => b.Id == bookingId, ct);
            booking.RecordNote(text, Actor.System, now);
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
            }
        }
    }

    private sealed record Claimed(Guid AutomationId, Guid BookingId, Guid OrganizationId, string Trigger, Instant ForStart, int Attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Automation run {RunId} failed (attempt {Attempt}); it is retried")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, string runId, int attempt);
}

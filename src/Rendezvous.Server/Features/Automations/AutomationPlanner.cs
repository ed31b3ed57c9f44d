using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Server.Features.Automations;

/// <summary>The outbox message that runs one automation run when it is due.</summary>
public sealed record AutomationRunMessage(Guid RunId)
{
    public const string Type = "automation.run";
}

/// <summary>
/// Turns booking events into automation runs, from the outbox. A change (booked, rescheduled, canceled, ...) gets one run
/// per matching rule, keyed by the event's outbox message, so a repeat of the message adds nothing. Time-based rules
/// (before the start, after the end) are planned from the booking's current state on every event, like the reminders: a
/// run is keyed by the start it is for, so a reschedule cancels the pending run and plans one for the new time, moving
/// it back revives the old one, and a canceled booking keeps none. Each run is handed to <see cref="AutomationRunner"/>
/// as an <see cref="AutomationRunMessage"/> that becomes available when the run is due.
/// </summary>
public sealed class AutomationPlanner(IServiceScopeFactory scopes, IClock clock) : IOutboxHandler
{
    public const string HandlerName = "automations";

    public string Name => HandlerName;

    public bool Handles(string type) => type.StartsWith("booking.", StringComparison.Ordinal);

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        var e = JsonSerializer.Deserialize<BookingEvent>(message.Payload, JsonDefaults.Options)!;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        // Quiet changes (a move applied silently) run no "rescheduled" rules, but time-based runs still follow the booking.
        var trigger = e.Quiet ? null : AutomationTriggers.Of(e.Type);
        await PlanAsync(db, e.BookingId, trigger is null ? null : (trigger, "event:" + message.Id), clock.GetCurrentInstant(), cancellationToken);
    }

    /// <summary>
    /// Adds the runs an event calls for (when <paramref name="fired"/> is given) and brings the booking's time-based runs in
    /// line with its current state, in one transaction.
    /// </summary>
    public static async Task PlanAsync(RendezvousDbContext db, BookingId bookingId, (string Trigger, string Occurrence)? fired, Instant now,
        CancellationToken ct)
    {
        var booking = await db.Bookings.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(b => b.Id == bookingId, ct);
        if (booking is null)
        {
            return;
        }

        var rules = await AutomationStore.ForPageAsync(db, booking.OrganizationId, booking.BookingPageId, ct);
        var strategy = db.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(async () =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            // One planner per booking at a time, so two processes handling two of its events cannot interleave.
            await db.LockAsync("automations:" + bookingId, ct);
            if (fired is { } f)
            {
                foreach (var rule in rules.Where(r => r.Trigger == f.Trigger && r.Filters.Matches(booking)))
                {
                    await AddRunAsync(db, rule, booking, f.Occurrence, now, now, ct);
                }
            }

            await ReplanTimedAsync(db, booking, rules, now, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        });
    }

    /// <summary>
    /// Plans the time-based runs of every live booking a rule applies to (called when a rule is created, changed or
    /// switched on), so rules also cover bookings made before them.
    /// </summary>
    public static async Task PlanExistingAsync(RendezvousDbContext db, AutomationRule rule, Instant now, CancellationToken ct)
    {
        if (!AutomationTriggers.IsTimed(rule.Trigger))
        {
            return;
        }

        var pageId = rule.BookingPageId;
        var ids = await db.Bookings.AcrossTenants().AsNoTracking()
            .Where(b => b.OrganizationId == rule.OrganizationId && (pageId == null || b.BookingPageId == pageId)
                && (b.Status == BookingStatus.Scheduled || b.Status == BookingStatus.Rescheduled) && b.End > now)
            .Select(b => b.Id).ToListAsync(ct);
        foreach (var id in ids)
        {
            await PlanAsync(db, id, null, now, ct);
        }
    }

    private static async Task ReplanTimedAsync(RendezvousDbContext db, Booking booking, List<AutomationRule> rules, Instant now, CancellationToken ct)
    {
        var wanted = new List<(AutomationRule Rule, string Occurrence, Instant Due)>();
        foreach (var rule in rules.Where(r => AutomationTriggers.IsTimed(r.Trigger)))
        {
            var live = rule.Trigger == AutomationTriggers.BeforeStart
                ? booking.Status is BookingStatus.Scheduled or BookingStatus.Rescheduled
                : booking.Status is BookingStatus.Scheduled or BookingStatus.Rescheduled or BookingStatus.Completed;
            var due = rule.Trigger == AutomationTriggers.BeforeStart ? booking.Start - rule.Offset : booking.End + rule.Offset;
            if (live && due > now && rule.Filters.Matches(booking))
            {
                wanted.Add((rule, OccurrenceOf(rule, booking), due));
            }
        }

        // Pending time-based runs that no longer fit (another time, a canceled booking, a rule changed) stop; a run a
        // runner holds right now is left to finish.
        var keep = wanted.Select(w => w.Rule.Id + "/" + w.Occurrence).ToArray();
        var stopped = booking.Status is BookingStatus.Canceled or BookingStatus.NoShow ? "Stopped: the booking is " + BookingLifecycle.DisplayName(booking.Status).ToLowerInvariant()
            : "Moved: the booking's time changed";
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE automation_runs SET status = 'Canceled', result = {stopped}, finished_at = {now}
            WHERE booking_id = {booking.Id.Value} AND status = 'Pending' AND trigger IN ('beforeStart', 'afterEnd')
              AND NOT ((automation_id::text || '/' || occurrence) = ANY({keep}))
            """, ct);

        foreach (var (rule, occurrence, due) in wanted)
        {
            await AddRunAsync(db, rule, booking, occurrence, due, now, ct);
        }
    }

    /// <summary>"beforeStart:60@2027-03-10T10:00:00Z": the rule's trigger, its offset and the start the run is for.</summary>
    public static string OccurrenceOf(AutomationRule rule, Booking booking) =>
        $"{rule.Trigger}:{rule.OffsetMinutes}@{Integrations.ApiFormat.Format(booking.Start)}";

    /// <summary>
    /// Adds the run unless it exists (the unique key makes a repeat add nothing); a canceled run for the same occurrence is
    /// revived. Each new or revived run gets an outbox message available when it is due.
    /// </summary>
    private static async Task AddRunAsync(RendezvousDbContext db, AutomationRule rule, Booking booking, string occurrence, Instant due, Instant now,
        CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var added = await db.Database.SqlQuery<Guid>($"""
            INSERT INTO automation_runs (id, organization_id, automation_id, booking_id, occurrence, trigger, due_at, for_start, status, created_at)
            VALUES ({id}, {booking.OrganizationId.Value}, {rule.Id}, {booking.Id.Value}, {occurrence}, {rule.Trigger}, {due}, {booking.Start}, 'Pending', {now})
            ON CONFLICT (automation_id, booking_id, occurrence) DO UPDATE
                SET status = 'Pending', due_at = EXCLUDED.due_at, result = NULL, last_error = NULL, finished_at = NULL, locked_until = NULL
                WHERE automation_runs.status = 'Canceled'
            RETURNING id AS "Value"
            """).ToListAsync(ct);
        foreach (var runId in added)
        {
            db.OutboxMessages.Add(new OutboxMessage
            {
                OrganizationId = booking.OrganizationId,
                Type = AutomationRunMessage.Type,
                Payload = JsonSerializer.Serialize(new AutomationRunMessage(runId), JsonDefaults.Options),
                CreatedAt = now,
                AvailableAt = due,
            });
        }
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Workers;

namespace Rendezvous.Server.Features.Reminders;

public sealed class ReminderOptions
{
    /// <summary>Reminders claimed per round by one process.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>Reminders sent at the same time by one process.</summary>
    public int Parallelism { get; set; } = 32;

    /// <summary>A claimed reminder is another process's to send if this one has not finished by then.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Attempts before a reminder is given up (and marked Failed).</summary>
    public int MaxAttempts { get; set; } = 10;

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>What one round of sending did.</summary>
public sealed record ReminderRound(int Claimed, int Sent, int Skipped, int Failed, int MovesApplied);

/// <summary>
/// Sends due reminders and follow-ups. Reminders are claimed with FOR UPDATE SKIP LOCKED and a lease, so any number of
/// processes share them and each goes to one sender; the notifier's deduplication key (the reminder's id) keeps a
/// reminder whose sender died after sending from going out twice. Before a reminder goes out, a move the host made in
/// their calendar while "changing the time updates the booking" was off is applied (quietly), so the reminder and
/// every later one carry the new time.
/// </summary>
public sealed partial class ReminderSender(
    IServiceScopeFactory scopes, IBookingNotifier notifier, Features.CalendarSync.CalendarMoveAlerts alerts, IClock clock, IOptions<ReminderOptions> options,
    ILogger<ReminderSender> logger)
{
    public async Task<ReminderRound> SendDueAsync(CancellationToken ct)
    {
        var o = options.Value;
        var now = clock.GetCurrentInstant();
        List<DueRow> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
            due = await db.Database.SqlQuery<DueRow>($"""
                UPDATE reminders r SET locked_until = {now + Duration.FromTimeSpan(o.Lease)}, attempts = r.attempts + 1
                FROM (
                    SELECT id FROM reminders
                    WHERE status = 'Pending' AND due_at <= {now} AND (locked_until IS NULL OR locked_until < {now})
                    ORDER BY due_at
                    LIMIT {o.BatchSize}
                    FOR UPDATE SKIP LOCKED) claimed
                WHERE r.id = claimed.id
                RETURNING r.id AS "Id", r.booking_id AS "BookingId", r.kind AS "Kind", r.attempts AS "Attempts",
                    (SELECT b.status FROM bookings b WHERE b.id = r.booking_id) AS "BookingStatus"
                """).ToListAsync(ct);
        }

        if (due.Count == 0)
        {
            return new ReminderRound(0, 0, 0, 0, 0);
        }

        var sent = new List<Guid>();
        var skipped = new List<Guid>();
        var failed = new List<(Guid Id, int Attempts, string Error)>();
        var live = new List<DueRow>();
        foreach (var row in due)
        {
            if (row.BookingStatus is nameof(BookingStatus.Scheduled) or nameof(BookingStatus.Rescheduled) or nameof(BookingStatus.Completed))
            {
                live.Add(row);
            }
            else
            {
                skipped.Add(row.Id);
            }
        }

        // Calendar moves waiting for their reminder (toggle off) are rare: find them for the whole round in one query.
        var moves = 0;
        var reminderBookings = live.Where(r => r.Kind == "Reminder").Select(r => r.BookingId).Distinct().ToArray();
        if (reminderBookings.Length > 0)
        {
            List<Guid> waiting;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
                waiting = await db.Database.SqlQuery<Guid>(
                    $"SELECT DISTINCT booking_id AS \"Value\" FROM booking_event_links WHERE booking_id = ANY({reminderBookings}) AND pending_start IS NOT NULL")
                    .ToListAsync(ct);
            }

            foreach (var bookingId in waiting)
            {
                try
                {
                    if (await ApplyDeferredMoveAsync(new BookingId(bookingId), ct))
                    {
                        moves++;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    LogMoveFailed(logger, ex, bookingId.ToString());
                }
            }
        }

        var requests = live.Select(row => new NotificationRequest(new BookingId(row.BookingId),
            row.Kind == "Reminder" ? NotificationKind.Reminder : NotificationKind.FollowUp,
            NotificationRecipients.Customer, "reminder:" + row.Id.ToString("N"))).ToList();
        IReadOnlyList<string?> outcomes;
        try
        {
            outcomes = await notifier.SendManyAsync(requests, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogRoundFailed(logger, ex, live.Count);
            outcomes = [.. live.Select(_ => (string?)ex.Message)];
        }

        for (var i = 0; i < live.Count; i++)
        {
            if (outcomes[i] is { } error)
            {
                failed.Add((live[i].Id, live[i].Attempts, error));
            }
            else
            {
                sent.Add(live[i].Id);
            }
        }

        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
            var done = clock.GetCurrentInstant();
            if (sent.Count > 0)
            {
                var ids = sent.ToArray();
                await db.Database.ExecuteSqlInterpolatedAsync($"""
                    UPDATE reminders r SET status = 'Sent', sent_at = {done}, locked_until = NULL, last_error = NULL,
                        for_start = (SELECT b.start_at FROM bookings b WHERE b.id = r.booking_id)
                    WHERE r.id = ANY({ids})
                    """, ct);
            }

            if (skipped.Count > 0)
            {
                var ids = skipped.ToArray();
                await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE reminders SET status = 'Canceled', locked_until = NULL WHERE id = ANY({ids})", ct);
            }

            foreach (var (id, attempts, error) in failed)
            {
                var giveUp = attempts >= o.MaxAttempts;
                var retry = done + Data.Outbox.OutboxProcessor.Backoff(attempts);
                await db.Database.ExecuteSqlInterpolatedAsync($"""
                    UPDATE reminders SET status = {(giveUp ? "Failed" : "Pending")}, due_at = {retry}, locked_until = NULL, last_error = {error}
                    WHERE id = {id}
                    """, ct);
            }
        }

        return new ReminderRound(due.Count, sent.Count, skipped.Count, failed.Count, moves);
    }

    /// <summary>
    /// Applies a calendar move recorded while "changing the time updates the booking" was off. Quiet: integrations and
    /// notifications ignore the event; the reminders follow the new time. When the move cannot be applied (another
    /// booking took the time after all, or the booking can no longer move), nothing is dropped silently: the event in
    /// the host's calendar is written back to the booking's time, the activity stream records why, and the host is told
    /// by email.
    /// </summary>
    private async Task<bool> ApplyDeferredMoveAsync(BookingId bookingId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var link = await db.BookingEventLinks.AcrossTenants().FirstOrDefaultAsync(l => l.BookingId == bookingId && l.PendingStart != null, ct);
        if (link is null)
        {
            return false;
        }

        var booking = await db.Bookings.AcrossTenants().FirstAsync(b => b.Id == bookingId, ct);
        var newStart = link.PendingStart!.Value;
        var hostId = link.UserId;
        link.PendingStart = null;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.LockPageAsync(booking.BookingPageId, ct);
        var now = clock.GetCurrentInstant();
        var moved = booking.Reschedule(newStart, Actor.FromCalendar(hostId), "Moved in the host's calendar (applied at the reminder)",
            now, quiet: true);
        if (moved.IsSuccess)
        {
            try
            {
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
                // Plan the remaining reminders for the new time now; the outbox will do it again, harmlessly.
                await ReminderPlanner.ReplanAsync(db, bookingId, clock.GetCurrentInstant(), ct);
                return true;
            }
            catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.ExclusionViolation })
            {
                await tx.RollbackAsync(ct);
                LogMoveRefused(logger, bookingId.ToString());
                db.ChangeTracker.Clear();
            }
        }
        else
        {
            await tx.RollbackAsync(ct);
            db.ChangeTracker.Clear();
            if (newStart == booking.Start)
            {
                // The host put the event back themselves: nothing is waiting any more.
                await db.Database.ExecuteSqlInterpolatedAsync(
                    $"UPDATE booking_event_links SET pending_start = NULL WHERE booking_id = {bookingId.Value} AND user_id = {hostId.Value}", ct);
                return false;
            }
        }

        await RefuseDeferredMoveAsync(db, bookingId, hostId, newStart, moved.IsSuccess ? CalendarMoveNotApplied : CalendarMoveNotAllowed, ct);
        return false;
    }

    /// <summary>
    /// The deferred move cannot be applied: record what the calendar shows and ask the calendar writer to put the event
    /// back at the booking's time; note it in the booking's history (the activity stream) and email the host.
    /// </summary>
    private async Task RefuseDeferredMoveAsync(RendezvousDbContext db, BookingId bookingId, UserId hostId, Instant shownStart, string note,
        CancellationToken ct)
    {
        var booking = await db.Bookings.AcrossTenants().FirstAsync(b => b.Id == bookingId, ct);
        var now = clock.GetCurrentInstant();
        var shownEnd = shownStart + (booking.End - booking.Start);
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"UPDATE booking_event_links SET pending_start = NULL, written_start = {shownStart}, written_end = {shownEnd} WHERE booking_id = {bookingId.Value} AND user_id = {hostId.Value}", ct);
        var live = booking.Status is BookingStatus.Scheduled or BookingStatus.Rescheduled or BookingStatus.Requested;
        if (live)
        {
            Features.CalendarSync.CalendarWriter.EnqueueRestore(db, booking.OrganizationId, bookingId, now);
        }

        booking.RecordNote(note, Actor.System, now);
        await db.SaveChangesAsync(ct);

        db.TenantId = booking.OrganizationId;
        var host = await db.Users.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(u => u.Id == hostId, ct);
        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        var customer = await db.Customers.AcrossTenants().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, ct);
        if (host is not null && live)
        {
            await alerts.SendMoveNotAppliedAsync(host, booking, page.Title, customer.Name, shownStart, ct);
        }
    }

    /// <summary>The activity stream's line for a calendar move that could not be applied at the reminder.</summary>
    public const string CalendarMoveNotApplied = "Calendar move not applied: the new time is taken; the event is put back at the booking's time";

    /// <summary>The same, when the booking itself could no longer move (its status changed meanwhile).</summary>
    public const string CalendarMoveNotAllowed = "Calendar move not applied: the booking can no longer be moved; the event is put back at the booking's time";

    private sealed record DueRow(Guid Id, Guid BookingId, string Kind, int Attempts, string? BookingStatus);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Applying the calendar move of booking {BookingId} failed; the reminder goes out with the booking's time")]
    private static partial void LogMoveFailed(ILogger logger, Exception exception, string bookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A round of {Count} reminders failed; each will be retried")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The calendar move of booking {BookingId} could not be applied: the time is taken")]
    private static partial void LogMoveRefused(ILogger logger, string bookingId);
}

/// <summary>Sends due reminders every second (sooner while there is a backlog).</summary>
public sealed partial class ReminderWorker(ReminderSender sender, IOptions<WorkerOptions> workers, IOptions<ReminderOptions> options, ILogger<ReminderWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!workers.Value.Enabled)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                busy = (await sender.SendDueAsync(stoppingToken)).Claimed >= options.Value.BatchSize;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFailed(logger, ex);
            }

            if (!busy)
            {
                await Task.Delay(options.Value.PollInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending reminders failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Server.Features.Reminders;

/// <summary>A booking's own reminder plan, set by staff when rescheduling; otherwise the page's plan applies.</summary>
public sealed record ReminderPlan(IReadOnlyList<ReminderSpec> Reminders, ReminderSpec? FollowUp);

/// <summary>
/// Keeps each booking's reminders in step with it, from the outbox: planned when a booking is scheduled (or approved),
/// planned again on every reschedule, dropped on cancel, decline and no-show. It always plans from the booking's current
/// state, so the order and repetition of events do not matter. A reminder already sent for the booking's current start
/// is not planned again.
/// </summary>
public sealed class ReminderPlanner(IServiceScopeFactory scopes, IClock clock) : IOutboxHandler
{
    public string Name => "reminders";

    public bool Handles(string type) => type.StartsWith("booking.", StringComparison.Ordinal);

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        var e = JsonSerializer.Deserialize<BookingEvent>(message.Payload, JsonDefaults.Options)!;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        await ReplanAsync(db, e.BookingId, clock.GetCurrentInstant(), cancellationToken);
    }

    /// <summary>Plans the booking's pending reminders from its current state (and drops them when it is over).</summary>
    public static async Task ReplanAsync(RendezvousDbContext db, BookingId bookingId, Instant now, CancellationToken ct)
    {
        var booking = await OutboxBatch.FindBookingAsync(db, bookingId, ct);
        if (booking is null)
        {
            return;
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Serialise planning per booking, so two processes handling two of its events cannot interleave.
        await db.LockAsync("reminders:" + bookingId, ct);
        // A reminder a sender holds right now is left alone: it goes out, and counts as sent for the current time.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE reminders SET status = 'Canceled'
            WHERE booking_id = {bookingId.Value} AND status = 'Pending' AND (locked_until IS NULL OR locked_until < {now})
            """, ct);

        if (booking.Status is BookingStatus.Scheduled or BookingStatus.Rescheduled)
        {
            var (reminders, followUp) = await PlanOfAsync(db, booking, ct);
            var sent = await db.Database.SqlQuery<SentRow>($"""
                SELECT kind AS "Kind", number AS "Number" FROM reminders
                WHERE booking_id = {bookingId.Value}
                  AND ((status = 'Sent' AND for_start = {booking.Start})
                       OR (status = 'Pending' AND locked_until >= {now}))
                """).ToListAsync(ct);
            var rows = new List<(string Kind, int Number, ReminderRule Rule, Instant Due)>();
            for (var i = 0; i < reminders.Count; i++)
            {
                rows.Add(("Reminder", i + 1, reminders[i], booking.Start - reminders[i].Offset));
            }

            if (followUp is not null)
            {
                rows.Add(("FollowUp", 1, followUp, booking.End + followUp.Offset));
            }

            foreach (var (kind, number, rule, due) in rows)
            {
                if (due <= now || sent.Any(s => s.Kind == kind && s.Number == number))
                {
                    continue;
                }

                await db.Database.ExecuteSqlInterpolatedAsync($"""
                    INSERT INTO reminders (id, organization_id, booking_id, kind, number, offset_minutes, channel, for_start, due_at, status)
                    VALUES ({Guid.CreateVersion7()}, {booking.OrganizationId.Value}, {bookingId.Value}, {kind}, {number},
                            {(long)rule.Offset.TotalMinutes}, {rule.Channel.ToString()}, {booking.Start}, {due}, 'Pending')
                    """, ct);
            }
        }

        await tx.CommitAsync(ct);
    }

    /// <summary>The booking's own plan if staff set one, else its page's.</summary>
    public static async Task<(IReadOnlyList<ReminderRule> Reminders, ReminderRule? FollowUp)> PlanOfAsync(RendezvousDbContext db, Booking booking, CancellationToken ct)
    {
        var custom = await db.Database.SqlQuery<string>($"SELECT plan::text AS \"Value\" FROM booking_reminder_plans WHERE booking_id = {booking.Id.Value}")
            .ToListAsync(ct);
        if (custom.Count == 1 && JsonSerializer.Deserialize<ReminderPlan>(custom[0], JsonDefaults.Options) is { } plan)
        {
            var errors = new List<Domain.FieldError>();
            var rules = BookingPageSettingsSpec.ParseReminders(plan.Reminders, "reminders", errors);
            var follow = plan.FollowUp is null ? null : BookingPageSettingsSpec.ParseReminder(plan.FollowUp, "followUp", errors);
            return (rules, follow);
        }

        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        return (page.Settings.Reminders, page.Settings.FollowUp);
    }

    /// <summary>Stores a booking's own plan (validated by the caller).</summary>
    public static Task SavePlanAsync(RendezvousDbContext db, BookingId bookingId, ReminderPlan plan, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(plan, JsonDefaults.Options);
        return db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO booking_reminder_plans (booking_id, plan) VALUES ({bookingId.Value}, {json}::jsonb)
            ON CONFLICT (booking_id) DO UPDATE SET plan = EXCLUDED.plan
            """, ct);
    }

    private sealed record SentRow(string Kind, int Number);
}

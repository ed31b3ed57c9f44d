using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Spaces;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>
/// Keeps the space a booking holds in step with the booking: canceled, declined or expired bookings free their space
/// (a group session's space when its last seat goes); a rescheduled booking's hold is already moved by the reschedule's
/// own transaction, and this handler only catches moves made elsewhere (the host's calendar): it moves the hold to the
/// same space or another free one of the pool, and releases it, recorded with the reason for the events team, only
/// when no space is free at the new time. Idempotent: a repeat finds the hold already where it should be.
/// </summary>
public sealed class SpaceBookingHandler(IServiceScopeFactory scopes, IClock clock) : IOutboxHandler
{
    public string Name => "space-bookings";

    public bool Handles(string type) =>
        type is BookingEvent.Canceled or BookingEvent.Declined or BookingEvent.PaymentExpired or BookingEvent.Rescheduled;

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var e = JsonSerializer.Deserialize<BookingEvent>(message.Payload, JsonDefaults.Options)!;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var pools = scope.ServiceProvider.GetRequiredService<SpacePools>();
        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(p => p.Id == e.BookingPageId, cancellationToken);
        var booking = await db.Bookings.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(b => b.Id == e.BookingId, cancellationToken);
        if (page is null || booking is null)
        {
            return;
        }

        var groupSession = page.Settings.SchedulingOption == SchedulingOption.GroupSession;
        if (e.Type == BookingEvent.Rescheduled)
        {
            await using (var tx = await db.Database.BeginTransactionAsync(cancellationToken))
            {
                await db.LockPageAsync(page.Id, cancellationToken);
                var owner = await db.Users.AcrossTenants().AsNoTracking().FirstAsync(u => u.Id == page.OwnerId, cancellationToken);
                var moved = await pools.MoveAsync(page, booking, e.PreviousStart ?? booking.Start, owner.Email, owner.Name, cancellationToken);
                if (moved.IsSuccess)
                {
                    try
                    {
                        await db.SaveChangesAsync(cancellationToken);
                        await tx.CommitAsync(cancellationToken);
                        return;
                    }
                    catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.ExclusionViolation })
                    {
                        // Taken by another process between the check and the write: released below, like a taken space.
                    }
                }

                await tx.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }

            if (groupSession)
            {
                if (e.PreviousStart is { } previous)
                {
                    await LeaveAsync(db, pools, page, previous, booking.Id, "The last seat of the session moved to another time.", cancellationToken);
                }

                return;
            }

            await ReleaseAsync(db, booking.Id, "No space of the page's pool was free at the booking's new time.", cancellationToken);
            return;
        }

        if (groupSession)
        {
            await LeaveAsync(db, pools, page, booking.Start, null, "The last seat of the session was canceled.", cancellationToken);
            return;
        }

        await ReleaseAsync(db, booking.Id, "The booking was canceled.", cancellationToken);
    }

    private static async Task LeaveAsync(RendezvousDbContext db, SpacePools pools, BookingPage page, Instant start, BookingId? leaving, string reason,
        CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // The page's lock first, as a booking takes it: a seat booked at this moment joins before or holds anew after.
        await db.LockPageAsync(page.Id, ct);
        await pools.LeaveSessionAsync(page, start, leaving, reason, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private async Task ReleaseAsync(RendezvousDbContext db, BookingId bookingId, string reason, CancellationToken ct)
    {
        var holds = await db.SpaceRequests.AcrossTenants().AsNoTracking()
            .Where(r => r.BookingId == bookingId && r.State == SpaceRequestState.Confirmed)
            .Select(r => r.Id).ToListAsync(ct);
        foreach (var id in holds)
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var request = await db.SpaceRequests.AcrossTenants().FirstAsync(r => r.Id == id, ct);
            await db.LockAsync("space:" + request.SpaceId, ct);
            await db.Entry(request).ReloadAsync(ct);
            if (request.State != SpaceRequestState.Confirmed)
            {
                continue;
            }

            var space = await db.Spaces.AcrossTenants().FirstAsync(s => s.Id == request.SpaceId, ct);
            var now = clock.GetCurrentInstant();
            request.State = SpaceRequestState.Canceled;
            request.LastActorKind = SpaceActor.System.Kind;
            request.LastActorId = null;
            request.LastReason = reason;
            request.UpdatedAt = now;
            db.SpaceRequestActivities.Add(new SpaceRequestActivity
            {
                RequestId = request.Id,
                At = now,
                Action = "cancel",
                FromState = SpaceRequestState.Confirmed,
                ToState = request.State,
                ActorKind = SpaceActor.System.Kind,
                Reason = reason,
                Sequence = request.Sequence,
                Start = request.Start,
                End = request.End,
            });
            SpaceOutbox.Answer(db, request, SpaceRequestAnswered.Declined, write: false, remove: request.OnResourceCalendar, now);
            request.OnResourceCalendar = false;
            SpaceOutbox.Emit(db, space, request, SpaceEvent.RequestCanceled, SpaceRequestState.Confirmed, SpaceActor.System, reason, notify: false, now);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
    }
}

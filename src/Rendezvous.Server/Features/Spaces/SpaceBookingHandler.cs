using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Spaces;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>
/// Keeps the space a booking holds in step with the booking: canceled, declined or expired bookings free their space;
/// a rescheduled booking moves its hold to the new time on the same space, and when that space is taken then the hold
/// is released (recorded with the reason, for the events team to place the booking by hand). Idempotent: a repeat finds
/// the hold already where it should be.
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
        var holds = await db.SpaceRequests.AcrossTenants().AsNoTracking()
            .Where(r => r.BookingId == e.BookingId && r.State == SpaceRequestState.Confirmed)
            .Select(r => r.Id).ToListAsync(cancellationToken);
        foreach (var id in holds)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var request = await db.SpaceRequests.AcrossTenants().FirstAsync(r => r.Id == id, cancellationToken);
            await db.LockAsync("space:" + request.SpaceId, cancellationToken);
            await db.Entry(request).ReloadAsync(cancellationToken);
            var space = await db.Spaces.AcrossTenants().FirstAsync(s => s.Id == request.SpaceId, cancellationToken);
            var now = clock.GetCurrentInstant();
            if (e.Type == BookingEvent.Rescheduled)
            {
                if (request.Start == e.Start && request.End == e.End)
                {
                    continue;
                }

                request.Start = e.Start;
                request.End = e.End;
                request.Sequence++;
                request.UpdatedAt = now;
                db.SpaceRequestActivities.Add(Activity(request, "rescheduled", SpaceRequestState.Confirmed, "The booking was rescheduled.", now));
                SpaceOutbox.Emit(db, space, request, SpaceEvent.RequestUpdated, SpaceRequestState.Confirmed, SpaceActor.System,
                    "The booking was rescheduled.", notify: false, now);
                SpaceOutbox.Answer(db, request, SpaceRequestAnswered.Accepted, write: space.ResourceCalendarKind is not null, remove: false, now);
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                    await tx.CommitAsync(cancellationToken);
                    continue;
                }
                catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.ExclusionViolation })
                {
                    // The space is taken at the new time: the hold is released below.
                    await tx.RollbackAsync(cancellationToken);
                    db.ChangeTracker.Clear();
                }

                await ReleaseAsync(db, id, "The space was taken at the booking's new time.", cancellationToken);
                continue;
            }

            await tx.RollbackAsync(cancellationToken);
            await ReleaseAsync(db, id, "The booking was canceled.", cancellationToken);
        }
    }

    private async Task ReleaseAsync(RendezvousDbContext db, Guid id, string reason, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var request = await db.SpaceRequests.AcrossTenants().FirstAsync(r => r.Id == id, ct);
        if (request.State != SpaceRequestState.Confirmed)
        {
            return;
        }

        var space = await db.Spaces.AcrossTenants().FirstAsync(s => s.Id == request.SpaceId, ct);
        var now = clock.GetCurrentInstant();
        request.State = SpaceRequestState.Canceled;
        request.LastActorKind = SpaceActor.System.Kind;
        request.LastActorId = null;
        request.LastReason = reason;
        request.UpdatedAt = now;
        db.SpaceRequestActivities.Add(Activity(request, "cancel", SpaceRequestState.Confirmed, reason, now));
        SpaceOutbox.Answer(db, request, SpaceRequestAnswered.Declined, write: false, remove: request.OnResourceCalendar, now);
        request.OnResourceCalendar = false;
        SpaceOutbox.Emit(db, space, request, SpaceEvent.RequestCanceled, SpaceRequestState.Confirmed, SpaceActor.System, reason, notify: false, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private static SpaceRequestActivity Activity(SpaceRequest request, string action, SpaceRequestState from, string reason, Instant now) => new()
    {
        RequestId = request.Id,
        At = now,
        Action = action,
        FromState = from,
        ToState = request.State,
        ActorKind = SpaceActor.System.Kind,
        Reason = reason,
        Sequence = request.Sequence,
        Start = request.Start,
        End = request.End,
    };
}

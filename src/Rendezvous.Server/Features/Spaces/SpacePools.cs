using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Spaces;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>
/// Booking pages that need a space. A slot is offered only when the host is free and so is at least one space of the
/// page's pool that has enough capacity and every required feature; a booking holds the first such space as a
/// confirmed request in the booking's own transaction, so the exclusion constraint on confirmed space requests and the
/// one on hosts guard the same commit.
/// </summary>
public sealed class SpacePools(RendezvousDbContext db, IClock clock)
{
    /// <summary>The spaces a page may use, best fit first (smallest capacity, then name); null when the page needs none.</summary>
    public async Task<IReadOnlyList<Space>?> EligibleAsync(BookingPageId pageId, CancellationToken ct)
    {
        var pool = await db.BookingPageSpacePools.AsNoTracking().FirstOrDefaultAsync(p => p.BookingPageId == pageId, ct);
        if (pool is null)
        {
            return null;
        }

        var org = await db.BookingPages.AcrossTenants().Where(p => p.Id == pageId).Select(p => p.OrganizationId).FirstAsync(ct);
        var spaces = await db.Spaces.AcrossTenants().AsNoTracking()
            .Where(s => s.OrganizationId == org && (pool.SpaceIds.Count == 0 || pool.SpaceIds.Contains(s.Id)) && s.Capacity >= pool.MinimumCapacity)
            .ToListAsync(ct);
        return [.. spaces.Where(s => pool.RequiredFeatures.All(s.Features.Contains)).OrderBy(s => s.Capacity).ThenBy(s => s.Name, StringComparer.Ordinal)];
    }

    /// <summary>Keeps the slots for which one eligible space is free (its booking's own hold left out when moving it).</summary>
    public async Task<IReadOnlyList<Slot>> FilterAsync(BookingPage page, IReadOnlyList<Slot> slots, BookingId? ignoreBooking, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(slots);
        if (slots.Count == 0 || await EligibleAsync(page.Id, ct) is not { } spaces)
        {
            return slots;
        }

        var ids = spaces.Select(s => s.Id).ToList();
        var from = slots.Min(s => s.Start);
        var to = slots.Max(s => s.End);
        var taken = await db.SpaceRequests.AcrossTenants().AsNoTracking()
            .Where(r => ids.Contains(r.SpaceId) && r.State == SpaceRequestState.Confirmed && r.Start < to && r.End > from
                && (ignoreBooking == null || r.BookingId != ignoreBooking))
            .Select(r => new { r.SpaceId, r.Start, r.End })
            .ToListAsync(ct);
        return [.. slots.Where(slot => ids.Any(id => !taken.Any(t => t.SpaceId == id && t.Start < slot.End && t.End > slot.Start)))];
    }

    /// <summary>
    /// Holds one free eligible space for each booking, inside the caller's transaction. Fails when none is free, which
    /// the caller answers like a taken slot.
    /// </summary>
    public async Task<Result> HoldAsync(BookingPage page, IReadOnlyList<Booking> bookings, string organizerEmail, string organizerName, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(bookings);
        if (await EligibleAsync(page.Id, ct) is not { } spaces)
        {
            return Result.Success;
        }

        foreach (var id in spaces.Select(s => s.Id).Order())
        {
            await db.LockAsync("space:" + id, ct);
        }

        var now = clock.GetCurrentInstant();
        foreach (var booking in bookings)
        {
            var free = await FirstFreeAsync(spaces, booking.Start, booking.End, null, ct);
            if (free is null)
            {
                return Result.Failure(DomainError.Conflict("space_unavailable", "No space of this page is free at that time; please pick another time."));
            }

            var request = new SpaceRequest
            {
                Id = Guid.CreateVersion7(),
                OrganizationId = page.OrganizationId,
                SpaceId = free.Id,
                Uid = $"booking-{booking.Id}@rendezvous",
                OrganizerEmail = organizerEmail,
                OrganizerName = organizerName,
                OrganizerUserId = page.OwnerId,
                Summary = page.Title,
                Start = booking.Start,
                End = booking.End,
                State = SpaceRequestState.Confirmed,
                Channel = SpaceChannels.Api,
                BookingId = booking.Id,
                OnResourceCalendar = free.ResourceCalendarKind is not null,
                LastActorKind = "system",
                LastReason = "Held for a booking of " + page.Title,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.SpaceRequests.Add(request);
            db.SpaceRequestActivities.Add(new SpaceRequestActivity
            {
                RequestId = request.Id,
                At = now,
                Action = "booked",
                ToState = SpaceRequestState.Confirmed,
                ActorKind = "system",
                Reason = request.LastReason,
                Sequence = 0,
                Start = request.Start,
                End = request.End,
            });
            SpaceOutbox.Emit(db, free, request, SpaceEvent.RequestConfirmed, null, SpaceActor.System, request.LastReason, notify: false, now);
            SpaceOutbox.Answer(db, request, SpaceRequestAnswered.Accepted, write: free.ResourceCalendarKind is not null, remove: false, now);
        }

        return Result.Success;
    }

    private async Task<Space?> FirstFreeAsync(IReadOnlyList<Space> spaces, Instant start, Instant end, BookingId? ignore, CancellationToken ct)
    {
        var ids = spaces.Select(s => s.Id).ToList();
        var busy = await db.SpaceRequests.AcrossTenants().AsNoTracking()
            .Where(r => ids.Contains(r.SpaceId) && r.State == SpaceRequestState.Confirmed && r.Start < end && r.End > start
                && (ignore == null || r.BookingId != ignore))
            .Select(r => r.SpaceId)
            .ToListAsync(ct);
        // Requests added in this transaction but not saved yet (the sessions of one package) count too.
        var pending = db.ChangeTracker.Entries<SpaceRequest>()
            .Where(e => e.State == EntityState.Added && e.Entity.State == SpaceRequestState.Confirmed && e.Entity.Start < end && e.Entity.End > start)
            .Select(e => e.Entity.SpaceId);
        return spaces.FirstOrDefault(s => !busy.Contains(s.Id) && !pending.Contains(s.Id));
    }
}

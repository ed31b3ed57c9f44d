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
/// one on hosts guard the same commit. A group session holds one space for all its seats: the first seat holds it,
/// later seats join it, and it is released when the last seat is canceled. Moving a booking moves its space in the
/// same transaction: to the same space when it is free at the new time, else to another free space of the pool.
/// </summary>
public sealed class SpacePools(RendezvousDbContext db, IClock clock)
{
    /// <summary>The request a booking holds its space with.</summary>
    public static string BookingUid(BookingId id) => $"booking-{id}@rendezvous";

    /// <summary>The request a group session (one page, one start) holds its space with, shared by every seat.</summary>
    public static string SessionUid(BookingPageId page, Instant start) =>
        $"session-{page.Value:N}-{start.ToUnixTimeSeconds()}@rendezvous";

    /// <summary>
    /// The spaces a page may use, best fit first (smallest capacity, then name); null when the page needs none. A group
    /// session's space must also seat every seat of the session.
    /// </summary>
    public async Task<IReadOnlyList<Space>?> EligibleAsync(BookingPageId pageId, CancellationToken ct)
    {
        var pool = await db.BookingPageSpacePools.AsNoTracking().FirstOrDefaultAsync(p => p.BookingPageId == pageId, ct);
        if (pool is null)
        {
            return null;
        }

        var page = await db.BookingPages.AcrossTenants().AsNoTracking().Where(p => p.Id == pageId).FirstAsync(ct);
        var minimum = page.Settings.SchedulingOption == SchedulingOption.GroupSession
            ? Math.Max(pool.MinimumCapacity, page.Settings.SeatsPerSlot)
            : pool.MinimumCapacity;
        var spaces = await db.Spaces.AcrossTenants().AsNoTracking()
            .Where(s => s.OrganizationId == page.OrganizationId && (pool.SpaceIds.Count == 0 || pool.SpaceIds.Contains(s.Id)) && s.Capacity >= minimum)
            .ToListAsync(ct);
        return [.. spaces.Where(s => pool.RequiredFeatures.All(s.Features.Contains)).OrderBy(s => s.Capacity).ThenBy(s => s.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Keeps the slots for which one eligible space is free (its booking's own hold left out when moving it). A group
    /// session that already holds its space stays offered while it has seats.
    /// </summary>
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
        var ignoredUid = ignoreBooking is { } ib ? BookingUid(ib) : null;
        var taken = await db.SpaceRequests.AcrossTenants().AsNoTracking()
            .Where(r => ids.Contains(r.SpaceId) && r.State == SpaceRequestState.Confirmed && r.Start < to && r.End > from
                && (ignoredUid == null || r.Uid != ignoredUid))
            .Select(r => new { r.SpaceId, r.Start, r.End, r.Uid })
            .ToListAsync(ct);
        var session = page.Settings.SchedulingOption == SchedulingOption.GroupSession;
        var sessions = session
            ? (await db.SpaceRequests.AcrossTenants().AsNoTracking()
                .Where(r => r.OrganizationId == page.OrganizationId && r.State == SpaceRequestState.Confirmed && r.Start < to && r.End > from
                    && r.Uid.StartsWith($"session-{page.Id.Value:N}-"))
                .Select(r => r.Uid).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal)
            : [];
        return [.. slots.Where(slot => (session && sessions.Contains(SessionUid(page.Id, slot.Start)))
            || ids.Any(id => !taken.Any(t => t.SpaceId == id && t.Start < slot.End && t.End > slot.Start)))];
    }

    /// <summary>
    /// Holds one free eligible space for each booking (or joins its group session's space), inside the caller's
    /// transaction. Fails when none is free, which the caller answers like a taken slot.
    /// </summary>
    public async Task<Result> HoldAsync(BookingPage page, IReadOnlyList<Booking> bookings, string organizerEmail, string organizerName, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(bookings);
        if (await EligibleAsync(page.Id, ct) is not { } spaces)
        {
            return Result.Success;
        }

        await LockAsync(spaces.Select(s => s.Id), ct);
        foreach (var booking in bookings)
        {
            var held = await HoldOneAsync(page, spaces, booking, organizerEmail, organizerName, ct);
            if (!held.IsSuccess)
            {
                return held;
            }
        }

        return Result.Success;
    }

    /// <summary>
    /// After <paramref name="booking"/> moved (in the caller's transaction, not saved yet), moves the space it holds with
    /// it: the same space when free at the new time, else another free space of the pool that fits; a group session's
    /// seat joins (or holds) the new session's space and leaves the old session's, which is released when it was the
    /// last seat. Fails with 409 <c>space_unavailable</c>, saying why, when no space is free at the new time.
    /// </summary>
    public async Task<Result> MoveAsync(BookingPage page, Booking booking, Instant previousStart, string organizerEmail, string organizerName,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(booking);
        var spaces = await EligibleAsync(page.Id, ct);
        var groupSession = page.Settings.SchedulingOption == SchedulingOption.GroupSession;
        var bookingUid = BookingUid(booking.Id);
        var holds = groupSession
            ? []
            : await db.SpaceRequests.AcrossTenants()
                .Where(r => r.BookingId == booking.Id && r.Uid == bookingUid && r.State == SpaceRequestState.Confirmed).ToListAsync(ct);
        if (spaces is null && holds.Count == 0 && !groupSession)
        {
            return Result.Success;
        }

        // The space the seat's old session holds is locked with the others, in one id order, so two moves never wait
        // on each other's locks.
        var sessionUid = SessionUid(page.Id, previousStart);
        var sessionSpace = groupSession
            ? await db.SpaceRequests.AcrossTenants().AsNoTracking()
                .Where(r => r.OrganizationId == page.OrganizationId && r.Uid == sessionUid && r.State == SpaceRequestState.Confirmed)
                .Select(r => (Guid?)r.SpaceId).FirstOrDefaultAsync(ct)
            : null;
        await LockAsync((spaces ?? []).Select(s => s.Id).Concat(holds.Select(h => h.SpaceId))
            .Concat(sessionSpace is { } held ? [held] : []), ct);
        var now = clock.GetCurrentInstant();
        if (groupSession)
        {
            if (previousStart == booking.Start)
            {
                return Result.Success;
            }

            await LeaveSessionAsync(page, previousStart, booking.Id, "The last seat of the session moved to another time.", ct);
            return spaces is null ? Result.Success : await HoldOneAsync(page, spaces, booking, organizerEmail, organizerName, ct);
        }

        if (holds.Count == 0)
        {
            // Released earlier (its space was taken by another move, or the page got its pool later): hold one now.
            return spaces is null ? Result.Success : await HoldOneAsync(page, spaces, booking, organizerEmail, organizerName, ct);
        }

        foreach (var hold in holds)
        {
            if (hold.Start == booking.Start && hold.End == booking.End)
            {
                continue;
            }

            var current = await db.Spaces.AcrossTenants().AsNoTracking().FirstAsync(s => s.Id == hold.SpaceId, ct);
            if (await IsFreeAsync(current.Id, booking.Start, booking.End, bookingUid, ct))
            {
                var reason = "The booking was rescheduled.";
                hold.Start = booking.Start;
                hold.End = booking.End;
                hold.Sequence++;
                hold.UpdatedAt = now;
                hold.LastActorKind = SpaceActor.System.Kind;
                hold.LastActorId = null;
                hold.LastReason = reason;
                db.SpaceRequestActivities.Add(Activity(hold, "rescheduled", SpaceRequestState.Confirmed, reason, now));
                SpaceOutbox.Emit(db, current, hold, SpaceEvent.RequestUpdated, SpaceRequestState.Confirmed, SpaceActor.System, reason, notify: false, now);
                SpaceOutbox.Answer(db, hold, SpaceRequestAnswered.Accepted, write: current.ResourceCalendarKind is not null, remove: false, now);
                continue;
            }

            var other = spaces is null ? null : await FirstFreeAsync(spaces.Where(s => s.Id != current.Id).ToList(), booking.Start, booking.End, bookingUid, ct);
            if (other is null)
            {
                return Result.Failure(DomainError.Conflict("space_unavailable",
                    $"{current.Name} is taken at the new time and no other space of this page's pool that fits is free then; please pick another time."));
            }

            Release(current, hold, $"The booking moved to a time when {current.Name} is taken; it now holds {other.Name}.", now);
            await PlaceAsync(page, other, bookingUid, booking.Id, hold.OrganizerEmail, hold.OrganizerName ?? "", booking.Start, booking.End,
                $"Held for a booking of {page.Title} (moved from {current.Name}, taken at the new time)", now, ct);
        }

        return Result.Success;
    }

    /// <summary>
    /// Releases a group session's space when no seat of it is left (other than <paramref name="leaving"/>); called under the
    /// page's lock, so a seat booked at the same moment either joins before or holds anew after.
    /// </summary>
    public async Task LeaveSessionAsync(BookingPage page, Instant start, BookingId? leaving, string reason, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(page);
        var uid = SessionUid(page.Id, start);
        var hold = await db.SpaceRequests.AcrossTenants()
            .FirstOrDefaultAsync(r => r.OrganizationId == page.OrganizationId && r.Uid == uid && r.State == SpaceRequestState.Confirmed, ct);
        if (hold is null)
        {
            return;
        }

        var seats = await db.Bookings.AcrossTenants().AsNoTracking()
            .CountAsync(b => b.BookingPageId == page.Id && b.Start == start && b.Status != BookingStatus.Canceled && (leaving == null || b.Id != leaving), ct);
        if (seats > 0)
        {
            return;
        }

        await LockAsync([hold.SpaceId], ct);
        var space = await db.Spaces.AcrossTenants().AsNoTracking().FirstAsync(s => s.Id == hold.SpaceId, ct);
        Release(space, hold, reason, clock.GetCurrentInstant());
    }

    private async Task<Result> HoldOneAsync(BookingPage page, IReadOnlyList<Space> spaces, Booking booking, string organizerEmail, string organizerName,
        CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        if (page.Settings.SchedulingOption == SchedulingOption.GroupSession)
        {
            var uid = SessionUid(page.Id, booking.Start);
            var joined = await db.SpaceRequests.AcrossTenants()
                .AnyAsync(r => r.OrganizationId == page.OrganizationId && r.Uid == uid && r.State == SpaceRequestState.Confirmed, ct)
                || db.ChangeTracker.Entries<SpaceRequest>().Any(e => e.Entity.Uid == uid && e.Entity.State == SpaceRequestState.Confirmed);
            if (joined)
            {
                // A later seat of the session: it sits in the space the first seat holds.
                return Result.Success;
            }

            var free = await FirstFreeAsync(spaces, booking.Start, booking.End, null, ct);
            if (free is null)
            {
                return Result.Failure(DomainError.Conflict("space_unavailable",
                    "No space of this page's pool that seats the whole session is free at that time; please pick another time."));
            }

            await PlaceAsync(page, free, uid, null, organizerEmail, organizerName, booking.Start, booking.End,
                $"Held for the group session of {page.Title} ({page.Settings.SeatsPerSlot} seats)", now, ct);
            return Result.Success;
        }

        var space = await FirstFreeAsync(spaces, booking.Start, booking.End, null, ct);
        if (space is null)
        {
            return Result.Failure(DomainError.Conflict("space_unavailable", "No space of this page is free at that time; please pick another time."));
        }

        await PlaceAsync(page, space, BookingUid(booking.Id), booking.Id, organizerEmail, organizerName, booking.Start, booking.End,
            "Held for a booking of " + page.Title, now, ct);
        return Result.Success;
    }

    /// <summary>
    /// Writes a confirmed hold of <paramref name="space"/>: a new request, or the one this UID had there before (a booking
    /// that comes back to a space it left, a session booked again), since a space has one request per UID.
    /// </summary>
    private async Task PlaceAsync(BookingPage page, Space space, string uid, BookingId? bookingId, string organizerEmail, string organizerName,
        Instant start, Instant end, string reason, Instant now, CancellationToken ct)
    {
        var earlier = await db.SpaceRequests.AcrossTenants().FirstOrDefaultAsync(r => r.SpaceId == space.Id && r.Uid == uid, ct);
        SpaceRequest request;
        SpaceRequestState? from = null;
        if (earlier is not null)
        {
            request = earlier;
            from = request.State;
            request.State = SpaceRequestState.Confirmed;
            request.Start = start;
            request.End = end;
            request.Sequence++;
            request.BookingId = bookingId;
            request.LastActorKind = SpaceActor.System.Kind;
            request.LastActorId = null;
            request.LastReason = reason;
            request.UpdatedAt = now;
            request.OnResourceCalendar = space.ResourceCalendarKind is not null;
        }
        else
        {
            request = new SpaceRequest
            {
                Id = Guid.CreateVersion7(),
                OrganizationId = page.OrganizationId,
                SpaceId = space.Id,
                Uid = uid,
                OrganizerEmail = organizerEmail,
                OrganizerName = organizerName,
                OrganizerUserId = page.OwnerId,
                Summary = page.Title,
                Start = start,
                End = end,
                State = SpaceRequestState.Confirmed,
                Channel = SpaceChannels.Api,
                BookingId = bookingId,
                OnResourceCalendar = space.ResourceCalendarKind is not null,
                LastActorKind = SpaceActor.System.Kind,
                LastReason = reason,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.SpaceRequests.Add(request);
        }

        db.SpaceRequestActivities.Add(Activity(request, "booked", from, reason, now));
        SpaceOutbox.Emit(db, space, request, SpaceEvent.RequestConfirmed, from, SpaceActor.System, reason, notify: false, now);
        SpaceOutbox.Answer(db, request, SpaceRequestAnswered.Accepted, write: space.ResourceCalendarKind is not null, remove: false, now);
    }

    private void Release(Space space, SpaceRequest hold, string reason, Instant now)
    {
        hold.State = SpaceRequestState.Canceled;
        hold.LastActorKind = SpaceActor.System.Kind;
        hold.LastActorId = null;
        hold.LastReason = reason;
        hold.UpdatedAt = now;
        db.SpaceRequestActivities.Add(Activity(hold, "cancel", SpaceRequestState.Confirmed, reason, now));
        SpaceOutbox.Answer(db, hold, SpaceRequestAnswered.Declined, write: false, remove: hold.OnResourceCalendar, now);
        hold.OnResourceCalendar = false;
        SpaceOutbox.Emit(db, space, hold, SpaceEvent.RequestCanceled, SpaceRequestState.Confirmed, SpaceActor.System, reason, notify: false, now);
    }

    // Space locks in id order, after the page's lock, as every path that holds a space takes them.
    private async Task LockAsync(IEnumerable<Guid> ids, CancellationToken ct)
    {
        foreach (var id in ids.Distinct().Order())
        {
            await db.LockAsync("space:" + id, ct);
        }
    }

    private async Task<bool> IsFreeAsync(Guid spaceId, Instant start, Instant end, string ignoreUid, CancellationToken ct) =>
        !await db.SpaceRequests.AcrossTenants().AsNoTracking()
            .AnyAsync(r => r.SpaceId == spaceId && r.State == SpaceRequestState.Confirmed && r.Start < end && r.End > start && r.Uid != ignoreUid, ct)
        && !PendingOverlaps(start, end).Contains(spaceId);

    private async Task<Space?> FirstFreeAsync(IReadOnlyList<Space> spaces, Instant start, Instant end, string? ignoreUid, CancellationToken ct)
    {
        var ids = spaces.Select(s => s.Id).ToList();
        var busy = await db.SpaceRequests.AcrossTenants().AsNoTracking()
            .Where(r => ids.Contains(r.SpaceId) && r.State == SpaceRequestState.Confirmed && r.Start < end && r.End > start
                && (ignoreUid == null || r.Uid != ignoreUid))
            .Select(r => r.SpaceId)
            .ToListAsync(ct);
        var pending = PendingOverlaps(start, end);
        return spaces.FirstOrDefault(s => !busy.Contains(s.Id) && !pending.Contains(s.Id));
    }

    // Holds written in this transaction but not saved yet (the sessions of one package) count too.
    private List<Guid> PendingOverlaps(Instant start, Instant end) =>
        [.. db.ChangeTracker.Entries<SpaceRequest>()
            .Where(e => e.State is EntityState.Added or EntityState.Modified && e.Entity.State == SpaceRequestState.Confirmed
                && e.Entity.Start < end && e.Entity.End > start)
            .Select(e => e.Entity.SpaceId)];

    private static SpaceRequestActivity Activity(SpaceRequest request, string action, SpaceRequestState? from, string reason, Instant now) => new()
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

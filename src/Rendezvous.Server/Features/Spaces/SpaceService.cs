using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.Spaces;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>Who did something to a request: "user" (with the user id), "organizer", "system" or "calendar".</summary>
public sealed record SpaceActor(string Kind, string? Id)
{
    public static SpaceActor System { get; } = new("system", null);

    public static SpaceActor Organizer { get; } = new("organizer", null);

    public static SpaceActor Calendar { get; } = new("calendar", null);

    public static SpaceActor User(UserId id) => new("user", id.ToString());
}

/// <summary>A request and the others it overlaps on its space: confirmed ones block it, open ones are declined when it is confirmed.</summary>
public sealed record SpaceConflicts(SpaceRequest Request, IReadOnlyList<SpaceRequest> Blocking, IReadOnlyList<SpaceRequest> WouldBeDeclined);

/// <summary>
/// The spaces lifecycle (seed 004). Every change is one transaction that also writes its outbox messages: a
/// <see cref="SpaceEvent"/> for webhooks and emails, and <see cref="SpaceRequestAnswered"/> whenever the answer owed to
/// the organizer changes. Work on one space is serialised by an advisory lock, so "is it free?" and the write that
/// follows see the same data; the exclusion constraint on confirmed requests is the guarantee behind it.
/// </summary>
public sealed class SpaceService(RendezvousDbContext db, IClock clock) : ISpaceInvitations
{
    public const string DeclinedByConflict = "The space is already booked at that time.";
    public const string DeclinedByOtherConfirmed = "Another event was confirmed for this space at that time.";

    public async Task<SpaceRequestResult> ReceiveAsync(SpaceInvitation invitation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        var problem = Validate(invitation);
        if (problem is not null)
        {
            throw new DomainException("invalid_invitation", problem);
        }

        await using var tx = await BeginAsync(cancellationToken);
        var result = await ReceiveCoreAsync(invitation, null, cancellationToken);
        if (!result.IsSuccess)
        {
            throw new DomainException(result.Error!.Code, result.Error.Message);
        }

        await SaveAsync(cancellationToken);
        await CommitAsync(tx, cancellationToken);
        return new SpaceRequestResult(result.Value.Id, SpaceRules.Name(result.Value.State));
    }

    public async Task CancelFromCalendarAsync(Guid spaceId, string uid, CancellationToken cancellationToken)
    {
        await using var tx = await BeginAsync(cancellationToken);
        await LockSpaceAsync(spaceId, cancellationToken);
        var request = await db.SpaceRequests.AcrossTenants().FirstOrDefaultAsync(r => r.SpaceId == spaceId && r.Uid == uid, cancellationToken);
        if (request is null || SpaceRules.IsClosed(request.State))
        {
            return;
        }

        var space = await db.Spaces.AcrossTenants().FirstAsync(s => s.Id == spaceId, cancellationToken);
        var now = clock.GetCurrentInstant();
        var from = request.State;
        Move(request, SpaceRequestState.Canceled, "canceledInCalendar", SpaceActor.Calendar, "The organizer canceled the event in their calendar.", now);
        // The organizer canceled: no answer is owed, and the calendar removes the event itself.
        Emit(space, request, SpaceEvent.RequestCanceled, from, SpaceActor.Calendar, request.LastReason, notify: false, now);
        await SaveAsync(cancellationToken);
        await CommitAsync(tx, cancellationToken);
    }

    /// <summary>
    /// A request made in Rendezvous for one or several spaces of one event, all or nothing: when an auto-accept space is
    /// taken, nothing is written and the answer names the spaces in the way.
    /// </summary>
    public async Task<Result<IReadOnlyList<SpaceRequest>>> RequestAsync(OrganizationId org, IReadOnlyList<Guid> spaceIds, string uid,
        string summary, Instant start, Instant end, string organizerEmail, string? organizerName, UserId? organizerUserId,
        BookingId? bookingId, CancellationToken ct)
    {
        await using var tx = await BeginAsync(ct);
        var made = new List<SpaceRequest>();
        var taken = new List<string>();
        foreach (var spaceId in spaceIds.Distinct().Order())
        {
            var invitation = new SpaceInvitation(org.Value, spaceId, uid, 0, organizerEmail, organizerName, summary, start, end, SpaceChannels.Api, null);
            var one = await ReceiveCoreAsync(invitation, organizerUserId, ct, bookingId);
            if (!one.IsSuccess)
            {
                return one.Error!;
            }

            if (one.Value.State == SpaceRequestState.Declined)
            {
                taken.Add((await db.Spaces.AcrossTenants().FirstAsync(s => s.Id == spaceId, ct)).Name);
            }

            made.Add(one.Value);
        }

        if (taken.Count > 0)
        {
            // All or nothing: the transaction is rolled back, so no space keeps a request for an event that cannot happen.
            return DomainError.Conflict("space_taken", $"Already booked at that time: {string.Join(", ", taken)}.");
        }

        var saved = await SaveAsync(ct);
        if (!saved.IsSuccess)
        {
            return saved.Error!;
        }

        await CommitAsync(tx, ct);
        return made;
    }

    /// <summary>
    /// Accept, decline, hold, tentative, confirm or cancel. Confirming confirms the event on every Rendezvous-managed space
    /// it asks for (all or nothing) and declines every other open request overlapping it on those spaces.
    /// </summary>
    public async Task<Result<SpaceRequest>> ActAsync(Guid requestId, SpaceAction action, SpaceActor actor, string? reason,
        Func<Space, Result>? authorize, CancellationToken ct)
    {
        await using var tx = await BeginAsync(ct);
        var request = await db.SpaceRequests.FirstOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null)
        {
            return DomainError.NotFound("Space request");
        }

        var space = await db.Spaces.AcrossTenants().FirstAsync(s => s.Id == request.SpaceId, ct);
        if (authorize?.Invoke(space) is { IsSuccess: false } denied)
        {
            return denied.Error!;
        }

        var now = clock.GetCurrentInstant();
        var targets = new List<(Space Space, SpaceRequest Request)> { (space, request) };
        var next = SpaceRules.Apply(space.Administration, request.State, action);
        if (!next.IsSuccess)
        {
            return next.Error!;
        }

        if (next.Value == SpaceRequestState.Confirmed && space.Administration == SpaceAdministration.RendezvousManaged)
        {
            // Several spaces on one event: the other Rendezvous-managed spaces of the same event are confirmed with it.
            var siblings = await db.SpaceRequests.AcrossTenants()
                .Where(r => r.OrganizationId == request.OrganizationId && r.Uid == request.Uid && r.Id != request.Id)
                .ToListAsync(ct);
            foreach (var sibling in siblings.Where(s => SpaceRules.IsOpen(s.State)))
            {
                var siblingSpace = await db.Spaces.AcrossTenants().FirstAsync(s => s.Id == sibling.SpaceId, ct);
                if (siblingSpace.Administration == SpaceAdministration.RendezvousManaged && authorize?.Invoke(siblingSpace) is not { IsSuccess: false })
                {
                    targets.Add((siblingSpace, sibling));
                }
            }
        }

        foreach (var id in targets.Select(t => t.Space.Id).Distinct().Order())
        {
            await LockSpaceAsync(id, ct);
        }

        foreach (var (targetSpace, target) in targets)
        {
            await db.Entry(target).ReloadAsync(ct);
            var step = SpaceRules.Apply(targetSpace.Administration, target.State, action);
            if (!step.IsSuccess)
            {
                return step.Error!;
            }

            var applied = await ApplyAsync(targetSpace, target, step.Value, action, actor, reason, now, ct);
            if (!applied.IsSuccess)
            {
                return applied.Error!;
            }
        }

        var saved = await SaveAsync(ct);
        if (!saved.IsSuccess)
        {
            return saved.Error!;
        }

        await CommitAsync(tx, ct);
        return request;
    }

    /// <summary>The requests a confirmation of <paramref name="requestId"/> would run into, before confirming.</summary>
    public async Task<Result<SpaceConflicts>> ConflictsAsync(Guid requestId, CancellationToken ct)
    {
        var request = await db.SpaceRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null)
        {
            return DomainError.NotFound("Space request");
        }

        var overlapping = await OverlappingAsync(request.SpaceId, request.Start, request.End, request.Id, ct);
        return new SpaceConflicts(request,
            [.. overlapping.Where(r => r.State == SpaceRequestState.Confirmed)],
            [.. overlapping.Where(r => SpaceRules.IsOpen(r.State))]);
    }

    private async Task<Result<SpaceRequest>> ReceiveCoreAsync(SpaceInvitation invitation, UserId? organizerUserId, CancellationToken ct,
        BookingId? bookingId = null)
    {
        var org = new OrganizationId(invitation.OrganizationId);
        await LockSpaceAsync(invitation.SpaceId, ct);
        var space = await db.Spaces.AcrossTenants().FirstOrDefaultAsync(s => s.Id == invitation.SpaceId && s.OrganizationId == org, ct);
        if (space is null)
        {
            return DomainError.NotFound("Space");
        }

        var now = clock.GetCurrentInstant();
        var email = invitation.OrganizerEmail.Trim();
        organizerUserId ??= await db.Users.AcrossTenants()
            .Where(u => u.OrganizationId == org && u.Email.ToLower() == email.ToLower())
            .Select(u => (UserId?)u.Id)
            .FirstOrDefaultAsync(ct);
        var request = await db.SpaceRequests.AcrossTenants().FirstOrDefaultAsync(r => r.SpaceId == space.Id && r.Uid == invitation.Uid, ct);
        if (request is not null && (!IsNewer(invitation, request) || invitation.Channel == SpaceChannels.Api))
        {
            if (invitation.Channel == SpaceChannels.Api && request.Channel == SpaceChannels.Api)
            {
                return DomainError.Conflict("request_exists", $"This event already has a request for {space.Name}.");
            }

            // A repeat of an invitation already seen (same or older sequence): the answer given stands.
            return request;
        }

        if (request is null)
        {
            request = new SpaceRequest
            {
                Id = Guid.CreateVersion7(),
                OrganizationId = org,
                SpaceId = space.Id,
                Uid = invitation.Uid,
                Sequence = invitation.Sequence,
                Stamp = invitation.Stamp,
                OrganizerEmail = email,
                OrganizerName = invitation.OrganizerName,
                OrganizerUserId = organizerUserId,
                Summary = invitation.Summary,
                Start = invitation.Start,
                End = invitation.End,
                State = SpaceRequestState.Pending,
                Channel = invitation.Channel,
                ChannelReference = invitation.ChannelReference,
                BookingId = bookingId,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.SpaceRequests.Add(request);
            var state = SpaceRules.Initial(space.Administration, await IsFreeAsync(space.Id, request.Start, request.End, request.Id, ct));
            request.State = state;
            AddActivity(request, "received", null, SpaceActor.Organizer, null, now);
            request.LastActorKind = SpaceActor.Organizer.Kind;
            Emit(space, request, SpaceEvent.RequestReceived, null, SpaceActor.Organizer, null, notify: false, now);
            await AfterDecisionAsync(space, request, null, SpaceActor.System, ct, now);
            return request;
        }

        // A newer sequence of an invitation: take its details, and decide again when its time moved.
        var from = request.State;
        var moved = request.Start != invitation.Start || request.End != invitation.End;
        request.Sequence = invitation.Sequence;
        request.Stamp = invitation.Stamp ?? request.Stamp;
        request.Summary = invitation.Summary;
        request.OrganizerEmail = email;
        request.OrganizerName = invitation.OrganizerName ?? request.OrganizerName;
        request.OrganizerUserId ??= organizerUserId;
        request.Start = invitation.Start;
        request.End = invitation.End;
        request.ChannelReference = invitation.ChannelReference ?? request.ChannelReference;
        request.UpdatedAt = now;
        if (moved || SpaceRules.IsClosed(from))
        {
            request.State = SpaceRules.Initial(space.Administration, await IsFreeAsync(space.Id, request.Start, request.End, request.Id, ct));
        }

        AddActivity(request, "updated", from, SpaceActor.Organizer, null, now);
        Emit(space, request, SpaceEvent.RequestUpdated, from, SpaceActor.Organizer, null, notify: false, now);
        if (request.State == from && from == SpaceRequestState.Confirmed)
        {
            // Same time, still confirmed: the new sequence is answered again, and the resource calendar copy refreshed.
            Answer(request, SpaceRequestAnswered.Accepted, write: space.ResourceCalendarKind is not null, remove: false, now);
        }
        else if (request.State != from)
        {
            await AfterDecisionAsync(space, request, from, SpaceActor.System, ct, now);
        }

        return request;
    }

    /// <summary>
    /// Whether an invitation is a later version than the request holds: a higher SEQUENCE (RFC 5546 2.1.4), or the same
    /// SEQUENCE with a DTSTAMP no older than the one taken that moves the event or renames it (some clients change the
    /// time without raising SEQUENCE). The same version again, or an older DTSTAMP, is a repeat.
    /// </summary>
    private static bool IsNewer(SpaceInvitation invitation, SpaceRequest request)
    {
        if (invitation.Sequence != request.Sequence)
        {
            return invitation.Sequence > request.Sequence;
        }

        if (invitation.Stamp is not { } stamp || (request.Stamp is { } taken && stamp < taken))
        {
            return false;
        }

        return invitation.Start != request.Start || invitation.End != request.End || invitation.Summary != request.Summary;
    }

    /// <summary>What follows a state reached on arrival: auto-accept's answer at once; nothing yet for the other modes.</summary>
    private Task AfterDecisionAsync(Space space, SpaceRequest request, SpaceRequestState? from, SpaceActor actor, CancellationToken ct, Instant now)
    {
        _ = ct;
        switch (request.State)
        {
            case SpaceRequestState.Confirmed:
                request.OnResourceCalendar = space.ResourceCalendarKind is not null;
                Answer(request, SpaceRequestAnswered.Accepted, write: space.ResourceCalendarKind is not null, remove: false, now);
                Emit(space, request, SpaceEvent.RequestConfirmed, from, actor, null, notify: request.Channel == SpaceChannels.Api, now);
                break;
            case SpaceRequestState.Declined:
                request.LastReason = DeclinedByConflict;
                Answer(request, SpaceRequestAnswered.Declined, write: false, remove: request.OnResourceCalendar, now);
                request.OnResourceCalendar = false;
                Emit(space, request, SpaceEvent.RequestDeclined, from, actor, DeclinedByConflict, notify: request.Channel == SpaceChannels.Api, now);
                break;
            default:
                break;
        }

        return Task.CompletedTask;
    }

    private async Task<Result> ApplyAsync(Space space, SpaceRequest request, SpaceRequestState next, SpaceAction action, SpaceActor actor,
        string? reason, Instant now, CancellationToken ct)
    {
        var from = request.State;
        var apiChannel = request.Channel == SpaceChannels.Api;
        switch (next)
        {
            case SpaceRequestState.Confirmed:
            {
                var overlapping = await OverlappingAsync(space.Id, request.Start, request.End, request.Id, ct, tracked: true);
                var blocking = overlapping.Where(r => r.State == SpaceRequestState.Confirmed).ToList();
                if (blocking.Count > 0)
                {
                    return DomainError.Conflict("space_taken",
                        $"{space.Name} is already confirmed for \"{blocking[0].Summary}\" at that time; cancel it or set it back to tentative first.");
                }

                Move(request, next, Verb(action), actor, reason, now);
                request.OnResourceCalendar = space.ResourceCalendarKind is not null;
                Answer(request, SpaceRequestAnswered.Accepted, write: space.ResourceCalendarKind is not null, remove: false, now);
                Emit(space, request, SpaceEvent.RequestConfirmed, from, actor, reason, notify: apiChannel, now);
                foreach (var other in overlapping.Where(r => SpaceRules.IsOpen(r.State)))
                {
                    var otherFrom = other.State;
                    Move(other, SpaceRequestState.Declined, "decline", SpaceActor.System, DeclinedByOtherConfirmed, now);
                    Answer(other, SpaceRequestAnswered.Declined, write: false, remove: other.OnResourceCalendar, now);
                    other.OnResourceCalendar = false;
                    Emit(space, other, SpaceEvent.RequestDeclined, otherFrom, SpaceActor.System, DeclinedByOtherConfirmed,
                        notify: other.Channel == SpaceChannels.Api, now);
                }

                break;
            }

            case SpaceRequestState.Declined or SpaceRequestState.Canceled:
                Move(request, next, Verb(action), actor, reason, now);
                Answer(request, SpaceRequestAnswered.Declined, write: false, remove: request.OnResourceCalendar, now);
                request.OnResourceCalendar = false;
                Emit(space, request, next == SpaceRequestState.Declined ? SpaceEvent.RequestDeclined : SpaceEvent.RequestCanceled, from, actor, reason,
                    notify: apiChannel, now);
                break;
            case SpaceRequestState.Hold or SpaceRequestState.Tentative:
                // The invitation stays pending in the calendar (no answer), and a hold is not written to the resource
                // calendar; a confirmed event set back to tentative stays there (OnResourceCalendar is left as it is).
                Move(request, next, Verb(action), actor, reason, now);
                Emit(space, request, next == SpaceRequestState.Hold ? SpaceEvent.RequestHeld : SpaceEvent.RequestTentative, from, actor, reason,
                    notify: true, now);
                break;
            default:
                return DomainError.Conflict("invalid_transition", "Nothing to do.");
        }

        return Result.Success;
    }

    private static string Verb(SpaceAction action) => action.ToString().ToLowerInvariant();

    private void Move(SpaceRequest request, SpaceRequestState next, string action, SpaceActor actor, string? reason, Instant now)
    {
        var from = request.State;
        request.State = next;
        request.LastActorKind = actor.Kind;
        request.LastActorId = actor.Id;
        request.LastReason = reason;
        request.UpdatedAt = now;
        AddActivity(request, action, from, actor, reason, now);
    }

    private void AddActivity(SpaceRequest request, string action, SpaceRequestState? from, SpaceActor actor, string? reason, Instant now) =>
        db.SpaceRequestActivities.Add(new SpaceRequestActivity
        {
            RequestId = request.Id,
            At = now,
            Action = action,
            FromState = from,
            ToState = request.State,
            ActorKind = actor.Kind,
            ActorId = actor.Id,
            Reason = reason,
            Sequence = request.Sequence,
            Start = request.Start,
            End = request.End,
        });

    private void Answer(SpaceRequest request, string partstat, bool write, bool remove, Instant now) =>
        SpaceOutbox.Answer(db, request, partstat, write, remove, now);

    private void Emit(Space space, SpaceRequest request, string type, SpaceRequestState? from, SpaceActor actor, string? reason, bool notify, Instant now) =>
        SpaceOutbox.Emit(db, space, request, type, from, actor, reason, notify, now);

    /// <summary>Writes a space event (created, updated, deleted) for webhooks.</summary>
    public void EmitSpaceChange(Space space, string type, SpaceActor actor, Instant now) => SpaceOutbox.SpaceChange(db, space, type, actor, now);

    private async Task<bool> IsFreeAsync(Guid spaceId, Instant start, Instant end, Guid except, CancellationToken ct) =>
        !await db.SpaceRequests.AcrossTenants()
            .AnyAsync(r => r.SpaceId == spaceId && r.Id != except && r.State == SpaceRequestState.Confirmed && r.Start < end && r.End > start, ct);

    /// <summary>Requests on a space overlapping a time that are still open or confirmed, except one.</summary>
    public async Task<List<SpaceRequest>> OverlappingAsync(Guid spaceId, Instant start, Instant end, Guid except, CancellationToken ct, bool tracked = false)
    {
        var query = db.SpaceRequests.AcrossTenants()
            .Where(r => r.SpaceId == spaceId && r.Id != except && r.Start < end && r.End > start
                && r.State != SpaceRequestState.Declined && r.State != SpaceRequestState.Canceled)
            .OrderBy(r => r.Start).ThenBy(r => r.CreatedAt);
        return tracked ? await query.ToListAsync(ct) : await query.AsNoTracking().ToListAsync(ct);
    }

    private Task LockSpaceAsync(Guid spaceId, CancellationToken ct) => db.LockAsync("space:" + spaceId, ct);

    private async Task<IAsyncDisposable> BeginAsync(CancellationToken ct) =>
        db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : NoTransaction.Instance;

    private static async Task CommitAsync(IAsyncDisposable tx, CancellationToken ct)
    {
        if (tx is IDbContextTransaction own)
        {
            await own.CommitAsync(ct);
        }
    }

    private async Task<Result> SaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return Result.Success;
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.ExclusionViolation })
        {
            return DomainError.Conflict("space_taken", "The space has just been confirmed for another event at that time.");
        }
    }

    /// <summary>Checks an invitation from a transport; null when it is usable.</summary>
    public static string? Validate(SpaceInvitation invitation)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        if (string.IsNullOrWhiteSpace(invitation.Uid) || invitation.Uid.Length > 1000)
        {
            return "The invitation has no UID.";
        }

        if (invitation.End <= invitation.Start)
        {
            return "The invitation ends before it starts.";
        }

        if (!SpaceChannels.All.Contains(invitation.Channel))
        {
            return $"Unknown channel '{invitation.Channel}'.";
        }

        return string.IsNullOrWhiteSpace(invitation.OrganizerEmail) ? "The invitation has no organizer." : null;
    }

    /// <summary>Stands for the caller's transaction when one is already open (a booking that also holds a space).</summary>
    private sealed class NoTransaction : IAsyncDisposable
    {
        public static NoTransaction Instance { get; } = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

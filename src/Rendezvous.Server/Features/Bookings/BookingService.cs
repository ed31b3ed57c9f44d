using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Microsoft.Extensions.Options;
using Rendezvous.Data;
using Rendezvous.Data.Failover;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Availability;
using Rendezvous.Server.Features.BookingPages;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Bookings;

/// <summary>The outcome of a create: the response and whether it is a replay of an earlier request with the same key.</summary>
public sealed record CreateOutcome(BookingResponse Response, bool Replayed);

/// <summary>
/// Booking commands. Each runs in one transaction that first takes the page's advisory lock, so checks against the
/// page's own rules (hours, caps, seats) and the insert cannot interleave; across pages, the exclusion constraint on
/// host time is the guarantee.
/// </summary>
public sealed class BookingService(
    RendezvousDbContext db, AvailabilityService availability, Spaces.SpacePools spacePools, BookingPages.BookingPageCache pages, IClock clock,
    IOptions<FailoverRetryOptions> failover, ILogger<BookingService> logger)
{
    public const int MaxAnswers = 50;

    /// <summary>Starts the idempotency keys the server makes for requests that came without one.</summary>
    public const string ServerKeyPrefix = "server:";

    /// <summary>
    /// Books, retrying the whole transaction while the database fails over. Every create is recorded under an
    /// idempotency key (the client's, or one made here for this request), and each attempt first looks that key up:
    /// a commit whose acknowledgement a failover cut is found and answered again rather than booked twice (decision 0029).
    /// </summary>
    public async Task<Result<CreateOutcome>> CreateAsync(string slug, CreateBookingRequest request, string? idempotencyKey, CancellationToken ct)
    {
        var key = idempotencyKey ?? ServerKeyPrefix + Guid.NewGuid().ToString("N");
        return await FailoverRetry.RunAsync(async (attempt, token) =>
        {
            if (attempt > 1)
            {
                // What the cut attempt added or loaded is gone with its transaction; its connection is broken.
                db.ChangeTracker.Clear();
                await db.Database.CloseConnectionAsync();
            }

            // A key the server just made cannot have a record yet; after a cut attempt it may (decision 0029).
            return await CreateOnceAsync(slug, request, idempotencyKey, key, lookUpKey: idempotencyKey is not null || attempt > 1, token);
        }, failover.Value, logger, ct);
    }

    private async Task<Result<CreateOutcome>> CreateOnceAsync(string slug, CreateBookingRequest request, string? clientKey, string idempotencyKey,
        bool lookUpKey, CancellationToken ct)
    {
        // Three round trips when the page is free: one batch (lock, checks, reads, the customer's upsert), the insert
        // batch, the commit. See decision 0026.
        for (var attempt = 0; ; attempt++)
        {
            var cached = await pages.FindAsync(db, slug, ct);
            if (cached is null)
            {
                return DomainError.NotFound("Booking page");
            }

            var outcome = await TryCreateAsync(cached, request, clientKey, idempotencyKey, lookUpKey, ct);
            if (outcome is { IsSuccess: false, Error.Code: MemberTaken })
            {
                // A round-robin member was booked through another page between our read and our insert: the exclusion
                // constraint refused the hold. Read again, which now sees that booking, and choose again.
                db.ChangeTracker.Clear();
                if (attempt == 3)
                {
                    return DomainError.Conflict("slot_taken", "That time has just been taken; please pick another.");
                }

                continue;
            }

            if (outcome is { } done)
            {
                return done;
            }

            // The page changed since it was cached: read it again and start over (a second change in a row is rare).
            pages.Invalidate(slug, cached);
            db.ChangeTracker.Clear();
            if (attempt == 3)
            {
                return DomainError.Conflict("concurrent_change", "The booking page is being changed; try again.");
            }
        }
    }

    /// <summary>The code of a round-robin insert the exclusion constraint refused; the create starts over.</summary>
    private const string MemberTaken = "member_taken";

    /// <summary>Null when the cached page turned out to be out of date (nothing was written).</summary>
    private async Task<Result<CreateOutcome>?> TryCreateAsync(CachedPage cached, CreateBookingRequest request, string? clientKey, string idempotencyKey,
        bool lookUpKey, CancellationToken ct)
    {
        var page = cached.Page;
        db.TenantId = page.OrganizationId;
        var input = Validate(page, request, clientKey);
        if (!input.IsSuccess)
        {
            return input.Error!;
        }

        var (starts, customerInput, answers, replaces, member) = input.Value;
        var scope = "booking:" + page.Id;
        var requestHash = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, JsonDefaults.Options));
        var zone = page.Settings.TimeZone;
        var firstDay = starts[0].InZone(zone).Date;
        var lastDay = starts[^1].InZone(zone).Date;
        var range = AvailabilityService.RangeOf(page, firstDay, lastDay, zone);
        var now = clock.GetCurrentInstant();
        var upsert = new CustomerUpsert(page.OrganizationId, customerInput.Name!.Trim(), customerInput.Email!, customerInput.Phone,
            customerInput.TimeZone!, now) { Language = customerInput.Language };

        // A failed insert is answered and rolled back as a whole, so EF's savepoint around it would only cost round trips.
        db.Database.AutoSavepointsEnabled = false;
        var tx = await db.Database.BeginTransactionAsync(ct);
        try
        {
            // First without waiting for the page's lock: when it is free (the usual case) these reads are the real check.
            var reads = await availability.ReadAsync(page, range, PageLock.Try, upsert, ct);
            if (reads.Version != cached.Version)
            {
                return null;
            }

            if (reads.Locked != true && !lookUpKey)
            {
                // Another booking of this page is being written. Check the slot on what is committed now, so that the many
                // requests of a race for one time are answered 409 without queueing for the lock; otherwise wait for the
                // lock in a new transaction (this one holds the customer's row, which the lock holder may need next).
                if (await WhyNotAsync(page, reads, starts, now, ct) is { } early)
                {
                    return early;
                }

            }

            if (reads.Locked != true)
            {
                // (A retried request with an Idempotency-Key comes straight here: its own booking would look like a taken slot.)
                await tx.RollbackAsync(ct);
                await tx.DisposeAsync();
                tx = await db.Database.BeginTransactionAsync(ct);
                reads = await availability.ReadAsync(page, range, PageLock.Wait, upsert, ct);
                if (reads.Version != cached.Version)
                {
                    return null;
                }
            }

            if (lookUpKey)
            {
                var previous = await db.IdempotencyRecords.AsNoTracking().FirstOrDefaultAsync(r => r.Scope == scope && r.Key == idempotencyKey, ct);
                if (previous is not null)
                {
                    return previous.RequestHash.AsSpan().SequenceEqual(requestHash)
                        ? new CreateOutcome(JsonSerializer.Deserialize<BookingResponse>(previous.Response, JsonDefaults.Options)!, true)
                        : DomainError.Conflict("idempotency_key_reused", "This Idempotency-Key was used with a different request.");
                }
            }

            if (AvailabilityService.WhyUnavailable(reads) is { } unavailable)
            {
                return unavailable;
            }

            if (page.Settings.Payment is not null && !await db.PayPalAccounts.AnyAsync(a => a.OrganizationId == page.OrganizationId, ct))
            {
                return DomainError.Conflict("payments_unavailable", "This page takes payments, but its organization has not connected PayPal yet.");
            }

            if (await WhyNotAsync(page, reads, starts, now, ct, member) is { } taken)
            {
                return taken;
            }

            var owner = page.BookingOwner;
            if (page.Settings.SchedulingOption == SchedulingOption.RoundRobin)
            {
                var chosen = await ChooseMemberAsync(page, reads, starts[0], now, member, ct);
                if (chosen is null)
                {
                    return DomainError.Conflict("slot_unavailable", $"{ApiFormat.Format(starts[0], zone)} is not available; please pick another time.");
                }

                owner = chosen.Value;
            }

            var created = await InsertAsync(page, reads, owner, starts, answers, replaces, scope, idempotencyKey, requestHash, now, ct);
            if (created.IsSuccess)
            {
                await tx.CommitAsync(ct);
                Rendezvous.Data.Diagnostics.RendezvousTelemetry.BookingsCreated.Add(starts.Count);
            }

            return created;
        }
        finally
        {
            await tx.DisposeAsync();
        }
    }

    /// <summary>
    /// The member of a round-robin page who gets a booking at <paramref name="start"/>: among those free then (only
    /// <paramref name="member"/> when given), the first by the page's balance; null when none is free.
    /// </summary>
    private async Task<UserId?> ChooseMemberAsync(BookingPage page, PageReads reads, Instant start, Instant now, UserId? member, CancellationToken ct)
    {
        var zone = page.Settings.TimeZone;
        var date = start.InZone(zone).Date;
        var perMember = await availability.ComputeMemberSlotsAsync(page, date, date, zone, now, null, reads, member, ct);
        var free = perMember.Where(kv => kv.Value.Any(s => s.Start == start)).Select(kv => kv.Key).ToHashSet();
        var ranked = RoundRobin.Rank(page.Settings.TeamMembers, free, reads.BookingCounts, page.Settings.Balance);
        return ranked.Count > 0 ? ranked[0] : null;
    }

    /// <summary>Why the page cannot book <paramref name="starts"/> on what <paramref name="reads"/> saw, or null when it can.</summary>
    private async Task<DomainError?> WhyNotAsync(BookingPage page, PageReads reads, List<Instant> starts, Instant now, CancellationToken ct,
        UserId? member = null)
    {
        if (AvailabilityService.WhyUnavailable(reads) is { } unavailable)
        {
            return unavailable;
        }

        var zone = page.Settings.TimeZone;
        var slots = await availability.ComputeSlotsAsync(page, starts[0].InZone(zone).Date, starts[^1].InZone(zone).Date, zone, now, null, reads, ct, member);
        foreach (var start in starts)
        {
            if (!slots.Any(s => s.Start == start))
            {
                return DomainError.Conflict("slot_unavailable", $"{ApiFormat.Format(start, zone)} is not available; please pick another time.");
            }
        }

        return null;
    }

    private async Task<Result<CreateOutcome>> InsertAsync(BookingPage page, PageReads reads, UserId ownerId, List<Instant> starts,
        Dictionary<string, string> answers, BookingId? replaces, string scope, string idempotencyKey, byte[] requestHash, Instant now,
        CancellationToken ct)
    {
        var customer = reads.Customer!;
        var packageId = page.Settings.SchedulingOption == SchedulingOption.SessionPackage ? PackageId.New() : (PackageId?)null;
        var bookings = new List<Booking>();
        for (var i = 0; i < starts.Count; i++)
        {
            var created = Booking.Create(new NewBooking(
                // A round-robin booking holds its one member; a collective one every member, the first as primary.
                page.OrganizationId, page.Id, ownerId, page.Settings.SchedulingOption == SchedulingOption.RoundRobin ? [] : page.Hosts,
                customer.Id, starts[i], page.Settings.Duration,
                page.Settings.RequiresApproval, page.Settings.CancellationPolicy, page.Settings.ReschedulePolicy, answers,
                Actor.ForCustomer(customer.Id),
                GroupKey: page.Settings.SchedulingOption == SchedulingOption.GroupSession ? page.Id.ToString() : null,
                PackageId: packageId, SessionNumber: i + 1, SessionCount: starts.Count, Payment: page.Settings.Payment), now);
            if (!created.IsSuccess)
            {
                return created.Error!;
            }

            bookings.Add(created.Value);
        }

        if (replaces is { } replacedId)
        {
            var replaced = await db.Bookings.FirstOrDefaultAsync(b => b.Id == replacedId, ct);
            if (replaced is null)
            {
                return DomainError.Validation("replacesBookingId", "is not a booking of this organization");
            }

            var linked = replaced.LinkReplacement(bookings[0]);
            if (!linked.IsSuccess)
            {
                return linked.Error!;
            }
        }

        db.Bookings.AddRange(bookings);
        if (reads.UsesSpaces)
        {
            // A page that needs a space holds one in this same transaction: both constraints guard the one commit.
            var owner = await db.Users.AsNoTracking().FirstAsync(u => u.Id == ownerId, ct);
            var held = await spacePools.HoldAsync(page, bookings, owner.Email, owner.Name, ct);
            if (!held.IsSuccess)
            {
                return held.Error!;
            }
        }

        var response = BookingResponse.From(bookings[0], customer, withHistory: true) with
        {
            Sessions = bookings.Count > 1 ? [.. bookings.Select(b => BookingResponse.From(b, customer, withHistory: false))] : null,
        };
        db.IdempotencyRecords.Add(new IdempotencyRecord
        {
            Scope = scope,
            Key = idempotencyKey,
            RequestHash = requestHash,
            StatusCode = StatusCodes.Status201Created,
            Response = JsonSerializer.Serialize(response, JsonDefaults.Options),
            CreatedAt = now,
        });

        var saved = await SaveAsync(ct);
        if (!saved.IsSuccess && saved.Error!.Code == "slot_taken" && page.Settings.SchedulingOption == SchedulingOption.RoundRobin)
        {
            return DomainError.Conflict(MemberTaken, "The chosen member's time has just been taken.");
        }

        return saved.IsSuccess ? new CreateOutcome(response, false) : saved.Error!;
    }

    /// <summary>
    /// Runs a change to one booking, the whole transaction again while the database fails over (like creation). A cut
    /// attempt may have committed before its answer was lost: each later attempt is told so, and answers with the
    /// booking when its latest entry already is this change by this actor (<see cref="AlreadyApplied"/>).
    /// </summary>
    private Task<Result<Booking>> RetryingChangeAsync(Func<bool, CancellationToken, Task<Result<Booking>>> once, CancellationToken ct) =>
        FailoverRetry.RunAsync(async (attempt, token) =>
        {
            if (attempt > 1)
            {
                db.ChangeTracker.Clear();
                await db.Database.CloseConnectionAsync();
            }

            return await once(attempt > 1, token);
        }, failover.Value, logger, ct);

    /// <summary>Whether <paramref name="b"/>'s latest entry is <paramref name="action"/> by <paramref name="actor"/> (to <paramref name="start"/>).</summary>
    internal static bool AlreadyApplied(Booking b, BookingAction action, Actor actor, Instant? start = null) =>
        b.History.MaxBy(h => h.Id) is { } last && last.Action == action && last.ActorKind == actor.Kind && last.ActorId == actor.Id
        && (start is null || last.Start == start);

    /// <summary>Applies a staff action (cancel, approve, decline, no-show) by <paramref name="me"/>.</summary>
    public Task<Result<Booking>> ActAsync(string id, BookingAction action, string? reason, CurrentUser me, CancellationToken ct) =>
        RetryingChangeAsync((retry, token) => ActOnceAsync(id, action, reason, me, retry, token), ct);

    private async Task<Result<Booking>> ActOnceAsync(string id, BookingAction action, string? reason, CurrentUser me, bool retry, CancellationToken ct)
    {
        var booking = await FindForStaffAsync(id, me, ct);
        if (!booking.IsSuccess)
        {
            return booking;
        }

        var b = booking.Value;
        var actor = Actor.ForUser(me.Id);
        if (retry && AlreadyApplied(b, action, actor))
        {
            return b;
        }

        var now = clock.GetCurrentInstant();
        var result = action switch
        {
            BookingAction.Cancel => b.Cancel(actor, reason, now),
            BookingAction.Approve => b.Approve(actor, reason, now),
            BookingAction.Decline => b.Decline(actor, reason, now),
            BookingAction.MarkNoShow => b.MarkNoShow(actor, reason, now),
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };
        if (!result.IsSuccess)
        {
            return result.Error!;
        }

        var saved = await SaveAsync(ct);
        return saved.IsSuccess ? b : saved.Error!;
    }

    /// <summary>
    /// Moves a booking, by a user. Users may move outside the page's hours and notice (they speak for themselves), but
    /// never onto time any host already holds; the database refuses that in any case.
    /// </summary>
    public Task<Result<Booking>> RescheduleAsync(string id, string? start, string? reason, CurrentUser me, CancellationToken ct,
        Reminders.ReminderPlan? reminderPlan = null, RescheduleExtras? extras = null, string? bookingPageId = null) =>
        RetryingChangeAsync((retry, token) => RescheduleOnceAsync(id, start, reason, me, retry, token, reminderPlan, extras, bookingPageId), ct);

    private async Task<Result<Booking>> RescheduleOnceAsync(string id, string? start, string? reason, CurrentUser me, bool retry, CancellationToken ct,
        Reminders.ReminderPlan? reminderPlan, RescheduleExtras? extras, string? bookingPageId)
    {
        if (!ApiFormat.TryParseInstant(start, out var newStart))
        {
            return DomainError.Validation("start", "is required, as a date-time with an offset, e.g. 2027-03-15T10:00:00-04:00");
        }

        var booking = await FindForStaffAsync(id, me, ct);
        if (!booking.IsSuccess)
        {
            return booking;
        }

        var b = booking.Value;
        if (retry && AlreadyApplied(b, BookingAction.Reschedule, Actor.ForUser(me.Id), newStart))
        {
            return b;
        }

        var type = await ResolveTypeAsync(b, bookingPageId, ct);
        if (!type.IsSuccess)
        {
            return type.Error!;
        }

        var actor = Actor.ForUser(me.Id);
        var now = clock.GetCurrentInstant();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Both pages' rules must not interleave with this move; a fixed order keeps two opposite switches from deadlocking.
        foreach (var pageId in new[] { b.BookingPageId, type.Value?.Id ?? b.BookingPageId }.Distinct().OrderBy(p => p.ToString(), StringComparer.Ordinal))
        {
            await LockPageAsync(pageId, ct);
        }

        // Notes first, so the emails about this change already show them.
        if (extras?.PublicNotes is { } notes && b.SetPublicNotes(notes, actor, now) is { IsSuccess: false } notesRejected)
        {
            return notesRejected.Error!;
        }

        var previousStart = b.Start;
        var result = type.Value is { } into ? b.RescheduleInto(TypeOf(into), newStart, actor, reason, now) : b.Reschedule(newStart, actor, reason, now);
        if (!result.IsSuccess)
        {
            return result.Error!;
        }

        // The space the booking holds moves in this same transaction, to another space of the pool when its own is taken.
        var spaceMoved = await MoveSpaceAsync(b, previousStart, ct);
        if (!spaceMoved.IsSuccess)
        {
            return spaceMoved.Error!;
        }

        if (reminderPlan is not null)
        {
            // Saved with the reschedule; the reminder planner reads it when the outbox delivers the event.
            await Reminders.ReminderPlanner.SavePlanAsync(db, b.Id, reminderPlan, ct);
        }

        if (extras?.Email is { } email)
        {
            // Keyed to this change's place in the history: the notifications handler applies it to this change's email only.
            await EmailOverrideStore.SaveAsync(db, b.Id, b.History.Count - 1, NotificationKind.Rescheduled, email, me.Id, now, ct);
        }

        var saved = await SaveAsync(ct);
        if (!saved.IsSuccess)
        {
            return saved.Error!;
        }

        await tx.CommitAsync(ct);
        return b;
    }

    /// <summary>Cancels on the customer's behalf (self-service link or portal): the booking's cancellation policy applies.</summary>
    public Task<Result<Booking>> CancelAsCustomerAsync(BookingId id, string? reason, CancellationToken ct) =>
        RetryingChangeAsync((retry, token) => CancelAsCustomerOnceAsync(id, reason, retry, token), ct);

    private async Task<Result<Booking>> CancelAsCustomerOnceAsync(BookingId id, string? reason, bool retry, CancellationToken ct)
    {
        var booking = await db.Bookings.FirstOrDefaultAsync(b => b.Id == id, ct);
        if (booking is null)
        {
            return DomainError.NotFound("Booking");
        }

        if (retry && AlreadyApplied(booking, BookingAction.Cancel, Actor.ForCustomer(booking.CustomerId)))
        {
            return booking;
        }

        var result = booking.Cancel(Actor.ForCustomer(booking.CustomerId), reason, clock.GetCurrentInstant());
        if (!result.IsSuccess)
        {
            return result.Error!;
        }

        var saved = await SaveAsync(ct);
        return saved.IsSuccess ? booking : saved.Error!;
    }

    /// <summary>
    /// Moves a booking on the customer's behalf: only to a time the page offers right now (the booking's own time does
    /// not count against it), and within the booking's reschedule policy.
    /// </summary>
    public Task<Result<Booking>> RescheduleAsCustomerAsync(BookingId id, string? start, string? reason, CancellationToken ct,
        string? bookingPageId = null) =>
        RetryingChangeAsync((retry, token) => RescheduleAsCustomerOnceAsync(id, start, reason, retry, token, bookingPageId), ct);

    private async Task<Result<Booking>> RescheduleAsCustomerOnceAsync(BookingId id, string? start, string? reason, bool retry, CancellationToken ct,
        string? bookingPageId)
    {
        if (!ApiFormat.TryParseInstant(start, out var newStart))
        {
            return DomainError.Validation("start", "is required, as a date-time with an offset, e.g. 2027-03-15T10:00:00-04:00");
        }

        var booking = await db.Bookings.FirstOrDefaultAsync(b => b.Id == id, ct);
        if (booking is null)
        {
            return DomainError.NotFound("Booking");
        }

        if (retry && AlreadyApplied(booking, BookingAction.Reschedule, Actor.ForCustomer(booking.CustomerId), newStart))
        {
            return booking;
        }

        var type = await ResolveTypeAsync(booking, bookingPageId, ct);
        if (!type.IsSuccess)
        {
            return type.Error!;
        }

        // The time must be one the chosen type offers its owner (the page's own when the type stays).
        var page = type.Value ?? await db.BookingPages.AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var pageId in new[] { booking.BookingPageId, page.Id }.Distinct().OrderBy(p => p.ToString(), StringComparer.Ordinal))
        {
            await LockPageAsync(pageId, ct);
        }

        var now = clock.GetCurrentInstant();
        // Check the policy before the slot, so a customer outside the window hears why rather than "not available".
        if (!booking.ReschedulePolicy.Allows(now, booking.Start) || now >= booking.Start)
        {
            return booking.Reschedule(newStart, Actor.ForCustomer(booking.CustomerId), null, now).Error!;
        }

        if (await availability.WhyUnavailableAsync(page, ct) is { } unavailable)
        {
            return unavailable;
        }

        if (await availability.FindSlotAsync(page, newStart, now, booking.Id, ct, MemberOf(page, booking)) is null)
        {
            return DomainError.Conflict("slot_unavailable", $"{ApiFormat.Format(newStart, page.Settings.TimeZone)} is not available; please pick another time.");
        }

        // The customer's optional reason goes with the change: emails, webhooks and the CRM's reason field read it.
        var previousStart = booking.Start;
        var result = type.Value is { } into
            ? booking.RescheduleInto(TypeOf(into), newStart, Actor.ForCustomer(booking.CustomerId), reason, now)
            : booking.Reschedule(newStart, Actor.ForCustomer(booking.CustomerId), reason, now);
        if (!result.IsSuccess)
        {
            return result.Error!;
        }

        var spaceMoved = await MoveSpaceAsync(booking, previousStart, ct);
        if (!spaceMoved.IsSuccess)
        {
            return spaceMoved.Error!;
        }

        var saved = await SaveAsync(ct);
        if (!saved.IsSuccess)
        {
            return saved.Error!;
        }

        await tx.CommitAsync(ct);
        return booking;
    }

    /// <summary>
    /// The appointment types <paramref name="booking"/> may be rescheduled into (seed 003), its own page first: the pages
    /// its owner hosts alone (their one-on-one pages and the round-robin pages they are a member of) that take no payment.
    /// A booking that is not one-on-one, or has a payment, keeps its own type.
    /// </summary>
    public async Task<IReadOnlyList<BookingPage>> RescheduleTypesAsync(Booking booking, CancellationToken ct)
    {
        var pages = await db.BookingPages.AsNoTracking().OrderBy(p => p.Title).ToListAsync(ct);
        var own = pages.Where(p => p.Id == booking.BookingPageId);
        if (!CanSwitchType(booking))
        {
            return [.. own];
        }

        return [.. own.Concat(pages.Where(p => p.Id != booking.BookingPageId && IsTypeFor(p, booking)))];
    }

    /// <summary>Round-robin pages: the booking's own member, whose time a move must find free; null for other pages.</summary>
    public static UserId? MemberOf(BookingPage page, Booking booking) =>
        page.Settings.SchedulingOption == SchedulingOption.RoundRobin && page.IsSoleHostOption(booking.OwnerId) ? booking.OwnerId : null;

    private static bool CanSwitchType(Booking b) => b.GroupKey is null && b.PackageId is null && b.Hosts.Count == 1 && b.Payment is null;

    private static bool IsTypeFor(BookingPage page, Booking b) => page.Settings.Payment is null && page.IsSoleHostOption(b.OwnerId);

    private static AppointmentType TypeOf(BookingPage page) =>
        new(page.Id, page.Settings.Duration, page.Settings.CancellationPolicy, page.Settings.ReschedulePolicy);

    /// <summary>Null when <paramref name="bookingPageId"/> is unset or the booking's own page; otherwise the page it may switch to.</summary>
    private async Task<Result<BookingPage?>> ResolveTypeAsync(Booking booking, string? bookingPageId, CancellationToken ct)
    {
        if (bookingPageId is null)
        {
            return (BookingPage?)null;
        }

        if (!Ids.TryParse(bookingPageId, out var guid))
        {
            return DomainError.Validation("bookingPageId", "must be a booking page id");
        }

        var pageId = new BookingPageId(guid);
        if (pageId == booking.BookingPageId)
        {
            return (BookingPage?)null;
        }

        var page = await db.BookingPages.AsNoTracking().FirstOrDefaultAsync(p => p.Id == pageId, ct);
        if (page is null)
        {
            return DomainError.Validation("bookingPageId", "is not a booking page of this organization");
        }

        if (!CanSwitchType(booking))
        {
            return DomainError.Conflict("type_switch_unavailable", "Only a one-on-one booking without a payment can move to another appointment type.");
        }

        if (!IsTypeFor(page, booking))
        {
            return DomainError.Conflict("type_not_available",
                "The booking's host does not offer that appointment type on their own (or it takes a payment); choose one of the listed types.");
        }

        return page;
    }

    public async Task<Result<Booking>> FindForStaffAsync(string id, CurrentUser me, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid))
        {
            return DomainError.NotFound("Booking");
        }

        var bookingId = new BookingId(guid);
        var booking = await db.Bookings.FirstOrDefaultAsync(b => b.Id == bookingId, ct);
        if (booking is null)
        {
            return DomainError.NotFound("Booking");
        }

        if (!me.IsAdministrator && booking.Hosts.All(h => h.UserId != me.Id))
        {
            return new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only act on bookings they host.");
        }

        return booking;
    }

    private async Task LockPageAsync(BookingPageId pageId, CancellationToken ct) =>
        await db.LockPageAsync(pageId, ct);

    private async Task<Result> MoveSpaceAsync(Booking booking, Instant previousStart, CancellationToken ct)
    {
        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        var owner = await db.Users.AcrossTenants().AsNoTracking().FirstAsync(u => u.Id == booking.OwnerId, ct);
        return await spacePools.MoveAsync(page, booking, previousStart, owner.Email, owner.Name, ct);
    }

    private async Task<Result> SaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return Result.Success;
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.ExclusionViolation } pg)
        {
            // The space constraint backs the pool's check when another process wrote between the check and this commit.
            return pg.ConstraintName == "ex_space_requests_confirmed_no_overlap"
                ? DomainError.Conflict("space_unavailable", "The space for that time has just been taken; please pick another time.")
                : DomainError.Conflict("slot_taken", "That time has just been taken; please pick another.");
        }
    }

    private static Result<(List<Instant> Starts, CustomerRequest Customer, Dictionary<string, string> Answers, BookingId? Replaces, UserId? Member)> Validate(
        BookingPage page, CreateBookingRequest request, string? idempotencyKey)
    {
        var errors = new List<FieldError>();
        var starts = new List<Instant>();
        var isPackage = page.Settings.SchedulingOption == SchedulingOption.SessionPackage;
        if (request.Starts is { Count: > 0 } many)
        {
            if (!isPackage && many.Count > 1)
            {
                errors.Add(new("starts", "only session packages book several starts at once"));
            }

            for (var i = 0; i < many.Count; i++)
            {
                if (ApiFormat.TryParseInstant(many[i], out var s))
                {
                    starts.Add(s);
                }
                else
                {
                    errors.Add(new($"starts[{i}]", "must be a date-time with an offset"));
                }
            }
        }
        else if (ApiFormat.TryParseInstant(request.Start, out var single))
        {
            starts.Add(single);
        }
        else
        {
            errors.Add(new("start", "is required, as a date-time with an offset, e.g. 2027-03-15T10:00:00-04:00"));
        }

        if (isPackage && errors.Count == 0 && starts.Count != page.Settings.SessionCount)
        {
            errors.Add(new("starts", $"this package has {page.Settings.SessionCount} sessions; send one start for each"));
        }

        if (starts.Distinct().Count() != starts.Count)
        {
            errors.Add(new("starts", "must not repeat a start"));
        }

        var c = request.Customer;
        string email = "";
        if (c is null)
        {
            errors.Add(new("customer", "is required"));
        }
        else
        {
            if (!ApiFormat.TryText(c.Name, 200, out _))
            {
                errors.Add(new("customer.name", "is required (1-200 characters)"));
            }

            if (!ApiFormat.TryNormalizeEmail(c.Email, out email))
            {
                errors.Add(new("customer.email", "must be a valid email address"));
            }

            if (c.Phone is { } phone && (phone.Length > 40 || phone.Any(char.IsControl)))
            {
                errors.Add(new("customer.phone", "must be at most 40 characters"));
            }

            if (c.TimeZone is not null && TimeZones.Find(c.TimeZone) is null)
            {
                errors.Add(new("customer.timeZone", "must be an IANA time zone id"));
            }

            if (c.Language is not null && !Rendezvous.Integrations.Localization.Languages.IsSupported(c.Language))
            {
                errors.Add(new("customer.language", "must be one of en, de, fr, es"));
            }
        }

        var answers = new Dictionary<string, string>();
        if (request.Answers is { } given)
        {
            if (given.Count > MaxAnswers)
            {
                errors.Add(new("answers", $"at most {MaxAnswers} answers"));
            }

            foreach (var (key, value) in given)
            {
                if (key.Length is 0 or > 100 || value is { Length: > 5000 })
                {
                    errors.Add(new($"answers.{(key.Length > 100 ? key[..100] : key)}", "keys are 1-100 characters and answers at most 5000"));
                }
                else if (value is not null)
                {
                    answers[key] = value;
                }
            }
        }

        foreach (var question in page.Settings.Questions.Where(q => q.Required))
        {
            if (!answers.TryGetValue(question.Id, out var answer) || string.IsNullOrWhiteSpace(answer))
            {
                errors.Add(new($"answers.{question.Id}", "is required"));
            }
        }

        BookingId? replaces = null;
        if (request.ReplacesBookingId is not null)
        {
            if (Ids.TryParse(request.ReplacesBookingId, out var rid))
            {
                replaces = new BookingId(rid);
            }
            else
            {
                errors.Add(new("replacesBookingId", "must be a booking id"));
            }
        }

        UserId? member = null;
        if (request.MemberId is not null)
        {
            if (page.Settings.SchedulingOption == SchedulingOption.RoundRobin && Ids.TryParse(request.MemberId, out var mid)
                && page.Settings.TeamMembers.Any(m => m.UserId.Value == mid))
            {
                member = new UserId(mid);
            }
            else
            {
                errors.Add(new("memberId", "must be a member of this round-robin page's team"));
            }
        }

        if (idempotencyKey is { Length: 0 or > 200 })
        {
            errors.Add(new("Idempotency-Key", "must be 1-200 characters"));
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        var customer = c! with
        {
            Email = email,
            Phone = string.IsNullOrWhiteSpace(c!.Phone) ? null : c.Phone.Trim(),
            TimeZone = c.TimeZone ?? page.Settings.TimeZone.Id,
        };
        starts.Sort();
        return (starts, customer, answers, replaces, member);
    }
}

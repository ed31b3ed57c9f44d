using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Calendars;
using Rendezvous.Domain.Conferencing;
using Rendezvous.Domain.Organizations;
using Rendezvous.Domain.Reassignment;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Features.CalendarConnections;
using Rendezvous.Server.Features.Reminders;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Reassignment;

/// <summary>A failed reassignment: the first rule that failed as the error, and every failed rule.</summary>
public sealed record ReassignmentFailure(DomainError Error, IReadOnlyList<ReassignmentRefusal> Refusals);

/// <summary>
/// Booking reassignment (seed 001). The rules are <see cref="ReassignmentRules"/>; this gathers their inputs from the
/// database (the page owner's calendar connection decides "connected to a calendar"), lists target pages with their owner's
/// availability at the meeting time, and applies a reassignment in one transaction with its outbox event.
/// </summary>
public sealed class ReassignmentService(RendezvousDbContext db, IClock clock)
{
    public const int MaxReasonLength = 2000;

    private const string BusySql = """
        SELECT h.user_id AS "UserId", 'booking' AS "Kind"
        FROM booking_hosts h
        WHERE h.user_id = ANY(@users) AND h.active AND h.booking_id <> @booking AND h.during && @range
        UNION ALL
        SELECT b.user_id AS "UserId", 'busyTime' AS "Kind"
        FROM busy_blocks b
        WHERE b.user_id = ANY(@users) AND b.during && @range
        """;

    public async Task<Result<ReassignmentTargetsResponse>> TargetsAsync(string id, CurrentUser me, CancellationToken ct)
    {
        var found = await LoadAsync(id, tracked: false, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var (booking, page) = found.Value;
        var refusals = await CheckBookingAsync(booking, page, me, ct);
        if (refusals.FirstOrDefault(r => r.Code == ReassignmentRuleCodes.AdministratorRequired) is { } notAdmin)
        {
            return new DomainError(ErrorKind.Forbidden, notAdmin.Code, notAdmin.Message);
        }

        var targets = new List<ReassignmentTargetResponse>();
        var excluded = new List<ExcludedPageResponse>();
        if (refusals.Count == 0)
        {
            var pages = await db.BookingPages.AsNoTracking().OrderBy(p => p.Title).ThenBy(p => p.Id).ToListAsync(ct);
            var userIds = pages.SelectMany(p => p.Hosts).Distinct().ToList();
            var connections = await db.CalendarConnections.AsNoTracking().Where(c => userIds.Contains(c.UserId)).ToListAsync(ct);
            var byUser = connections.GroupBy(c => c.UserId).ToDictionary(g => g.Key, g => g.OrderByDescending(c => c.IsBookingConnection).First());
            var owners = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);
            var busy = await BusyAsync(booking, pages.Select(p => p.OwnerId).Distinct().ToList(), ct);
            var canTakePayments = await CanTakePaymentsAsync(ct);
            var source = LocationOf(page);
            foreach (var candidate in pages)
            {
                var owner = byUser.GetValueOrDefault(candidate.OwnerId);
                var reasons = ReassignmentRules.CheckTarget(new ReassignmentTarget(
                    candidate.Settings.SchedulingOption,
                    owner?.Provider,
                    candidate.Hosts.All(h => connections.All(c => c.UserId != h || c.Health != ConnectionHealth.Error)),
                    candidate.Id == booking.BookingPageId,
                    candidate.Settings.Payment is null || canTakePayments));
                if (reasons.Count > 0)
                {
                    excluded.Add(new ExcludedPageResponse(candidate.Id.ToString(), candidate.Title, [.. reasons.Select(ToResponse)]));
                    continue;
                }

                var busyWith = busy.GetValueOrDefault(candidate.OwnerId) ?? [];
                targets.Add(new ReassignmentTargetResponse(
                    candidate.Id.ToString(), candidate.Slug, candidate.Title, candidate.OwnerId.ToString(),
                    owners.TryGetValue(candidate.OwnerId, out var user) ? user.Name : "",
                    owner is null ? null : CalendarConnectionsEndpoints.ProviderName(owner.Provider),
                    busyWith.Length == 0 ? "available" : "busy", busyWith,
                    Location(source, LocationOf(candidate))));
            }
        }

        return new ReassignmentTargetsResponse(booking.Id.ToString(), refusals.Count == 0, [.. refusals.Select(ToResponse)],
            ApiFormat.Format(booking.Start), ApiFormat.Format(booking.End), [.. targets], [.. excluded]);
    }

    /// <summary>Reassigns the booking to the page named in <paramref name="request"/>, by <paramref name="me"/>.</summary>
    public async Task<Result<(Booking Booking, TargetLocationResponse Location)>> ReassignAsync(string id, ReassignRequest request, CurrentUser me,
        Action<ReassignmentFailure> onRefused, CancellationToken ct)
    {
        if (request.Reason is { Length: > MaxReasonLength })
        {
            return DomainError.Validation("reason", $"must be at most {MaxReasonLength} characters");
        }

        var found = await LoadAsync(id, tracked: true, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var (booking, page) = found.Value;
        var refusals = await CheckBookingAsync(booking, page, me, ct);
        if (refusals.Count > 0)
        {
            return Refuse(refusals, onRefused);
        }

        if (!Ids.TryParse(request.BookingPageId, out var targetGuid))
        {
            return DomainError.Validation("bookingPageId", "is required: the booking page to reassign the booking to");
        }

        var targetId = new BookingPageId(targetGuid);
        var target = await db.BookingPages.AsNoTracking().FirstOrDefaultAsync(p => p.Id == targetId, ct);
        if (target is null)
        {
            return DomainError.Validation("bookingPageId", "is not a booking page of this organization");
        }

        var hosts = target.Hosts.ToList();
        var connections = await db.CalendarConnections.AsNoTracking().Where(c => hosts.Contains(c.UserId)).ToListAsync(ct);
        var targetRefusals = ReassignmentRules.CheckTarget(new ReassignmentTarget(
            target.Settings.SchedulingOption,
            connections.Where(c => c.UserId == target.OwnerId).OrderByDescending(c => c.IsBookingConnection).FirstOrDefault()?.Provider,
            connections.All(c => c.Health != ConnectionHealth.Error),
            target.Id == booking.BookingPageId,
            target.Settings.Payment is null || await CanTakePaymentsAsync(ct)));
        if (targetRefusals.Count > 0)
        {
            return Refuse(targetRefusals, onRefused);
        }

        var source = LocationOf(page);
        var outcome = ReassignmentRules.LocationOutcomeOf(source, LocationOf(target));
        var now = clock.GetCurrentInstant();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Both pages' rules (caps, seats) must not interleave with this move; lock in a fixed order so two opposite moves cannot deadlock.
        foreach (var pageId in new[] { page.Id, target.Id }.OrderBy(id => id.ToString(), StringComparer.Ordinal))
        {
            await db.LockPageAsync(pageId, ct);
        }

        var result = booking.Reassign(target.Id, target.OwnerId, ReassignmentRules.WithholdsLocation(outcome), Actor.ForUser(me.Id), request.Reason, now);
        if (!result.IsSuccess)
        {
            return result.Error!;
        }

        // Reminders stay as they were planned: the booking keeps its previous page's plan unless it already has its own.
        await KeepReminderPlanAsync(booking.Id, page, ct);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.ExclusionViolation })
        {
            var name = await db.Users.AsNoTracking().Where(u => u.Id == target.OwnerId).Select(u => u.Name).FirstOrDefaultAsync(ct);
            return DomainError.Conflict("owner_time_taken",
                $"{name ?? "The new owner"} already has another booking at this time; a reassignment never double-books a host.");
        }
        catch (DbUpdateConcurrencyException)
        {
            return DomainError.Conflict("changed_meanwhile", "The booking changed while it was being reassigned; please look at it again.");
        }

        await tx.CommitAsync(ct);
        return (booking, Location(source, LocationOf(target)));
    }

    /// <summary>Whether the organization can take payments (its PayPal app is stored), as booking a paid page requires.</summary>
    private Task<bool> CanTakePaymentsAsync(CancellationToken ct) => db.PayPalAccounts.AnyAsync(ct);

    private static DomainError Refuse(IReadOnlyList<ReassignmentRefusal> refusals, Action<ReassignmentFailure> onRefused)
    {
        var first = refusals[0];
        var error = first.Code == ReassignmentRuleCodes.AdministratorRequired
            ? new DomainError(ErrorKind.Forbidden, first.Code, first.Message)
            : DomainError.Conflict(first.Code, first.Message);
        onRefused(new ReassignmentFailure(error, refusals));
        return error;
    }

    private async Task<Result<(Booking Booking, BookingPage Page)>> LoadAsync(string id, bool tracked, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid))
        {
            return DomainError.NotFound("Booking");
        }

        var bookingId = new BookingId(guid);
        var query = tracked ? db.Bookings : db.Bookings.AsNoTracking();
        var booking = await query.FirstOrDefaultAsync(b => b.Id == bookingId, ct);
        if (booking is null)
        {
            return DomainError.NotFound("Booking");
        }

        var page = await db.BookingPages.AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        return (booking, page);
    }

    private async Task<IReadOnlyList<ReassignmentRefusal>> CheckBookingAsync(Booking booking, BookingPage page, CurrentUser me, CancellationToken ct)
    {
        var provider = await db.CalendarConnections.AsNoTracking()
            .Where(c => c.UserId == page.OwnerId).OrderByDescending(c => c.IsBookingConnection).Select(c => (CalendarProvider?)c.Provider).FirstOrDefaultAsync(ct);
        return ReassignmentRules.CheckBooking(new ReassignmentSubject(
            booking.Status,
            page.Settings.SchedulingOption,
            booking.GroupKey is not null,
            booking.PackageId is not null,
            provider,
            me.IsAdministrator));
    }

    /// <summary>For each user, what keeps them busy during the booking's time (other than this booking).</summary>
    private async Task<Dictionary<UserId, string[]>> BusyAsync(Booking booking, List<UserId> users, CancellationToken ct)
    {
        var rows = await db.Database.SqlQueryRaw<BusyRow>(BusySql,
                new NpgsqlParameter("users", users.Select(u => u.Value).ToArray()),
                new NpgsqlParameter("booking", booking.Id.Value),
                new NpgsqlParameter("range", new Interval(booking.Start, booking.End)))
            .ToListAsync(ct);
        return rows.GroupBy(r => new UserId(r.UserId)).ToDictionary(g => g.Key, g => g.Select(r => r.Kind).Distinct().Order(StringComparer.Ordinal).ToArray());
    }

    private async Task KeepReminderPlanAsync(BookingId bookingId, BookingPage previousPage, CancellationToken ct)
    {
        var plan = new ReminderPlan([.. previousPage.Settings.Reminders.Select(BookingPageSettingsSpec.ToSpec)],
            previousPage.Settings.FollowUp is { } f ? BookingPageSettingsSpec.ToSpec(f) : null);
        var json = JsonSerializer.Serialize(plan, JsonDefaults.Options);
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO booking_reminder_plans (booking_id, plan) VALUES ({bookingId.Value}, {json}::jsonb)
            ON CONFLICT (booking_id) DO NOTHING
            """, ct);
    }

    private static PageLocation LocationOf(BookingPage page) => new(page.Conferencing, !string.IsNullOrWhiteSpace(page.Location));

    private static TargetLocationResponse Location(PageLocation source, PageLocation target)
    {
        var outcome = ReassignmentRules.LocationOutcomeOf(source, target);
        return new TargetLocationResponse(
            target.Conferencing is { } c ? ConferencingProviders.ApiName(c) : null,
            outcome switch
            {
                LocationOutcome.TransferOwnership => "transferOwnership",
                LocationOutcome.WebexNotSupported => "webexNotSupported",
                LocationOutcome.LocationNotUpdated => "locationNotUpdated",
                _ => "noLocation",
            },
            ReassignmentRules.WithholdsLocation(outcome),
            ReassignmentRules.Notice(outcome, source));
    }

    private static RefusalResponse ToResponse(ReassignmentRefusal r) => new(r.Code, r.Message);

    private sealed record BusyRow(Guid UserId, string Kind);
}

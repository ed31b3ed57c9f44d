using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using Rendezvous.Calendars.Providers;
using Rendezvous.Data.Diagnostics;
using Rendezvous.Calendars.Sync;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Calendars;

namespace Rendezvous.Server.Features.CalendarSync;

/// <summary>What one sync of one connection did, for tests, logs and the latency benchmark.</summary>
public sealed record SyncReport(int Changed, int Deleted, int BadItems, int Canceled, int Rescheduled, int Deferred, bool Failed, string? Error);

/// <summary>
/// Inbound sync of one connection, for every provider: for each of its calendars, ask the provider what changed since
/// the stored cursor, keep busy time current, and turn deletions and moves of our own booking events in the booking
/// calendar into booking commands, as the toggles say (<see cref="SyncDecisions"/>, the one place of those rules).
/// </summary>
public sealed partial class CalendarSyncEngine(
    RendezvousDbContext db, CalendarProviders providers, IClock clock, IOptions<CalendarSyncOptions> options, ILogger<CalendarSyncEngine> logger)
{
    private static readonly Meter Meter = new("Rendezvous.CalendarSync");
    private static readonly Counter<long> BadItemsCounter = Meter.CreateCounter<long>("rendezvous.calendar_sync.bad_items");
    private static readonly Counter<long> FailuresCounter = Meter.CreateCounter<long>("rendezvous.calendar_sync.failures");

    public async Task<SyncReport> SyncAsync(Guid connectionId, CancellationToken ct)
    {
        var connection = await db.CalendarConnections.AcrossTenants().FirstOrDefaultAsync(c => c.Id == connectionId, ct);
        if (connection is null)
        {
            return new SyncReport(0, 0, 0, 0, 0, 0, false, "gone");
        }

        if (providers.Find(connection.Provider) is not { } provider || !connection.IsSynced)
        {
            // Recorded for the reassignment rules only; there is no provider for this service.
            return new SyncReport(0, 0, 0, 0, 0, 0, false, "not synced");
        }

        db.TenantId = connection.OrganizationId;
        var user = await db.Users.AsNoTracking().FirstAsync(u => u.Id == connection.UserId, ct);
        var userZone = TimeZones.Find(user.TimeZoneId) ?? DateTimeZone.Utc;
        var interval = Duration.FromTimeSpan(provider.PollInterval ?? options.Value.Interval);
        var roundStart = clock.GetCurrentInstant();
        var total = new Tally();
        ICalendarSession? session = null;
        using var activity = RendezvousTelemetry.Source.StartActivity("calendar sync round");
        activity?.SetTag("rendezvous.calendar.provider", connection.Provider);
        activity?.SetTag("rendezvous.calendar.connection_id", connection.Id);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = "failed";
        try
        {
            session = providers.Open(connection)!;
            await ForgetRemovedCalendarsAsync(connection, ct);
            var fullSyncDue = await IsFullSyncDueAsync(connection.Id, ct);
            foreach (var calendarId in connection.AllCalendarUrls)
            {
                await SyncCalendarAsync(session, provider, connection, calendarId, userZone, fullSyncDue, total, ct);
            }

            if (fullSyncDue)
            {
                await db.Database.ExecuteSqlInterpolatedAsync(
                    $"UPDATE calendar_connections SET full_sync_due_at = {clock.GetCurrentInstant() + Duration.FromTimeSpan(options.Value.FullSyncInterval)} WHERE id = {connection.Id}", ct);
            }

            providers.Keep(connection, session);
            connection.RecordSuccess(clock.GetCurrentInstant(), interval);
            await db.SaveChangesAsync(ct);
            // A push that arrived while this round ran may describe a change the round did not see: look again at once.
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"UPDATE calendar_connections SET next_sync_at = {clock.GetCurrentInstant()} WHERE id = {connection.Id} AND woken_at >= {roundStart}", ct);
            outcome = "ok";
            return total.Report(false, null);
        }
        catch (Exception ex) when (ex is DbUpdateException or Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.ForeignKeyViolation })
        {
            // The user disconnected the calendar while this round was under way: what the round read has nowhere to go,
            // and that is no failure. Anything else is unexpected and goes up.
            db.ChangeTracker.Clear();
            if (await db.CalendarConnections.AcrossTenants().AnyAsync(c => c.Id == connectionId, ct))
            {
                throw;
            }

            LogDeletedDuringRound(logger, connectionId);
            outcome = "gone";
            return new SyncReport(0, 0, 0, 0, 0, 0, false, "gone");
        }
        catch (Exception ex) when (ex is CalendarProviderException or HttpRequestException or TimeoutException
                                       || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            FailuresCounter.Add(1);
            LogConnectionFailed(logger, ex, connection.Id, ex.Message);
            db.ChangeTracker.Clear();
            if (await db.CalendarConnections.AcrossTenants().FirstOrDefaultAsync(c => c.Id == connectionId, ct) is not { } fresh)
            {
                LogDeletedDuringRound(logger, connectionId);
                return new SyncReport(0, 0, 0, 0, 0, 0, false, "gone");
            }

            if (session is not null)
            {
                providers.Keep(fresh, session);
            }

            fresh.RecordFailure(Describe(ex), clock.GetCurrentInstant(), interval);
            await db.SaveChangesAsync(ct);
            return total.Report(true, ex.Message);
        }
        finally
        {
            session?.Dispose();
            var tags = new TagList { { "provider", connection.Provider }, { "outcome", outcome } };
            RendezvousTelemetry.SyncRounds.Add(1, tags);
            RendezvousTelemetry.SyncRoundDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            if (outcome == "failed")
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
            }
        }
    }

    /// <summary>
    /// Drops what was known about calendars the connection no longer has (the user picked other ones, or the server's
    /// address changed). Items are stored per connection and item id, so a calendar that comes back under another id
    /// would otherwise collide with its own old rows and fail every round.
    /// </summary>
    private async Task ForgetRemovedCalendarsAsync(CalendarConnection connection, CancellationToken ct)
    {
        var current = connection.AllCalendarUrls.ToArray();
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            DELETE FROM busy_blocks WHERE connection_id = {connection.Id} AND item_href IN (
                SELECT href FROM calendar_items WHERE connection_id = {connection.Id} AND calendar_url <> ALL({current}));
            DELETE FROM calendar_items WHERE connection_id = {connection.Id} AND calendar_url <> ALL({current});
            DELETE FROM calendar_sync_states WHERE connection_id = {connection.Id} AND calendar_url <> ALL({current});
            """, ct);
    }

    private async Task<bool> IsFullSyncDueAsync(Guid connectionId, CancellationToken ct)
    {
        var due = await db.Database.SqlQuery<Instant?>($"SELECT full_sync_due_at AS \"Value\" FROM calendar_connections WHERE id = {connectionId}").ToListAsync(ct);
        return due.Count == 0 || due[0] is not { } at || at <= clock.GetCurrentInstant();
    }

    private async Task SyncCalendarAsync(ICalendarSession session, ICalendarProvider provider, CalendarConnection connection, string calendarId,
        DateTimeZone userZone, bool full, Tally tally, CancellationToken ct)
    {
        var state = await db.CalendarSyncStates.FirstOrDefaultAsync(s => s.ConnectionId == connection.Id && s.CalendarUrl == calendarId, ct);
        if (state is null)
        {
            state = new CalendarSyncState { ConnectionId = connection.Id, CalendarUrl = calendarId };
            db.CalendarSyncStates.Add(state);
        }

        var known = await db.CalendarItems.Where(i => i.ConnectionId == connection.Id && i.CalendarUrl == calendarId).ToDictionaryAsync(i => i.Href, ct);
        // Only the booking calendar of the user's booking connection counts for moves and deletions; everything else is busy time.
        var isBookingCalendar = connection.IsBookingConnection && calendarId == connection.BookingCalendarUrl;
        // Read before the provider is asked, so every write counted here was already stored when the service answered:
        // a write landing during the round is never taken for a deletion.
        var unseenWrites = isBookingCalendar ? await UnseenWritesAsync(provider, connection.Id, calendarId, known, ct) : [];
        var now = clock.GetCurrentInstant();
        var query = new ChangeQuery(full ? null : state.SyncToken, known.ToDictionary(kv => kv.Key, kv => kv.Value.ETag, StringComparer.Ordinal),
            now - Duration.FromDays(1), now + Duration.FromDays(options.Value.BusyHorizonDays), userZone);
        var changes = await session.GetChangesAsync(calendarId, query, ct);
        if (changes.Outcome == ChangesOutcome.CursorInvalid && query.Cursor is not null)
        {
            // The service forgot our cursor: list everything again and work out deletions ourselves, so nothing is lost.
            changes = await session.GetChangesAsync(calendarId, query with { Cursor = null }, ct);
        }

        if (changes.Outcome == ChangesOutcome.CursorInvalid)
        {
            throw new CalendarProviderException(CalendarFailure.Protocol, $"The calendar service refused to list {calendarId} in full.");
        }

        state.SyncToken = changes.Cursor;
        var deleted = changes.Deleted.ToList();
        if (changes.Listed is { } listed)
        {
            var present = listed as IReadOnlySet<string> ?? listed.ToHashSet(StringComparer.Ordinal);
            deleted.AddRange(known.Keys.Where(id => !present.Contains(id)));
        }

        deleted.AddRange(GoneBeforeSeen(provider, unseenWrites, changes));
        foreach (var item in changes.Changed)
        {
            await ApplyItemAsync(connection, calendarId, isBookingCalendar, item, known, tally, ct);
        }

        foreach (var itemId in deleted.Distinct(StringComparer.Ordinal))
        {
            await ApplyDeletionAsync(connection, isBookingCalendar, itemId, known, unseenWrites, tally, ct);
        }

        state.LastSyncedAt = clock.GetCurrentInstant();
        await KeepPushAsync(session, provider, state, ct);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Makes or renews the calendar's push subscription, when the provider has push and we have a public URL.</summary>
    private async Task KeepPushAsync(ICalendarSession session, ICalendarProvider provider, CalendarSyncState state, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        if (!provider.SupportsPush || options.Value.PushBaseUrl is not { } baseUrl
            || (state.PushChannelId is not null && state.PushExpiresAt > now + Duration.FromTimeSpan(options.Value.PushRenewBefore)))
        {
            return;
        }

        state.PushToken ??= RandomNumberGenerator.GetHexString(40, lowercase: true);
        var current = state.PushChannelId is { } channel && state.PushExpiresAt is { } expires ? new PushSubscription(channel, expires, state.ProviderState) : null;
        try
        {
            var subscription = await session.EnsurePushAsync(state.CalendarUrl, current,
                new PushTarget(new Uri(baseUrl, $"api/v1/calendar-push/{provider.Name}"), state.PushToken), ct);
            state.PushChannelId = subscription?.ChannelId;
            state.PushExpiresAt = subscription?.ExpiresAt;
            state.ProviderState = subscription?.State;
        }
        catch (CalendarProviderException ex)
        {
            // Polling still finds every change; push only makes it sooner. Tried again next round.
            LogPushFailed(logger, ex, state.ConnectionId, ex.Message);
        }
    }

    private async Task ApplyItemAsync(CalendarConnection connection, string calendarId, bool isBookingCalendar, ProviderItem item,
        Dictionary<string, CalendarItem> known, Tally tally, CancellationToken ct)
    {
        tally.Changed++;
        if (!known.TryGetValue(item.ItemId, out var row))
        {
            row = new CalendarItem { ConnectionId = connection.Id, Href = item.ItemId, CalendarUrl = calendarId };
            db.CalendarItems.Add(row);
            known[item.ItemId] = row;
        }

        row.ETag = item.Version;
        await ReplaceBusyAsync(connection, item.ItemId, [], ct);

        if (item.Unreadable)
        {
            // A bad item is logged, counted and skipped; its version is kept so it is not read again until it changes.
            tally.BadItems++;
            BadItemsCounter.Add(1);
            LogBadItem(logger, connection.Id, item.ItemId);
            row.Uid = null;
            row.BookingId = null;
            return;
        }

        row.Uid = item.Uid;
        row.BookingId = item.BookingId;
        if (item.BookingId is { } bookingId)
        {
            // Our own events are already held as bookings; they are never counted as busy time twice.
            if (isBookingCalendar)
            {
                await ApplyBookingChangeAsync(connection, bookingId, item.Version, item.Event ?? new ObservedEvent(null, false), tally, ct);
            }

            return;
        }

        await ReplaceBusyAsync(connection, item.ItemId, item.Busy, ct);
    }

    private async Task ApplyDeletionAsync(CalendarConnection connection, bool isBookingCalendar, string itemId, Dictionary<string, CalendarItem> known,
        IReadOnlyDictionary<string, BookingId> unseenWrites, Tally tally, CancellationToken ct)
    {
        await ReplaceBusyAsync(connection, itemId, [], ct);
        if (!known.TryGetValue(itemId, out var item))
        {
            if (unseenWrites.TryGetValue(itemId, out var writtenBooking))
            {
                // Our own event, deleted before any sync round had seen it: a deletion all the same.
                tally.Deleted++;
                await ApplyBookingChangeAsync(connection, writtenBooking, null, null, tally, ct);
            }

            // Otherwise listed as gone but never seen (Radicale does this on a first sync): nothing to undo.
            return;
        }

        tally.Deleted++;
        db.CalendarItems.Remove(item);
        known.Remove(itemId);
        if (item.BookingId is { } bookingId && isBookingCalendar)
        {
            await ApplyBookingChangeAsync(connection, bookingId, null, null, tally, ct);
        }
    }

    /// <summary>
    /// Booking events we wrote into this calendar that no sync round has seen yet (item id to booking). They count as
    /// known, for every provider: a host may delete or move one within a second of its appearing, before the next round,
    /// and a service may then report nothing at all for an item created and deleted between two cursors (Xandikos does).
    /// </summary>
    private async Task<Dictionary<string, BookingId>> UnseenWritesAsync(ICalendarProvider provider, Guid connectionId, string calendarId,
        Dictionary<string, CalendarItem> known, CancellationToken ct)
    {
        var written = await db.BookingEventLinks.AsNoTracking()
            .Where(l => l.ConnectionId == connectionId && l.CalendarUrl == calendarId && !l.Deleted && l.ETag != null && l.Href != "")
            .Select(l => new { l.Href, l.BookingId })
            .ToListAsync(ct);
        var seen = known.Keys.ToHashSet(provider.ItemIds);
        var unseen = new Dictionary<string, BookingId>(provider.ItemIds);
        foreach (var link in written.Where(l => !seen.Contains(l.Href)))
        {
            unseen[link.Href] = link.BookingId;
        }

        return unseen;
    }

    /// <summary>
    /// Unseen writes the provider did not report as present: they are gone. Whatever the answer was (a full listing or
    /// an incremental one), an item that exists and that we have not seen is always among the changes.
    /// </summary>
    private static List<string> GoneBeforeSeen(ICalendarProvider provider, Dictionary<string, BookingId> unseenWrites, CalendarChanges changes)
    {
        if (unseenWrites.Count == 0)
        {
            return [];
        }

        var present = changes.Changed.Select(c => c.ItemId).Concat(changes.Deleted).Concat(changes.Listed ?? []).ToHashSet(provider.ItemIds);
        return [.. unseenWrites.Keys.Where(id => !present.Contains(id))];
    }

    private async Task ApplyBookingChangeAsync(CalendarConnection connection, BookingId bookingId, string? etag, ObservedEvent? current,
        Tally tally, CancellationToken ct)
    {
        var link = await db.BookingEventLinks.FirstOrDefaultAsync(l => l.BookingId == bookingId && l.UserId == connection.UserId, ct);
        var booking = await db.Bookings.FirstOrDefaultAsync(b => b.Id == bookingId, ct);
        if (link is null || booking is null || link.Href is null)
        {
            return;
        }

        // Compare with the booking as it is now, so a write of ours that is still being recorded never looks like a move.
        var change = SyncDecisions.Classify(new WrittenEvent(booking.Start, booking.End, link.ETag), etag, current, out var newStart);
        if (change == ExternalChange.Deleted && (link.Deleted || booking.Status == BookingStatus.Canceled))
        {
            return;
        }

        var host = booking.Hosts.FirstOrDefault(h => h.UserId == connection.UserId);
        var action = SyncDecisions.Decide(change, inBookingCalendar: true, isPrimaryHost: host?.IsPrimary == true,
            connection.CancelBookingOnDelete, connection.UpdateBookingOnMove);
        var now = clock.GetCurrentInstant();
        var actor = Actor.FromCalendar(connection.UserId);
        switch (action)
        {
            case SyncAction.Cancel:
                if (booking.Cancel(actor, "Deleted in the host's calendar", now).IsSuccess)
                {
                    link.Deleted = true;
                    tally.Canceled++;
                }

                break;
            case SyncAction.Reschedule:
                if (await TryRescheduleAsync(booking, newStart, actor, now, ct))
                {
                    tally.Rescheduled++;
                }
                else
                {
                    link = await db.BookingEventLinks.FirstAsync(l => l.BookingId == bookingId && l.UserId == connection.UserId, ct);
                    PutBackRefusedMove(link, etag, newStart, booking, now);
                }

                break;
            case SyncAction.DeferMove:
                link.PendingStart = newStart;
                tally.Deferred++;
                break;
        }

        if (change == ExternalChange.OtherEdit && link.PendingStart is not null && newStart == booking.Start)
        {
            // The host put a deferred move back to the booking's time: nothing waits for the reminder any more, and the
            // time it held is free again.
            link.PendingStart = null;
        }

        if (change == ExternalChange.Deleted)
        {
            link.Deleted = true;
        }
        else if (etag is not null && action != SyncAction.Reschedule)
        {
            // Remember the calendar's version so the same change is not acted on twice.
            link.ETag = etag;
        }

        link.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// A move the database refused (the host holds that time already) leaves the event at the wrong time in the calendar:
    /// record what the calendar now shows (this version, at <paramref name="shownStart"/>), so the refusal is not repeated
    /// every round and the writer, asked to restore it, sees that the event differs from the booking and writes it back.
    /// </summary>
    private void PutBackRefusedMove(BookingEventLink link, string? etag, Instant shownStart, Booking booking, Instant now)
    {
        link.ETag = etag;
        link.WrittenStart = shownStart;
        link.WrittenEnd = shownStart + (booking.End - booking.Start);
        CalendarWriter.EnqueueRestore(db, booking.OrganizationId, booking.Id, now);
    }

    private async Task<bool> TryRescheduleAsync(Booking booking, Instant newStart, Actor actor, Instant now, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.LockPageAsync(booking.BookingPageId, ct);
        if (!booking.Reschedule(newStart, actor, "Moved in the host's calendar", now).IsSuccess)
        {
            return false;
        }

        try
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return true;
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.ExclusionViolation })
        {
            // The new time collides with another booking of a host: the move cannot be applied. The booking keeps its
            // time and the writer puts the event back where the booking is.
            LogMoveRefused(logger, booking.Id.ToString(), newStart.ToString());
            await tx.RollbackAsync(ct);
            db.ChangeTracker.Clear();
            return false;
        }
    }

    private async Task ReplaceBusyAsync(CalendarConnection connection, string href, IReadOnlyList<Interval> intervals, CancellationToken ct)
    {
        await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM busy_blocks WHERE connection_id = {connection.Id} AND item_href = {href}", ct);
        foreach (var interval in intervals)
        {
            if (!interval.HasStart || !interval.HasEnd || interval.End <= interval.Start)
            {
                continue;
            }

            db.BusyBlocks.Add(new BusyBlock
            {
                Id = Guid.CreateVersion7(),
                OrganizationId = connection.OrganizationId,
                UserId = connection.UserId,
                Start = interval.Start,
                End = interval.End,
                Source = "calendar",
                ConnectionId = connection.Id,
                ItemHref = href,
            });
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        CalendarProviderException { Failure: CalendarFailure.AccessDenied } =>
            "The calendar server refused the sign-in (check the user name and app password, or connect the account again).",
        CalendarProviderException { Failure: CalendarFailure.ReconnectRequired } =>
            CalendarConnection.NeedsReconnectingPrefix + "the account no longer lets Rendezvous reach its calendar (access was removed or expired). Connect it again.",
        CalendarProviderException { Failure: CalendarFailure.NotFound } => "A calendar was not found on the server: " + ex.Message,
        CalendarProviderException { Failure: CalendarFailure.Unavailable } => "The calendar server is not answering: " + ex.Message,
        _ => ex.Message,
    };

    private sealed class Tally
    {
        public int Changed;
        public int Deleted;
        public int BadItems;
        public int Canceled;
        public int Rescheduled;
        public int Deferred;

        public SyncReport Report(bool failed, string? error) => new(Changed, Deleted, BadItems, Canceled, Rescheduled, Deferred, failed, error);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Calendar connection {ConnectionId} was deleted during its sync round; the round is dropped")]
    private static partial void LogDeletedDuringRound(ILogger logger, Guid connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Calendar connection {ConnectionId} failed to sync: {Reason}")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception, Guid connectionId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keeping the push subscription of calendar connection {ConnectionId} failed: {Reason}")]
    private static partial void LogPushFailed(ILogger logger, Exception exception, Guid connectionId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an unreadable calendar item {ItemId} of connection {ConnectionId}")]
    private static partial void LogBadItem(ILogger logger, Guid connectionId, string itemId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Moving booking {BookingId} to {Start} from the calendar was refused: the time is taken")]
    private static partial void LogMoveRefused(ILogger logger, string bookingId, string start);
}

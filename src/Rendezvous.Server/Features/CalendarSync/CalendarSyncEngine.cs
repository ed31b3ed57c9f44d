using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Calendars.Sync;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Calendars;

namespace Rendezvous.Server.Features.CalendarSync;

/// <summary>What one sync of one connection did, for tests, logs and the latency benchmark.</summary>
public sealed record SyncReport(int Changed, int Deleted, int BadItems, int Canceled, int Rescheduled, int Deferred, bool Failed, string? Error);

/// <summary>
/// Inbound sync of one connection: for each of its calendars, find what changed since the last round (RFC 6578
/// sync-collection, or a ctag and ETag listing where the server lacks it), keep busy time current, and turn deletions
/// and moves of our own booking events in the booking calendar into booking commands, as the toggles say.
/// </summary>
public sealed partial class CalendarSyncEngine(
    RendezvousDbContext db, CalendarClients clients, IClock clock, IOptions<CalendarSyncOptions> options, ILogger<CalendarSyncEngine> logger)
{
    private static readonly Meter Meter = new("Rendezvous.CalendarSync");
    private static readonly Counter<long> BadItemsCounter = Meter.CreateCounter<long>("rendezvous.calendar_sync.bad_items");
    private static readonly Counter<long> FailuresCounter = Meter.CreateCounter<long>("rendezvous.calendar_sync.failures");

    public async Task<SyncReport> SyncAsync(Guid connectionId, CancellationToken ct)
    {
        var connection = await db.CalendarConnections.IgnoreQueryFilters().FirstOrDefaultAsync(c => c.Id == connectionId, ct);
        if (connection is null)
        {
            return new SyncReport(0, 0, 0, 0, 0, 0, false, "gone");
        }

        if (!connection.IsSynced)
        {
            // Recorded for the reassignment rules only; there is no connector for this provider yet.
            return new SyncReport(0, 0, 0, 0, 0, 0, false, "not synced");
        }

        db.TenantId = connection.OrganizationId;
        var user = await db.Users.AsNoTracking().FirstAsync(u => u.Id == connection.UserId, ct);
        var userZone = TimeZones.Find(user.TimeZoneId) ?? DateTimeZone.Utc;
        var interval = Duration.FromTimeSpan(options.Value.Interval);
        var total = new Tally();
        try
        {
            using var client = clients.For(connection);
            await ForgetRemovedCalendarsAsync(connection, ct);
            var fullSyncDue = await IsFullSyncDueAsync(connection.Id, ct);
            foreach (var calendarUrl in connection.AllCalendarUrls)
            {
                await SyncCalendarAsync(client, connection, calendarUrl, userZone, fullSyncDue, total, ct);
            }

            if (fullSyncDue)
            {
                await db.Database.ExecuteSqlInterpolatedAsync(
                    $"UPDATE calendar_connections SET full_sync_due_at = {(clock.GetCurrentInstant() + Duration.FromTimeSpan(options.Value.FullSyncInterval)).ToDateTimeUtc()} WHERE id = {connection.Id}", ct);
            }

            connection.RecordSuccess(clock.GetCurrentInstant(), interval);
            await db.SaveChangesAsync(ct);
            return total.Report(false, null);
        }
        catch (Exception ex) when (ex is CalDavException or HttpRequestException or TimeoutException
                                       || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            FailuresCounter.Add(1);
            LogConnectionFailed(logger, ex, connection.Id, ex.Message);
            db.ChangeTracker.Clear();
            var fresh = await db.CalendarConnections.IgnoreQueryFilters().FirstAsync(c => c.Id == connectionId, ct);
            fresh.RecordFailure(Describe(ex), clock.GetCurrentInstant(), interval);
            await db.SaveChangesAsync(ct);
            return total.Report(true, ex.Message);
        }
    }

    /// <summary>
    /// Drops what was known about calendars the connection no longer has (the user picked other ones, or the server's
    /// address changed). Objects are stored per connection and href, so a calendar that comes back under another URL
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
        var due = await db.Database.SqlQuery<DateTime?>($"SELECT full_sync_due_at AS \"Value\" FROM calendar_connections WHERE id = {connectionId}").ToListAsync(ct);
        return due.Count == 0 || due[0] is not { } at || Instant.FromDateTimeUtc(DateTime.SpecifyKind(at, DateTimeKind.Utc)) <= clock.GetCurrentInstant();
    }

    private async Task SyncCalendarAsync(CalDavClient client, CalendarConnection connection, string calendarUrl, DateTimeZone userZone,
        bool full, Tally tally, CancellationToken ct)
    {
        var calendarHref = CalendarClients.HrefOf(calendarUrl);
        var state = await db.CalendarSyncStates.FirstOrDefaultAsync(s => s.ConnectionId == connection.Id && s.CalendarUrl == calendarUrl, ct);
        if (state is null)
        {
            state = new CalendarSyncState { ConnectionId = connection.Id, CalendarUrl = calendarUrl };
            db.CalendarSyncStates.Add(state);
        }

        var known = await db.CalendarItems.Where(i => i.ConnectionId == connection.Id && i.CalendarUrl == calendarUrl).ToDictionaryAsync(i => i.Href, ct);
        var isBookingCalendar = calendarUrl == connection.BookingCalendarUrl;
        // Read before the server is asked, so every object counted here was already written when the server answered.
        var unseenWrites = isBookingCalendar ? await UnseenWritesAsync(connection.Id, calendarUrl, known, ct) : [];
        IReadOnlyList<ObjectVersion> changed;
        IReadOnlyList<string> deleted;

        var result = await client.SyncCollectionAsync(calendarHref, full ? null : state.SyncToken, ct);
        if (result.Outcome == SyncOutcome.InvalidToken)
        {
            // The server forgot our token: list everything again and work out deletions ourselves, so nothing is lost.
            result = await client.SyncCollectionAsync(calendarHref, null, ct);
        }

        if (result.Outcome == SyncOutcome.Completed)
        {
            changed = result.Changed;
            deleted = result.Deleted;
            if (result.IsInitial)
            {
                var listed = changed.Select(c => c.Href).ToHashSet(StringComparer.Ordinal);
                deleted = [.. deleted, .. known.Keys.Where(h => !listed.Contains(h))];
            }

            state.SyncToken = result.SyncToken;
        }
        else
        {
            // No sync-collection: compare the collection's ETags with what we know.
            var listing = await client.ListObjectsAsync(calendarHref, ct);
            var diff = CollectionDiff.Compare(known.ToDictionary(kv => kv.Key, kv => kv.Value.ETag, StringComparer.Ordinal), listing);
            changed = [.. diff.Added, .. diff.Changed];
            deleted = diff.Removed;
            state.SyncToken = null;
        }

        deleted = [.. deleted, .. GoneBeforeSeen(unseenWrites, changed, deleted)];
        var toFetch = changed.Where(c => !known.TryGetValue(c.Href, out var item) || item.ETag is null || item.ETag != c.ETag || c.ETag is null)
            .Select(c => c.Href).Distinct(StringComparer.Ordinal).ToList();

        if (toFetch.Count > 0)
        {
            var fetched = await client.MultigetAsync(calendarHref, toFetch, ct);
            foreach (var obj in fetched.Objects)
            {
                await ApplyObjectAsync(connection, calendarUrl, isBookingCalendar, obj, known, userZone, tally, ct);
            }

            foreach (var missing in fetched.Missing)
            {
                deleted = [.. deleted, missing];
            }
        }

        foreach (var href in deleted.Distinct(StringComparer.Ordinal))
        {
            await ApplyDeletionAsync(connection, isBookingCalendar, href, known, unseenWrites, userZone, tally, ct);
        }

        state.LastSyncedAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
    }

    private async Task ApplyObjectAsync(CalendarConnection connection, string calendarUrl, bool isBookingCalendar, CalendarObject obj,
        Dictionary<string, CalendarItem> known, DateTimeZone userZone, Tally tally, CancellationToken ct)
    {
        tally.Changed++;
        if (!known.TryGetValue(obj.Href, out var item))
        {
            item = new CalendarItem { ConnectionId = connection.Id, Href = obj.Href, CalendarUrl = calendarUrl };
            db.CalendarItems.Add(item);
            known[obj.Href] = item;
        }

        item.ETag = obj.ETag;
        await ReplaceBusyAsync(connection, obj.Href, [], ct);

        if (!ICalendarReader.TryParse(obj.CalendarData, out var document) || document.Events.Count == 0)
        {
            // A bad item is logged, counted and skipped; its ETag is kept so it is not fetched again until it changes.
            tally.BadItems++;
            BadItemsCounter.Add(1);
            LogBadItem(logger, connection.Id, obj.Href);
            item.Uid = null;
            item.BookingId = null;
            return;
        }

        var master = document.Events.FirstOrDefault(e => e.RecurrenceId is null) ?? document.Events[0];
        item.Uid = master.Uid;
        item.BookingId = BookingCalendarEvent.TryGetBookingId(master);
        if (item.BookingId is { } bookingId)
        {
            // Our own events are already held as bookings; they are never counted as busy time twice.
            if (isBookingCalendar)
            {
                await ApplyBookingChangeAsync(connection, bookingId, obj.ETag, master, userZone, tally, ct);
            }

            return;
        }

        var now = clock.GetCurrentInstant();
        var busy = BusyTime.Compute(document, now - Duration.FromDays(1), now + Duration.FromDays(options.Value.BusyHorizonDays), userZone);
        await ReplaceBusyAsync(connection, obj.Href, busy.Intervals, ct);
    }

    private async Task ApplyDeletionAsync(CalendarConnection connection, bool isBookingCalendar, string href, Dictionary<string, CalendarItem> known,
        IReadOnlyDictionary<string, BookingId> unseenWrites, DateTimeZone userZone, Tally tally, CancellationToken ct)
    {
        await ReplaceBusyAsync(connection, href, [], ct);
        if (!known.TryGetValue(href, out var item))
        {
            if (unseenWrites.TryGetValue(href, out var writtenBooking))
            {
                // Our own event, deleted before any sync round had seen it: a deletion all the same.
                tally.Deleted++;
                await ApplyBookingChangeAsync(connection, writtenBooking, null, null, userZone, tally, ct);
            }

            // Otherwise listed as gone but never seen (Radicale does this on a first sync): nothing to undo.
            return;
        }

        tally.Deleted++;
        db.CalendarItems.Remove(item);
        known.Remove(href);
        if (item.BookingId is { } bookingId && isBookingCalendar)
        {
            await ApplyBookingChangeAsync(connection, bookingId, null, null, userZone, tally, ct);
        }
    }

    /// <summary>
    /// Booking events we wrote into this calendar that no sync round has seen yet (href to booking). They count as known:
    /// a host may delete or move one within a second of its appearing, before the next round, and a server such as
    /// Xandikos then reports nothing at all for an object created and deleted between two sync tokens.
    /// </summary>
    private async Task<Dictionary<string, BookingId>> UnseenWritesAsync(Guid connectionId, string calendarUrl, Dictionary<string, CalendarItem> known,
        CancellationToken ct)
    {
        var written = await db.BookingEventLinks.AsNoTracking()
            .Where(l => l.ConnectionId == connectionId && l.CalendarUrl == calendarUrl && !l.Deleted && l.ETag != null)
            .Select(l => new { l.Href, l.BookingId })
            .ToListAsync(ct);
        var seen = known.Keys.ToHashSet(CalDavHref.Comparer);
        var unseen = new Dictionary<string, BookingId>(CalDavHref.Comparer);
        foreach (var link in written.Where(l => !seen.Contains(l.Href)))
        {
            unseen[link.Href] = link.BookingId;
        }

        return unseen;
    }

    /// <summary>
    /// Unseen writes the server did not list as present: they are gone. Whatever the server reported (an initial listing,
    /// an incremental sync, an ETag listing), an object that exists and that we have not seen is always among the changes.
    /// </summary>
    private static IEnumerable<string> GoneBeforeSeen(Dictionary<string, BookingId> unseenWrites, IReadOnlyList<ObjectVersion> changed,
        IReadOnlyList<string> deleted)
    {
        if (unseenWrites.Count == 0)
        {
            return [];
        }

        var present = changed.Select(c => c.Href).Concat(deleted).ToHashSet(CalDavHref.Comparer);
        return unseenWrites.Keys.Where(h => !present.Contains(h)).ToList();
    }

    private async Task ApplyBookingChangeAsync(CalendarConnection connection, BookingId bookingId, string? etag, CalendarEvent? current,
        DateTimeZone userZone, Tally tally, CancellationToken ct)
    {
        var link = await db.BookingEventLinks.FirstOrDefaultAsync(l => l.BookingId == bookingId && l.UserId == connection.UserId, ct);
        var booking = await db.Bookings.FirstOrDefaultAsync(b => b.Id == bookingId, ct);
        if (link is null || booking is null || link.Href is null)
        {
            return;
        }

        // Compare with the booking as it is now, so a write of ours that is still being recorded never looks like a move.
        var change = SyncDecisions.Classify(new WrittenEvent(booking.Start, booking.End, link.ETag), etag, current, userZone, out var newStart);
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
        CalDavAccessDeniedException => "The calendar server refused the user name or password (check the app password).",
        CalDavNotFoundException => "A calendar was not found on the server: " + ex.Message,
        CalDavTransientException => "The calendar server is not answering: " + ex.Message,
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Calendar connection {ConnectionId} failed to sync: {Reason}")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception, Guid connectionId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an unreadable calendar object {Href} of connection {ConnectionId}")]
    private static partial void LogBadItem(ILogger logger, Guid connectionId, string href);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Moving booking {BookingId} to {Start} from the calendar was refused: the time is taken")]
    private static partial void LogMoveRefused(ILogger logger, string bookingId, string start);
}

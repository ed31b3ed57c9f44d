using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;

namespace Rendezvous.Server.Features.Availability;

/// <summary>
/// Gathers what the availability engine needs for one page from the database: the time every host holds (through the
/// exclusion constraint's GiST index), their busy blocks, the page's group sessions and its meetings for the caps, and
/// for pages that need a space, whether one of their spaces is free.
/// </summary>
public sealed class AvailabilityService(RendezvousDbContext db, Spaces.SpacePools spaces)
{
    /// <summary>The hold rows that matter for a page's hosts in a time range.</summary>
    public const string HoldsSql = """
        SELECT h.during AS "During", h.hold_key AS "HoldKey", h.booking_id AS "BookingId",
               b.booking_page_id AS "BookingPageId"
        FROM booking_hosts h
        JOIN bookings b ON b.id = h.booking_id
        WHERE h.user_id = ANY(@hosts) AND h.active AND h.during && @range
        """;

    public const string BusyBlocksSql = """
        SELECT b.during AS "During"
        FROM busy_blocks b
        WHERE b.user_id = ANY(@hosts) AND b.during && @range
        """;

    /// <summary>
    /// Calendar moves waiting for the booking's next reminder ("changing the time updates the booking" off, seed 000):
    /// the host has put the meeting at the new time in their calendar, so that time is held for them until the move is
    /// applied or written back, for every host of the booking.
    /// </summary>
    public const string PendingMovesSql = """
        SELECT DISTINCT tstzrange(l.pending_start, l.pending_start + (b.end_at - b.start_at)) AS "During", b.id AS "BookingId"
        FROM booking_event_links l
        JOIN bookings b ON b.id = l.booking_id
        JOIN booking_hosts h ON h.booking_id = b.id AND h.active
        WHERE l.pending_start IS NOT NULL AND h.user_id = ANY(@hosts)
          AND tstzrange(l.pending_start, l.pending_start + (b.end_at - b.start_at)) && @range
        """;

    /// <summary>
    /// Null when the page can take bookings; otherwise why not. A page cannot while any of its hosts' calendar connections
    /// is in error: we could not see their busy time, nor write the booking into their calendar.
    /// </summary>
    public async Task<DomainError?> WhyUnavailableAsync(BookingPage page, CancellationToken ct)
    {
        var hosts = page.Hosts.ToList();
        var failing = await db.CalendarConnections.AcrossTenants().AsNoTracking()
            .AnyAsync(c => hosts.Contains(c.UserId) && c.Health == Domain.Calendars.ConnectionHealth.Error, ct);
        return failing
            ? DomainError.Conflict("page_unavailable",
                "This booking page cannot accept bookings right now because a host's calendar cannot be reached. Please try again later or contact the host.")
            : null;
    }

    /// <summary>
    /// Free slots of <paramref name="page"/> whose start falls on <paramref name="from"/>..<paramref name="to"/> (inclusive)
    /// in <paramref name="displayZone"/>. <paramref name="ignoreBooking"/> leaves one booking out (the one being moved).
    /// </summary>
    public async Task<IReadOnlyList<Slot>> GetSlotsAsync(BookingPage page, LocalDate from, LocalDate to, DateTimeZone displayZone,
        Instant now, BookingId? ignoreBooking, CancellationToken ct)
    {
        var query = await BuildQueryAsync(page, from, to, displayZone, now, ignoreBooking, ct);
        // A page that needs a space offers only the slots where one space of its pool is free too.
        return await spaces.FilterAsync(page, AvailabilityEngine.ComputeSlots(page.Settings, query), ignoreBooking, ct);
    }

    /// <summary>The offered slot starting exactly at <paramref name="start"/>, or null.</summary>
    public async Task<Slot?> FindSlotAsync(BookingPage page, Instant start, Instant now, BookingId? ignoreBooking, CancellationToken ct)
    {
        var zone = page.Settings.TimeZone;
        var date = start.InZone(zone).Date;
        var slots = await GetSlotsAsync(page, date, date, zone, now, ignoreBooking, ct);
        foreach (var slot in slots)
        {
            if (slot.Start == start)
            {
                return slot;
            }
        }

        return null;
    }

    private async Task<AvailabilityQuery> BuildQueryAsync(BookingPage page, LocalDate from, LocalDate to, DateTimeZone displayZone,
        Instant now, BookingId? ignoreBooking, CancellationToken ct)
    {
        var settings = page.Settings;
        var margin = Duration.FromDays(2) + settings.BufferBefore + settings.BufferAfter + settings.Duration;
        var rangeStart = from.AtStartOfDayInZone(displayZone).ToInstant() - margin;
        var rangeEnd = to.PlusDays(1).AtStartOfDayInZone(displayZone).ToInstant() + margin;
        var hosts = page.Hosts.Select(h => h.Value).ToArray();

        var range = new Interval(rangeStart, rangeEnd);
        var holds = await db.Database.SqlQueryRaw<HoldRow>(HoldsSql,
                new Npgsql.NpgsqlParameter("hosts", hosts),
                new Npgsql.NpgsqlParameter("range", range))
            .ToListAsync(ct);
        var blocks = await db.Database.SqlQueryRaw<BlockRow>(BusyBlocksSql,
                new Npgsql.NpgsqlParameter("hosts", hosts),
                new Npgsql.NpgsqlParameter("range", range))
            .ToListAsync(ct);

        var pending = await db.Database.SqlQueryRaw<PendingRow>(PendingMovesSql,
                new Npgsql.NpgsqlParameter("hosts", hosts),
                new Npgsql.NpgsqlParameter("range", range))
            .ToListAsync(ct);

        var groupPrefix = settings.SchedulingOption == SchedulingOption.GroupSession ? page.Id + "@" : null;
        var busy = new List<BusyInterval>(holds.Count + blocks.Count);
        var seats = new Dictionary<Instant, HashSet<Guid>>();
        foreach (var hold in holds)
        {
            if (ignoreBooking is { } ignored && hold.BookingId == ignored.Value)
            {
                continue;
            }

            var start = hold.During.Start;
            var end = hold.During.End;
            if (groupPrefix is not null && hold.HoldKey.StartsWith(groupPrefix, StringComparison.Ordinal))
            {
                // One hold per host per seat: count distinct bookings, not rows.
                if (!seats.TryGetValue(start, out var set))
                {
                    seats[start] = set = [];
                }

                // The session also keeps its host busy for this page's other (overlapping) start times.
                set.Add(hold.BookingId);
            }

            // The page's buffers keep time free around each of its own meetings, so the gap between two meetings of one
            // page is the first one's buffer after plus the next one's buffer before.
            busy.Add(hold.BookingPageId == page.Id.Value
                ? new BusyInterval(start - settings.BufferBefore, end + settings.BufferAfter)
                : new BusyInterval(start, end));
        }

        foreach (var block in blocks)
        {
            busy.Add(new BusyInterval(block.During.Start, block.During.End));
        }

        foreach (var move in pending.Where(m => ignoreBooking is not { } ignored || m.BookingId != ignored.Value))
        {
            busy.Add(new BusyInterval(move.During.Start, move.During.End));
        }

        var meetingStarts = new List<Instant>();
        if (settings.MaxBookingsPerDay is not null || settings.MaxBookingsPerWeek is not null)
        {
            var capStart = rangeStart - Duration.FromDays(8);
            var capEnd = rangeEnd + Duration.FromDays(8);
            var starts = await db.Bookings.AsNoTracking()
                .Where(b => b.BookingPageId == page.Id && b.Status != Domain.Bookings.BookingStatus.Canceled
                    && b.Start >= capStart && b.Start < capEnd && (ignoreBooking == null || b.Id != ignoreBooking))
                .Select(b => b.Start)
                .Distinct()
                .ToListAsync(ct);
            meetingStarts.AddRange(starts);
        }

        return new AvailabilityQuery
        {
            From = from,
            To = to,
            DisplayZone = displayZone,
            Now = now,
            Busy = busy,
            GroupSessions = [.. seats.Select(kv => new GroupSessionOccupancy(kv.Key, kv.Value.Count))],
            PageMeetingStarts = meetingStarts,
        };
    }

    // "during" is the generated [start_at, end_at) range the GiST index and the exclusion constraint work on.
    private sealed record HoldRow(Interval During, string HoldKey, Guid BookingId, Guid BookingPageId);

    private sealed record BlockRow(Interval During);

    private sealed record PendingRow(Interval During, Guid BookingId);
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Availability;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Organizations;

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
               b.booking_page_id AS "BookingPageId", h.user_id AS "UserId"
        FROM booking_hosts h
        JOIN bookings b ON b.id = h.booking_id
        WHERE h.user_id = ANY(@hosts) AND h.active AND h.during && @range
        """;

    public const string BusyBlocksSql = """
        SELECT b.during AS "During", b.user_id AS "UserId"
        FROM busy_blocks b
        WHERE b.user_id = ANY(@hosts) AND b.during && @range
        """;

    /// <summary>
    /// Calendar moves waiting for the booking's next reminder ("changing the time updates the booking" off, seed 000):
    /// the host has put the meeting at the new time in their calendar, so that time is held for them until the move is
    /// applied or written back, for every host of the booking.
    /// </summary>
    public const string PendingMovesSql = """
        SELECT DISTINCT tstzrange(l.pending_start, l.pending_start + (b.end_at - b.start_at)) AS "During", b.id AS "BookingId",
               h.user_id AS "UserId"
        FROM booking_event_links l
        JOIN bookings b ON b.id = l.booking_id
        JOIN booking_hosts h ON h.booking_id = b.id AND h.active
        WHERE l.pending_start IS NOT NULL AND h.user_id = ANY(@hosts)
          AND tstzrange(l.pending_start, l.pending_start + (b.end_at - b.start_at)) && @range
        """;

    /// <summary>
    /// Members of round-robin pages whose bookings of the page count for the balance: those made since <c>@since</c>
    /// and not canceled, per booking owner (the assigned member).
    /// </summary>
    public const string RoundRobinCountsSql = """
        SELECT b.owner_id AS "UserId", count(*)::int AS "Count"
        FROM bookings b
        WHERE b.booking_page_id = @id AND b.created_at >= @since AND b.status <> 'Canceled'
        GROUP BY b.owner_id
        """;

    /// <summary>
    /// Null when the page can take bookings; otherwise why not. A page cannot while any of its hosts' calendar connections
    /// is in error: we could not see their busy time, nor write the booking into their calendar. A round-robin page can
    /// while one member's calendar works: the others are left out of its slots.
    /// </summary>
    public async Task<DomainError?> WhyUnavailableAsync(BookingPage page, CancellationToken ct)
    {
        var hosts = page.Hosts.ToList();
        var failing = await db.CalendarConnections.AcrossTenants().AsNoTracking()
            .Where(c => hosts.Contains(c.UserId) && c.Health == Domain.Calendars.ConnectionHealth.Error).Select(c => c.UserId).Distinct().CountAsync(ct);
        return IsBroken(page, failing) ? PageUnavailable : null;
    }

    private static bool IsBroken(BookingPage page, int brokenHosts) =>
        page.Settings.SchedulingOption == SchedulingOption.RoundRobin ? brokenHosts >= page.Hosts.Count : brokenHosts > 0;

    /// <summary>
    /// Free slots of <paramref name="page"/> whose start falls on <paramref name="from"/>..<paramref name="to"/> (inclusive)
    /// in <paramref name="displayZone"/>. <paramref name="ignoreBooking"/> leaves one booking out (the one being moved).
    /// </summary>
    public async Task<IReadOnlyList<Slot>> GetSlotsAsync(BookingPage page, LocalDate from, LocalDate to, DateTimeZone displayZone,
        Instant now, BookingId? ignoreBooking, CancellationToken ct, UserId? member = null)
    {
        var reads = await ReadAsync(page, RangeOf(page, from, to, displayZone), PageLock.None, null, ct);
        return await ComputeSlotsAsync(page, from, to, displayZone, now, ignoreBooking, reads, ct, member);
    }

    /// <summary>The time range whose holds and busy blocks matter for slots starting on <paramref name="from"/>..<paramref name="to"/>.</summary>
    public static Interval RangeOf(BookingPage page, LocalDate from, LocalDate to, DateTimeZone displayZone)
    {
        var settings = page.Settings;
        var margin = Duration.FromDays(2) + settings.BufferBefore + settings.BufferAfter + settings.Duration;
        return new Interval(from.AtStartOfDayInZone(displayZone).ToInstant() - margin, to.PlusDays(1).AtStartOfDayInZone(displayZone).ToInstant() + margin);
    }

    /// <summary>
    /// Reads, in one round trip, what a page's slots and bookings depend on: optionally the page's advisory lock (taken
    /// first, so the reads after it see every booking committed before it), the page row's version (its xmin, which
    /// changes with any change to the page, so a cached page can be checked), whether a host's calendar is broken,
    /// whether the page uses a space pool, the hosts' holds, busy blocks and pending moves over <paramref name="range"/>,
    /// and, when <paramref name="customer"/> is given, the customer's upsert.
    /// </summary>
    public async Task<PageReads> ReadAsync(BookingPage page, Interval range, PageLock lockMode, CustomerUpsert? customer, CancellationToken ct)
    {
        var hosts = page.Hosts.Select(h => h.Value).ToArray();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using var batch = new NpgsqlBatch(connection, (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction());
            if (lockMode != PageLock.None)
            {
                // The same key as AdvisoryLocks.LockPageAsync, so every writer of the page queues on one lock.
                batch.BatchCommands.Add(Command(lockMode == PageLock.Try
                    ? "SELECT pg_try_advisory_xact_lock(hashtextextended(@name, 0))"
                    : "SELECT pg_advisory_xact_lock(hashtextextended(@name, 0))", new NpgsqlParameter("name", page.Id.ToString())));
            }

            batch.BatchCommands.Add(Command("SELECT xmin::text FROM booking_pages WHERE id = @id", new NpgsqlParameter("id", page.Id.Value)));
            batch.BatchCommands.Add(Command(
                "SELECT DISTINCT user_id FROM calendar_connections WHERE user_id = ANY(@hosts) AND health = @error",
                new NpgsqlParameter("hosts", hosts), new NpgsqlParameter("error", nameof(Domain.Calendars.ConnectionHealth.Error))));
            batch.BatchCommands.Add(Command("SELECT EXISTS (SELECT 1 FROM booking_page_space_pools WHERE booking_page_id = @id)",
                new NpgsqlParameter("id", page.Id.Value)));
            batch.BatchCommands.Add(Command(HoldsSql, new NpgsqlParameter("hosts", hosts), new NpgsqlParameter("range", range)));
            batch.BatchCommands.Add(Command(BusyBlocksSql, new NpgsqlParameter("hosts", hosts), new NpgsqlParameter("range", range)));
            batch.BatchCommands.Add(Command(PendingMovesSql, new NpgsqlParameter("hosts", hosts), new NpgsqlParameter("range", range)));
            if (customer is not null)
            {
                batch.BatchCommands.Add(Command(CustomerUpsert.Sql,
                    new NpgsqlParameter("id", Guid.CreateVersion7()), new NpgsqlParameter("org", customer.OrganizationId.Value),
                    new NpgsqlParameter("name", customer.Name), new NpgsqlParameter("email", customer.Email),
                    new NpgsqlParameter("phone", (object?)customer.Phone ?? DBNull.Value) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text },
                    new NpgsqlParameter("tz", customer.TimeZoneId), new NpgsqlParameter("now", customer.Now),
                    new NpgsqlParameter("language", (object?)customer.Language ?? DBNull.Value) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text }));
            }

            var roundRobin = customer is not null && page.Settings.SchedulingOption == SchedulingOption.RoundRobin;
            if (roundRobin)
            {
                // The balance is read in the same round trip, after the lock, so it sees every booking committed before it.
                batch.BatchCommands.Add(Command(RoundRobinCountsSql, new NpgsqlParameter("id", page.Id.Value),
                    new NpgsqlParameter("since", customer!.Now - Duration.FromDays(page.Settings.BalanceWindowDays))));
            }

            await using var reader = await batch.ExecuteReaderAsync(ct);
            bool? locked = null;
            if (lockMode != PageLock.None)
            {
                await reader.ReadAsync(ct);
                // pg_advisory_xact_lock returns void: having a row means it was granted.
                locked = lockMode == PageLock.Wait || reader.GetBoolean(0);
                await reader.NextResultAsync(ct);
            }

            var version = await reader.ReadAsync(ct) ? reader.GetString(0) : null;
            await reader.NextResultAsync(ct);
            var brokenHosts = new List<Guid>();
            while (await reader.ReadAsync(ct))
            {
                brokenHosts.Add(reader.GetGuid(0));
            }

            await reader.NextResultAsync(ct);
            await reader.ReadAsync(ct);
            var usesSpaces = reader.GetBoolean(0);
            await reader.NextResultAsync(ct);
            var holds = new List<HoldRow>();
            while (await reader.ReadAsync(ct))
            {
                holds.Add(new HoldRow(reader.GetFieldValue<Interval>(0), reader.GetString(1), reader.GetGuid(2), reader.GetGuid(3), reader.GetGuid(4)));
            }

            await reader.NextResultAsync(ct);
            var blocks = new List<BlockRow>();
            while (await reader.ReadAsync(ct))
            {
                blocks.Add(new BlockRow(reader.GetFieldValue<Interval>(0), reader.GetGuid(1)));
            }

            await reader.NextResultAsync(ct);
            var pending = new List<PendingRow>();
            while (await reader.ReadAsync(ct))
            {
                pending.Add(new PendingRow(reader.GetFieldValue<Interval>(0), reader.GetGuid(1), reader.GetGuid(2)));
            }

            Customer? upserted = null;
            if (customer is not null)
            {
                await reader.NextResultAsync(ct);
                await reader.ReadAsync(ct);
                upserted = new Customer(new CustomerId(reader.GetGuid(0)), customer.OrganizationId, reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.GetFieldValue<Instant>(5));
            }

            var counts = new Dictionary<UserId, int>();
            if (roundRobin)
            {
                await reader.NextResultAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    counts[new UserId(reader.GetGuid(0))] = reader.GetInt32(1);
                }
            }

            return new PageReads(locked, version, IsBroken(page, brokenHosts.Count), usesSpaces, range, holds, blocks, pending, upserted)
            {
                BrokenHosts = [.. brokenHosts.Select(g => new UserId(g))],
                BookingCounts = counts,
            };
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Null when the page can take bookings according to <paramref name="reads"/>; otherwise why not.</summary>
    public static DomainError? WhyUnavailable(PageReads reads) => reads.CalendarBroken ? PageUnavailable : null;

    private static readonly DomainError PageUnavailable = DomainError.Conflict("page_unavailable",
        "This booking page cannot accept bookings right now because a host's calendar cannot be reached. Please try again later or contact the host.");

    /// <summary>
    /// The slots of <paramref name="from"/>..<paramref name="to"/> from what <see cref="ReadAsync"/> read. A round-robin
    /// page offers a time when any of its members (or only <paramref name="member"/>, when given) is free; every other
    /// page only when all its hosts are.
    /// </summary>
    public async Task<IReadOnlyList<Slot>> ComputeSlotsAsync(BookingPage page, LocalDate from, LocalDate to, DateTimeZone displayZone,
        Instant now, BookingId? ignoreBooking, PageReads reads, CancellationToken ct, UserId? member = null)
    {
        if (page.Settings.SchedulingOption == SchedulingOption.RoundRobin)
        {
            var perMember = await ComputeMemberSlotsAsync(page, from, to, displayZone, now, ignoreBooking, reads, member, ct);
            return [.. perMember.Values.SelectMany(s => s).DistinctBy(s => s.Start).OrderBy(s => s.Start)];
        }

        var query = await BuildQueryAsync(page, from, to, displayZone, now, ignoreBooking, reads, null, ct);
        var slots = AvailabilityEngine.ComputeSlots(page.Settings, query);
        // A page that needs a space offers only the slots where one space of its pool is free too.
        return reads.UsesSpaces ? await spaces.FilterAsync(page, slots, ignoreBooking, ct) : slots;
    }

    /// <summary>
    /// For a round-robin page, each member's own slots (their holds, busy time and pending moves only), leaving out members
    /// whose calendar is in error; <paramref name="only"/> narrows it to one member (who must be on the team).
    /// </summary>
    public async Task<IReadOnlyDictionary<UserId, IReadOnlyList<Slot>>> ComputeMemberSlotsAsync(BookingPage page, LocalDate from, LocalDate to,
        DateTimeZone displayZone, Instant now, BookingId? ignoreBooking, PageReads reads, UserId? only, CancellationToken ct)
    {
        var result = new Dictionary<UserId, IReadOnlyList<Slot>>();
        foreach (var member in page.Settings.TeamMembers.Select(m => m.UserId))
        {
            if ((only is { } wanted && wanted != member) || reads.BrokenHosts.Contains(member))
            {
                continue;
            }

            var query = await BuildQueryAsync(page, from, to, displayZone, now, ignoreBooking, reads, member.Value, ct);
            var slots = AvailabilityEngine.ComputeSlots(page.Settings, query);
            result[member] = reads.UsesSpaces ? await spaces.FilterAsync(page, slots, ignoreBooking, ct) : slots;
        }

        return result;
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    /// <summary>The offered slot starting exactly at <paramref name="start"/>, or null.</summary>
    public async Task<Slot?> FindSlotAsync(BookingPage page, Instant start, Instant now, BookingId? ignoreBooking, CancellationToken ct,
        UserId? member = null)
    {
        var zone = page.Settings.TimeZone;
        var date = start.InZone(zone).Date;
        var slots = await GetSlotsAsync(page, date, date, zone, now, ignoreBooking, ct, member);
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
        Instant now, BookingId? ignoreBooking, PageReads reads, Guid? onlyHost, CancellationToken ct)
    {
        var settings = page.Settings;
        var rangeStart = reads.Range.Start;
        var rangeEnd = reads.Range.End;
        // A round-robin member is free when their own time is: the other members' time does not count against them.
        IReadOnlyList<HoldRow> holds = onlyHost is { } h1 ? [.. reads.Holds.Where(x => x.UserId == h1)] : reads.Holds;
        IReadOnlyList<BlockRow> blocks = onlyHost is { } h2 ? [.. reads.Blocks.Where(x => x.UserId == h2)] : reads.Blocks;
        IReadOnlyList<PendingRow> pending = onlyHost is { } h3 ? [.. reads.Pending.Where(x => x.UserId == h3)] : reads.Pending;

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
    public sealed record HoldRow(Interval During, string HoldKey, Guid BookingId, Guid BookingPageId, Guid UserId);

    public sealed record BlockRow(Interval During, Guid UserId);

    public sealed record PendingRow(Interval During, Guid BookingId, Guid UserId);
}

/// <summary>Whether <see cref="AvailabilityService.ReadAsync"/> takes the page's advisory lock, and how.</summary>
public enum PageLock
{
    None,
    /// <summary>pg_try_advisory_xact_lock: never waits; <see cref="PageReads.Locked"/> says whether it was taken.</summary>
    Try,
    /// <summary>pg_advisory_xact_lock: waits for the lock.</summary>
    Wait,
}

/// <summary>What one <see cref="AvailabilityService.ReadAsync"/> round trip read.</summary>
public sealed record PageReads(
    bool? Locked, string? Version, bool CalendarBroken, bool UsesSpaces, Interval Range,
    IReadOnlyList<AvailabilityService.HoldRow> Holds, IReadOnlyList<AvailabilityService.BlockRow> Blocks,
    IReadOnlyList<AvailabilityService.PendingRow> Pending, Customer? Customer)
{
    /// <summary>Hosts whose calendar connection is in error (a round-robin page leaves them out).</summary>
    public IReadOnlyList<UserId> BrokenHosts { get; init; } = [];

    /// <summary>Round-robin pages, on the write path: each member's bookings of the page in the balance window.</summary>
    public IReadOnlyDictionary<UserId, int> BookingCounts { get; init; } = new Dictionary<UserId, int>();
}

/// <summary>A customer to insert, or refresh when the organization already has one with that email; the row comes back.</summary>
public sealed record CustomerUpsert(OrganizationId OrganizationId, string Name, string Email, string? Phone, string TimeZoneId, Instant Now)
{
    /// <summary>The language of the customer's emails; null keeps the one stored.</summary>
    public string? Language { get; init; }

    public const string Sql = """
        INSERT INTO customers (id, organization_id, name, email, phone, time_zone, created_at, language)
        VALUES (@id, @org, @name, @email, @phone, @tz, @now, @language)
        ON CONFLICT (organization_id, email) DO UPDATE
            SET name = EXCLUDED.name, phone = COALESCE(EXCLUDED.phone, customers.phone), time_zone = EXCLUDED.time_zone,
                language = COALESCE(EXCLUDED.language, customers.language)
        RETURNING id, name, email, phone, time_zone, created_at
        """;
}

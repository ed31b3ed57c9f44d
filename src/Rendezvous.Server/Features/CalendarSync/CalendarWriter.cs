using Rendezvous.Integrations.Conferencing;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Calendars.Providers;
using Rendezvous.Calendars.Sync;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Calendars;
using Rendezvous.Server.Features.Conferencing;

namespace Rendezvous.Server.Features.CalendarSync;

/// <summary>
/// Writes bookings into their hosts' booking calendars (every panel member's), from the outbox, through each
/// connection's provider. It always writes the booking's current state, so it does not matter which event triggered it
/// or how often it runs: providers create idempotently per booking and update conditionally, and canceled bookings are
/// deleted. The version of each write is kept, so the sync worker recognises our own writes when they come back. When a
/// booking has been reassigned, its event is deleted from the calendars of users who no longer host it and written to
/// the new host's. Connections of providers that are not synced (no provider registered) are left alone.
/// </summary>
public sealed partial class CalendarWriter(IServiceScopeFactory scopes, CalendarProviders providers, IClock clock, ILogger<CalendarWriter> logger) : IOutboxHandler
{
    /// <summary>
    /// Asks for the booking to be written again as it is, for this handler only: a change made in the calendar was refused
    /// (the new time is taken), so the event must go back to the booking's time. Nothing else reacts to it.
    /// </summary>
    public const string RestoreType = "calendar.restore";

    public string Name => "calendar-writer";

    /// <summary>The event describes the meeting, so the meeting is made first.</summary>
    public IReadOnlyCollection<string> RunsAfter => ["conferencing"];

    public bool Handles(string type) => type.StartsWith("booking.", StringComparison.Ordinal) || type == RestoreType;

    /// <summary>Queues <see cref="RestoreType"/> for <paramref name="bookingId"/>, saved with the caller's next SaveChanges.</summary>
    public static void EnqueueRestore(RendezvousDbContext db, Domain.OrganizationId organizationId, Domain.BookingId bookingId, Instant now) =>
        db.OutboxMessages.Add(new OutboxMessage
        {
            OrganizationId = organizationId,
            Type = RestoreType,
            Payload = JsonSerializer.Serialize(new RestoreRequest(bookingId), JsonDefaults.Options),
            CreatedAt = now,
            AvailableAt = now,
        });

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        Domain.BookingId bookingId;
        if (message.Type == RestoreType)
        {
            bookingId = JsonSerializer.Deserialize<RestoreRequest>(message.Payload, JsonDefaults.Options)!.BookingId;
        }
        else
        {
            var e = JsonSerializer.Deserialize<BookingEvent>(message.Payload, JsonDefaults.Options)!;
            // Completion and no-shows change nothing in a calendar.
            if (e.Type is BookingEvent.Completed or BookingEvent.NoShow)
            {
                return;
            }

            bookingId = e.BookingId;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var booking = await OutboxBatch.FindBookingAsync(db, bookingId, cancellationToken);
        if (booking is null)
        {
            return;
        }

        var hostIds = booking.Hosts.Select(h => h.UserId).ToList();
        var synced = providers.Synced.ToList();
        var linked = await LinkedInBatchAsync(db, cancellationToken);
        if (OutboxBatch.Current is { } batch && linked is not null)
        {
            // Most bookings have no host with a booking calendar and no event anywhere: within a batch, who has a
            // connection and which bookings have events are read once, and such a booking costs no query of its own.
            var connected = await batch.GetOrAddAsync("calendar-writer:connected-users", async () => (await db.CalendarConnections.AcrossTenants()
                .AsNoTracking()
                .Where(c => c.IsBookingConnection && synced.Contains(c.Provider) && c.ProtectedPassword != "")
                .Select(c => c.UserId)
                .Distinct()
                .ToListAsync(CancellationToken.None)).ToHashSet());
            if (!hostIds.Any(connected.Contains) && !linked.ContainsKey(booking.Id))
            {
                return;
            }
        }

        var connections = await db.CalendarConnections.AcrossTenants()
            .Where(c => hostIds.Contains(c.UserId) && c.IsBookingConnection && synced.Contains(c.Provider) && c.ProtectedPassword != "")
            .ToListAsync(cancellationToken);
        // Users who no longer host the booking (it was reassigned) still have its event: it leaves their calendars.
        var formerLinks = await db.BookingEventLinks
            .Where(l => l.BookingId == booking.Id && !l.Deleted && !hostIds.Contains(l.UserId))
            .ToListAsync(cancellationToken);
        if (connections.Count == 0 && formerLinks.Count == 0)
        {
            return;
        }

        var failures = new List<string>();
        foreach (var link in formerLinks)
        {
            var former = await db.CalendarConnections.AcrossTenants().FirstOrDefaultAsync(c => c.Id == link.ConnectionId, cancellationToken);
            try
            {
                await DeleteAsync(former, link, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (CalendarProviderException ex)
            {
                LogWriteFailed(logger, ex, booking.Id.ToString(), link.ConnectionId, ex.Message);
                failures.Add($"{link.ConnectionId}: {ex.Message}");
                await RecordWriteFailureAsync(link.ConnectionId, ex.Message, cancellationToken);
            }
        }

        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, cancellationToken);
        var customer = await db.Customers.AcrossTenants().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, cancellationToken);
        var owner = await db.Users.AcrossTenants().AsNoTracking().FirstAsync(u => u.Id == booking.OwnerId, cancellationToken);
        var meeting = await db.BookingConferencing.AsNoTracking().FirstOrDefaultAsync(m => m.BookingId == booking.Id, cancellationToken);
        var location = BookingLocation.For(page, booking, meeting, forCustomer: false);
        foreach (var connection in connections)
        {
            var link = await db.BookingEventLinks.FirstOrDefaultAsync(l => l.BookingId == booking.Id && l.UserId == connection.UserId, cancellationToken);
            try
            {
                if (booking.Status == BookingStatus.Canceled)
                {
                    await DeleteAsync(link is null ? null : await ConnectionOfAsync(link, connection, db, cancellationToken), link, cancellationToken);
                }
                else
                {
                    link = await WriteAsync(connection, link, booking, page.Title, page.Description, location, owner, customer, db, cancellationToken);
                }

                connection.RecordWriteSuccess();
                await db.SaveChangesAsync(cancellationToken);
                // A later message of this booking in the same batch must see that it now has an event to move or delete.
                linked?.TryAdd(booking.Id, true);
            }
            catch (Exception ex) when (ex is CalendarProviderException or ArgumentException)
            {
                // Logged with the service's answer (it is in the message) and shown in the connection's health.
                LogWriteFailed(logger, ex, booking.Id.ToString(), connection.Id, ex.Message);
                failures.Add($"{connection.Id}: {ex.Message}");
                await RecordWriteFailureAsync(connection.Id, ex.Message, cancellationToken);
            }
        }

        if (failures.Count > 0)
        {
            // The outbox retries the whole message; connections already written see their own ETag and skip or rewrite.
            throw new InvalidOperationException("Calendar write failed: " + string.Join("; ", failures));
        }
    }

    /// <summary>Within an outbox batch, the batch's bookings that have an event in some calendar (kept up to date by this writer).</summary>
    private static async Task<System.Collections.Concurrent.ConcurrentDictionary<Domain.BookingId, bool>?> LinkedInBatchAsync(RendezvousDbContext db,
        CancellationToken ct)
    {
        if (OutboxBatch.Current is not { } batch)
        {
            return null;
        }

        ct.ThrowIfCancellationRequested();
        return await batch.GetOrAddAsync("calendar-writer:linked", async () =>
        {
            var ids = batch.BookingIds();
            var withEvents = await db.BookingEventLinks.AsNoTracking()
                .Where(l => ids.Contains(l.BookingId) && !l.Deleted)
                .Select(l => l.BookingId)
                .Distinct()
                .ToListAsync(CancellationToken.None);
            return new System.Collections.Concurrent.ConcurrentDictionary<Domain.BookingId, bool>(withEvents.Select(id => KeyValuePair.Create(id, true)));
        });
    }

    private static async Task<CalendarConnection?> ConnectionOfAsync(BookingEventLink link, CalendarConnection current, RendezvousDbContext db,
        CancellationToken ct) =>
        link.ConnectionId == current.Id ? current : await db.CalendarConnections.AcrossTenants().FirstOrDefaultAsync(c => c.Id == link.ConnectionId, ct);

    private async Task<BookingEventLink> WriteAsync(CalendarConnection connection, BookingEventLink? link, Booking booking,
        string title, string? description, string? location, Domain.Organizations.User owner, Domain.Organizations.Customer customer,
        RendezvousDbContext db, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var tentative = booking.Status is BookingStatus.Requested or BookingStatus.AwaitingPayment;
        if (link is not null && !link.Deleted && (link.ConnectionId != connection.Id || link.CalendarUrl != connection.BookingCalendarUrl))
        {
            // The user's booking calendar changed since our last write: the event leaves the old calendar for the new one.
            await DeleteAsync(await ConnectionOfAsync(link, connection, db, ct), link, ct);
        }

        if (link is null)
        {
            link = new BookingEventLink
            {
                BookingId = booking.Id,
                UserId = connection.UserId,
                ConnectionId = connection.Id,
                CalendarUrl = connection.BookingCalendarUrl,
                Href = "",
                Sequence = -1,
                UpdatedAt = now,
            };
            db.BookingEventLinks.Add(link);
        }
        else if (!link.Deleted && link.WrittenStart == booking.Start && link.WrittenEnd == booking.End && link.ETag is not null)
        {
            // Already in the calendar as it is now (a retry, or an event that changes nothing there).
            return link;
        }

        // Written here before: the same item, conditionally on our last version unless it was deleted since.
        var previous = link.Href.Length > 0 && link.ConnectionId == connection.Id && link.CalendarUrl == connection.BookingCalendarUrl
            ? new WrittenItem(link.Href, link.Deleted ? null : link.ETag)
            : null;
        var sequence = link.Sequence + 1;
        var content = new BookingEventContent(booking.Id, $"{title}: {customer.Name}", description, location,
            booking.Start, booking.End, tentative, owner.Name, owner.Email, customer.Name, customer.Email, sequence, now);

        using var session = providers.Open(connection)
            ?? throw new InvalidOperationException($"Calendar connection {connection.Id} has no provider.");
        WrittenItem written;
        try
        {
            written = await session.UpsertBookingEventAsync(connection.BookingCalendarUrl, content, previous, ct);
        }
        finally
        {
            providers.Keep(connection, session);
        }

        link.ConnectionId = connection.Id;
        link.CalendarUrl = connection.BookingCalendarUrl;
        link.Href = written.ItemId;
        link.ETag = written.Version;
        link.Sequence = sequence;
        link.WrittenStart = booking.Start;
        link.WrittenEnd = booking.End;
        link.Deleted = false;
        link.UpdatedAt = now;
        return link;
    }

    /// <summary>Deletes a booking's event from the connection it was written to; with the connection gone there is nothing to delete.</summary>
    private async Task DeleteAsync(CalendarConnection? connection, BookingEventLink? link, CancellationToken ct)
    {
        if (link is null || link.Deleted)
        {
            return;
        }

        if (connection is not null && link.Href.Length > 0 && providers.Open(connection) is { } session)
        {
            using (session)
            {
                try
                {
                    await session.DeleteBookingEventAsync(link.CalendarUrl, new WrittenItem(link.Href, link.ETag), ct);
                }
                finally
                {
                    providers.Keep(connection, session);
                }
            }
        }

        link.Deleted = true;
        link.UpdatedAt = clock.GetCurrentInstant();
    }

    /// <summary>Shows a failed write in the connection's health, from a context of its own (the writer's may hold half-done changes).</summary>
    private async Task RecordWriteFailureAsync(Guid connectionId, string error, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var connection = await db.CalendarConnections.AcrossTenants().FirstOrDefaultAsync(c => c.Id == connectionId, ct);
        if (connection is null)
        {
            return;
        }

        connection.RecordWriteFailure(error, clock.GetCurrentInstant());
        await db.SaveChangesAsync(ct);
    }

    private sealed record RestoreRequest(Domain.BookingId BookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing booking {BookingId} to calendar connection {ConnectionId} failed: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string bookingId, Guid connectionId, string reason);
}

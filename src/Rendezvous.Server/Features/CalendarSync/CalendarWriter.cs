using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.Sync;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Calendars;
using Rendezvous.Server.Features.Conferencing;

namespace Rendezvous.Server.Features.CalendarSync;

/// <summary>
/// Writes bookings into their hosts' booking calendars (every panel member's), from the outbox. It always writes the
/// booking's current state, so it does not matter which event triggered it or how often it runs: the object name comes
/// from the booking id, creation uses If-None-Match and updates If-Match, and canceled bookings are deleted.
/// The ETag of each write is kept, so the sync worker recognises our own writes when they come back. When a booking has
/// been reassigned, its event is deleted from the calendars of users who no longer host it and written to the new
/// host's. Connections of providers that are not synced yet (Google, Exchange, ...) are left alone.
/// </summary>
public sealed partial class CalendarWriter(IServiceScopeFactory scopes, CalendarClients clients, IClock clock, ILogger<CalendarWriter> logger) : IOutboxHandler
{
    /// <summary>
    /// Asks for the booking to be written again as it is, for this handler only: a change made in the calendar was refused
    /// (the new time is taken), so the event must go back to the booking's time. Nothing else reacts to it.
    /// </summary>
    public const string RestoreType = "calendar.restore";

    public string Name => "calendar-writer";

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
        var booking = await db.Bookings.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(b => b.Id == bookingId, cancellationToken);
        if (booking is null)
        {
            return;
        }

        var hostIds = booking.Hosts.Select(h => h.UserId).ToList();
        var connections = await db.CalendarConnections.IgnoreQueryFilters()
            .Where(c => hostIds.Contains(c.UserId) && (c.Provider == CalendarProvider.CalDav || c.Provider == CalendarProvider.ICloud))
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
            var former = await db.CalendarConnections.IgnoreQueryFilters().FirstOrDefaultAsync(c => c.Id == link.ConnectionId, cancellationToken);
            try
            {
                if (former is not null)
                {
                    using var client = clients.For(former);
                    await DeleteAsync(client, link, cancellationToken);
                }
                else
                {
                    link.Deleted = true;
                }

                await db.SaveChangesAsync(cancellationToken);
            }
            catch (CalDavException ex)
            {
                LogWriteFailed(logger, ex, booking.Id.ToString(), link.ConnectionId, ex.Message);
                failures.Add($"{link.ConnectionId}: {ex.Message}");
                await RecordWriteFailureAsync(link.ConnectionId, ex.Message, cancellationToken);
            }
        }

        var page = await db.BookingPages.IgnoreQueryFilters().AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, cancellationToken);
        var customer = await db.Customers.IgnoreQueryFilters().AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, cancellationToken);
        var owner = await db.Users.IgnoreQueryFilters().AsNoTracking().FirstAsync(u => u.Id == booking.OwnerId, cancellationToken);
        var meeting = await db.BookingConferencing.AsNoTracking().FirstOrDefaultAsync(m => m.BookingId == booking.Id, cancellationToken);
        var location = BookingLocation.For(page, booking, meeting, forCustomer: false);
        foreach (var connection in connections)
        {
            var link = await db.BookingEventLinks.FirstOrDefaultAsync(l => l.BookingId == booking.Id && l.UserId == connection.UserId, cancellationToken);
            try
            {
                using var client = clients.For(connection);
                if (booking.Status == BookingStatus.Canceled)
                {
                    await DeleteAsync(client, link, cancellationToken);
                }
                else
                {
                    link = await WriteAsync(client, connection, link, booking, page.Title, page.Description, location, owner, customer, db, cancellationToken);
                }

                connection.RecordWriteSuccess();
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is CalDavException or ArgumentException)
            {
                // Logged with the server's answer (it is in the message) and shown in the connection's health.
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

    private async Task<BookingEventLink> WriteAsync(CalDavClient client, CalendarConnection connection, BookingEventLink? link, Booking booking,
        string title, string? description, string? location, Domain.Organizations.User owner, Domain.Organizations.Customer customer,
        RendezvousDbContext db, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var tentative = booking.Status is BookingStatus.Requested or BookingStatus.AwaitingPayment;
        if (link is null)
        {
            link = new BookingEventLink
            {
                BookingId = booking.Id,
                UserId = connection.UserId,
                ConnectionId = connection.Id,
                CalendarUrl = connection.BookingCalendarUrl,
                Href = CalDavHref.Combine(CalendarClients.HrefOf(connection.BookingCalendarUrl), BookingCalendarEvent.ResourceNameOf(booking.Id)),
                Sequence = -1,
                UpdatedAt = now,
            };
            db.BookingEventLinks.Add(link);
        }
        else if (!link.Deleted && link.WrittenStart == booking.Start && link.WrittenEnd == booking.End && link.ETag is not null
            && link.CalendarUrl == connection.BookingCalendarUrl && link.ConnectionId == connection.Id)
        {
            // Already in the calendar as it is now (a retry, or an event that changes nothing there).
            return link;
        }
        else if (link.CalendarUrl != connection.BookingCalendarUrl || link.ConnectionId != connection.Id)
        {
            await MoveToBookingCalendarAsync(client, connection, link, ct);
        }

        var sequence = link.Sequence + 1;
        var text = BookingCalendarEvent.Write(new BookingEventContent(booking.Id, $"{title}: {customer.Name}", description, location,
            booking.Start, booking.End, tentative, owner.Name, owner.Email, customer.Name, customer.Email, sequence, now));

        WriteResult result;
        if (link.ETag is null || link.Deleted)
        {
            result = await client.CreateObjectAsync(link.Href, text, ct);
            if (result.Outcome == WriteOutcome.PreconditionFailed)
            {
                // It exists already: an earlier attempt wrote it but did not live to record the ETag.
                result = await OverwriteAsync(client, link.Href, text, ct);
            }
        }
        else
        {
            result = await client.UpdateObjectAsync(link.Href, text, link.ETag, ct);
            if (result.Outcome is WriteOutcome.PreconditionFailed or WriteOutcome.NotFound)
            {
                // Changed (or removed) in the calendar since our last write: the booking is the source of truth.
                result = await OverwriteAsync(client, link.Href, text, ct);
            }
        }

        if (!result.Succeeded)
        {
            throw new CalDavProtocolException($"Writing {link.Href} ended as {result.Outcome}.");
        }

        link.ETag = result.ETag ?? await client.GetETagAsync(link.Href, ct);
        link.Sequence = sequence;
        link.WrittenStart = booking.Start;
        link.WrittenEnd = booking.End;
        link.Deleted = false;
        link.UpdatedAt = now;
        return link;
    }

    /// <summary>
    /// The user picked another booking calendar (or connected anew) since the event was written: the event leaves the
    /// old calendar when it is on this same server, and is written afresh into the booking calendar. Without this it
    /// would keep being updated where it was, never reaching the calendar the user now looks at.
    /// </summary>
    private static async Task MoveToBookingCalendarAsync(CalDavClient client, CalendarConnection connection, BookingEventLink link, CancellationToken ct)
    {
        var sameServer = link.ConnectionId == connection.Id
            && Uri.TryCreate(link.CalendarUrl, UriKind.Absolute, out var old) && Uri.TryCreate(connection.ServerUrl, UriKind.Absolute, out var server)
            && Uri.Compare(old, server, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) == 0;
        if (!link.Deleted && sameServer)
        {
            try
            {
                // Whatever is there now (gone already, or changed by the user since) is left as it is.
                await client.DeleteAsync(link.Href, link.ETag, ct);
            }
            catch (CalDavException ex) when (ex is not CalDavTransientException)
            {
                // The old calendar refuses (deleted, or no longer ours to write): the booking calendar matters more.
            }
        }

        link.ConnectionId = connection.Id;
        link.CalendarUrl = connection.BookingCalendarUrl;
        link.Href = CalDavHref.Combine(CalendarClients.HrefOf(connection.BookingCalendarUrl), BookingCalendarEvent.ResourceNameOf(link.BookingId));
        link.ETag = null;
        link.Deleted = false;
        link.PendingStart = null;
    }

    /// <summary>Shows a failed write in the connection's health, from a context of its own (the writer's may hold half-done changes).</summary>
    private async Task RecordWriteFailureAsync(Guid connectionId, string error, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var connection = await db.CalendarConnections.IgnoreQueryFilters().FirstOrDefaultAsync(c => c.Id == connectionId, ct);
        if (connection is null)
        {
            return;
        }

        connection.RecordWriteFailure(error, clock.GetCurrentInstant());
        await db.SaveChangesAsync(ct);
    }

    private static async Task<WriteResult> OverwriteAsync(CalDavClient client, string href, string text, CancellationToken ct)
    {
        var etag = await client.GetETagAsync(href, ct);
        return etag is null ? await client.CreateObjectAsync(href, text, ct) : await client.UpdateObjectAsync(href, text, etag, ct);
    }

    private async Task DeleteAsync(CalDavClient client, BookingEventLink? link, CancellationToken ct)
    {
        if (link is null || link.Deleted)
        {
            return;
        }

        var result = await client.DeleteAsync(link.Href, link.ETag, ct);
        if (result.Outcome == WriteOutcome.PreconditionFailed)
        {
            result = await client.DeleteAsync(link.Href, null, ct);
        }

        link.Deleted = true;
        link.UpdatedAt = clock.GetCurrentInstant();
    }

    private sealed record RestoreRequest(Domain.BookingId BookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing booking {BookingId} to calendar connection {ConnectionId} failed: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string bookingId, Guid connectionId, string reason);
}

using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Conferencing;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Conferencing;

namespace Rendezvous.Integrations.Conferencing;

/// <summary>
/// Keeps each booking's conferencing meeting in step with the booking, from the outbox (never inside the booking's
/// transaction). Like the calendar writer it works from the booking's current state, so the order and repetition of events
/// do not matter:
/// <list type="bullet">
/// <item>a Scheduled or Rescheduled booking of a page with a conferencing service gets one meeting, in its owner's account;</item>
/// <item>a move changes the meeting's time (a meeting deleted in the service is made again), except a quiet one (a
/// calendar move applied at its reminder with "changing the time updates the booking" off), which integrations never see;</item>
/// <item>a reassignment between pages of the same service (Zoom or GoTo Meeting) moves the meeting to the new owner: in
/// place where the service allows it, else by making it again in the new owner's account and deleting the old one;</item>
/// <item>a booking whose location was withheld by a reassignment keeps its meeting untouched (seed 001: not updated);</item>
/// <item>cancellation (and decline) deletes the meeting.</item>
/// </list>
/// Every step is recorded in <c>booking_conferencing</c> before and after the call, so a retry never makes a second meeting:
/// a create whose answer was lost is found again by the marker the meeting carries.
/// </summary>
public sealed partial class ConferencingHandler(
    IServiceScopeFactory scopes, IEnumerable<IConferencingClient> clients, IConferencingTokens tokens, IClock clock, ILogger<ConferencingHandler> logger)
    : IOutboxHandler
{
    private readonly Dictionary<ConferencingProvider, IConferencingClient> _clients = clients.ToDictionary(c => c.Provider);

    public string Name => "conferencing";

    public bool Handles(string type) => type.StartsWith("booking.", StringComparison.Ordinal);

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        var e = JsonSerializer.Deserialize<BookingEvent>(message.Payload, JsonDefaults.Options)!;
        // A quiet event is a move made in the host's calendar with "changing the time updates the booking" off, applied
        // when the next reminder came due: integrations, the conferencing meeting among them, are not updated (seed 000).
        if (e.Type is BookingEvent.Completed or BookingEvent.NoShow || e.Quiet)
        {
            return;
        }

        await ReconcileAsync(e.BookingId, cancellationToken);
    }

    /// <summary>Brings the booking's meeting in line with the booking. Throws (and records why) when a service call fails.</summary>
    public async Task ReconcileAsync(BookingId bookingId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        // Within an outbox batch the booking comes from the batch's one load of all its bookings.
        var booking = await OutboxBatch.FindBookingAsync(db, bookingId, ct);
        if (booking is null)
        {
            return;
        }

        var row = await db.BookingConferencing.FirstOrDefaultAsync(c => c.BookingId == bookingId, ct);
        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        try
        {
            await ReconcileAsync(db, booking, page, row, ct);
        }
        catch (ConferencingException ex)
        {
            LogFailed(logger, ex, booking.Id.ToString(), ex.Message);
            if (await db.BookingConferencing.FirstOrDefaultAsync(c => c.BookingId == bookingId, ct) is { } failed)
            {
                failed.LastError = ex.Message.Length > 1000 ? ex.Message[..1000] : ex.Message;
                failed.UpdatedAt = clock.GetCurrentInstant();
                await db.SaveChangesAsync(ct);
            }

            throw;
        }
    }

    private async Task ReconcileAsync(RendezvousDbContext db, Booking booking, BookingPage page, BookingConferencing? row, CancellationToken ct)
    {
        if (row is null && page.Conferencing is null)
        {
            // The common case: no conferencing service, and never a meeting.
            return;
        }

        var spec = new MeetingSpec(await TopicAsync(db, booking, page, ct), MarkerOf(booking.Id), booking.Start, booking.End);
        if (row is { PreviousMeetingId: { } previous, PreviousHostUserId: { } previousHost })
        {
            // Left over from moving the meeting by making it again: the old one goes.
            await ClientFor(row.Provider).DeleteAsync(await tokens.OpenAsync(previousHost, row.Provider, ct), previous, ct);
            row.PreviousMeetingId = null;
            row.PreviousHostUserId = null;
            await SaveAsync(db, row, ct);
        }

        if (booking.Status == BookingStatus.Canceled)
        {
            await DeleteAsync(db, row, spec, ct);
            return;
        }

        // Requests get their meeting once approved; completed meetings and no-shows are left as they are.
        if (booking.Status is not (BookingStatus.Scheduled or BookingStatus.Rescheduled))
        {
            return;
        }

        if (row is null || row.Deleted)
        {
            if (booking.LocationWithheld || page.Conferencing is not { } provider)
            {
                return;
            }

            if (row is null)
            {
                row = new BookingConferencing
                {
                    BookingId = booking.Id,
                    OrganizationId = booking.OrganizationId,
                    Provider = provider,
                    HostUserId = booking.OwnerId,
                    UpdatedAt = clock.GetCurrentInstant(),
                };
                db.BookingConferencing.Add(row);
            }
            else
            {
                row.Provider = provider;
                row.HostUserId = booking.OwnerId;
                row.Deleted = false;
                row.MeetingId = null;
                row.JoinUrl = null;
                row.CreateAttempts = 0;
            }

            await SaveAsync(db, row, ct);
        }

        // A withheld location means the meeting is no longer updated (seed 001); it is only removed on cancellation.
        if (booking.LocationWithheld)
        {
            return;
        }

        await EnsureCreatedAsync(db, row, spec, ct);

        if (row.HostUserId != booking.OwnerId && page.Conferencing == row.Provider
            && row.Provider is ConferencingProvider.Zoom or ConferencingProvider.GoToMeeting)
        {
            await TransferAsync(db, row, booking.OwnerId, spec, ct);
        }

        if (row.WrittenStart != booking.Start || row.WrittenEnd != booking.End)
        {
            var host = await tokens.OpenAsync(row.HostUserId, row.Provider, ct);
            if (!await ClientFor(row.Provider).UpdateTimeAsync(host, row.MeetingId!, spec, ct))
            {
                // Deleted in the service meanwhile: make it again.
                row.MeetingId = null;
                row.JoinUrl = null;
                row.CreateAttempts = 0;
                await SaveAsync(db, row, ct);
                await EnsureCreatedAsync(db, row, spec, ct);
            }

            row.WrittenStart = booking.Start;
            row.WrittenEnd = booking.End;
            await SaveAsync(db, row, ct);
        }
    }

    private async Task EnsureCreatedAsync(RendezvousDbContext db, BookingConferencing row, MeetingSpec spec, CancellationToken ct)
    {
        if (row.MeetingId is not null)
        {
            return;
        }

        var client = ClientFor(row.Provider);
        var host = await tokens.OpenAsync(row.HostUserId, row.Provider, ct);
        // An earlier try may have made the meeting and lost the answer: look before making another.
        var meeting = row.CreateAttempts > 0 ? await client.FindAsync(host, spec, ct) : null;
        if (meeting is null)
        {
            row.CreateAttempts++;
            await SaveAsync(db, row, ct);
            meeting = await client.CreateAsync(host, spec, ct);
        }

        row.MeetingId = meeting.MeetingId;
        row.JoinUrl = meeting.JoinUrl;
        row.WrittenStart = spec.Start;
        row.WrittenEnd = spec.End;
        row.LastError = null;
        await SaveAsync(db, row, ct);
    }

    private async Task TransferAsync(RendezvousDbContext db, BookingConferencing row, UserId newOwner, MeetingSpec spec, CancellationToken ct)
    {
        var client = ClientFor(row.Provider);
        var current = await tokens.OpenAsync(row.HostUserId, row.Provider, ct);
        var next = await tokens.OpenAsync(newOwner, row.Provider, ct);
        var outcome = await client.TransferAsync(current, next, row.MeetingId!, ct);
        if (outcome == TransferOutcome.Moved)
        {
            row.HostUserId = newOwner;
            await SaveAsync(db, row, ct);
            return;
        }

        // Made again in the new owner's account; the old meeting is deleted once the new one exists.
        row.PreviousMeetingId = outcome == TransferOutcome.Gone ? null : row.MeetingId;
        row.PreviousHostUserId = outcome == TransferOutcome.Gone ? null : row.HostUserId;
        row.HostUserId = newOwner;
        row.MeetingId = null;
        row.JoinUrl = null;
        row.CreateAttempts = 0;
        await SaveAsync(db, row, ct);
        await EnsureCreatedAsync(db, row, spec, ct);
        if (row is { PreviousMeetingId: { } previous, PreviousHostUserId: { } previousHost })
        {
            await client.DeleteAsync(await tokens.OpenAsync(previousHost, row.Provider, ct), previous, ct);
            row.PreviousMeetingId = null;
            row.PreviousHostUserId = null;
            await SaveAsync(db, row, ct);
        }
    }

    private async Task DeleteAsync(RendezvousDbContext db, BookingConferencing? row, MeetingSpec spec, CancellationToken ct)
    {
        if (row is null || row.Deleted)
        {
            return;
        }

        var client = ClientFor(row.Provider);
        var host = await tokens.OpenAsync(row.HostUserId, row.Provider, ct);
        var meetingId = row.MeetingId ?? (row.CreateAttempts > 0 ? (await client.FindAsync(host, spec, ct))?.MeetingId : null);
        if (meetingId is not null)
        {
            await client.DeleteAsync(host, meetingId, ct);
        }

        row.Deleted = true;
        row.LastError = null;
        await SaveAsync(db, row, ct);
    }

    private IConferencingClient ClientFor(ConferencingProvider provider) =>
        _clients.TryGetValue(provider, out var client) ? client : throw new ConferencingException($"No client for {provider}.");

    private async Task SaveAsync(RendezvousDbContext db, BookingConferencing row, CancellationToken ct)
    {
        row.UpdatedAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
    }

    private static async Task<string> TopicAsync(RendezvousDbContext db, Booking booking, BookingPage page, CancellationToken ct)
    {
        var customer = await db.Customers.AcrossTenants().AsNoTracking().Where(c => c.Id == booking.CustomerId).Select(c => c.Name).FirstOrDefaultAsync(ct);
        return customer is null ? page.Title : $"{page.Title} with {customer}";
    }

    /// <summary>The text every meeting of a booking carries so it can be found again: "rdv:" and the booking id.</summary>
    public static string MarkerOf(BookingId id) => "rdv:" + id.Value.ToString("N");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conferencing for booking {BookingId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string bookingId, string reason);
}

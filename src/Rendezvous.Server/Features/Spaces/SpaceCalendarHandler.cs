using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Calendars.Providers;
using Rendezvous.Calendars.Sync;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Serialization;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;
using Rendezvous.Domain.Spaces;
using Rendezvous.Server.Features.CalendarSync;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>
/// On confirmation, puts the event on the organizer's calendar when they are a user with a calendar connection (and the
/// space says so); otherwise on the fallback user's calendar when the space names one; otherwise nowhere here, and the
/// event is on the resource calendar alone (written by the transports). Canceling or declining a confirmed request
/// removes what was written; setting it back to tentative leaves it, as on the resource calendar. The write is keyed by
/// the request, so a retry updates the same event.
/// </summary>
public sealed class SpaceCalendarHandler(IServiceScopeFactory scopes, CalendarProviders providers, IClock clock) : IOutboxHandler
{
    public string Name => "space-calendars";

    public bool Handles(string type) => type is SpaceEvent.RequestConfirmed or SpaceEvent.RequestCanceled or SpaceEvent.RequestDeclined;

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var e = JsonSerializer.Deserialize<SpaceEvent>(message.Payload, JsonDefaults.Options)!;
        if (e.RequestId is not { } requestId)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var request = await db.SpaceRequests.AcrossTenants().FirstOrDefaultAsync(r => r.Id == requestId, cancellationToken);
        var space = request is null ? null : await db.Spaces.AcrossTenants().FirstOrDefaultAsync(s => s.Id == request.SpaceId, cancellationToken);
        if (request is null || space is null)
        {
            return;
        }

        if (request.State == SpaceRequestState.Confirmed)
        {
            await WriteAsync(db, request, space, cancellationToken);
        }
        else if (SpaceRules.IsClosed(request.State) && request.OrganizerCalendarHref is { } href && request.OrganizerCalendarConnectionId is { } connectionId)
        {
            var connection = await db.CalendarConnections.AcrossTenants().FirstOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
            if (connection is not null && providers.Open(connection) is { } session)
            {
                await session.DeleteBookingEventAsync(connection.BookingCalendarUrl, new WrittenItem(href, request.OrganizerCalendarETag), cancellationToken);
                providers.Keep(connection, session);
            }

            request.OrganizerCalendarHref = null;
            request.OrganizerCalendarETag = null;
            request.OnOrganizerCalendar = false;
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private async Task WriteAsync(RendezvousDbContext db, SpaceRequest request, Space space, CancellationToken ct)
    {
        var connection = await ConnectionAsync(db, space.WriteToOrganizerCalendar ? request.OrganizerUserId : null, ct)
            ?? await ConnectionAsync(db, space.FallbackCalendarUserId, ct);
        if (connection is null || providers.Open(connection) is not { } session)
        {
            // Nobody's calendar is known: the event lives on the resource calendar alone.
            return;
        }

        var previous = request.OrganizerCalendarConnectionId == connection.Id && request.OrganizerCalendarHref is { } href
            ? new WrittenItem(href, request.OrganizerCalendarETag)
            : null;
        var written = await session.UpsertBookingEventAsync(connection.BookingCalendarUrl, new BookingEventContent(
            new BookingId(request.Id), request.Summary, $"{space.Name} ({space.TimeZoneId})", space.Name, request.Start, request.End, false,
            request.OrganizerName ?? request.OrganizerEmail, request.OrganizerEmail, space.Name,
            SpaceResourceEmail(space) ?? request.OrganizerEmail, request.Sequence, clock.GetCurrentInstant()), previous, ct);
        providers.Keep(connection, session);
        request.OrganizerCalendarConnectionId = connection.Id;
        request.OrganizerCalendarHref = written.ItemId;
        request.OrganizerCalendarETag = written.Version;
        request.OnOrganizerCalendar = true;
        await db.SaveChangesAsync(ct);
    }

    private static Task<CalendarConnection?> ConnectionAsync(RendezvousDbContext db, UserId? userId, CancellationToken ct) =>
        userId is null
            ? Task.FromResult<CalendarConnection?>(null)
            : db.CalendarConnections.AcrossTenants()
                .Where(c => c.UserId == userId && c.BookingCalendarUrl != "" && c.Health != ConnectionHealth.Error)
                .OrderBy(c => c.Id)
                .FirstOrDefaultAsync(ct);

    /// <summary>The resource's email address, when its calendar is reached by one (room mailbox, iMIP, mailto: calendar user).</summary>
    private static string? SpaceResourceEmail(Space space) => space.ResourceCalendarAddress switch
    {
        { } a when a.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) => a[7..],
        { } a when a.Contains('@', StringComparison.Ordinal) && !a.Contains('/', StringComparison.Ordinal) => a,
        _ => null,
    };
}

using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.CalendarConnections;

/// <summary>
/// Connecting a calendar and changing a connection: the one implementation the API endpoints and the calendar
/// connection page both call. The checks are <see cref="CalendarConnectionsEndpoints.ValidateAsync"/>; a failure comes
/// back as a result for each caller to show its own way.
/// </summary>
public sealed class CalendarConnectionService(RendezvousDbContext db, Secrets secrets, IClock clock, Rendezvous.Calendars.Ews.EwsAutodiscover autodiscover)
{
    /// <summary>
    /// An Exchange connection named without its EWS URL: Autodiscover finds it from the mailbox's email address (the
    /// user name, or <see cref="CalendarConnectionRequest.ExchangeMailbox"/>). Other requests pass unchanged.
    /// </summary>
    public async Task<Result<CalendarConnectionRequest>> AutodiscoverAsync(CalendarConnectionRequest request, CancellationToken ct)
    {
        if (!string.Equals(request.Provider, "exchange", StringComparison.OrdinalIgnoreCase) || !string.IsNullOrWhiteSpace(request.Url)
            || string.IsNullOrEmpty(request.Password) || string.IsNullOrWhiteSpace(request.Username))
        {
            return request;
        }

        var email = request.ExchangeMailbox is { Length: > 0 } mailbox ? mailbox : request.Username;
        if (!email.Contains('@', StringComparison.Ordinal))
        {
            return DomainError.Validation("url", "is required when the user name is not an email address (Autodiscover needs one)");
        }

        try
        {
            var found = await autodiscover.FindEwsUrlAsync(email, request.Username.Trim(), request.Password, ct);
            return request with { Url = found.ToString() };
        }
        catch (Rendezvous.Calendars.Ews.EwsException ex)
        {
            return DomainError.Validation(ex.Kind == Rendezvous.Calendars.Ews.EwsErrorKind.AccessDenied ? "password" : "url", ex.Message);
        }
    }

    /// <summary>
    /// A new connection. The user's first connection receives the bookings; a later one only when the request marks it
    /// as the booking connection.
    /// </summary>
    public async Task<Result<CalendarConnection>> CreateAsync(CurrentUser me, CalendarConnectionRequest request, CancellationToken ct)
    {
        var discovered = await AutodiscoverAsync(request, ct);
        if (!discovered.IsSuccess)
        {
            return discovered.Error!;
        }

        request = discovered.Value;
        var input = await CalendarConnectionsEndpoints.ValidateAsync(request, null, me, db, ct);
        if (!input.IsSuccess)
        {
            return input.Error!;
        }

        var v = input.Value;
        var existing = await db.CalendarConnections.Where(c => c.UserId == v.UserId).ToListAsync(ct);
        if (existing.Any(c => c.Provider == v.Provider && c.ServerUrl == v.Url && string.Equals(c.Username, v.Username, StringComparison.OrdinalIgnoreCase)))
        {
            return DomainError.Conflict("already_connected", "This account is already connected for this user; add calendars to that connection instead.");
        }

        if (existing.Count >= CalendarConnectionsEndpoints.MaxConnectionsPerUser)
        {
            return DomainError.Conflict("too_many_connections",
                $"A user may have at most {CalendarConnectionsEndpoints.MaxConnectionsPerUser} calendar connections.");
        }

        var connection = new CalendarConnection(Guid.CreateVersion7(), me.OrganizationId, v.UserId, CalendarKind.CalDav, v.Url, v.Username,
            v.Password is null ? "" : secrets.ProtectCalendarPassword(v.Password), v.BookingCalendarUrl, v.Additional, request.CancelBookingOnDelete ?? false,
            request.UpdateBookingOnMove ?? false, clock.GetCurrentInstant());
        connection.SetProvider(v.Provider);
        if (v.ProviderState is not null)
        {
            connection.UpdateAccount(null, v.ProviderState);
        }

        var makeBooking = existing.Count == 0 || request.IsBookingConnection == true;
        connection.SetBookingConnection(false);
        db.CalendarConnections.Add(connection);
        var saved = await CalendarConnectionsEndpoints.SaveAsBookingConnectionAsync(db, connection, makeBooking, ct);
        return saved is null ? connection : Result<CalendarConnection>.Failure(saved);
    }

    /// <summary>
    /// Changes what the request names (null toggles keep their value; a null password keeps the stored one). A connection
    /// stops being the booking connection only by marking another one.
    /// </summary>
    public async Task<Result<CalendarConnection>> UpdateAsync(CurrentUser me, CalendarConnection connection, CalendarConnectionRequest request,
        CancellationToken ct)
    {
        var input = await CalendarConnectionsEndpoints.ValidateAsync(request with { UserId = connection.UserId.ToString() }, connection, me, db, ct);
        if (!input.IsSuccess)
        {
            return input.Error!;
        }

        var v = input.Value;
        if (request.IsBookingConnection == false && connection.IsBookingConnection)
        {
            return DomainError.Validation("isBookingConnection",
                "bookings go to exactly one connection: mark another connection as the booking connection instead");
        }

        connection.Update(v.Url, v.Username, v.Password is null ? null : secrets.ProtectCalendarPassword(v.Password), v.BookingCalendarUrl,
            v.Additional, request.CancelBookingOnDelete ?? connection.CancelBookingOnDelete, request.UpdateBookingOnMove ?? connection.UpdateBookingOnMove,
            clock.GetCurrentInstant());
        connection.SetProvider(v.Provider);
        if (v.ProviderState is not null)
        {
            connection.UpdateAccount(null, v.ProviderState);
        }

        var saved = await CalendarConnectionsEndpoints.SaveAsBookingConnectionAsync(db, connection, request.IsBookingConnection == true, ct);
        return saved is null ? connection : Result<CalendarConnection>.Failure(saved);
    }
}

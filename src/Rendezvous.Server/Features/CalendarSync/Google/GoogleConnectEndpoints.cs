using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Calendars.Google;
using Rendezvous.Calendars.Providers;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;
using Rendezvous.Server.Features.CalendarConnections;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.CalendarSync.Google;

public sealed record GoogleAuthorizeResponse(string AuthorizationUrl, string ExpiresAt);

public sealed record ProviderCalendarResponse(string Id, string Name, bool CanWrite);

/// <summary>
/// Connecting Google Calendar with OAuth 2.0 (https://developers.google.com/identity/protocols/oauth2/web-server):
/// <c>GET /calendar-connections/google/authorize</c> gives the consent URL, Google sends the browser back to
/// <c>/calendar-connections/google/callback</c> with a code, and the connection is created (or, for a connection that
/// needs reconnecting, renewed) with the refresh token encrypted at rest. <c>GET /calendar-connections/{id}/calendars</c>
/// lists the account's calendars to pick the booking calendar and additional calendars from.
/// </summary>
public static class GoogleConnectEndpoints
{
    private const string StatePurpose = "Rendezvous.GoogleCalendar.OAuthState.v1";
    private static readonly Duration StateLifetime = Duration.FromMinutes(15);

    public static void MapGoogleConnect(IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/calendar-connections").WithTags("Calendar connections");
        group.MapGet("/google/authorize", AuthorizeAsync);
        group.MapGet("/google/callback", CallbackAsync).AllowAnonymous();
        group.MapGet("/{id}/calendars", CalendarsAsync);
    }

    /// <summary>What the state parameter carries through Google and back, encrypted and authenticated.</summary>
    internal sealed record OAuthState(Guid OrganizationId, Guid UserId, bool CancelOnDelete, bool UpdateOnMove, string? ReturnUrl, long ExpiresAtMs);

    private static async Task<Results<Ok<GoogleAuthorizeResponse>, ProblemHttpResult>> AuthorizeAsync(
        string? userId, bool? cancelBookingOnDelete, bool? updateBookingOnMove, string? returnUrl, RendezvousDbContext db, IOptions<GoogleSettings> settings,
        IOptions<PublicUrlOptions> urls, GoogleCalendarProvider provider, IDataProtectionProvider protection, IClock clock, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var user = userId is null ? await db.Users.FirstOrDefaultAsync(u => u.Id == me.Id, ct) : await UsersEndpoints.FindAsync(db, userId, ct);
        if (user is null)
        {
            return Problems.Validation("userId", "is not a user of this organization");
        }

        if (!me.IsAdministrator && user.Id != me.Id)
        {
            return Problems.From(new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only connect their own calendar."));
        }

        if (returnUrl is not null && !IsLocal(returnUrl))
        {
            return Problems.Validation("returnUrl", "must be a path on this server");
        }

        if (!settings.Value.IsConfigured)
        {
            return Problems.From(DomainError.Conflict("google_not_configured",
                "This server has no Google OAuth client configured (Rendezvous:Google:ClientId and ClientSecret); ask its operator."));
        }

        // Another Google connection of the user (to reconnect it) lends its toggles and account as defaults.
        var existing = await db.CalendarConnections.Where(c => c.UserId == user.Id && c.Provider == CalendarProvider.Google)
            .OrderByDescending(c => c.IsBookingConnection).FirstOrDefaultAsync(ct);
        var (uri, expires) = ConsentUri(me.OrganizationId, user.Id, cancelBookingOnDelete ?? existing?.CancelBookingOnDelete ?? false,
            updateBookingOnMove ?? existing?.UpdateBookingOnMove ?? false, returnUrl, existing?.Username is { Length: > 0 } hint ? hint : user.Email,
            settings.Value, urls.Value, provider, protection, clock);
        return TypedResults.Ok(new GoogleAuthorizeResponse(uri.ToString(), ApiFormat.Format(expires)));
    }

    /// <summary>Google's consent URL for connecting <paramref name="userId"/>'s calendar, with our encrypted state (the web app uses it too).</summary>
    public static (Uri Uri, Instant ExpiresAt) ConsentUri(OrganizationId organizationId, UserId userId, bool cancelOnDelete, bool updateOnMove,
        string? returnUrl, string? loginHint, GoogleSettings settings, PublicUrlOptions urls, GoogleCalendarProvider provider,
        IDataProtectionProvider protection, IClock clock)
    {
        var expires = clock.GetCurrentInstant() + StateLifetime;
        var state = new OAuthState(organizationId.Value, userId.Value, cancelOnDelete, updateOnMove, returnUrl, expires.ToUnixTimeMilliseconds());
        var protectedState = protection.CreateProtector(StatePurpose).Protect(JsonSerializer.Serialize(state));
        return (provider.OAuth.AuthorizationUri(RedirectUri(settings, urls), protectedState, loginHint), expires);
    }

    /// <summary>
    /// Where Google sends the browser back. Anonymous by necessity; it acts only with a state we issued (encrypted,
    /// authenticated, fifteen minutes) and a code Google accepts for our client.
    /// </summary>
    private static async Task<IResult> CallbackAsync(string? code, string? state, string? error, RendezvousDbContext db, IOptions<GoogleSettings> settings,
        IOptions<PublicUrlOptions> urls, GoogleCalendarProvider provider, IDataProtectionProvider protection, Secrets secrets, IClock clock, CancellationToken ct)
    {
        OAuthState? s;
        try
        {
            s = state is null ? null : JsonSerializer.Deserialize<OAuthState>(protection.CreateProtector(StatePurpose).Unprotect(state));
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException)
        {
            s = null;
        }

        var now = clock.GetCurrentInstant();
        if (s is null || Instant.FromUnixTimeMilliseconds(s.ExpiresAtMs) < now)
        {
            return Problems.Validation("state", "is not a connection request of this server, or it expired: start connecting again");
        }

        if (error is not null || string.IsNullOrEmpty(code))
        {
            return Back(s, "denied") ?? Problems.From(DomainError.Conflict("google_access_denied", "Google Calendar access was not granted."));
        }

        GoogleTokens tokens;
        string email;
        try
        {
            tokens = await provider.OAuth.ExchangeCodeAsync(code, RedirectUri(settings.Value, urls.Value), ct);
            var primary = await provider.ClientFor(tokens.AccessToken).GetPrimaryCalendarAsync(ct);
            email = primary?.Id ?? throw new GoogleApiException(0, null, "Google answered without the primary calendar.");
        }
        catch (Exception ex) when (ex is GoogleApiException or GoogleGrantRevokedException)
        {
            return Back(s, "failed") ?? Problems.From(DomainError.Conflict("google_connect_failed", "Connecting Google Calendar failed: " + ex.Message));
        }

        if (tokens.RefreshToken is not { Length: > 0 } refreshToken)
        {
            return Back(s, "failed") ?? Problems.From(DomainError.Conflict("google_connect_failed",
                "Google handed out no refresh token; remove Rendezvous from the account's third-party access and connect again."));
        }

        db.TenantId = new OrganizationId(s.OrganizationId);
        var userId = new UserId(s.UserId);
        var all = await db.CalendarConnections.Where(c => c.UserId == userId).ToListAsync(ct);
        // The same Google account connected again (after a revoked grant) renews that connection; so does a Google
        // connection that was only recorded (for the reassignment rules) without a grant.
        var connection = all.FirstOrDefault(c => c.Provider == CalendarProvider.Google && string.Equals(c.Username, email, StringComparison.OrdinalIgnoreCase))
            ?? all.FirstOrDefault(c => c.Provider == CalendarProvider.Google && c.ProtectedPassword.Length == 0);
        if (connection is null)
        {
            if (all.Count >= CalendarConnectionsEndpoints.MaxConnectionsPerUser)
            {
                return Back(s, "failed") ?? Problems.From(DomainError.Conflict("too_many_connections",
                    $"A user may have at most {CalendarConnectionsEndpoints.MaxConnectionsPerUser} calendar connections."));
            }

            connection = new CalendarConnection(Guid.CreateVersion7(), new OrganizationId(s.OrganizationId), userId, CalendarKind.CalDav,
                settings.Value.ApiBaseUrl.ToString(), email, secrets.ProtectCalendarPassword(refreshToken), email, [], s.CancelOnDelete, s.UpdateOnMove, now);
            connection.SetProvider(CalendarProvider.Google);
            connection.SetBookingConnection(false);
            db.CalendarConnections.Add(connection);
        }
        else
        {
            var sameAccount = string.Equals(connection.Username, email, StringComparison.OrdinalIgnoreCase);
            connection.Update(settings.Value.ApiBaseUrl.ToString(), email, secrets.ProtectCalendarPassword(refreshToken),
                sameAccount && connection.BookingCalendarUrl.Length > 0 ? connection.BookingCalendarUrl : email,
                sameAccount ? connection.AdditionalCalendarUrls : [], s.CancelOnDelete, s.UpdateOnMove, now);
            connection.Reconnected(now);
            provider.Forget(connection.Id);
        }

        // The user's first connection receives the bookings; a later one is read for busy time until made the booking one.
        var saved = await CalendarConnectionsEndpoints.SaveAsBookingConnectionAsync(db, connection, makeBooking: all.Count == 0 || connection.IsBookingConnection, ct);
        if (saved is not null)
        {
            return Back(s, "failed") ?? Problems.From(saved);
        }

        return Back(s, "connected") ?? TypedResults.Ok(CalendarConnectionsEndpoints.ToResponse(connection));
    }

    private static async Task<Results<Ok<ProviderCalendarResponse[]>, ProblemHttpResult>> CalendarsAsync(
        string id, RendezvousDbContext db, CalendarProviders providers, HttpContext http, CancellationToken ct)
    {
        var found = await Owned.FindAsync(id, "Calendar connection", guid => db.CalendarConnections.FirstOrDefaultAsync(x => x.Id == guid, ct),
            x => x.UserId, CurrentUser.From(http.User));
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var connection = found.Value;
        if (!connection.IsSynced || providers.Open(connection) is not { } session)
        {
            return Problems.From(DomainError.Conflict("not_synced", "This connection is not synced, so its calendars cannot be listed."));
        }

        try
        {
            using (session)
            {
                var calendars = await session.ListCalendarsAsync(ct);
                providers.Keep(connection, session);
                await db.SaveChangesAsync(ct);
                return TypedResults.Ok(calendars.Select(c => new ProviderCalendarResponse(c.Id, c.Name, c.CanWrite)).ToArray());
            }
        }
        catch (CalendarProviderException ex)
        {
            return Problems.From(DomainError.Conflict("calendar_unreachable", "The calendar service could not list the calendars: " + ex.Message));
        }
    }

    private static Uri RedirectUri(GoogleSettings settings, PublicUrlOptions urls) =>
        new(settings.RedirectUri ?? urls.PublicBaseUrl.TrimEnd('/') + "/api/v1/calendar-connections/google/callback");

    private static bool IsLocal(string url) => url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal);

    private static IResult? Back(OAuthState state, string outcome) =>
        state.ReturnUrl is { } url ? TypedResults.Redirect(url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "google=" + outcome) : null;
}

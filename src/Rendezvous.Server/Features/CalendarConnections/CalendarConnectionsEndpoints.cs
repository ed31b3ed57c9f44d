using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.CalendarConnections;

public sealed record CalendarConnectionRequest(
    string? UserId,
    string? Kind,
    string? Url,
    string? Username,
    string? Password,
    string? BookingCalendarUrl,
    IReadOnlyList<string>? AdditionalCalendarUrls,
    bool? CancelBookingOnDelete,
    bool? UpdateBookingOnMove,
    string? Provider = null,
    bool? IsBookingConnection = null,
    string? ExchangeMailbox = null,
    bool? ExchangeImpersonation = null,
    string? ExchangeAuth = null);

/// <summary>A connection as the API shows it. The password is never returned.</summary>
public sealed record CalendarConnectionResponse(
    string Id,
    string UserId,
    string Kind,
    string Url,
    string Username,
    string BookingCalendarUrl,
    string[] AdditionalCalendarUrls,
    bool CancelBookingOnDelete,
    bool UpdateBookingOnMove,
    string Health,
    bool CanAcceptBookings,
    int ConsecutiveFailures,
    string? LastError,
    string? LastSuccessAt,
    string? LastFailureAt,
    string CreatedAt,
    string Provider,
    bool Synced,
    bool IsBookingConnection,
    string? LastWriteError = null,
    string? LastWriteFailureAt = null,
    bool NeedsReconnecting = false);

/// <summary>
/// Calendar connections: a user may have several (say Microsoft 365 and a CalDAV server), each with a booking calendar
/// and any additional calendars. Every calendar of every connection counts as busy time; exactly one connection of the
/// user is the <em>booking connection</em>, whose booking calendar receives the bookings (its moves and deletions are the
/// ones that count). The first connection becomes it; marking another unmarks the old one; deleting it promotes the
/// oldest remaining one. The database allows at most one per user (a partial unique index).
/// Members manage their own; administrators see and manage everyone's. <c>provider</c> names the calendar service
/// (<c>caldav</c>, the default, <c>icloud</c>, <c>google</c>, <c>exchange</c>, <c>office365</c>, <c>outlook</c>); only CalDAV
/// and iCloud connections are synced today (the kind is "caldav" for both). The others are recorded, so the reassignment
/// rules can tell which calendar a page is connected to, but not synced yet; for them the server details are optional.
/// </summary>
public static class CalendarConnectionsEndpoints
{
    public const int MaxAdditionalCalendars = 20;

    /// <summary>Connections one user may have.</summary>
    public const int MaxConnectionsPerUser = 10;

    private static readonly Dictionary<string, CalendarProvider> Providers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["caldav"] = CalendarProvider.CalDav,
        ["icloud"] = CalendarProvider.ICloud,
        ["google"] = CalendarProvider.Google,
        ["exchange"] = CalendarProvider.Exchange,
        ["office365"] = CalendarProvider.Office365,
        ["outlook"] = CalendarProvider.Outlook,
    };

    /// <summary>The API name of a provider ("caldav", "icloud", "google", ...).</summary>
    public static string ProviderName(CalendarProvider provider) => Providers.First(kv => kv.Value == provider).Key;

    public static void MapCalendarConnections(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/calendar-connections").WithTags("Calendar connections");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPut("/{id}", UpdateAsync);
        group.MapDelete("/{id}", DeleteAsync);
    }

    public static CalendarConnectionResponse ToResponse(CalendarConnection c) => new(
        c.Id.ToString(), c.UserId.ToString(), "caldav", c.ServerUrl, c.Username, c.BookingCalendarUrl, [.. c.AdditionalCalendarUrls],
        c.CancelBookingOnDelete, c.UpdateBookingOnMove, c.Health.ToString().ToLowerInvariant(), c.CanAcceptBookings, c.ConsecutiveFailures,
        c.LastError, c.LastSuccessAt is { } s ? ApiFormat.Format(s) : null, c.LastFailureAt is { } f ? ApiFormat.Format(f) : null,
        ApiFormat.Format(c.CreatedAt), ProviderName(c.Provider), c.IsSynced, c.IsBookingConnection, c.LastWriteError,
        c.LastWriteFailureAt is { } w ? ApiFormat.Format(w) : null, c.NeedsReconnecting);

    private static async Task<Results<Created<CalendarConnectionResponse>, ProblemHttpResult>> CreateAsync(
        CalendarConnectionRequest request, CalendarConnectionService connections, HttpContext http, CancellationToken ct)
    {
        var created = await connections.CreateAsync(CurrentUser.From(http.User), request, ct);
        return created.IsSuccess
            ? TypedResults.Created($"/api/v1/calendar-connections/{created.Value.Id}", ToResponse(created.Value))
            : Problems.From(created.Error!);
    }

    /// <summary>
    /// Saves the pending changes and, when <paramref name="makeBooking"/>, makes <paramref name="connection"/> the user's
    /// booking connection, unmarking the previous one first (the unique index is checked per statement). Returns a
    /// conflict when a concurrent request marked another one meanwhile.
    /// </summary>
    public static async Task<DomainError?> SaveAsBookingConnectionAsync(RendezvousDbContext db, CalendarConnection connection, bool makeBooking,
        CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        try
        {
            await db.SaveChangesAsync(ct);
            if (makeBooking && !connection.IsBookingConnection)
            {
                await db.CalendarConnections.AcrossTenants()
                    .Where(c => c.UserId == connection.UserId && c.Id != connection.Id && c.IsBookingConnection)
                    .ExecuteUpdateAsync(u => u.SetProperty(c => c.IsBookingConnection, false), ct);
                connection.SetBookingConnection(true);
                // A new booking calendar: bookings are written there on their next change, and it syncs at once.
                await db.SaveChangesAsync(ct);
            }

            await tx.CommitAsync(ct);
            return null;
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            await tx.RollbackAsync(ct);
            return DomainError.Conflict("booking_connection_changed", "Another request changed this user's booking connection at the same time; try again.");
        }
    }

    /// <summary>Deletes a connection; when it was the booking connection, the oldest remaining one takes over.</summary>
    public static async Task DeleteConnectionAsync(RendezvousDbContext db, CalendarConnection connection, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.CalendarConnections.Remove(connection);
        await db.SaveChangesAsync(ct);
        if (connection.IsBookingConnection)
        {
            var next = await db.CalendarConnections.AcrossTenants()
                .Where(c => c.UserId == connection.UserId).OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).FirstOrDefaultAsync(ct);
            next?.SetBookingConnection(true);
            await db.SaveChangesAsync(ct);
        }

        await tx.CommitAsync(ct);
    }

    private static async Task<Ok<CalendarConnectionResponse[]>> ListAsync(RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var all = await db.CalendarConnections.AsNoTracking()
            .Where(c => me.IsAdministrator || c.UserId == me.Id)
            .OrderBy(c => c.CreatedAt)
            .ToListAsync(ct);
        return TypedResults.Ok(all.Select(ToResponse).ToArray());
    }

    private static async Task<Results<Ok<CalendarConnectionResponse>, ProblemHttpResult>> GetAsync(
        string id, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var found = await FindAsync(id, db, CurrentUser.From(http.User), ct);
        return found.IsSuccess ? TypedResults.Ok(ToResponse(found.Value)) : Problems.From(found.Error!);
    }

    private static async Task<Results<Ok<CalendarConnectionResponse>, ProblemHttpResult>> UpdateAsync(
        string id, CalendarConnectionRequest request, RendezvousDbContext db, CalendarConnectionService connections, HttpContext http,
        CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var found = await FindAsync(id, db, me, ct);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var updated = await connections.UpdateAsync(me, found.Value, request, ct);
        return updated.IsSuccess ? TypedResults.Ok(ToResponse(updated.Value)) : Problems.From(updated.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, RendezvousDbContext db, CalendarSync.CalendarProviders providers,
        HttpContext http, CancellationToken ct)
    {
        var found = await FindAsync(id, db, CurrentUser.From(http.User), ct);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        await CalendarSync.CalendarPushStop.StopAllAsync(found.Value, db, providers, ct);
        await DeleteConnectionAsync(db, found.Value, ct);
        return TypedResults.NoContent();
    }

    private static Task<Result<CalendarConnection>> FindAsync(string id, RendezvousDbContext db, CurrentUser me, CancellationToken ct) =>
        Owned.FindAsync(id, "Calendar connection", guid => db.CalendarConnections.FirstOrDefaultAsync(x => x.Id == guid, ct), x => x.UserId, me);

    internal sealed record Valid(UserId UserId, string Url, string Username, string? Password, string BookingCalendarUrl, List<string> Additional,
        CalendarProvider Provider, string? ProviderState = null);

    internal static async Task<Result<Valid>> ValidateAsync(CalendarConnectionRequest r, CalendarConnection? existing, CurrentUser me,
        RendezvousDbContext db, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var userId = me.Id;
        if (r.UserId is not null)
        {
            var user = await UsersEndpoints.FindAsync(db, r.UserId, ct);
            if (user is null)
            {
                errors.Add(new("userId", "is not a user of this organization"));
            }
            else
            {
                userId = user.Id;
            }
        }

        if (r.Kind is not null && !string.Equals(r.Kind, "caldav", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(new("kind", "must be caldav (Exchange/Office 365 and Google come later)"));
        }

        var provider = existing?.Provider ?? CalendarProvider.CalDav;
        if (r.Provider is not null && !Providers.TryGetValue(r.Provider, out provider))
        {
            errors.Add(new("provider", "must be caldav, icloud, google, exchange, office365 or outlook"));
        }

        if (provider == CalendarProvider.Google)
        {
            return ValidateGoogle(r, existing, userId, me, errors);
        }

        if (CalendarConnection.IsOAuthProvider(provider) && errors.Count == 0)
        {
            return ValidateOAuth(r, existing, me, userId, provider);
        }

        if (provider == CalendarProvider.Exchange)
        {
            return ValidateExchange(r, existing, userId, me, errors);
        }

        // Providers that are not synced yet are recorded without server details unless some are given.
        var synced = CalendarConnection.IsSyncedProvider(provider);
        var detailsGiven = synced || r.Url is not null || r.Username is not null || r.BookingCalendarUrl is not null;
        var url = AbsoluteHttp(r.Url);
        if (url is null && detailsGiven)
        {
            errors.Add(new("url", "must be an absolute http or https URL of the CalDAV server"));
        }

        var username = "";
        if (detailsGiven && !ApiFormat.TryText(r.Username, 200, out username))
        {
            errors.Add(new("username", "is required (1-200 characters)"));
        }

        var hasPassword = existing is not null && existing.ProtectedPassword.Length > 0;
        if (synced && !hasPassword && (string.IsNullOrEmpty(r.Password) || r.Password.Length > 500))
        {
            errors.Add(new("password", "is required (an app password where the service offers them)"));
        }
        else if (r.Password is { Length: > 500 })
        {
            errors.Add(new("password", "must be at most 500 characters"));
        }

        var booking = url is null ? null : Resolve(url, r.BookingCalendarUrl);
        if (url is not null && booking is null)
        {
            errors.Add(new("bookingCalendarUrl", "is required: the calendar bookings are written to (absolute URL or a path on the server)"));
        }

        var additional = new List<string>();
        if (r.AdditionalCalendarUrls is { } list)
        {
            if (list.Count > MaxAdditionalCalendars)
            {
                errors.Add(new("additionalCalendarUrls", $"at most {MaxAdditionalCalendars} calendars"));
            }

            for (var i = 0; i < list.Count && url is not null; i++)
            {
                if (Resolve(url, list[i]) is { } resolved)
                {
                    if (resolved != booking && !additional.Contains(resolved))
                    {
                        additional.Add(resolved);
                    }
                }
                else
                {
                    errors.Add(new($"additionalCalendarUrls[{i}]", "must be an absolute URL or a path on the server"));
                }
            }
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        if (!me.IsAdministrator && userId != me.Id)
        {
            return new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only connect their own calendar.");
        }

        return new Valid(userId, url?.ToString() ?? "", username, string.IsNullOrEmpty(r.Password) ? null : r.Password, booking ?? "", additional, provider);
    }

    /// <summary>
    /// Google connections get their account through OAuth (<c>/calendar-connections/google/authorize</c>), never a password;
    /// their calendars are Google calendar ids (the primary calendar's id is the account's email address). Without a
    /// grant the connection is only recorded, for the reassignment rules.
    /// </summary>
    private static Result<Valid> ValidateGoogle(CalendarConnectionRequest r, CalendarConnection? existing, UserId userId, CurrentUser me, List<FieldError> errors)
    {
        if (r.Password is not null)
        {
            errors.Add(new("password", "is not used for Google: connect with GET /api/v1/calendar-connections/google/authorize"));
        }

        static bool IsCalendarId(string? id) => id is { Length: > 0 and <= 1024 } && !id.Any(ch => char.IsWhiteSpace(ch) || char.IsControl(ch));
        var booking = r.BookingCalendarUrl?.Trim() ?? existing?.BookingCalendarUrl ?? "";
        if (booking.Length > 0 && !IsCalendarId(booking))
        {
            errors.Add(new("bookingCalendarUrl", "must be a Google calendar id (the primary calendar's id is the account's email address)"));
        }

        var additional = new List<string>();
        var list = r.AdditionalCalendarUrls ?? existing?.AdditionalCalendarUrls ?? [];
        if (list.Count > MaxAdditionalCalendars)
        {
            errors.Add(new("additionalCalendarUrls", $"at most {MaxAdditionalCalendars} calendars"));
        }

        for (var i = 0; i < list.Count; i++)
        {
            if (!IsCalendarId(list[i]))
            {
                errors.Add(new($"additionalCalendarUrls[{i}]", "must be a Google calendar id"));
            }
            else if (list[i].Trim() != booking && !additional.Contains(list[i].Trim()))
            {
                additional.Add(list[i].Trim());
            }
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        if (!me.IsAdministrator && userId != me.Id)
        {
            return new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only connect their own calendar.");
        }

        return new Valid(userId, existing?.ServerUrl ?? "", existing?.Username ?? "", null, booking, additional, CalendarProvider.Google);
    }

    /// <summary>
    /// Microsoft 365 / Outlook connections are made by signing in (<c>GET /calendar-connections/microsoft/authorize</c>);
    /// through this API they are only recorded (for the reassignment rules) or, once signed in, given their calendars by
    /// the service's calendar ids and their toggles. The account and its secret never come through here.
    /// </summary>
    private static Result<Valid> ValidateOAuth(CalendarConnectionRequest r, CalendarConnection? existing, CurrentUser me, UserId userId,
        CalendarProvider provider)
    {
        var errors = new List<FieldError>();
        if (r.Password is not null || r.Url is not null || r.Username is not null)
        {
            errors.Add(new("password", "Microsoft calendars are connected by signing in: GET /api/v1/calendar-connections/microsoft/authorize"));
        }

        var signedIn = existing is { IsSynced: true };
        string? booking = existing?.BookingCalendarUrl;
        if (r.BookingCalendarUrl is not null)
        {
            if (!signedIn || !ApiFormat.TryText(r.BookingCalendarUrl, 2000, out var id))
            {
                errors.Add(new("bookingCalendarUrl", signedIn ? "must be a calendar id of the account" : "can be chosen after signing in"));
            }
            else
            {
                booking = id;
            }
        }

        var additional = existing?.AdditionalCalendarUrls.ToList() ?? [];
        if (r.AdditionalCalendarUrls is { } list)
        {
            additional = [];
            if (!signedIn || list.Count > MaxAdditionalCalendars)
            {
                errors.Add(new("additionalCalendarUrls", signedIn ? $"at most {MaxAdditionalCalendars} calendars" : "can be chosen after signing in"));
            }

            for (var i = 0; i < list.Count && signedIn; i++)
            {
                if (!ApiFormat.TryText(list[i], 2000, out var id))
                {
                    errors.Add(new($"additionalCalendarUrls[{i}]", "must be a calendar id of the account"));
                }
                else if (id != booking && !additional.Contains(id))
                {
                    additional.Add(id);
                }
            }
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        if (!me.IsAdministrator && userId != me.Id)
        {
            return new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only connect their own calendar.");
        }

        return new Valid(userId, existing?.ServerUrl ?? "", existing?.Username ?? "", null, booking ?? "", additional, provider);
    }

    /// <summary>
    /// Exchange Server connections: the EWS URL (found by Autodiscover before this when left empty), the sign-in name and
    /// password, and calendars named by their EWS folder ids (<c>calendar</c>, the default calendar, when none is chosen).
    /// Optionally the mailbox's SMTP address, acted on through ExchangeImpersonation by a service account, and the sign-in
    /// method (auto, basic, ntlm, bearer).
    /// </summary>
    private static Result<Valid> ValidateExchange(CalendarConnectionRequest r, CalendarConnection? existing, UserId userId, CurrentUser me,
        List<FieldError> errors)
    {
        var url = AbsoluteHttp(r.Url ?? existing?.ServerUrl);
        if (url is null)
        {
            errors.Add(new("url", "must be the Exchange server's EWS URL, such as https://mail.example.com/EWS/Exchange.asmx"));
        }

        if (!ApiFormat.TryText(r.Username ?? existing?.Username, 200, out var username))
        {
            errors.Add(new("username", "is required (user@domain or DOMAIN\\user, 1-200 characters)"));
        }

        var hasPassword = existing is not null && existing.ProtectedPassword.Length > 0;
        if (!hasPassword && (string.IsNullOrEmpty(r.Password) || r.Password.Length > 500))
        {
            errors.Add(new("password", "is required"));
        }
        else if (r.Password is { Length: > 500 })
        {
            errors.Add(new("password", "must be at most 500 characters"));
        }

        static bool IsFolderId(string? id) => id is { Length: > 0 and <= 2000 } && !id.Any(ch => char.IsWhiteSpace(ch) || char.IsControl(ch));
        var booking = r.BookingCalendarUrl?.Trim() ?? existing?.BookingCalendarUrl ?? "calendar";
        if (!IsFolderId(booking))
        {
            errors.Add(new("bookingCalendarUrl", "must be an EWS folder id of a calendar (\"calendar\" is the default calendar)"));
        }

        var additional = new List<string>();
        var list = r.AdditionalCalendarUrls ?? existing?.AdditionalCalendarUrls ?? [];
        if (list.Count > MaxAdditionalCalendars)
        {
            errors.Add(new("additionalCalendarUrls", $"at most {MaxAdditionalCalendars} calendars"));
        }

        for (var i = 0; i < list.Count; i++)
        {
            if (!IsFolderId(list[i]))
            {
                errors.Add(new($"additionalCalendarUrls[{i}]", "must be an EWS folder id of a calendar"));
            }
            else if (list[i].Trim() != booking && !additional.Contains(list[i].Trim()))
            {
                additional.Add(list[i].Trim());
            }
        }

        var state = Rendezvous.Calendars.Ews.EwsAccountState.Read(existing?.ProviderState);
        if (r.ExchangeAuth is not null)
        {
            if (Enum.TryParse<Rendezvous.Calendars.Ews.EwsAuth>(r.ExchangeAuth, ignoreCase: true, out var auth) && !int.TryParse(r.ExchangeAuth, out _))
            {
                state = state with { Auth = auth };
            }
            else
            {
                errors.Add(new("exchangeAuth", "must be auto, basic, ntlm or bearer"));
            }
        }

        if (r.ExchangeMailbox is not null)
        {
            var mailbox = r.ExchangeMailbox.Trim();
            if (mailbox.Length > 0 && (mailbox.Length > 320 || !mailbox.Contains('@', StringComparison.Ordinal)))
            {
                errors.Add(new("exchangeMailbox", "must be the mailbox's email address"));
            }

            state = state with { Mailbox = mailbox.Length == 0 ? null : mailbox };
        }

        if (r.ExchangeImpersonation is { } impersonate)
        {
            state = state with { Impersonate = impersonate };
        }

        if (state.Impersonate && state.Mailbox is null)
        {
            errors.Add(new("exchangeMailbox", "is required with exchangeImpersonation: the mailbox the service account acts on"));
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        if (!me.IsAdministrator && userId != me.Id)
        {
            return new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only connect their own calendar.");
        }

        return new Valid(userId, url!.ToString(), username, string.IsNullOrEmpty(r.Password) ? null : r.Password, booking, additional,
            CalendarProvider.Exchange, state.Write());
    }

    private static Uri? AbsoluteHttp(string? text) =>
        Uri.TryCreate(text?.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : null;

    /// <summary>A calendar URL: absolute, or a path resolved against the server, always ending in a slash (a collection).</summary>
    private static string? Resolve(Uri server, string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 2000)
        {
            return null;
        }

        var uri = AbsoluteHttp(text) ?? (text.TrimStart().StartsWith('/') && Uri.TryCreate(server, text.Trim(), out var rel) ? rel : null);
        if (uri is null)
        {
            return null;
        }

        var s = uri.ToString();
        return s.EndsWith('/') ? s : s + "/";
    }
}

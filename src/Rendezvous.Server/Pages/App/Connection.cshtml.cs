using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.CalendarConnections;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Features.Web;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Pages.App;

/// <summary>One calendar found by discovery.</summary>
public sealed record DiscoveredCalendar(string Url, string Name);

/// <summary>
/// Calendar connections: every connection of the user (CalDAV, Google, Microsoft 365), each with its account, calendars,
/// whether it is the booking connection, and its health; connect another one, choose the booking connection, choose the
/// calendars, reconnect, disconnect. Administrators look at any team member's. Writes go through
/// <see cref="CalendarConnectionService"/> and the endpoints' own helpers, as the API's do. A CalDAV connection is made
/// in two steps: the calendars are found with CalDAV discovery, then chosen; between the two the password travels in
/// the form encrypted with Data Protection for 20 minutes, never in clear.
/// </summary>
public sealed class ConnectionModel(RendezvousDbContext db, Secrets secrets, IDataProtectionProvider protection,
    Microsoft.Extensions.Options.IOptions<CalendarSyncOptions> syncOptions, IClock clock, CalendarConnectionService connections) : StaffPageModel
{
    private static readonly TimeSpan PasswordCarry = TimeSpan.FromMinutes(20);

    /// <summary>The connection a handler acts on (the form's <c>connection</c>); null when connecting a new one.</summary>
    public CalendarConnection? Connection { get; private set; }

    /// <summary>Every connection of <see cref="Whose"/>, the booking connection first.</summary>
    public IReadOnlyList<CalendarConnection> Connections { get; private set; } = [];

    /// <summary>The booking connection (the one whose two sync settings count).</summary>
    public CalendarConnection? BookingConnection => Connections.FirstOrDefault(c => c.IsBookingConnection);

    public User Whose { get; private set; } = null!;

    public IReadOnlyList<User> Users { get; private set; } = [];

    /// <summary>Set after discovery: the calendars to choose from.</summary>
    public IReadOnlyList<DiscoveredCalendar>? Found { get; private set; }

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserFilter { get; set; }

    /// <summary>Which of the user's connections a form is about; empty for a new connection.</summary>
    [BindProperty(SupportsGet = true, Name = "connection")]
    public string? ConnectionId { get; set; }

    [BindProperty]
    public string? ServerUrl { get; set; }

    [BindProperty]
    public string? Username { get; set; }

    /// <summary>"caldav" (any CalDAV server) or "icloud"; both are synced over CalDAV.</summary>
    [BindProperty]
    public string Provider { get; set; } = "caldav";

    [BindProperty]
    public string? Password { get; set; }

    /// <summary>The password, encrypted for the next step.</summary>
    [BindProperty]
    public string? Carried { get; set; }

    [BindProperty]
    public string? BookingCalendarUrl { get; set; }

    [BindProperty]
    public List<string> AdditionalCalendarUrls { get; set; } = [];

    [BindProperty]
    public bool CancelBookingOnDelete { get; set; }

    [BindProperty]
    public bool UpdateBookingOnMove { get; set; }

    /// <summary>A new connection becomes the booking connection (the user's first one always does).</summary>
    [BindProperty]
    public bool MakeBooking { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (BookingConnection is { } c)
        {
            CancelBookingOnDelete = c.CancelBookingOnDelete;
            UpdateBookingOnMove = c.UpdateBookingOnMove;
        }

        return Page();
    }

    /// <summary>Makes one connection the booking connection: the same update the API makes for <c>isBookingConnection: true</c>.</summary>
    public async Task<IActionResult> OnPostBookingAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (Connection is not { } c)
        {
            return Go(SelfUrl());
        }

        var saved = await connections.UpdateAsync(Me, c, KeepAsIs(c) with { IsBookingConnection = true }, ct);
        if (!saved.IsSuccess)
        {
            FlashError(saved.Error!);
        }
        else
        {
            Flash($"New bookings now go to {Describe(c)}. Its two sync settings apply from now on; the other connections keep counting as busy time.");
        }

        return Go(SelfUrl());
    }

    /// <summary>A request that changes nothing about <paramref name="c"/> (its provider's own rules decide which fields it may name).</summary>
    private CalendarConnectionRequest KeepAsIs(CalendarConnection c)
    {
        var provider = CalendarConnectionsEndpoints.ProviderName(c.Provider);
        return c.Provider == CalendarProvider.Google || CalendarConnection.IsOAuthProvider(c.Provider)
            ? new CalendarConnectionRequest(Whose.Id.ToString(), null, null, null, null, null, null, null, null, provider)
            : new CalendarConnectionRequest(Whose.Id.ToString(), null, NullIfEmpty(c.ServerUrl), NullIfEmpty(c.Username), null,
                NullIfEmpty(c.BookingCalendarUrl), c.AdditionalCalendarUrls.Count == 0 ? null : [.. c.AdditionalCalendarUrls], null, null, provider);
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    /// <summary>How the page names a connection in messages: its service and account.</summary>
    public static string Describe(CalendarConnection c) =>
        ProviderLabel(c.Provider) + (c.Username.Length > 0 ? " (" + c.Username + ")" : "");

    public static string ProviderLabel(CalendarProvider provider) => provider switch
    {
        CalendarProvider.Google => "Google Calendar",
        CalendarProvider.Office365 => "Microsoft 365",
        CalendarProvider.Outlook => "Outlook.com",
        CalendarProvider.Exchange => "Exchange",
        CalendarProvider.ICloud => "iCloud",
        _ => "CalDAV",
    };

    /// <summary>Connect (or reconnect) Google Calendar: off to Google's consent screen, and back here afterwards.</summary>
    public async Task<IActionResult> OnPostGoogleAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var services = HttpContext.RequestServices;
        var settings = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Features.CalendarSync.Google.GoogleSettings>>().Value;
        if (!settings.IsConfigured)
        {
            FlashError(DomainError.Conflict("google_not_configured", "This server has no Google OAuth client configured; ask its operator."));
            return Go(SelfUrl());
        }

        // Reconnecting names the connection's account to Google; connecting another one lets the user pick the account.
        var reconnect = Connection is { Provider: CalendarProvider.Google } ? Connection : null;
        var (uri, _) = Features.CalendarSync.Google.GoogleConnectEndpoints.ConsentUri(Me.OrganizationId, Whose.Id,
            reconnect?.CancelBookingOnDelete ?? CancelBookingOnDelete, reconnect?.UpdateBookingOnMove ?? UpdateBookingOnMove, SelfUrl(),
            reconnect?.Username is { Length: > 0 } hint ? hint : Connections.Count == 0 ? Whose.Email : null, settings,
            services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Rendezvous.Integrations.PublicUrlOptions>>().Value,
            services.GetRequiredService<Rendezvous.Calendars.Google.GoogleCalendarProvider>(), protection, clock);
        return Redirect(uri.ToString());
    }

    /// <summary>A Google connection's calendars come from the account's calendar list.</summary>
    private async Task<IActionResult> GoogleCalendarsAsync(CalendarConnection connection, CancellationToken ct)
    {
        var providers = HttpContext.RequestServices.GetRequiredService<CalendarProviders>();
        Provider = "google";
        BookingCalendarUrl = connection.BookingCalendarUrl;
        AdditionalCalendarUrls = [.. connection.AdditionalCalendarUrls];
        CancelBookingOnDelete = connection.CancelBookingOnDelete;
        UpdateBookingOnMove = connection.UpdateBookingOnMove;
        try
        {
            using var session = (connection.IsSynced ? providers.Open(connection) : null) ?? throw new Rendezvous.Calendars.Providers.CalendarProviderException(
                Rendezvous.Calendars.Providers.CalendarFailure.ReconnectRequired, "Connect Google Calendar first.");
            Found = [.. (await session.ListCalendarsAsync(ct)).Select(cal => new DiscoveredCalendar(cal.Id, cal.Name))];
            providers.Keep(connection, session);
            await db.SaveChangesAsync(ct);
        }
        catch (Rendezvous.Calendars.Providers.CalendarProviderException ex)
        {
            FlashError(DomainError.Conflict("calendar_unreachable", "Google Calendar could not list the calendars: " + ex.Message));
            return Go(SelfUrl());
        }

        return Page();
    }

    /// <summary>Step one: find the calendars with the given (or, for a connection, the stored) credentials.</summary>
    public async Task<IActionResult> OnPostDiscoverAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (Connection is { Provider: CalendarProvider.Google } google)
        {
            return await GoogleCalendarsAsync(google, ct);
        }

        if (Connection is { } oauth && CalendarConnection.IsOAuthProvider(oauth.Provider))
        {
            return await MicrosoftCalendarsAsync(oauth, HttpContext.RequestServices.GetRequiredService<CalendarProviders>(), ct);
        }

        var password = string.IsNullOrEmpty(Password)
            ? Connection is { ProtectedPassword.Length: > 0 } c ? secrets.UnprotectCalendarPassword(c.ProtectedPassword) : null
            : Password;
        if (Connection is not null && string.IsNullOrWhiteSpace(ServerUrl))
        {
            ServerUrl = Connection.ServerUrl;
            Username = Connection.Username;
            Provider = CalendarConnectionsEndpoints.ProviderName(Connection.Provider);
            BookingCalendarUrl = Connection.BookingCalendarUrl;
            AdditionalCalendarUrls = [.. Connection.AdditionalCalendarUrls];
            CancelBookingOnDelete = Connection.CancelBookingOnDelete;
            UpdateBookingOnMove = Connection.UpdateBookingOnMove;
        }

        Errors.Labels["url"] = "The server address";
        Errors.Labels["username"] = "The user name";
        Errors.Labels["password"] = "The password";
        if (Provider == "exchange")
        {
            return await ExchangeCalendarsAsync(password, ct);
        }

        if (!Uri.TryCreate(ServerUrl?.Trim(), UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            Errors.Add("url", "must be an absolute http or https address, such as https://caldav.example.com/");
        }

        if (string.IsNullOrWhiteSpace(Username))
        {
            Errors.Add("username", "is required");
        }

        if (string.IsNullOrEmpty(password))
        {
            Errors.Add("password", "is required (an app password where the service offers them)");
        }

        if (Errors.Any)
        {
            return Page();
        }

        try
        {
            using var client = new CalDavClient(new CalDavClientOptions
            {
                ServerUri = server!,
                UserName = Username!.Trim(),
                Password = password!,
                RequestTimeout = syncOptions.Value.RequestTimeout,
                MaxReadRetries = 0,
            });
            var discovery = await client.DiscoverAsync(null, ct);
            Found = [.. discovery.Calendars
                .Where(cal => cal.Supports("VEVENT"))
                .Select(cal => new DiscoveredCalendar(new Uri(server!, cal.Href).ToString(), cal.DisplayName ?? cal.Href))
                .OrderBy(cal => cal.Name, StringComparer.CurrentCultureIgnoreCase)];
            if (Found.Count == 0)
            {
                Errors.Add("url", "The server answered, but this user has no calendars for events. Create one there first.");
                Found = null;
                return Page();
            }
        }
        catch (CalDavAccessDeniedException)
        {
            Errors.Add("password", "The calendar server refused this user name and password.");
            return Page();
        }
        catch (CalDavException ex)
        {
            Errors.Add("url", $"The calendar server could not be used: {ex.Message}");
            return Page();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or ArgumentException)
        {
            Errors.Add("url", $"The calendar server could not be reached: {ex.Message}");
            return Page();
        }

        BookingCalendarUrl ??= Found[0].Url;
        Carried = protection.CreateProtector("Rendezvous.Web.CalDavDiscovery.v1").ToTimeLimitedDataProtector().Protect(password!, PasswordCarry);
        Password = null;
        return Page();
    }

    /// <summary>
    /// Step one for Exchange Server: the EWS URL as typed, or found by Autodiscover from the email address; then the
    /// mailbox's calendar folders, listed over EWS with the given user name and password.
    /// </summary>
    private async Task<IActionResult> ExchangeCalendarsAsync(string? password, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(Username))
        {
            Errors.Add("username", "is required (your email address, or DOMAIN\\user)");
        }

        if (string.IsNullOrEmpty(password))
        {
            Errors.Add("password", "is required");
        }

        if (Errors.Any)
        {
            return Page();
        }

        if (string.IsNullOrWhiteSpace(ServerUrl))
        {
            var found = await connections.AutodiscoverAsync(new CalendarConnectionRequest(null, null, null, Username!.Trim(), password, null, null, null, null,
                "exchange"), ct);
            if (!found.IsSuccess)
            {
                foreach (var field in found.Error!.Fields ?? [])
                {
                    Errors.Add(field.Field, field.Message);
                }

                return Page();
            }

            ServerUrl = found.Value.Url;
        }

        if (!Uri.TryCreate(ServerUrl?.Trim(), UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            Errors.Add("url", "must be the EWS address, such as https://mail.example.com/EWS/Exchange.asmx, or empty to find it from your email address");
            return Page();
        }

        try
        {
            var ews = HttpContext.RequestServices.GetRequiredService<Rendezvous.Calendars.Ews.EwsCalendarProvider>();
            using var session = ews.Open(new Rendezvous.Calendars.Providers.CalendarAccount(Connection?.Id ?? Guid.Empty, CalendarProvider.Exchange,
                server.ToString(), Username!.Trim(), password!, Connection?.ProviderState));
            Found = [.. (await session.ListCalendarsAsync(ct)).Select(cal => new DiscoveredCalendar(cal.Id, cal.Name))];
        }
        catch (Rendezvous.Calendars.Providers.CalendarProviderException ex)
        {
            Errors.Add(ex.Failure == Rendezvous.Calendars.Providers.CalendarFailure.AccessDenied ? "password" : "url",
                "Exchange could not be used: " + ex.Message);
            return Page();
        }

        if (Found.Count == 0)
        {
            Errors.Add("url", "Exchange answered, but this mailbox has no calendar.");
            Found = null;
            return Page();
        }

        ServerUrl = server.ToString();
        BookingCalendarUrl ??= Found[0].Url;
        Carried = protection.CreateProtector("Rendezvous.Web.CalDavDiscovery.v1").ToTimeLimitedDataProtector().Protect(password!, PasswordCarry);
        Password = null;
        return Page();
    }

    /// <summary>Step two: save the connection (new) or its calendars (existing).</summary>
    public async Task<IActionResult> OnPostSaveAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        string? password = null;
        if (!string.IsNullOrEmpty(Carried))
        {
            try
            {
                password = protection.CreateProtector("Rendezvous.Web.CalDavDiscovery.v1").ToTimeLimitedDataProtector().Unprotect(Carried);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                FlashError(new DomainError(ErrorKind.Validation, "expired", "That took too long; please enter the password again."));
                return Go(SelfUrl());
            }
        }

        var oauth = Connection is { } existing && (CalendarConnection.IsOAuthProvider(existing.Provider) || existing.Provider == CalendarProvider.Google);
        // The form shows the two sync settings only where they apply (the booking connection, or a first connection);
        // elsewhere the stored ones stay as they are.
        var togglesShown = Connection is null ? Connections.Count == 0 : Connection.IsBookingConnection;
        bool? cancelOnDelete = togglesShown ? CancelBookingOnDelete : null;
        bool? updateOnMove = togglesShown ? UpdateBookingOnMove : null;
        var request = oauth
            ? new CalendarConnectionRequest(Whose.Id.ToString(), null, null, null, null, BookingCalendarUrl, AdditionalCalendarUrls,
                cancelOnDelete, updateOnMove, CalendarConnectionsEndpoints.ProviderName(Connection!.Provider))
            : new CalendarConnectionRequest(Whose.Id.ToString(), "caldav", ServerUrl, Username, password, BookingCalendarUrl,
                AdditionalCalendarUrls, cancelOnDelete, updateOnMove, Provider is "icloud" or "google" or "exchange" ? Provider : "caldav",
                Connection is null && MakeBooking ? true : null);
        var saved = Connection is null
            ? await connections.CreateAsync(Me, request, ct)
            : await connections.UpdateAsync(Me, Connection, request, ct);
        if (!saved.IsSuccess)
        {
            FlashError(saved.Error!);
            return Go(SelfUrl());
        }

        Flash(Connection is not null ? "The calendars are saved."
            : saved.Value.IsBookingConnection ? "The calendar is connected. Bookings will appear in it within a few seconds."
            : "The calendar is connected. Its busy time counts from now on; bookings still go to your booking connection.");
        return Go(SelfUrl());
    }

    /// <summary>Connects (or signs in again to) Microsoft 365 / Outlook.com: off to Microsoft's sign-in and consent page.</summary>
    public async Task<IActionResult> OnPostMicrosoftAsync([FromServices] Rendezvous.Calendars.Graph.GraphCalendarProvider graph, CancellationToken ct)
    {
        await LoadAsync(ct);
        if (!graph.Authenticator.IsConfigured)
        {
            FlashError(new DomainError(ErrorKind.Conflict, "microsoft_not_configured", "Microsoft 365 is not set up on this server yet; ask your administrator."));
            return Go(SelfUrl());
        }

        return Redirect(Features.CalendarSync.Microsoft.MicrosoftCalendars.AuthorizationUrl(graph, protection, clock, Whose.Id, Me.OrganizationId, web: true).ToString());
    }

    /// <summary>The calendars of a connected Microsoft account, to choose the booking and additional calendars from.</summary>
    public async Task<IActionResult> OnPostMicrosoftCalendarsAsync([FromServices] CalendarProviders providers, CancellationToken ct)
    {
        await LoadAsync(ct);
        return Connection is { } c ? await MicrosoftCalendarsAsync(c, providers, ct) : Go(SelfUrl());
    }

    private async Task<IActionResult> MicrosoftCalendarsAsync(CalendarConnection c, CalendarProviders providers, CancellationToken ct)
    {
        if (!c.IsSynced || !CalendarConnection.IsOAuthProvider(c.Provider) || providers.Open(c) is not { } session)
        {
            FlashError(new DomainError(ErrorKind.Conflict, "microsoft_not_signed_in", "Sign in to Microsoft for this connection first."));
            return Go(SelfUrl());
        }

        try
        {
            using (session)
            {
                Found = [.. (await session.ListCalendarsAsync(ct)).Where(x => x.CanWrite || c.AdditionalCalendarUrls.Contains(x.Id))
                    .Select(x => new DiscoveredCalendar(x.Id, x.Name))];
                providers.Keep(c, session);
                await db.SaveChangesAsync(ct);
            }
        }
        catch (Rendezvous.Calendars.Providers.CalendarProviderException ex)
        {
            FlashError(new DomainError(ErrorKind.Conflict, "microsoft_failed", "Microsoft did not list the calendars: " + ex.Message));
            return Go(SelfUrl());
        }

        Provider = CalendarConnectionsEndpoints.ProviderName(c.Provider);
        BookingCalendarUrl = c.BookingCalendarUrl;
        AdditionalCalendarUrls = [.. c.AdditionalCalendarUrls];
        CancelBookingOnDelete = c.CancelBookingOnDelete;
        UpdateBookingOnMove = c.UpdateBookingOnMove;
        return Page();
    }

    /// <summary>The two sync toggles alone.</summary>
    public async Task<IActionResult> OnPostTogglesAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        // The settings concern the booking calendar, so a form that names no connection means the booking connection.
        if ((Connection ?? BookingConnection) is not { } c)
        {
            return Go(SelfUrl());
        }

        var saved = await connections.UpdateAsync(Me, c, KeepAsIs(c) with
        {
            CancelBookingOnDelete = CancelBookingOnDelete,
            UpdateBookingOnMove = UpdateBookingOnMove,
        }, ct);
        if (!saved.IsSuccess)
        {
            FlashError(saved.Error!);
            return Go(SelfUrl());
        }

        Flash("The sync settings are saved.");
        return Go(SelfUrl());
    }

    public async Task<IActionResult> OnPostDisconnectAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (Connection is { } c)
        {
            await CalendarPushStop.StopAllAsync(c, db, HttpContext.RequestServices.GetRequiredService<CalendarProviders>(), ct);
            await CalendarConnectionsEndpoints.DeleteConnectionAsync(db, c, ct);
            Flash(c.IsBookingConnection && Connections.Count > 1
                ? "The calendar is disconnected. Bookings already written to it stay there; new bookings go to your oldest remaining connection."
                : "The calendar is disconnected. Bookings already written to it stay there.");
        }

        return Go(SelfUrl());
    }

    private string SelfUrl() => WithQuery("/app/calendar-connection", [new("user", Whose.Id == Me.Id ? null : Whose.Id.ToString())]);

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Calendar connections";
        ViewData["Nav"] = "connection";
        Zone = await MyZoneAsync(db, ct);
        Whose = await MeAsync(db, ct);
        if (Me.IsAdministrator)
        {
            Users = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);
            if (Ids.TryParse(UserFilter, out var uid) && Users.FirstOrDefault(u => u.Id == new UserId(uid)) is { } other)
            {
                Whose = other;
            }
        }

        var whose = Whose.Id;
        Connections = await db.CalendarConnections.Where(c => c.UserId == whose).OrderByDescending(c => c.IsBookingConnection).ThenBy(c => c.CreatedAt)
            .ThenBy(c => c.Id).ToListAsync(ct);
        // Only the shown user's own connections can be named, so another user's (or organization's) id finds nothing.
        Connection = Ids.TryParse(ConnectionId, out var cid) ? Connections.FirstOrDefault(c => c.Id == cid) : null;
    }
}

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
/// The calendar connection: enter the CalDAV server, user and password; the calendars are found with CalDAV discovery;
/// choose the booking calendar and any additional ones; set the two sync toggles (off by default); see the health.
/// Between discovery and saving, the password travels in the form encrypted with Data Protection for 20 minutes, never
/// in clear.
/// </summary>
public sealed class ConnectionModel(RendezvousDbContext db, Secrets secrets, IDataProtectionProvider protection,
    Microsoft.Extensions.Options.IOptions<CalendarSyncOptions> syncOptions, IClock clock, CalendarConnectionService connections) : StaffPageModel
{
    private static readonly TimeSpan PasswordCarry = TimeSpan.FromMinutes(20);

    public CalendarConnection? Connection { get; private set; }

    public User Whose { get; private set; } = null!;

    public IReadOnlyList<User> Users { get; private set; } = [];

    /// <summary>Set after discovery: the calendars to choose from.</summary>
    public IReadOnlyList<DiscoveredCalendar>? Found { get; private set; }

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserFilter { get; set; }

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

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (Connection is { } c)
        {
            CancelBookingOnDelete = c.CancelBookingOnDelete;
            UpdateBookingOnMove = c.UpdateBookingOnMove;
        }

        return Page();
    }

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

        var (uri, _) = Features.CalendarSync.Google.GoogleConnectEndpoints.ConsentUri(Me.OrganizationId, Whose.Id,
            Connection?.CancelBookingOnDelete ?? CancelBookingOnDelete, Connection?.UpdateBookingOnMove ?? UpdateBookingOnMove, SelfUrl(),
            Connection?.Username is { Length: > 0 } hint ? hint : Whose.Email, settings,
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

        var oauth = Connection is { } existing && CalendarConnection.IsOAuthProvider(existing.Provider);
        var request = oauth
            ? new CalendarConnectionRequest(Whose.Id.ToString(), null, null, null, null, BookingCalendarUrl, AdditionalCalendarUrls,
                CancelBookingOnDelete, UpdateBookingOnMove, CalendarConnectionsEndpoints.ProviderName(Connection!.Provider))
            : new CalendarConnectionRequest(Whose.Id.ToString(), "caldav", ServerUrl, Username, password, BookingCalendarUrl,
                AdditionalCalendarUrls, CancelBookingOnDelete, UpdateBookingOnMove, Provider is "icloud" or "google" ? Provider : "caldav");
        var saved = Connection is null
            ? await connections.CreateAsync(Me, request, ct)
            : await connections.UpdateAsync(Me, Connection, request, ct);
        if (!saved.IsSuccess)
        {
            FlashError(saved.Error!);
            return Go(SelfUrl());
        }

        Flash(Connection is null ? "The calendar is connected. Bookings will appear in it within a few seconds." : "The calendars are saved.");
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
        if (Connection is not { IsSynced: true } c || !CalendarConnection.IsOAuthProvider(c.Provider) || providers.Open(c) is not { } session)
        {
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
        if (Connection is not { } c)
        {
            return Go(SelfUrl());
        }

        c.Update(c.ServerUrl, c.Username, null, c.BookingCalendarUrl, c.AdditionalCalendarUrls, CancelBookingOnDelete, UpdateBookingOnMove,
            clock.GetCurrentInstant());
        await db.SaveChangesAsync(ct);
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
            Flash("The calendar is disconnected. Bookings already written to it stay there.");
        }

        return Go(SelfUrl());
    }

    private string SelfUrl() => WithQuery("/app/calendar-connection", [new("user", Whose.Id == Me.Id ? null : Whose.Id.ToString())]);

    private async Task LoadAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Calendar connection";
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
        // The page edits the booking connection; further connections are managed through the API.
        Connection = await db.CalendarConnections.Where(c => c.UserId == whose).OrderByDescending(c => c.IsBookingConnection).ThenBy(c => c.CreatedAt)
            .FirstOrDefaultAsync(ct);
    }
}

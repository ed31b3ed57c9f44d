using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Calendars.Graph;
using Rendezvous.Calendars.Providers;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Calendars;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.CalendarSync.Microsoft;

/// <summary>Where the HTTP handler under Microsoft Graph and MSAL comes from (tests trust their emulator's certificate).</summary>
public class MicrosoftHttpHandlerFactory
{
    /// <summary>The outbound address check (set where the application registers this factory).</summary>
    public Rendezvous.Integrations.Outbound.OutboundAddressPolicy? Policy { get; init; }

    public virtual HttpMessageHandler Create()
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        return Policy is null ? handler : Policy.Guard(handler);
    }
}

/// <summary>Microsoft 365 / Outlook calendars: the Graph provider, its push receiver and the OAuth connect endpoints.</summary>
public static class MicrosoftCalendars
{
    public const string CallbackPath = "/api/v1/calendar-connections/microsoft/callback";

    public static void AddMicrosoftCalendars(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<GraphOptions>(configuration.GetSection("Rendezvous:Microsoft"));
        services.AddSingleton(sp => new MicrosoftHttpHandlerFactory { Policy = sp.GetRequiredService<Rendezvous.Integrations.Outbound.OutboundAddressPolicy>() });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GraphOptions>>().Value;
            options.RedirectUri ??= new Uri(sp.GetRequiredService<IOptions<PublicUrlOptions>>().Value.PublicBaseUrl.TrimEnd('/') + CallbackPath);
            return options;
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<GraphOptions>();
            var handler = sp.GetRequiredService<MicrosoftHttpHandlerFactory>().Create();
            return new GraphCalendarProvider(handler, new GraphAuthenticator(options, new GraphCalendarProvider.MsalHttp(handler, options.RequestTimeout)),
                sp.GetRequiredService<IClock>());
        });
        services.AddSingleton<ICalendarProvider>(sp => sp.GetRequiredService<GraphCalendarProvider>());
        services.AddSingleton<ICalendarPushReceiver, GraphPushReceiver>();
    }

    public static void MapMicrosoftCalendars(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/calendar-connections/microsoft").WithTags("Calendar connections");
        group.MapGet("/authorize", Authorize);
        group.MapGet("/callback", CallbackAsync).AllowAnonymous();
    }

    /// <summary>
    /// Starts connecting a Microsoft 365 or Outlook.com calendar: redirects to Microsoft's sign-in and consent page. The
    /// state names the user and organization, is encrypted and signed, and expires after 15 minutes.
    /// </summary>
    private static async Task<Results<RedirectHttpResult, ProblemHttpResult>> Authorize(string? userId, string? returnTo, GraphCalendarProvider provider,
        RendezvousDbContext db, IDataProtectionProvider protection, IClock clock, HttpContext http, CancellationToken ct)
    {
        if (!provider.Authenticator.IsConfigured)
        {
            return Problems.From(new DomainError(ErrorKind.Conflict, "microsoft_not_configured",
                "Microsoft 365 is not configured on this server (Rendezvous:Microsoft:ClientId and ClientSecret)."));
        }

        var me = CurrentUser.From(http.User);
        var target = me.Id;
        if (userId is not null)
        {
            if (await UsersEndpoints.FindAsync(db, userId, ct) is not { } user)
            {
                return Problems.Validation("userId", "is not a user of this organization");
            }

            target = user.Id;
        }

        if (!me.IsAdministrator && target != me.Id)
        {
            return Problems.From(new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only connect their own calendar."));
        }

        return TypedResults.Redirect(AuthorizationUrl(provider, protection, clock, target, me.OrganizationId, returnTo == "web").ToString());
    }

    /// <summary>Microsoft's sign-in page for connecting <paramref name="userId"/>'s calendar; the callback returns to the web app or the API.</summary>
    public static Uri AuthorizationUrl(GraphCalendarProvider provider, IDataProtectionProvider protection, IClock clock, UserId userId,
        OrganizationId organizationId, bool web)
    {
        var state = States(protection).Protect(string.Join('|', userId.Value.ToString("N"), organizationId.Value.ToString("N"), web ? "web" : "api",
            (clock.GetCurrentInstant() + Duration.FromMinutes(15)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        return provider.Authenticator.AuthorizationUrl(state, null);
    }

    /// <summary>
    /// Where Microsoft sends the user back: redeems the code, and creates the user's Microsoft connection (the default
    /// calendar receives bookings; both toggles off) or, for a connection that needed reconnecting, stores the new sign-in.
    /// The refresh token (inside MSAL's token cache) is encrypted at rest like CalDAV passwords.
    /// </summary>
    private static async Task<IResult> CallbackAsync(string? code, string? state, string? error, GraphCalendarProvider provider,
        RendezvousDbContext db, Secrets secrets, IDataProtectionProvider protection, IClock clock, IOptions<CalendarSyncOptions> syncOptions, CancellationToken ct)
    {
        var parts = Unprotect(protection, state)?.Split('|');
        if (parts is not { Length: 4 } || !Guid.TryParseExact(parts[0], "N", out var userGuid) || !Guid.TryParseExact(parts[1], "N", out var orgGuid)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || clock.GetCurrentInstant() > Instant.FromUnixTimeSeconds(expires))
        {
            return Problems.Validation("state", "is not a sign-in this server started, or it expired; start connecting again");
        }

        var web = parts[2] == "web";
        var userId = new UserId(userGuid);
        if (error is not null || string.IsNullOrEmpty(code))
        {
            return Done(web, userId, null, "Microsoft sign-in was not completed (" + (error ?? "no code") + ").");
        }

        GraphGrant grant;
        string bookingCalendar;
        try
        {
            grant = await provider.Authenticator.RedeemCodeAsync(code, ct);
            using var session = provider.OpenGrant(grant);
            var calendars = await session.ListCalendarsAsync(ct);
            bookingCalendar = calendars.FirstOrDefault(c => c.CanWrite)?.Id
                ?? throw new CalendarProviderException(CalendarFailure.NotFound, "This Microsoft account has no calendar we may write to.");
            grant = session.AccountUpdate?.Secret is { } cache ? grant with { TokenCache = cache } : grant;
        }
        catch (Exception ex) when (ex is GraphException or CalendarProviderException)
        {
            return Done(web, userId, null, "Connecting Microsoft failed: " + ex.Message);
        }

        var organizationId = new OrganizationId(orgGuid);
        var now = clock.GetCurrentInstant();
        var existing = await db.CalendarConnections.AcrossTenants()
            .Where(c => c.UserId == userId && c.OrganizationId == organizationId).ToListAsync(ct);
        // The same Microsoft account signing in again is a reconnect; another account becomes another connection.
        var connection = existing.FirstOrDefault(c => CalendarConnection.IsOAuthProvider(c.Provider)
            && (string.Equals(c.Username, grant.Username, StringComparison.OrdinalIgnoreCase) || c.ProtectedPassword.Length == 0));
        var accountState = new GraphAccountState(grant.HomeAccountId).Write();
        if (connection is null)
        {
            connection = new CalendarConnection(Guid.CreateVersion7(), organizationId, userId, CalendarKind.CalDav,
                provider.Authenticator.Options.GraphBaseUrl.ToString(), grant.Username, secrets.ProtectCalendarPassword(grant.TokenCache), bookingCalendar, [],
                cancelBookingOnDelete: false, updateBookingOnMove: false, now);
            connection.SetProvider(CalendarProvider.Office365);
            connection.UpdateAccount(null, accountState);
            // The user's first connection receives the bookings; otherwise this one adds busy time until marked.
            connection.SetBookingConnection(!existing.Any(c => c.IsBookingConnection));
            db.CalendarConnections.Add(connection);
        }
        else
        {
            // Reconnecting (or signing in a connection recorded without one): the new sign-in replaces the old; the
            // calendars and toggles stay as they were.
            if (connection.ProtectedPassword.Length == 0)
            {
                connection.Update(provider.Authenticator.Options.GraphBaseUrl.ToString(), grant.Username, null, bookingCalendar, [],
                    connection.CancelBookingOnDelete, connection.UpdateBookingOnMove, now);
            }

            connection.UpdateAccount(secrets.ProtectCalendarPassword(grant.TokenCache), accountState);
            connection.RecordSuccess(now, Duration.Zero);
        }

        await db.SaveChangesAsync(ct);
        return Done(web, userId, connection.Id, null);
    }

    private static IResult Done(bool web, UserId userId, Guid? connectionId, string? error) => web
        ? Results.Redirect($"/app/calendar-connection?user={userId}" + (error is null ? "&connected=microsoft" : "&error=" + Uri.EscapeDataString(error)))
        : error is null
            ? Results.Redirect($"/api/v1/calendar-connections/{connectionId}")
            : Problems.From(new DomainError(ErrorKind.Conflict, "microsoft_connect_failed", error));

    private static ITimeLimitedDataProtector States(IDataProtectionProvider protection) =>
        protection.CreateProtector("Rendezvous.Microsoft.OAuthState.v1").ToTimeLimitedDataProtector();

    private static string? Unprotect(IDataProtectionProvider protection, string? state)
    {
        if (string.IsNullOrEmpty(state) || state.Length > 2048)
        {
            return null;
        }

        try
        {
            return States(protection).Unprotect(state);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// Receives Microsoft Graph change notifications and lifecycle notifications at <c>/api/v1/calendar-push/microsoft</c>
/// (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks,
/// https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events). The validation handshake echoes the
/// <c>validationToken</c> as text/plain at once. Each notification only wakes the sync of the subscription's connection
/// when its clientState is the secret the subscription was made with; its content is never trusted beyond that.
/// </summary>
public sealed class GraphPushReceiver : ICalendarPushReceiver
{
    private const int MaxBody = 1 << 20;

    public string Name => "microsoft";

    public async Task<PushReceipt> ReceiveAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.Query.TryGetValue("validationToken", out var token))
        {
            return new PushReceipt(Results.Text(token.ToString(), "text/plain", Encoding.UTF8), []);
        }

        var pings = new List<PushPing>();
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, ct);
            if (buffer.Length > MaxBody)
            {
                return new PushReceipt(Results.StatusCode(StatusCodes.Status413PayloadTooLarge), []);
            }

            using var doc = JsonDocument.Parse(buffer.ToArray());
            if (!doc.RootElement.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Array)
            {
                return new PushReceipt(Results.BadRequest(), []);
            }

            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("subscriptionId", out var id) || id.GetString() is not { Length: > 0 } channel)
                {
                    continue;
                }

                var clientState = item.TryGetProperty("clientState", out var cs) ? cs.GetString() : null;
                var lifecycle = item.TryGetProperty("lifecycleEvent", out var le) ? le.GetString() : null;
                pings.Add(new PushPing(channel, clientState, lifecycle switch
                {
                    "reauthorizationRequired" => PushLifecycle.RenewNow,
                    "subscriptionRemoved" => PushLifecycle.Removed,
                    // "missed" and ordinary change notifications: the delta query finds whatever changed.
                    _ => PushLifecycle.Changed,
                }));
            }
        }
        catch (JsonException)
        {
            return new PushReceipt(Results.BadRequest(), []);
        }

        // 202 at once: Graph retries deliveries that take longer than a few seconds.
        return new PushReceipt(Results.Accepted(), pings);
    }
}

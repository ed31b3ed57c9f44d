using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Calendars.Google;
using Rendezvous.Calendars.Providers;

namespace Rendezvous.Server.Features.CalendarSync.Google;

/// <summary>The server's Google settings (section <c>Rendezvous:Google</c>).</summary>
public sealed class GoogleSettings
{
    /// <summary>The OAuth client of a "Web application" in Google Cloud console; without it nobody can connect Google.</summary>
    public string ClientId { get; set; } = "";

    public string ClientSecret { get; set; } = "";

    /// <summary>Registered as an authorized redirect URI of the client; defaults to {PublicBaseUrl}/api/v1/calendar-connections/google/callback.</summary>
    public string? RedirectUri { get; set; }

    /// <summary>How often a healthy Google connection is polled besides push notifications.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public int MaxAttempts { get; set; } = 4;

    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(20);

    // Google's production endpoints unless pointed elsewhere (tests point them at the emulator).
    public Uri ApiBaseUrl { get; set; } = new("https://www.googleapis.com/calendar/v3/");

    public Uri AuthorizationUrl { get; set; } = new("https://accounts.google.com/o/oauth2/v2/auth");

    public Uri TokenUrl { get; set; } = new("https://oauth2.googleapis.com/token");

    public Uri RevokeUrl { get; set; } = new("https://oauth2.googleapis.com/revoke");

    public bool IsConfigured => ClientId.Length > 0 && ClientSecret.Length > 0;

    public GoogleCalendarOptions ToClientOptions() => new()
    {
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        ApiBaseUrl = ApiBaseUrl,
        AuthorizationUrl = AuthorizationUrl,
        TokenUrl = TokenUrl,
        RevokeUrl = RevokeUrl,
        RequestTimeout = RequestTimeout,
        MaxAttempts = MaxAttempts,
        BaseDelay = BaseDelay,
        MaxDelay = MaxDelay,
    };
}

public static class GoogleCalendarSetup
{
    public static void AddGoogleCalendar(IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<GoogleSettings>(configuration.GetSection("Rendezvous:Google"));
        services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<GoogleSettings>>().Value;
            var handler = sp.GetRequiredService<Rendezvous.Integrations.Outbound.OutboundAddressPolicy>()
                .Guard(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(10) });
            return new GoogleCalendarProvider(handler, settings.ToClientOptions(), sp.GetRequiredService<IClock>(), settings.PollInterval);
        });
        services.AddSingleton<ICalendarProvider>(sp => sp.GetRequiredService<GoogleCalendarProvider>());
        services.AddSingleton<ICalendarPushReceiver, GooglePushReceiver>();
    }
}

/// <summary>
/// Google's push notifications (https://developers.google.com/calendar/api/guides/push#receiving-notifications): an empty
/// POST whose headers name the channel (X-Goog-Channel-ID), carry the token we set (X-Goog-Channel-Token; checked by the
/// caller against the one stored for the channel) and say what happened (X-Goog-Resource-State): "sync" when the channel
/// opens (nothing changed), "exists" or "not_exists" when the calendar's events changed. Any 2xx answer acknowledges it.
/// </summary>
public sealed class GooglePushReceiver : ICalendarPushReceiver
{
    public string Name => "google";

    public Task<PushReceipt> ReceiveAsync(HttpRequest request, CancellationToken ct)
    {
        var channelId = request.Headers["X-Goog-Channel-ID"].ToString();
        var state = request.Headers["X-Goog-Resource-State"].ToString();
        var token = request.Headers["X-Goog-Channel-Token"].ToString();
        if (channelId.Length == 0 || state.Length == 0)
        {
            return Task.FromResult(new PushReceipt(TypedResults.BadRequest(), []));
        }

        IReadOnlyList<PushPing> pings = state is "exists" or "not_exists" ? [new PushPing(channelId, token.Length == 0 ? null : token)] : [];
        return Task.FromResult(new PushReceipt(TypedResults.Ok(), pings));
    }
}

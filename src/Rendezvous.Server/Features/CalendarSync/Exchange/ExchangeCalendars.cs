using Microsoft.Extensions.Options;
using Rendezvous.Calendars.Ews;
using Rendezvous.Calendars.Providers;

namespace Rendezvous.Server.Features.CalendarSync.Exchange;

/// <summary>On-premises Exchange Server over EWS: the provider and Autodiscover, configured from <c>Rendezvous:Exchange</c>.</summary>
public static class ExchangeCalendars
{
    public static void AddExchangeCalendars(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<EwsOptions>(configuration.GetSection("Rendezvous:Exchange"));
        services.AddSingleton(sp => new EwsCalendarProvider(
            new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, sp.GetRequiredService<IOptions<EwsOptions>>().Value));
        services.AddSingleton<ICalendarProvider>(sp => sp.GetRequiredService<EwsCalendarProvider>());
        // Autodiscover follows redirects itself: an automatic one would turn the POST into a GET, or carry the password to plain http.
        services.AddSingleton(sp => new EwsAutodiscover(new SocketsHttpHandler { AllowAutoRedirect = false },
            sp.GetRequiredService<IOptions<EwsOptions>>().Value));
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Rendezvous.Integrations.OAuth;
using Microsoft.Extensions.Options;
using Rendezvous.Domain.Conferencing;
using Rendezvous.Data.Outbox;

namespace Rendezvous.Integrations.Conferencing;

public static class ConferencingServiceCollectionExtensions
{
    /// <summary>
    /// Conferencing (<c>Rendezvous:Conferencing</c>): the Zoom, GoTo Meeting and Webex clients, token refresh and the
    /// "conferencing" outbox handler. The calendar writer and notifications name it in their RunsAfter, so the meeting
    /// exists by the time they describe the booking, whatever the order of registration.
    /// </summary>
    public static IServiceCollection AddConferencing(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ConferencingOptions>(configuration.GetSection("Rendezvous:Conferencing"));
        services.AddConferencingHttp();
        services.TryAddSingleton<OAuthTokenStore>();
        services.AddSingleton<IConferencingTokens, ConferencingTokenStore>();
        services.AddSingleton<IConferencingClient, ZoomClient>();
        services.AddSingleton<IConferencingClient, GoToMeetingClient>();
        services.AddSingleton<IConferencingClient, WebexClient>();
        services.AddSingleton<ConferencingHandler>();
        services.AddSingleton<IOutboxHandler>(sp => sp.GetRequiredService<ConferencingHandler>());
        return services;
    }

    /// <summary>
    /// <see cref="ConferencingHttp"/> and one named client per service, each with its own pipeline and circuit (a Zoom
    /// outage must not pause Webex calls). Needs <c>ConferencingOptions</c> configured and an <c>IClock</c>.
    /// </summary>
    public static IServiceCollection AddConferencingHttp(this IServiceCollection services)
    {
        services.AddHttpClient();
        services.AddSingleton<ConferencingHttp>();
        foreach (var provider in Enum.GetValues<ConferencingProvider>())
        {
            services.AddResilientClient(ConferencingHttp.ClientName(provider), sp =>
            {
                var o = sp.GetRequiredService<IOptions<ConferencingOptions>>().Value;
                return new ResilienceSettings(o.RequestTimeout, o.TotalTimeout, o.MaxAttempts - 1, o.RetryBaseDelay, o.MaxRetryAfter, o.CircuitBreaker);
            });
        }

        return services;
    }
}

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
        services.AddSingleton<ConferencingHttp>();
        services.AddSingleton<IConferencingTokens, ConferencingTokenStore>();
        services.AddSingleton<IConferencingClient, ZoomClient>();
        services.AddSingleton<IConferencingClient, GoToMeetingClient>();
        services.AddSingleton<IConferencingClient, WebexClient>();
        services.AddSingleton<ConferencingHandler>();
        services.AddSingleton<IOutboxHandler>(sp => sp.GetRequiredService<ConferencingHandler>());
        return services;
    }
}

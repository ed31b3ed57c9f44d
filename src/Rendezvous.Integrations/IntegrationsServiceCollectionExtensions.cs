using Rendezvous.Integrations.Conferencing;
using Rendezvous.Integrations.Crm;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Integrations.Payments;
using Rendezvous.Integrations.Webhooks;

namespace Rendezvous.Integrations;

public static class IntegrationsServiceCollectionExtensions
{
    /// <summary>
    /// Every adapter to the outside world in one call: conferencing, outgoing webhooks, email, CRM and PayPal, with the
    /// secrets they keep at rest and their outbox handlers. The host adds what only it has: the background workers, the
    /// self-service links that emails point to (<see cref="ISelfServiceLinks"/>), Data Protection and the endpoints.
    /// </summary>
    public static IServiceCollection AddRendezvousIntegrations(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<PublicUrlOptions>(configuration.GetSection("Rendezvous"));
        services.AddSingleton<Secrets>();
        services.AddSingleton<IntegrationSecrets>();
        services.AddConferencing(configuration);
        services.AddWebhooks(configuration);
        services.AddNotifications(configuration);
        services.AddCrm(configuration);
        services.AddPayments(configuration);
        return services;
    }
}

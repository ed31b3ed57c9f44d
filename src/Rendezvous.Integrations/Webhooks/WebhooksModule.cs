using Rendezvous.Data.Outbox;

namespace Rendezvous.Integrations.Webhooks;

public static class WebhooksModule
{
    /// <summary>Registers subscriptions' secrets, the outbox handler that creates deliveries and the dispatcher that sends them (the host runs its worker).</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WebhookOptions>(configuration.GetSection("Rendezvous:Webhooks"));
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookSignal>();
        WebhookHttp.AddTo(services);
        services.AddSingleton<WebhookDispatcher>();
        services.AddSingleton<IOutboxHandler, WebhookOutboxHandler>();
        return services;
    }
}

using Rendezvous.Data.Outbox;

namespace Rendezvous.Server.Features.Webhooks;

public static class WebhooksModule
{
    /// <summary>Registers subscriptions' secrets, the outbox handler that creates deliveries, and the worker that sends them.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WebhookOptions>(configuration.GetSection("Rendezvous:Webhooks"));
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<WebhookHttp>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddSingleton<IOutboxHandler, WebhookOutboxHandler>();
        // One instance, so tests can resolve the worker and drive it by hand while it idles.
        services.AddSingleton<WebhookWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookWorker>());
        return services;
    }
}

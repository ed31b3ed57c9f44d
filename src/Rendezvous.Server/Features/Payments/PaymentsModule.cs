using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Rendezvous.Server.Features.Payments;

public static class PaymentsModule
{
    /// <summary>Registers the PayPal client, the payment service and its worker (settings under Rendezvous:PayPal).</summary>
    public static IServiceCollection AddPayments(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<PayPalOptions>(configuration.GetSection("Rendezvous:PayPal"));
        services.TryAddSingleton<Integrations.OutboundHttp>();
        services.AddSingleton<PayPalClient>();
        services.AddScoped<PaymentService>();
        // One instance, so tests can resolve the worker and drive it by hand while it idles.
        services.AddSingleton<PaymentsWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<PaymentsWorker>());
        return services;
    }
}

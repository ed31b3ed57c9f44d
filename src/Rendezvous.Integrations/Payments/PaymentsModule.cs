namespace Rendezvous.Integrations.Payments;

public static class PaymentsModule
{
    /// <summary>Registers the PayPal client, the payment service (the host runs its worker; settings under Rendezvous:PayPal).</summary>
    public static IServiceCollection AddPayments(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<PayPalOptions>(configuration.GetSection("Rendezvous:PayPal"));
        services.AddOutboundHttpClient<PayPalOptions>(PayPalClient.Provider);
        services.AddSingleton<PayPalClient>();
        services.AddScoped<PaymentService>();
        return services;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Rendezvous.Integrations.OAuth;
using Rendezvous.Data.Outbox;
using Rendezvous.Integrations.Crm.Infusionsoft;
using Rendezvous.Integrations.Crm.Salesforce;
using Rendezvous.Integrations;

namespace Rendezvous.Integrations.Crm;

public static class CrmModule
{
    /// <summary>Registers the Salesforce and Keap clients and their outbox handlers (settings under Rendezvous:Salesforce and Rendezvous:Keap).</summary>
    public static IServiceCollection AddCrm(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<SalesforceOptions>(configuration.GetSection("Rendezvous:Salesforce"));
        services.Configure<KeapOptions>(configuration.GetSection("Rendezvous:Keap"));
        services.AddOutboundHttpClient<SalesforceOptions>(SalesforceClient.Provider);
        services.AddOutboundHttpClient<KeapOptions>(KeapClient.Provider);
        services.TryAddSingleton<OAuthTokenStore>();
        services.AddSingleton<CrmTokens>();
        services.AddSingleton<SalesforceClient>();
        services.AddSingleton<KeapClient>();
        services.AddSingleton<IOutboxHandler, SalesforceOutboxHandler>();
        services.AddSingleton<IOutboxHandler, KeapOutboxHandler>();
        return services;
    }
}

using Rendezvous.Data.Outbox;

namespace Rendezvous.Server.Features.Automations;

public static class AutomationsSetup
{
    /// <summary>The rules' service, the actions, and the two outbox handlers (planning runs, running them).</summary>
    public static IServiceCollection AddAutomations(this IServiceCollection services)
    {
        services.AddScoped<AutomationActions>();
        services.AddScoped<AutomationService>();
        services.AddSingleton<IOutboxHandler, AutomationPlanner>();
        services.AddSingleton<IOutboxHandler, AutomationRunner>();
        return services;
    }
}

using Rendezvous.Data.Outbox;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>Registers the space channels: settings, the poller and its worker, and the answer handler.</summary>
public static class SpaceChannelSetup
{
    public static IServiceCollection AddSpaceChannels(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<SpaceChannelOptions>(configuration.GetSection("Rendezvous:SpaceChannels"));
        services.AddSingleton<SpaceChannelSecrets>();
        services.AddScoped<SpaceInvitationIntake>();
        services.AddSingleton<GraphSpaceChannel>();
        services.AddScoped<SpaceChannelPoller>();
        services.AddSingleton<IOutboxHandler, SpaceAnswerHandler>();
        services.AddHostedService<SpaceChannelWorker>();
        return services;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rendezvous.Data.Outbox;
using Rendezvous.Integrations.Notifications.Email;
using Rendezvous.Integrations.Notifications.Templates;

namespace Rendezvous.Integrations.Notifications;

public static class NotificationsServiceCollectionExtensions
{
    /// <summary>Email: SMTP (<c>Rendezvous:Smtp</c>), templates, the notifier and the "notifications" outbox handler.</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection("Rendezvous:Smtp");
        services.Configure<SmtpOptions>(section);
        if (section.GetSection("OAuth2").Get<SmtpOAuth2Options>() is { IsConfigured: true })
        {
            // One instance for the process: it holds the current access token.
            services.AddHttpClient(nameof(RefreshTokenAccessTokenSource), c => c.Timeout = TimeSpan.FromSeconds(30));
            services.TryAddSingleton<ISmtpAccessTokenSource>(sp => new RefreshTokenAccessTokenSource(
                sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(RefreshTokenAccessTokenSource)),
                sp.GetRequiredService<IOptions<SmtpOptions>>(), sp.GetRequiredService<NodaTime.IClock>()));
        }

        services.AddSingleton(sp => new SmtpClientPool(sp.GetRequiredService<IOptions<SmtpOptions>>(), sp.GetRequiredService<ILogger<SmtpClientPool>>(),
            sp.GetService<ISmtpAccessTokenSource>()));
        services.TryAddSingleton<IMailTransport>(sp => sp.GetRequiredService<SmtpClientPool>());
        services.AddSingleton<EmailTemplateStore>();
        services.AddSingleton<EmailLog>();
        services.AddSingleton<EmailOverrideStore>();
        services.AddSingleton<BookingNotifier>();
        services.AddSingleton<IBookingNotifier>(sp => sp.GetRequiredService<BookingNotifier>());
        services.AddSingleton<IOutboxHandler, NotificationsHandler>();
        return services;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Rendezvous.Data.Outbox;
using Rendezvous.Integrations.Notifications.Smtp;
using Rendezvous.Integrations.Notifications.Templates;

namespace Rendezvous.Integrations.Notifications;

public static class NotificationsServiceCollectionExtensions
{
    /// <summary>Email: SMTP (<c>Rendezvous:Smtp</c>), templates, the notifier and the "notifications" outbox handler.</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<SmtpOptions>(configuration.GetSection("Rendezvous:Smtp"));
        services.AddSingleton<SmtpConnectionPool>();
        services.TryAddSingleton<IMailTransport>(sp => sp.GetRequiredService<SmtpConnectionPool>());
        services.AddSingleton<EmailTemplateStore>();
        services.AddSingleton<EmailLog>();
        services.AddSingleton<EmailOverrideStore>();
        services.AddSingleton<BookingNotifier>();
        services.AddSingleton<IBookingNotifier>(sp => sp.GetRequiredService<BookingNotifier>());
        services.AddSingleton<IOutboxHandler, NotificationsHandler>();
        return services;
    }
}

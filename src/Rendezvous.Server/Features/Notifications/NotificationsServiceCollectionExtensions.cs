using Microsoft.Extensions.DependencyInjection.Extensions;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Features.Notifications.Smtp;
using Rendezvous.Server.Features.Notifications.Templates;

namespace Rendezvous.Server.Features.Notifications;

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
        // Customer links in emails are the signed self-service links.
        services.TryAddSingleton<ISelfServiceLinks>(sp => sp.GetRequiredService<SelfService.SelfServiceLinks>());
        services.AddSingleton<BookingNotifier>();
        services.AddSingleton<IBookingNotifier>(sp => sp.GetRequiredService<BookingNotifier>());
        services.AddSingleton<IOutboxHandler, NotificationsHandler>();
        return services;
    }
}

using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Integrations.Notifications.Templates;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Notifications.Templates;

/// <summary>
/// Saving an organization's own email template: the one implementation the API endpoint and the administrator's page
/// both call. The placeholders are checked before anything is stored.
/// </summary>
public sealed class EmailTemplates(EmailTemplateStore store, IClock clock)
{
    public async Task<Result> SaveAsync(CurrentUser me, NotificationKind kind, TemplateAudience audience, EmailTemplateRequest request,
        CancellationToken ct)
    {
        var errors = EmailTemplateStore.Validate(request.Subject, request.Text, request.Html);
        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        await store.SaveAsync(me.OrganizationId, kind, audience, request.Subject!.Trim(), request.Text!, request.Html, me.Id,
            clock.GetCurrentInstant(), ct);
        return Result.Success;
    }
}

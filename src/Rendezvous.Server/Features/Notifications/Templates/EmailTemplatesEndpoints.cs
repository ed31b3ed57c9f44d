using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Integrations.Notifications.Templates;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Notifications.Templates;

public sealed record EmailTemplateRequest(string? Subject, string? Text, string? Html);

public sealed record EmailTemplateResponse(
    string Kind,
    string Audience,
    string Subject,
    string Text,
    string Html,
    bool Customised,
    bool HtmlFromText);

public sealed record EmailTemplatesResponse(EmailTemplateResponse[] Templates, IReadOnlyDictionary<string, string> Placeholders);

/// <summary>
/// The organization's email templates (administrators): every kind for the customer and for the hosts, customised or
/// default. <c>audience</c> (query) is <c>customer</c> (default) or <c>host</c>.
/// </summary>
public static class EmailTemplatesEndpoints
{
    public static void MapEmailTemplates(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/email-templates").WithTags("Email templates").RequireAuthorization(ApiKeys.AdministratorPolicy);
        group.MapGet("/", ListAsync);
        group.MapGet("/{kind}", GetAsync);
        group.MapPut("/{kind}", PutAsync);
        group.MapDelete("/{kind}", DeleteAsync);
    }

    public static EmailTemplateResponse ToResponse(EffectiveTemplate t) => new(
        NotificationNames.Of(t.Kind), NotificationNames.Of(t.Audience), t.Source.Subject, t.Source.Text, t.Source.Html, t.Customised, t.HtmlFromText);

    private static async Task<Ok<EmailTemplatesResponse>> ListAsync(EmailTemplateStore store, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var all = await store.ListAsync(me.OrganizationId, ct);
        return TypedResults.Ok(new EmailTemplatesResponse([.. all.Select(ToResponse)], Rendezvous.Integrations.Notifications.Templates.Placeholders.Descriptions));
    }

    private static async Task<Results<Ok<EmailTemplateResponse>, ProblemHttpResult>> GetAsync(
        string kind, string? audience, EmailTemplateStore store, HttpContext http, CancellationToken ct)
    {
        if (Parse(kind, audience) is not { } key)
        {
            return Problems.From(Unknown(kind, audience));
        }

        var me = CurrentUser.From(http.User);
        return TypedResults.Ok(ToResponse(await store.GetAsync(me.OrganizationId, key.Kind, key.Audience, ct)));
    }

    private static async Task<Results<Ok<EmailTemplateResponse>, ProblemHttpResult>> PutAsync(
        string kind, string? audience, EmailTemplateRequest request, EmailTemplateStore store, EmailTemplates templates, HttpContext http,
        CancellationToken ct)
    {
        if (Parse(kind, audience) is not { } key)
        {
            return Problems.From(Unknown(kind, audience));
        }

        var me = CurrentUser.From(http.User);
        var saved = await templates.SaveAsync(me, key.Kind, key.Audience, request, ct);
        if (!saved.IsSuccess)
        {
            return Problems.From(saved.Error!);
        }

        return TypedResults.Ok(ToResponse(await store.GetAsync(me.OrganizationId, key.Kind, key.Audience, ct)));
    }

    /// <summary>Back to the default; answers with the default template.</summary>
    private static async Task<Results<Ok<EmailTemplateResponse>, ProblemHttpResult>> DeleteAsync(
        string kind, string? audience, EmailTemplateStore store, HttpContext http, CancellationToken ct)
    {
        if (Parse(kind, audience) is not { } key)
        {
            return Problems.From(Unknown(kind, audience));
        }

        var me = CurrentUser.From(http.User);
        await store.ResetAsync(me.OrganizationId, key.Kind, key.Audience, ct);
        return TypedResults.Ok(ToResponse(EmailTemplateStore.Default(key.Kind, key.Audience)));
    }

    private static (NotificationKind Kind, TemplateAudience Audience)? Parse(string kind, string? audience) =>
        NotificationNames.TryParseKind(kind, out var k) && NotificationNames.TryParseAudience(audience, out var a) ? (k, a) : null;

    private static DomainError Unknown(string kind, string? audience) =>
        !NotificationNames.TryParseKind(kind, out _)
            ? DomainError.NotFound($"Email template kind '{kind}' (known: {string.Join(", ", Enum.GetValues<NotificationKind>().Select(NotificationNames.Of))})")
            : DomainError.Validation("audience", "must be customer or host");
}

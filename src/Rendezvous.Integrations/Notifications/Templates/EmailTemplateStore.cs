using System.Collections.Concurrent;
using Npgsql;
using NodaTime;
using Rendezvous.Domain;

namespace Rendezvous.Integrations.Notifications.Templates;

/// <summary>An organization's template for one kind and audience: its own when customised, else the default.</summary>
public sealed record EffectiveTemplate(NotificationKind Kind, TemplateAudience Audience, TemplateSource Source, bool Customised, bool HtmlFromText)
{
    public TemplateText Subject { get; } = TemplateText.ParseValid(Source.Subject);

    public TemplateText Text { get; } = TemplateText.ParseValid(Source.Text);

    public TemplateText Html { get; } = TemplateText.ParseValid(Source.Html);
}

/// <summary>
/// Customised templates, per organization, kind and audience, in <c>email_templates</c>. Every query names the
/// organization. A template without its own HTML gets HTML made from its text. Sending reads an organization's templates
/// from a short cache (<see cref="CacheFor"/>): a change made through this process applies at once, one made through
/// another server process within that time.
/// </summary>
public sealed class EmailTemplateStore(NpgsqlDataSource dataSource)
{
    /// <summary>How long sending may use an organization's templates without reading them again.</summary>
    public static TimeSpan CacheFor { get; } = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<OrganizationId, (long Until, IReadOnlyDictionary<(NotificationKind, TemplateAudience), EffectiveTemplate> Custom)> _cache = new();

    public const int MaxSubjectLength = 300;
    public const int MaxTextLength = 20_000;
    public const int MaxHtmlLength = 100_000;

    private static readonly Dictionary<(NotificationKind, TemplateAudience), EffectiveTemplate> Defaults =
        Enum.GetValues<NotificationKind>()
            .SelectMany(k => Enum.GetValues<TemplateAudience>().Select(a => (k, a)))
            .ToDictionary(x => x, x => new EffectiveTemplate(x.k, x.a, DefaultTemplates.For(x.k, x.a), false, false));

    public static EffectiveTemplate Default(NotificationKind kind, TemplateAudience audience) => Defaults[(kind, audience)];

    /// <summary>Every kind and audience, customised or default, as stored now.</summary>
    public async Task<IReadOnlyList<EffectiveTemplate>> ListAsync(OrganizationId organizationId, CancellationToken ct)
    {
        var custom = await LoadAsync(organizationId, ct);
        return [.. Defaults.Keys.OrderBy(k => k.Item1).ThenBy(k => k.Item2).Select(k => custom.GetValueOrDefault(k) ?? Defaults[k])];
    }

    /// <summary>The template as stored now.</summary>
    public async Task<EffectiveTemplate> GetAsync(OrganizationId organizationId, NotificationKind kind, TemplateAudience audience, CancellationToken ct) =>
        (await LoadAsync(organizationId, ct)).GetValueOrDefault((kind, audience)) ?? Defaults[(kind, audience)];

    // The defaults in every language; an organization's own template is one text for every language (it chose the words).
    private static readonly Dictionary<(NotificationKind, TemplateAudience, string), EffectiveTemplate> LanguageDefaults =
        Defaults.Keys.SelectMany(k => Localization.Languages.Codes.Select(l => (k.Item1, k.Item2, l)))
            .ToDictionary(x => x, x => new EffectiveTemplate(x.Item1, x.Item2, DefaultTemplates.For(x.Item1, x.Item2, x.l), false, false));

    /// <summary>The template to send with (possibly up to <see cref="CacheFor"/> old when changed by another process).</summary>
    public Task<EffectiveTemplate> ForSendingAsync(OrganizationId organizationId, NotificationKind kind, TemplateAudience audience, CancellationToken ct) =>
        ForSendingAsync(organizationId, kind, audience, Localization.Languages.Default, ct);

    /// <summary>
    /// The template to send in <paramref name="language"/>: the organization's own when it customised this one (in the
    /// words it wrote), otherwise the default in that language.
    /// </summary>
    public async Task<EffectiveTemplate> ForSendingAsync(OrganizationId organizationId, NotificationKind kind, TemplateAudience audience, string language,
        CancellationToken ct)
    {
        if (!_cache.TryGetValue(organizationId, out var cached) || cached.Until < Environment.TickCount64)
        {
            cached = (Environment.TickCount64 + (long)CacheFor.TotalMilliseconds, await LoadAsync(organizationId, ct));
            _cache[organizationId] = cached;
        }

        return cached.Custom.GetValueOrDefault((kind, audience)) ?? LanguageDefaults[(kind, audience, Localization.Languages.Normalize(language))];
    }

    private async Task<IReadOnlyDictionary<(NotificationKind, TemplateAudience), EffectiveTemplate>> LoadAsync(OrganizationId organizationId, CancellationToken ct)
    {
        var custom = new Dictionary<(NotificationKind, TemplateAudience), EffectiveTemplate>();
        await using var command = dataSource.CreateCommand(
            "SELECT kind, audience, subject, text_body, html_body FROM email_templates WHERE organization_id = @org");
        command.Parameters.AddWithValue("org", organizationId.Value);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (Read(reader) is { } t)
            {
                custom[(t.Kind, t.Audience)] = t;
            }
        }

        return custom;
    }

    /// <summary>Validates the parts; the problems per field (unknown placeholders named), or none.</summary>
    public static IReadOnlyList<Domain.FieldError> Validate(string? subject, string? text, string? html)
    {
        var errors = new List<Domain.FieldError>();
        if (string.IsNullOrWhiteSpace(subject) || subject.Length > MaxSubjectLength || subject.Any(char.IsControl))
        {
            errors.Add(new("subject", $"is required: one line of at most {MaxSubjectLength} characters"));
        }
        else
        {
            errors.AddRange(Check("subject", subject));
        }

        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxTextLength)
        {
            errors.Add(new("text", $"is required (at most {MaxTextLength} characters)"));
        }
        else
        {
            errors.AddRange(Check("text", text));
        }

        if (html is not null)
        {
            if (html.Length > MaxHtmlLength)
            {
                errors.Add(new("html", $"must be at most {MaxHtmlLength} characters"));
            }
            else
            {
                errors.AddRange(Check("html", html));
            }
        }

        return errors;
    }

    /// <summary>The problems of one template part, as field errors.</summary>
    public static IEnumerable<Domain.FieldError> Check(string field, string source)
    {
        TemplateText.Parse(source, out var problems, out _);
        return problems.Select(p => new Domain.FieldError(field, p));
    }

    public async Task SaveAsync(OrganizationId organizationId, NotificationKind kind, TemplateAudience audience, string subject, string text,
        string? html, UserId updatedBy, Instant now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO email_templates (organization_id, kind, audience, subject, text_body, html_body, updated_at, updated_by)
            VALUES (@org, @kind, @audience, @subject, @text, @html, @now, @by)
            ON CONFLICT (organization_id, kind, audience) DO UPDATE
                SET subject = EXCLUDED.subject, text_body = EXCLUDED.text_body, html_body = EXCLUDED.html_body,
                    updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
            """);
        command.Parameters.AddWithValue("org", organizationId.Value);
        command.Parameters.AddWithValue("kind", NotificationNames.Of(kind));
        command.Parameters.AddWithValue("audience", NotificationNames.Of(audience));
        command.Parameters.AddWithValue("subject", subject);
        command.Parameters.AddWithValue("text", text);
        command.Parameters.AddWithValue("html", (object?)html ?? DBNull.Value);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("by", updatedBy.Value);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        _cache.TryRemove(organizationId, out _);
    }

    /// <summary>Goes back to the default; false when the template was not customised.</summary>
    public async Task<bool> ResetAsync(OrganizationId organizationId, NotificationKind kind, TemplateAudience audience, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "DELETE FROM email_templates WHERE organization_id = @org AND kind = @kind AND audience = @audience");
        command.Parameters.AddWithValue("org", organizationId.Value);
        command.Parameters.AddWithValue("kind", NotificationNames.Of(kind));
        command.Parameters.AddWithValue("audience", NotificationNames.Of(audience));
        var deleted = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
        _cache.TryRemove(organizationId, out _);
        return deleted;
    }

    private static EffectiveTemplate? Read(NpgsqlDataReader reader)
    {
        if (!NotificationNames.TryParseKind(reader.GetString(0), out var kind) || !NotificationNames.TryParseAudience(reader.GetString(1), out var audience))
        {
            return null;
        }

        var text = reader.GetString(3);
        var html = reader.IsDBNull(4) ? null : reader.GetString(4);
        var source = new TemplateSource(reader.GetString(2), text, html ?? HtmlLayout.FromText(text));
        // Stored templates were validated when saved; one that no longer parses (a placeholder withdrawn) falls back.
        return Validate(source.Subject, source.Text, html).Count == 0 ? new EffectiveTemplate(kind, audience, source, true, html is null) : null;
    }
}

using System.Globalization;
using System.Text;
using Rendezvous.Integrations.Localization;

namespace Rendezvous.Integrations.Notifications.Templates;

/// <summary>Who a template speaks to: the same kind of message reads differently for the customer and for the hosts.</summary>
public enum TemplateAudience
{
    Customer,
    Host,
}

/// <summary>The API names of kinds and audiences (camelCase), and parsing them back.</summary>
public static class NotificationNames
{
    public static string Of(NotificationKind kind) => kind switch
    {
        NotificationKind.Confirmation => "confirmation",
        NotificationKind.RequestReceived => "requestReceived",
        NotificationKind.RequestApproved => "requestApproved",
        NotificationKind.RequestDeclined => "requestDeclined",
        NotificationKind.Rescheduled => "rescheduled",
        NotificationKind.Canceled => "canceled",
        NotificationKind.Reminder => "reminder",
        NotificationKind.FollowUp => "followUp",
        NotificationKind.Reassigned => "reassigned",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static string Of(TemplateAudience audience) => audience == TemplateAudience.Customer ? "customer" : "host";

    public static bool TryParseKind(string? text, out NotificationKind kind)
    {
        foreach (var k in Enum.GetValues<NotificationKind>())
        {
            if (string.Equals(Of(k), text, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }

        kind = default;
        return false;
    }

    public static bool TryParseAudience(string? text, out TemplateAudience audience)
    {
        audience = TemplateAudience.Customer;
        if (text is null || string.Equals(text, "customer", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (string.Equals(text, "host", StringComparison.OrdinalIgnoreCase))
        {
            audience = TemplateAudience.Host;
            return true;
        }

        return false;
    }
}

/// <summary>A template's three parts, as stored (source text).</summary>
public sealed record TemplateSource(string Subject, string Text, string Html);

/// <summary>
/// The templates every organization starts with. Each is written once as a small structure (greeting, opening line,
/// details, closing) from which both the plain text and the HTML are made, so the two always say the same thing.
/// </summary>
public static class DefaultTemplates
{
    private sealed record Detail(string Label, string Value, string? OnlyWhen = null);

    private sealed record Spec(string Subject, string Opening, Detail[] Details, string? Closing = null, bool ManageLink = false);

    private static readonly Detail When = new("When", "{{booking.when}}");
    private static readonly Detail Where = new("Where", "{{booking.location}}", "booking.location");
    private static readonly Detail Notes = new("Notes", "{{booking.publicNotes}}", "booking.publicNotes");
    private static readonly Detail Reason = new("Reason", "{{booking.reason}}", "booking.reason");
    private static readonly Detail Previously = new("Previously", "{{booking.previousStart}}", "booking.previousStart");
    private static readonly Detail Customer = new("Customer", "{{customer.name}} ({{customer.email}})");
    private static readonly Detail Phone = new("Phone", "{{customer.phone}}", "customer.phone");

    private const string InviteAttached = "The calendar invitation is attached.";

    private static readonly Dictionary<(NotificationKind, TemplateAudience), Spec> Specs = new()
    {
        [(NotificationKind.Confirmation, TemplateAudience.Customer)] = new(
            "Confirmed: {{booking.title}} with {{host.name}}, {{booking.start}}",
            "Your {{booking.title}} with {{host.name}} is booked.",
            [When, Where, Notes], InviteAttached, ManageLink: true),
        [(NotificationKind.Confirmation, TemplateAudience.Host)] = new(
            "New booking: {{booking.title}} with {{customer.name}}, {{booking.start}}",
            "{{customer.name}} booked {{booking.title}} with you.",
            [When, Customer, Phone, Where], InviteAttached, ManageLink: true),

        [(NotificationKind.RequestReceived, TemplateAudience.Customer)] = new(
            "Request received: {{booking.title}} with {{host.name}}, {{booking.start}}",
            "Thank you for your request. {{host.name}} will confirm it soon; until then the time is held for you.",
            [When, Where], ManageLink: true),
        [(NotificationKind.RequestReceived, TemplateAudience.Host)] = new(
            "Approval needed: {{booking.title}} with {{customer.name}}, {{booking.start}}",
            "{{customer.name}} asks for {{booking.title}} with you. Please approve or decline the request.",
            [When, Customer, Phone, Where]),

        [(NotificationKind.RequestApproved, TemplateAudience.Customer)] = new(
            "Approved: {{booking.title}} with {{host.name}}, {{booking.start}}",
            "Good news: {{host.name}} approved your request. Your {{booking.title}} is booked.",
            [When, Where, Notes], InviteAttached, ManageLink: true),
        [(NotificationKind.RequestApproved, TemplateAudience.Host)] = new(
            "Approved: {{booking.title}} with {{customer.name}}, {{booking.start}}",
            "The request from {{customer.name}} for {{booking.title}} is approved.",
            [When, Customer, Where], InviteAttached, ManageLink: true),

        [(NotificationKind.RequestDeclined, TemplateAudience.Customer)] = new(
            "Declined: {{booking.title}} with {{host.name}}, {{booking.start}}",
            "We are sorry: {{host.name}} cannot meet at the time you asked for.",
            [When, Reason], "You are welcome to ask for another time."),
        [(NotificationKind.RequestDeclined, TemplateAudience.Host)] = new(
            "Declined: {{booking.title}} with {{customer.name}}, {{booking.start}}",
            "The request from {{customer.name}} for {{booking.title}} was declined.",
            [When, Customer, Reason]),

        [(NotificationKind.Rescheduled, TemplateAudience.Customer)] = new(
            "Rescheduled: {{booking.title}} with {{host.name}}, now {{booking.start}}",
            "Your {{booking.title}} with {{host.name}} has a new time.",
            [When, Previously, Where, Reason, Notes], "The updated calendar invitation is attached.", ManageLink: true),
        [(NotificationKind.Rescheduled, TemplateAudience.Host)] = new(
            "Rescheduled: {{booking.title}} with {{customer.name}}, now {{booking.start}}",
            "{{booking.title}} with {{customer.name}} has a new time.",
            [When, Previously, Customer, Where, Reason], "The updated calendar invitation is attached.", ManageLink: true),

        [(NotificationKind.Canceled, TemplateAudience.Customer)] = new(
            "Canceled: {{booking.title}} with {{host.name}}, {{booking.start}}",
            "Your {{booking.title}} with {{host.name}} is canceled.",
            [When, Reason], "If you would like to meet another time, you are welcome to book again."),
        [(NotificationKind.Canceled, TemplateAudience.Host)] = new(
            "Canceled: {{booking.title}} with {{customer.name}}, {{booking.start}}",
            "{{booking.title}} with {{customer.name}} is canceled; the time is free again.",
            [When, Customer, Reason]),

        [(NotificationKind.Reminder, TemplateAudience.Customer)] = new(
            "Reminder: {{booking.title}} with {{host.name}}, {{booking.start}}",
            "This is a reminder of your {{booking.title}} with {{host.name}}.",
            [When, Where, Notes], ManageLink: true),
        [(NotificationKind.Reminder, TemplateAudience.Host)] = new(
            "Reminder: {{booking.title}} with {{customer.name}}, {{booking.start}}",
            "This is a reminder of {{booking.title}} with {{customer.name}}.",
            [When, Customer, Phone, Where], ManageLink: true),

        [(NotificationKind.FollowUp, TemplateAudience.Customer)] = new(
            "Thank you for meeting with {{host.name}}",
            "Thank you for your {{booking.title}} with {{host.name}}. We hope it was useful.",
            [When, Notes], "If there is anything else, simply reply to this email."),
        [(NotificationKind.FollowUp, TemplateAudience.Host)] = new(
            "Follow-up: {{booking.title}} with {{customer.name}}",
            "{{booking.title}} with {{customer.name}} has taken place; the customer was thanked for attending.",
            [When, Customer]),

        [(NotificationKind.Reassigned, TemplateAudience.Customer)] = new(
            "Update: your {{booking.title}} is now with {{host.name}}",
            "Your {{booking.title}} will now be with {{host.name}}. The time stays the same.",
            [When, Where, Notes], "The updated calendar invitation is attached.", ManageLink: true),
        [(NotificationKind.Reassigned, TemplateAudience.Host)] = new(
            "Assigned to you: {{booking.title}} with {{customer.name}}, {{booking.start}}",
            "{{booking.title}} with {{customer.name}} has been assigned to you.",
            [When, Customer, Phone, Where], InviteAttached, ManageLink: true),
    };

    // Every template in every language, built once: the English wording above is translated line by line.
    private static readonly Dictionary<(NotificationKind, TemplateAudience, string), TemplateSource> Sources =
        Specs.SelectMany(kv => Languages.Codes.Select(l => (kv.Key, kv.Value, Language: l)))
            .ToDictionary(x => (x.Key.Item1, x.Key.Item2, x.Language), x => Build(x.Key.Item2, x.Value, Languages.Culture(x.Language)));

    /// <summary>The English default (the one the template editor shows and an organization customises).</summary>
    public static TemplateSource For(NotificationKind kind, TemplateAudience audience) => For(kind, audience, Languages.Default);

    /// <summary>The default in <paramref name="language"/> (a supported code; anything else is English).</summary>
    public static TemplateSource For(NotificationKind kind, TemplateAudience audience, string language) =>
        Sources[(kind, audience, Languages.Normalize(language))];

    /// <summary>
    /// The fixed block added below a staff member's own message in a rescheduled email (the new time, the place and the
    /// manage link always reach the customer, whatever the message says).
    /// </summary>
    public static string DetailsBlock { get; } = DetailsBlockIn(Languages.Default);

    /// <summary><see cref="DetailsBlock"/> in <paramref name="language"/>.</summary>
    public static string DetailsBlockIn(string language)
    {
        var culture = Languages.Culture(language);
        return TextDetails([When, Where, Notes], culture) + "\n" + ManageText(culture);
    }

    private static string ManageText(CultureInfo culture) => Texts.Get("Need to change something? Reschedule or cancel here:", culture) + "\n{{manageUrl}}\n";

    private static TemplateSource Build(TemplateAudience audience, Spec english, CultureInfo culture)
    {
        string L(string text) => Texts.Get(text, culture);
        var spec = english with
        {
            Subject = L(english.Subject),
            Opening = L(english.Opening),
            Closing = english.Closing is null ? null : L(english.Closing),
        };
        var greeting = L(audience == TemplateAudience.Customer ? "Hello {{customer.name}}," : "Hello {{recipient.name}},");
        var text = new StringBuilder();
        text.Append(greeting).Append("\n\n").Append(spec.Opening).Append("\n\n");
        text.Append(TextDetails(spec.Details, culture));
        if (spec.Closing is not null)
        {
            text.Append('\n').Append(spec.Closing).Append('\n');
        }

        if (spec.ManageLink)
        {
            text.Append('\n').Append(ManageText(culture));
        }

        text.Append("\n{{organization.name}}\n");

        var body = new StringBuilder();
        body.Append(HtmlLayout.Paragraph(Escape(greeting)));
        body.Append(HtmlLayout.Paragraph(Escape(spec.Opening)));
        body.Append("<table role=\"presentation\" style=\"border-collapse:collapse;margin:0 0 16px 0;\">\n");
        foreach (var d in spec.Details)
        {
            var row = $"<tr><td style=\"padding:4px 16px 4px 0;color:#57606a;vertical-align:top;\">{Escape(L(d.Label))}</td>"
                + $"<td style=\"padding:4px 0;vertical-align:top;\">{Escape(d.Value)}</td></tr>\n";
            body.Append(d.OnlyWhen is null ? row : $"{{{{#{d.OnlyWhen}}}}}{row}{{{{/{d.OnlyWhen}}}}}");
        }

        body.Append("</table>\n");
        if (spec.Closing is not null)
        {
            body.Append(HtmlLayout.Paragraph(Escape(spec.Closing)));
        }

        if (spec.ManageLink)
        {
            body.Append(HtmlLayout.ManageLinkIn(culture));
        }

        body.Append(HtmlLayout.Paragraph("{{organization.name}}"));
        return new TemplateSource(spec.Subject, text.ToString(), HtmlLayout.Document(body.ToString()));
    }

    private static string TextDetails(Detail[] details, CultureInfo culture)
    {
        var text = new StringBuilder();
        foreach (var d in details)
        {
            var line = $"{Texts.Get(d.Label, culture)}: {d.Value}\n";
            text.Append(d.OnlyWhen is null ? line : $"{{{{#{d.OnlyWhen}}}}}{line}{{{{/{d.OnlyWhen}}}}}");
        }

        return text.ToString();
    }

    private static string Escape(string templateText) => HtmlLayout.Escape(templateText);
}

/// <summary>The HTML around every message, and the conversion of a plain-text template into an HTML one.</summary>
public static class HtmlLayout
{
    public static string ManageLink { get; } = ManageLinkIn(CultureInfo.InvariantCulture);

    /// <summary>The "Reschedule or cancel" button in the language of <paramref name="culture"/>.</summary>
    public static string ManageLinkIn(CultureInfo culture) =>
        "{{#manageUrl}}<p style=\"margin:0 0 16px 0;\"><a href=\"{{manageUrl}}\" style=\"display:inline-block;padding:10px 16px;"
        + "background:#0b5cad;color:#ffffff;text-decoration:none;border-radius:6px;\">" + Escape(Texts.Get("Reschedule or cancel", culture))
        + "</a></p>\n{{/manageUrl}}";

    public static string Document(string body) =>
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"></head>\n"
        + "<body style=\"margin:0;padding:24px;background:#f6f7f9;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
        + "font-size:15px;line-height:1.5;color:#1f2328;\">\n"
        + "<div style=\"max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px;\">\n"
        + body
        + "</div>\n</body></html>\n";

    public static string Paragraph(string html) => $"<p style=\"margin:0 0 16px 0;\">{html}</p>\n";

    /// <summary>
    /// Escapes text for HTML content and quoted attribute values: only &amp; &lt; &gt; " and ' change; everything else
    /// stays as it is (the message is UTF-8, so there is no need for numeric entities).
    /// </summary>
    public static string Escape(string text)
    {
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }

    /// <summary>
    /// Makes an HTML template from a plain-text one: the text is escaped (placeholders stay, their values are escaped when
    /// rendered), blank lines separate paragraphs, line breaks stay, and a line that is only <c>{{manageUrl}}</c> becomes
    /// the "Reschedule or cancel" button.
    /// </summary>
    public static string FromText(string textTemplate) => FromText(textTemplate, Languages.Default);

    /// <summary><see cref="FromText(string)"/> with the button in <paramref name="language"/>.</summary>
    public static string FromText(string textTemplate, string language)
    {
        var manageLink = ManageLinkIn(Languages.Culture(language));
        var body = new StringBuilder();
        foreach (var paragraph in textTemplate.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = paragraph.Trim('\n').Split('\n');
            var html = new StringBuilder();
            foreach (var line in lines)
            {
                if (line.Trim() == "{{manageUrl}}")
                {
                    if (html.Length > 0)
                    {
                        body.Append(Paragraph(html.ToString()));
                        html.Clear();
                    }

                    body.Append(manageLink);
                    continue;
                }

                if (html.Length > 0)
                {
                    html.Append("<br>\n");
                }

                html.Append(Escape(line));
            }

            if (html.Length > 0)
            {
                body.Append(Paragraph(html.ToString()));
            }
        }

        return Document(body.ToString());
    }
}

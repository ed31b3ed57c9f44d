using System.Text.Json.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Integrations.Notifications.Templates;

namespace Rendezvous.Server.Features.Automations;

/// <summary>What starts an automation: a change to the booking, or a time before its start or after its end.</summary>
public static class AutomationTriggers
{
    public const string Booked = "booked";
    public const string Rescheduled = "rescheduled";
    public const string Canceled = "canceled";
    public const string NoShow = "noShow";
    public const string Completed = "completed";
    public const string Reassigned = "reassigned";
    public const string BeforeStart = "beforeStart";
    public const string AfterEnd = "afterEnd";

    public static IReadOnlyList<string> All { get; } = [Booked, Rescheduled, Canceled, NoShow, Completed, Reassigned, BeforeStart, AfterEnd];

    public static bool IsTimed(string trigger) => trigger is BeforeStart or AfterEnd;

    /// <summary>The trigger a booking event fires (a request is "booked" once approved); null for events no rule reacts to.</summary>
    public static string? Of(string eventType) => eventType switch
    {
        BookingEvent.Created or BookingEvent.Approved => Booked,
        BookingEvent.Rescheduled => Rescheduled,
        BookingEvent.Canceled or BookingEvent.PaymentExpired => Canceled,
        BookingEvent.NoShow => NoShow,
        BookingEvent.Completed => Completed,
        BookingEvent.Reassigned => Reassigned,
        _ => null,
    };

    /// <summary>How the screen and the activity stream say it.</summary>
    public static string Describe(string trigger, int offsetMinutes) => trigger switch
    {
        Booked => "when booked",
        Rescheduled => "when rescheduled",
        Canceled => "when canceled",
        NoShow => "when marked no-show",
        Completed => "when completed",
        Reassigned => "when reassigned",
        BeforeStart => $"{DescribeOffset(offsetMinutes)} before the start",
        AfterEnd => $"{DescribeOffset(offsetMinutes)} after the end",
        _ => trigger,
    };

    public static string DescribeOffset(int minutes) =>
        minutes % 1440 == 0 && minutes > 0 ? Plural(minutes / 1440, "day")
        : minutes % 60 == 0 && minutes > 0 ? Plural(minutes / 60, "hour")
        : Plural(minutes, "minute");

    private static string Plural(int n, string unit) => n == 1 ? $"1 {unit}" : $"{n} {unit}s";
}

/// <summary>What an automation does.</summary>
public static class AutomationActionKinds
{
    public const string Email = "email";
    public const string Webhook = "webhook";
    public const string KeapTag = "keapTag";
    public const string SalesforceField = "salesforceField";
    public const string MarkNoShow = "markNoShow";
    public const string MarkCompleted = "markCompleted";

    public static IReadOnlyList<string> All { get; } = [Email, Webhook, KeapTag, SalesforceField, MarkNoShow, MarkCompleted];
}

/// <summary>Which bookings a rule acts on. Empty lists match every booking.</summary>
public sealed record AutomationFilters
{
    public IReadOnlyList<string> BookingPageIds { get; init; } = [];

    public IReadOnlyList<string> HostIds { get; init; } = [];

    /// <summary>Booking statuses by API name (scheduled, rescheduled, completed, ...).</summary>
    public IReadOnlyList<string> Statuses { get; init; } = [];

    /// <summary>Answers to booking questions that must all match (case and surrounding spaces ignored).</summary>
    public IReadOnlyList<AutomationAnswerFilter> Answers { get; init; } = [];

    public bool Matches(Booking booking)
    {
        if (BookingPageIds.Count > 0 && !BookingPageIds.Contains(booking.BookingPageId.ToString(), StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        if (HostIds.Count > 0 && !booking.Hosts.Select(h => h.UserId).Append(booking.OwnerId)
                .Any(h => HostIds.Contains(h.ToString(), StringComparer.OrdinalIgnoreCase)))
        {
            return false;
        }

        if (Statuses.Count > 0 && !Statuses.Contains(BookingLifecycle.ApiName(booking.Status), StringComparer.Ordinal))
        {
            return false;
        }

        return Answers.All(a => booking.Answers.TryGetValue(a.Question, out var given)
            && string.Equals(given.Trim(), a.EqualsValue.Trim(), StringComparison.OrdinalIgnoreCase));
    }
}

public sealed record AutomationAnswerFilter(string Question, [property: JsonPropertyName("equals")] string EqualsValue);

/// <summary>
/// The action, as stored and as the API shows it. <c>Kind</c> chooses which of the other fields count:
/// email (<c>To</c>: customer, host or address; <c>Address</c>; <c>Template</c> a template kind whose wording is used
/// unless <c>Subject</c> and <c>Message</c> give the rule's own), webhook (<c>WebhookId</c>), keapTag (<c>Tag</c>),
/// salesforceField (<c>Field</c>, <c>Value</c>), markNoShow, markCompleted.
/// </summary>
public sealed record AutomationAction
{
    public string Kind { get; init; } = "";

    public string? To { get; init; }

    public string? Address { get; init; }

    public string? Template { get; init; }

    public string? Subject { get; init; }

    public string? Message { get; init; }

    public string? WebhookId { get; init; }

    public string? Tag { get; init; }

    public string? Field { get; init; }

    public string? Value { get; init; }

    public string Describe() => Kind switch
    {
        AutomationActionKinds.Email => To == "address" ? $"email {Address}" : $"email the {To}",
        AutomationActionKinds.Webhook => "call a webhook",
        AutomationActionKinds.KeapTag => $"tag the Keap contact \"{Tag}\"",
        AutomationActionKinds.SalesforceField => $"set the Salesforce Event's {Field}",
        AutomationActionKinds.MarkNoShow => "mark no-show",
        AutomationActionKinds.MarkCompleted => "mark completed",
        _ => Kind,
    };
}

/// <summary>A rule as the API takes it.</summary>
public sealed record AutomationRequest(
    string? Name, string? BookingPageId, bool? Enabled, string? Trigger, int? OffsetMinutes, AutomationFilters? Filters, AutomationAction? Action);

/// <summary>A rule as the API answers it.</summary>
public sealed record AutomationResponse(
    string Id, string Name, string? BookingPageId, bool Enabled, string Trigger, int OffsetMinutes, string Description,
    AutomationFilters Filters, AutomationAction Action, string CreatedAt, string UpdatedAt);

/// <summary>One run of a rule for one booking.</summary>
public sealed record AutomationRunResponse(
    string Id, string AutomationId, string BookingId, string Trigger, string Status, string DueAt, int Attempts, string? Result, string? LastError,
    string CreatedAt, string? FinishedAt);

/// <summary>The answer to "send me a sample".</summary>
public sealed record AutomationTestResponse(string Result);

/// <summary>Validates a request into a rule's parts, naming every offending field.</summary>
public static class AutomationValidation
{
    public const int MaxNameLength = 200;
    public const int MaxTextLength = 10_000;

    /// <summary>Offsets up to 60 days either way, like the reminders'.</summary>
    public const int MaxOffsetMinutes = 60 * 24 * 60;

    public sealed record Valid(string Name, string? BookingPageId, bool Enabled, string Trigger, int OffsetMinutes, AutomationFilters Filters, AutomationAction Action);

    public static Result<Valid> Validate(AutomationRequest request)
    {
        var errors = new List<FieldError>();
        if (!ApiFormat.TryText(request.Name, MaxNameLength, out var name))
        {
            errors.Add(new FieldError("name", $"is required, at most {MaxNameLength} characters, without control characters"));
        }

        string? pageId = null;
        if (request.BookingPageId is { Length: > 0 } p)
        {
            if (Guid.TryParse(p, out var g))
            {
                pageId = g.ToString();
            }
            else
            {
                errors.Add(new FieldError("bookingPageId", "must be a booking page id"));
            }
        }

        var trigger = request.Trigger ?? "";
        if (!AutomationTriggers.All.Contains(trigger, StringComparer.Ordinal))
        {
            errors.Add(new FieldError("trigger", "must be one of " + string.Join(", ", AutomationTriggers.All)));
        }

        var offset = request.OffsetMinutes ?? 0;
        if (AutomationTriggers.IsTimed(trigger))
        {
            if (offset is < 0 or > MaxOffsetMinutes)
            {
                errors.Add(new FieldError("offsetMinutes", $"must be between 0 and {MaxOffsetMinutes} minutes"));
            }
        }
        else
        {
            offset = 0;
        }

        var given = request.Filters ?? new AutomationFilters();
        // Explicit nulls in the JSON become empty lists, so matching never sees a null.
        var filters = new AutomationFilters
        {
            BookingPageIds = given.BookingPageIds ?? [],
            HostIds = given.HostIds ?? [],
            Statuses = given.Statuses ?? [],
            Answers = given.Answers ?? [],
        };
        ValidateFilters(filters, errors);
        var action = request.Action;
        if (action is null)
        {
            errors.Add(new FieldError("action", "is required"));
        }
        else
        {
            action = ValidateAction(action, errors);
        }

        return errors.Count > 0
            ? DomainError.Validation(errors)
            : new Valid(name, pageId, request.Enabled ?? true, trigger, offset, filters, action!);
    }

    private static void ValidateFilters(AutomationFilters filters, List<FieldError> errors)
    {
        if ((filters.BookingPageIds ?? []).Any(id => !Guid.TryParse(id, out _)))
        {
            errors.Add(new FieldError("filters.bookingPageIds", "must be booking page ids"));
        }

        if ((filters.HostIds ?? []).Any(id => !Guid.TryParse(id, out _)))
        {
            errors.Add(new FieldError("filters.hostIds", "must be user ids"));
        }

        var statuses = Enum.GetValues<BookingStatus>().Select(BookingLifecycle.ApiName).ToArray();
        if ((filters.Statuses ?? []).Any(s => !statuses.Contains(s, StringComparer.Ordinal)))
        {
            errors.Add(new FieldError("filters.statuses", "must be among " + string.Join(", ", statuses)));
        }

        if ((filters.Answers ?? []).Any(a => string.IsNullOrWhiteSpace(a?.Question) || a.EqualsValue is null))
        {
            errors.Add(new FieldError("filters.answers", "each needs a question and the answer it equals"));
        }
    }

    private static AutomationAction ValidateAction(AutomationAction action, List<FieldError> errors)
    {
        switch (action.Kind)
        {
            case AutomationActionKinds.Email:
                if (action.To is not ("customer" or "host" or "address"))
                {
                    errors.Add(new FieldError("action.to", "must be customer, host or address"));
                }

                if (action.To == "address")
                {
                    if (!ApiFormat.TryNormalizeEmail(action.Address, out var address))
                    {
                        errors.Add(new FieldError("action.address", "must be an email address"));
                    }
                    else
                    {
                        action = action with { Address = address };
                    }
                }
                else
                {
                    action = action with { Address = null };
                }

                var template = action.Template ?? NotificationNames.Of(NotificationKind.Reminder);
                if (!NotificationNames.TryParseKind(template, out _))
                {
                    errors.Add(new FieldError("action.template", "must be a template kind (confirmation, reminder, followUp, ...)"));
                }

                action = action with { Template = template };
                if (action.Subject is not null != action.Message is not null)
                {
                    errors.Add(new FieldError("action.subject", "the rule's own wording needs both a subject and a message"));
                }

                CheckTemplate(action.Subject, "action.subject", errors, singleLine: true);
                CheckTemplate(action.Message, "action.message", errors, singleLine: false);
                break;
            case AutomationActionKinds.Webhook:
                if (!Guid.TryParse(action.WebhookId, out _))
                {
                    errors.Add(new FieldError("action.webhookId", "must name one of the organization's webhooks"));
                }

                break;
            case AutomationActionKinds.KeapTag:
                if (!ApiFormat.TryText(action.Tag, 100, out var tag))
                {
                    errors.Add(new FieldError("action.tag", "is required, at most 100 characters"));
                }

                action = action with { Tag = tag };
                break;
            case AutomationActionKinds.SalesforceField:
                if (string.IsNullOrWhiteSpace(action.Field) || action.Field.Length > 80 || !action.Field.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                {
                    errors.Add(new FieldError("action.field", "must be a Salesforce field API name (letters, digits, underscores)"));
                }

                CheckTemplate(action.Value ?? "", "action.value", errors, singleLine: false);
                break;
            case AutomationActionKinds.MarkNoShow or AutomationActionKinds.MarkCompleted:
                break;
            default:
                errors.Add(new FieldError("action.kind", "must be one of " + string.Join(", ", AutomationActionKinds.All)));
                break;
        }

        return action;
    }

    private static void CheckTemplate(string? source, string field, List<FieldError> errors, bool singleLine)
    {
        if (source is null)
        {
            return;
        }

        if (source.Length > MaxTextLength || (singleLine && (source.Contains('\n', StringComparison.Ordinal) || source.Contains('\r', StringComparison.Ordinal))))
        {
            errors.Add(new FieldError(field, singleLine ? "must be one line" : $"must be at most {MaxTextLength} characters"));
            return;
        }

        TemplateText.Parse(source, out var problems, out var unknown);
        if (unknown.Count > 0)
        {
            errors.Add(new FieldError(field, "unknown placeholders: " + string.Join(", ", unknown)));
        }
        else if (problems.Count > 0)
        {
            errors.Add(new FieldError(field, string.Join("; ", problems)));
        }
    }
}

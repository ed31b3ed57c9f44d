namespace Rendezvous.Domain.Routing;

/// <summary>A question as the API and storage write it: <c>kind</c> is "text" (default) or "choice".</summary>
public sealed record RoutingQuestionSpec(string? Id, string? Label, string? Kind, IReadOnlyList<string>? Options, bool? Required);

/// <summary>
/// A rule as the API and storage write it: <c>match</c> is "equals" (default) or "contains"; <c>target</c> is "page"
/// (<c>bookingPageId</c>), "member" (<c>bookingPageId</c> of a round-robin page and <c>userId</c>) or "message" (<c>message</c>).
/// </summary>
public sealed record RoutingRuleSpec(string? QuestionId, string? Match, string? Value, string? Target, string? BookingPageId, string? UserId,
    string? Message);

/// <summary>The plain, serialisable form of <see cref="RoutingFormDefinition"/>.</summary>
public sealed record RoutingFormDefinitionSpec(IReadOnlyList<RoutingQuestionSpec>? Questions, IReadOnlyList<RoutingRuleSpec>? Rules,
    string? FallbackMessage)
{
    /// <summary>Converts to a validated definition, or one validation error naming every offending field.</summary>
    public Result<RoutingFormDefinition> ToDefinition()
    {
        var errors = new List<FieldError>();
        var questions = new List<RoutingQuestion>();
        foreach (var (q, i) in (Questions ?? []).Select((q, i) => (q, i)))
        {
            RoutingQuestionKind? kind = q?.Kind?.ToLowerInvariant() switch
            {
                null or "text" => RoutingQuestionKind.Text,
                "choice" => RoutingQuestionKind.Choice,
                _ => null,
            };
            if (q is null || kind is null)
            {
                errors.Add(new($"questions[{i}].kind", "must be text or choice"));
                continue;
            }

            questions.Add(new RoutingQuestion(q.Id?.Trim() ?? "", q.Label?.Trim() ?? "", kind.Value,
                [.. (q.Options ?? []).Select(o => o?.Trim() ?? "")], q.Required ?? false));
        }

        var rules = new List<RoutingRule>();
        foreach (var (r, i) in (Rules ?? []).Select((r, i) => (r, i)))
        {
            RoutingMatch? match = r?.Match?.ToLowerInvariant() switch
            {
                null or "equals" => RoutingMatch.Equals,
                "contains" => RoutingMatch.Contains,
                _ => null,
            };
            RoutingTargetKind? target = r?.Target?.ToLowerInvariant() switch
            {
                "page" => RoutingTargetKind.Page,
                "member" => RoutingTargetKind.Member,
                "message" => RoutingTargetKind.Message,
                _ => null,
            };
            if (r is null || match is null)
            {
                errors.Add(new($"rules[{i}].match", "must be equals or contains"));
                continue;
            }

            if (target is null)
            {
                errors.Add(new($"rules[{i}].target", "must be page, member or message"));
                continue;
            }

            BookingPageId? page = null;
            if (r.BookingPageId is not null)
            {
                if (Ids.TryParse(r.BookingPageId, out var pageGuid))
                {
                    page = new BookingPageId(pageGuid);
                }
                else
                {
                    errors.Add(new($"rules[{i}].bookingPageId", "must be a booking page id"));
                }
            }

            UserId? member = null;
            if (r.UserId is not null)
            {
                if (Ids.TryParse(r.UserId, out var userGuid))
                {
                    member = new UserId(userGuid);
                }
                else
                {
                    errors.Add(new($"rules[{i}].userId", "must be a user id"));
                }
            }

            rules.Add(new RoutingRule(r.QuestionId?.Trim() ?? "", match.Value, r.Value?.Trim() ?? "", target.Value, page, member,
                string.IsNullOrWhiteSpace(r.Message) ? null : r.Message.Trim()));
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        var definition = new RoutingFormDefinition(questions, rules, FallbackMessage?.Trim() ?? "");
        var invalid = definition.Validate();
        return invalid.Count > 0 ? DomainError.Validation(invalid) : definition;
    }

    /// <summary>The spec of a definition, every value spelled out.</summary>
    public static RoutingFormDefinitionSpec From(RoutingFormDefinition d)
    {
        ArgumentNullException.ThrowIfNull(d);
        return new(
            [.. d.Questions.Select(q => new RoutingQuestionSpec(q.Id, q.Label, q.Kind == RoutingQuestionKind.Choice ? "choice" : "text", q.Options, q.Required))],
            [.. d.Rules.Select(r => new RoutingRuleSpec(r.QuestionId, r.Match == RoutingMatch.Contains ? "contains" : "equals", r.Value,
                r.Target switch { RoutingTargetKind.Page => "page", RoutingTargetKind.Member => "member", _ => "message" },
                r.BookingPageId?.ToString(), r.MemberId?.ToString(), r.Message))],
            d.FallbackMessage);
    }
}

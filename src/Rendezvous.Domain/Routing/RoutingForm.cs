namespace Rendezvous.Domain.Routing;

/// <summary>What a routing question asks for: free text, or one of its options.</summary>
public enum RoutingQuestionKind
{
    Text,
    Choice,
}

/// <summary>How a rule compares an answer with its value (case and surrounding spaces never matter).</summary>
public enum RoutingMatch
{
    Equals,
    Contains,
}

/// <summary>Where a matching rule sends the visitor.</summary>
public enum RoutingTargetKind
{
    /// <summary>To a booking page.</summary>
    Page,
    /// <summary>To one member of a round-robin page, chosen in advance.</summary>
    Member,
    /// <summary>Nowhere: a message is shown instead.</summary>
    Message,
}

/// <summary>A question of a routing form. <see cref="Options"/> are the choices of a <see cref="RoutingQuestionKind.Choice"/> question.</summary>
public sealed record RoutingQuestion(string Id, string Label, RoutingQuestionKind Kind, IReadOnlyList<string> Options, bool Required);

/// <summary>If the answer to <see cref="QuestionId"/> matches <see cref="Value"/>, the visitor goes to the target.</summary>
public sealed record RoutingRule(string QuestionId, RoutingMatch Match, string Value, RoutingTargetKind Target,
    BookingPageId? BookingPageId, UserId? MemberId, string? Message)
{
    /// <summary>True when <paramref name="answer"/> satisfies this rule.</summary>
    public bool Matches(string? answer)
    {
        var given = answer?.Trim() ?? "";
        var wanted = Value.Trim();
        return Match == RoutingMatch.Equals
            ? string.Equals(given, wanted, StringComparison.OrdinalIgnoreCase)
            : given.Length > 0 && given.Contains(wanted, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>Where a visitor was sent: a page (with a member for a member rule), or a message to show.</summary>
public sealed record RoutingDecision(RoutingTargetKind Target, BookingPageId? BookingPageId, UserId? MemberId, string? Message, int? RuleIndex);

/// <summary>
/// The questions, rules and fallback of a routing form. Rules are tried in order; the first that matches decides; when
/// none does, the visitor reads <see cref="FallbackMessage"/>.
/// </summary>
public sealed record RoutingFormDefinition(IReadOnlyList<RoutingQuestion> Questions, IReadOnlyList<RoutingRule> Rules, string FallbackMessage)
{
    public const int MaxQuestions = 20;

    public const int MaxRules = 50;

    public const int MaxOptions = 30;

    /// <summary>Every offending field (camelCase API names); empty when the definition is valid. Pages and members are checked by the caller.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var errors = new List<FieldError>();
        if (Questions.Count is < 1 or > MaxQuestions)
        {
            errors.Add(new("questions", $"a routing form asks 1 to {MaxQuestions} questions"));
        }

        for (var i = 0; i < Questions.Count; i++)
        {
            var q = Questions[i];
            if (!BookingPages.BookingQuestion.IsValidId(q.Id))
            {
                errors.Add(new($"questions[{i}].id", "must be 1-40 lower-case letters, digits and dashes"));
            }
            else if (Questions.Take(i).Any(p => p.Id == q.Id))
            {
                errors.Add(new($"questions[{i}].id", "must not repeat another question's id"));
            }

            if (!IsLine(q.Label, 200))
            {
                errors.Add(new($"questions[{i}].label", "is required (1-200 characters, one line)"));
            }

            if (q.Kind == RoutingQuestionKind.Choice && (q.Options.Count is < 1 or > MaxOptions || q.Options.Any(o => !IsLine(o, 200))
                || q.Options.Distinct(StringComparer.OrdinalIgnoreCase).Count() != q.Options.Count))
            {
                errors.Add(new($"questions[{i}].options", $"a choice question needs 1 to {MaxOptions} different options of 1-200 characters"));
            }

            if (q.Kind == RoutingQuestionKind.Text && q.Options.Count > 0)
            {
                errors.Add(new($"questions[{i}].options", "only choice questions have options"));
            }
        }

        if (Rules.Count > MaxRules)
        {
            errors.Add(new("rules", $"at most {MaxRules} rules"));
        }

        for (var i = 0; i < Rules.Count; i++)
        {
            var r = Rules[i];
            var question = Questions.FirstOrDefault(q => q.Id == r.QuestionId);
            if (question is null)
            {
                errors.Add(new($"rules[{i}].questionId", "must be the id of one of the form's questions"));
            }
            else if (question.Kind == RoutingQuestionKind.Choice && r.Match == RoutingMatch.Equals
                && !question.Options.Contains(r.Value.Trim(), StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(new($"rules[{i}].value", "must be one of the question's options"));
            }

            if (!IsLine(r.Value, 200))
            {
                errors.Add(new($"rules[{i}].value", "is required (1-200 characters, one line)"));
            }

            switch (r.Target)
            {
                case RoutingTargetKind.Page when r.BookingPageId is null:
                    errors.Add(new($"rules[{i}].bookingPageId", "is required for a page rule"));
                    break;
                case RoutingTargetKind.Member when r.BookingPageId is null || r.MemberId is null:
                    errors.Add(new($"rules[{i}].userId", "a member rule needs a round-robin page and one of its members"));
                    break;
                case RoutingTargetKind.Message when r.Message is null || r.Message.Trim().Length is 0 or > 2000:
                    errors.Add(new($"rules[{i}].message", "is required for a message rule (1-2000 characters)"));
                    break;
            }
        }

        if (string.IsNullOrWhiteSpace(FallbackMessage) || FallbackMessage.Length > 2000)
        {
            errors.Add(new("fallbackMessage", "is required (1-2000 characters)"));
        }

        return errors;
    }

    /// <summary>
    /// Checks the visitor's <paramref name="answers"/> (keyed by question id) and routes them: a validation error names each
    /// missing required answer or unknown choice; otherwise the first matching rule, or the fallback message.
    /// </summary>
    public Result<RoutingDecision> Route(IReadOnlyDictionary<string, string> answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        var errors = new List<FieldError>();
        foreach (var q in Questions)
        {
            var answer = answers.GetValueOrDefault(q.Id)?.Trim();
            if (string.IsNullOrEmpty(answer))
            {
                if (q.Required)
                {
                    errors.Add(new($"answers.{q.Id}", "is required"));
                }
            }
            else if (answer.Length > 2000)
            {
                errors.Add(new($"answers.{q.Id}", "must be at most 2000 characters"));
            }
            else if (q.Kind == RoutingQuestionKind.Choice && !q.Options.Contains(answer, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(new($"answers.{q.Id}", "must be one of the question's options"));
            }
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        for (var i = 0; i < Rules.Count; i++)
        {
            var rule = Rules[i];
            if (rule.Matches(answers.GetValueOrDefault(rule.QuestionId)))
            {
                return new RoutingDecision(rule.Target, rule.Target == RoutingTargetKind.Message ? null : rule.BookingPageId,
                    rule.Target == RoutingTargetKind.Member ? rule.MemberId : null, rule.Target == RoutingTargetKind.Message ? rule.Message : null, i);
            }
        }

        return new RoutingDecision(RoutingTargetKind.Message, null, null, FallbackMessage, null);
    }

    private static bool IsLine(string? text, int max) =>
        !string.IsNullOrWhiteSpace(text) && text.Length <= max && !text.Any(char.IsControl);
}

using System.Text;

namespace Rendezvous.Integrations.Notifications.Templates;

/// <summary>
/// The placeholders an email template may use. Times are shown in the recipient's own time zone, with the zone's name.
/// </summary>
public static class Placeholders
{
    public static IReadOnlyDictionary<string, string> Descriptions { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["recipient.name"] = "the name of the person this email goes to",
        ["customer.name"] = "the customer's name",
        ["customer.email"] = "the customer's email address",
        ["customer.phone"] = "the customer's phone number, when given",
        ["host.name"] = "the host's name (the primary team member of a panel)",
        ["host.email"] = "the host's email address",
        ["booking.title"] = "the booking page's title",
        ["booking.start"] = "start, in the recipient's time zone: Monday, 15 March 2027, 10:00 (America/New_York)",
        ["booking.end"] = "end, in the same form",
        ["booking.when"] = "date and time range: Monday, 15 March 2027, 10:00 to 10:30 (America/New_York)",
        ["booking.previousStart"] = "for a reschedule: the start before the change",
        ["booking.duration"] = "the length, e.g. 30 minutes",
        ["booking.timeZone"] = "the recipient's time zone, e.g. America/New_York",
        ["booking.location"] = "where the meeting takes place",
        ["booking.reason"] = "the reason given with a cancellation, decline or reschedule",
        ["booking.publicNotes"] = "notes for the customer added by the team",
        ["manageUrl"] = "the recipient's link to reschedule or cancel: the customer's own, or in emails to a host the host's signed staff link",
        ["organization.name"] = "the organization's name",
    };

    public static bool IsKnown(string name) => Descriptions.ContainsKey(name);
}

/// <summary>
/// A parsed template: text with <c>{{name}}</c> placeholders and sections. <c>{{#name}}...{{/name}}</c> shows its content
/// only when the value is not empty; <c>{{^name}}...{{/name}}</c> only when it is. Nothing else is special.
/// </summary>
public sealed class TemplateText
{
    private readonly IReadOnlyList<Node> _nodes;

    private TemplateText(string source, IReadOnlyList<Node> nodes)
    {
        Source = source;
        _nodes = nodes;
    }

    public string Source { get; }

    /// <summary>Parses <paramref name="source"/>; returns the problems (unknown placeholders named) instead when there are any.</summary>
    public static TemplateText Parse(string source, out IReadOnlyList<string> problems, out IReadOnlyList<string> unknown)
    {
        var errors = new List<string>();
        var unknownNames = new List<string>();
        var root = new List<Node>();
        var stack = new Stack<(string Name, bool Inverted, List<Node> Outer)>();
        var current = root;
        var i = 0;
        while (i < source.Length)
        {
            var open = source.IndexOf("{{", i, StringComparison.Ordinal);
            if (open < 0)
            {
                current.Add(new Literal(source[i..]));
                break;
            }

            if (open > i)
            {
                current.Add(new Literal(source[i..open]));
            }

            var close = source.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                errors.Add($"\"{{{{\" at position {open} is never closed with \"}}}}\"");
                break;
            }

            var tag = source[(open + 2)..close].Trim();
            i = close + 2;
            var kind = tag.Length > 0 && tag[0] is '#' or '^' or '/' ? tag[0] : ' ';
            var name = kind == ' ' ? tag : tag[1..].Trim();
            if (!Placeholders.IsKnown(name))
            {
                var shown = "{{" + name + "}}";
                if (!unknownNames.Contains(shown, StringComparer.Ordinal))
                {
                    unknownNames.Add(shown);
                }

                continue;
            }

            switch (kind)
            {
                case '#' or '^':
                    stack.Push((name, kind == '^', current));
                    current = [];
                    break;
                case '/':
                    if (stack.Count == 0 || stack.Peek().Name != name)
                    {
                        errors.Add(stack.Count == 0
                            ? $"{{{{/{name}}}}} closes a section that was never opened"
                            : $"{{{{/{name}}}}} closes a section, but {{{{#{stack.Peek().Name}}}}} is the one open");
                        break;
                    }

                    var (sectionName, inverted, outer) = stack.Pop();
                    outer.Add(new Section(sectionName, inverted, current));
                    current = outer;
                    break;
                default:
                    current.Add(new Placeholder(name));
                    break;
            }
        }

        foreach (var open in stack)
        {
            errors.Add($"{{{{#{open.Name}}}}} is never closed with {{{{/{open.Name}}}}}");
        }

        if (unknownNames.Count > 0)
        {
            errors.Insert(0, "unknown placeholders: " + string.Join(", ", unknownNames));
        }

        problems = errors;
        unknown = unknownNames;
        return new TemplateText(source, root);
    }

    /// <summary>Parses a template known to be valid (the defaults); throws otherwise.</summary>
    public static TemplateText ParseValid(string source)
    {
        var parsed = Parse(source, out var problems, out _);
        return problems.Count == 0 ? parsed : throw new InvalidOperationException("Invalid template: " + string.Join("; ", problems));
    }

    /// <summary>Fills in the values; <paramref name="escape"/> is applied to each value (HTML escaping for the HTML part).</summary>
    public string Render(IReadOnlyDictionary<string, string> values, Func<string, string>? escape = null)
    {
        var sb = new StringBuilder(Source.Length + 256);
        Render(_nodes, values, escape ?? (s => s), sb);
        return sb.ToString();
    }

    private static void Render(IReadOnlyList<Node> nodes, IReadOnlyDictionary<string, string> values, Func<string, string> escape, StringBuilder sb)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case Literal l:
                    sb.Append(l.Text);
                    break;
                case Placeholder p:
                    sb.Append(escape(values.GetValueOrDefault(p.Name) ?? ""));
                    break;
                case Section s:
                    var present = !string.IsNullOrWhiteSpace(values.GetValueOrDefault(s.Name));
                    if (present != s.Inverted)
                    {
                        Render(s.Children, values, escape, sb);
                    }

                    break;
                default:
                    break;
            }
        }
    }

    private abstract record Node;

    private sealed record Literal(string Text) : Node;

    private sealed record Placeholder(string Name) : Node;

    private sealed record Section(string Name, bool Inverted, IReadOnlyList<Node> Children) : Node;
}

using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.Razor.TagHelpers;
using Rendezvous.Domain;

namespace Rendezvous.Server.Features.Web;

/// <summary>
/// Validation messages of a form, keyed by the form field they belong to. Pages translate the domain's field names
/// (camelCase API names such as <c>weeklyHours[2].end</c>) into their own field names, so the message appears next to
/// the input a person typed into.
/// </summary>
public sealed class FieldErrors
{
    public const string ViewDataKey = "rdv:field-errors";

    private readonly List<(string Field, string Message)> _errors = [];

    public bool Any => _errors.Count > 0;

    /// <summary>What each field is called on the form; a message that starts in lower case is read after it ("Email must be ...").</summary>
    public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<(string Field, string Message)> All => _errors;

    /// <summary>Adds a message, in the request's language when it has a translation (the staff pages stay English).</summary>
    public void Add(string field, string message)
    {
        message = Rendezvous.Integrations.Localization.Texts.T(message);
        if (!_errors.Contains((field, message)))
        {
            _errors.Add((field, message));
        }
    }

    /// <summary>Adds every field of a domain error, each renamed by <paramref name="map"/> (null keeps the name).</summary>
    public void Add(DomainError error, Func<string, string>? map = null)
    {
        if (error.Fields.Count == 0)
        {
            Add(map?.Invoke(error.Field ?? "") ?? error.Field ?? "", error.Message);
            return;
        }

        foreach (var f in error.Fields)
        {
            Add(map?.Invoke(f.Field) ?? f.Field, f.Message);
        }
    }

    public string? For(string field)
    {
        var messages = _errors.Where(e => e.Field == field).Select(e => e.Message).Distinct().ToList();
        return messages.Count == 0 ? null : Sentence(field, string.Join("; ", messages));
    }

    /// <summary>The message as a sentence that names the field when it needs to.</summary>
    public string Sentence(string field, string message)
    {
        var text = message.Length > 0 && char.IsLower(message[0]) && Labels.TryGetValue(field, out var label) ? $"{label} {message}" : message;
        if (text.Length > 0 && char.IsLower(text[0]))
        {
            text = char.ToUpperInvariant(text[0]) + text[1..];
        }

        return text.EndsWith('.') ? text : text + ".";
    }

    /// <summary>The id of the element holding a field's message (for aria-describedby).</summary>
    public static string IdOf(string field) => "err-" + string.Concat(field.Select(c => char.IsLetterOrDigit(c) ? c : '-'));

    /// <summary>The id an input should have so the summary can link to it.</summary>
    public static string InputIdOf(string field) => "f-" + string.Concat(field.Select(c => char.IsLetterOrDigit(c) ? c : '-'));
}

/// <summary>
/// <c>&lt;field-error for="durationMinutes" /&gt;</c>: the message for that field, if any, with the id that inputs point to.
/// </summary>
[HtmlTargetElement("field-error", TagStructure = TagStructure.WithoutEndTag)]
public sealed class FieldErrorTagHelper : TagHelper
{
    public string For { get; set; } = "";

    [ViewContext]
    [HtmlAttributeNotBound]
    public ViewContext ViewContext { get; set; } = null!;

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        var message = (ViewContext.ViewData[FieldErrors.ViewDataKey] as FieldErrors)?.For(For);
        if (message is null)
        {
            output.SuppressOutput();
            return;
        }

        output.TagName = "p";
        output.TagMode = TagMode.StartTagAndEndTag;
        output.Attributes.SetAttribute("class", "field-error");
        output.Attributes.SetAttribute("id", FieldErrors.IdOf(For));
        output.Content.SetContent(message);
    }
}

/// <summary>
/// <c>error-for="durationMinutes"</c> on an input: marks it invalid and points it at its message when the field has one.
/// </summary>
[HtmlTargetElement("input", Attributes = "error-for")]
[HtmlTargetElement("select", Attributes = "error-for")]
[HtmlTargetElement("textarea", Attributes = "error-for")]
[HtmlTargetElement("fieldset", Attributes = "error-for")]
public sealed class ErrorForTagHelper : TagHelper
{
    [HtmlAttributeName("error-for")]
    public string Field { get; set; } = "";

    [ViewContext]
    [HtmlAttributeNotBound]
    public ViewContext ViewContext { get; set; } = null!;

    // After the built-in tag helpers, so their output keeps these attributes.
    public override int Order => 1000;

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        if ((ViewContext.ViewData[FieldErrors.ViewDataKey] as FieldErrors)?.For(Field) is null)
        {
            return;
        }

        output.Attributes.SetAttribute("aria-invalid", "true");
        var describedBy = output.Attributes.TryGetAttribute("aria-describedby", out var existing) ? existing.Value + " " : "";
        output.Attributes.SetAttribute("aria-describedby", describedBy + FieldErrors.IdOf(Field));
    }
}

public static class FieldErrorsViewData
{
    public static FieldErrors FieldErrors(this ViewDataDictionary viewData)
    {
        if (viewData[Web.FieldErrors.ViewDataKey] is not Web.FieldErrors errors)
        {
            errors = new Web.FieldErrors();
            viewData[Web.FieldErrors.ViewDataKey] = errors;
        }

        return errors;
    }
}

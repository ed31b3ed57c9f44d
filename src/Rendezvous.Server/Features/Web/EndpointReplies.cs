using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Rendezvous.Server.Features.Web;

/// <summary>
/// Screens that set up what the API sets up (CRM, conferencing accounts, PayPal) call the same endpoint handlers, so the
/// checks and the stored result are the API's; this reads their typed answers back into a page's terms.
/// </summary>
public static class EndpointReplies
{
    /// <summary>The value of a success (200 or 201), or null.</summary>
    public static T? ValueOf<T>(IResult result) where T : class => result is IValueHttpResult<T> { Value: { } value } ? value : null;

    /// <summary>The problem of a failure, or null for a success.</summary>
    public static ProblemDetails? ProblemOf(IResult result) => result is ProblemHttpResult problem ? problem.ProblemDetails : null;

    /// <summary>Adds a problem's field errors (or its detail, under <paramref name="fallbackField"/>) to a form's errors.</summary>
    public static void AddTo(this FieldErrors errors, ProblemDetails problem, Func<string, string>? map = null, string fallbackField = "")
    {
        if (problem.Extensions.TryGetValue("errors", out var value) && value is IDictionary<string, string[]> fields && fields.Count > 0)
        {
            foreach (var (field, messages) in fields)
            {
                foreach (var message in messages)
                {
                    errors.Add(map?.Invoke(field) ?? field, message);
                }
            }

            return;
        }

        var named = problem.Extensions.TryGetValue("field", out var f) && f is string s ? s : null;
        var detail = problem.Detail ?? problem.Title ?? "The request was refused.";
        if (named is not null && detail.StartsWith(named + ": ", StringComparison.Ordinal))
        {
            detail = detail[(named.Length + 2)..];
        }

        errors.Add(named is null ? fallbackField : map?.Invoke(named) ?? named, detail);
    }
}

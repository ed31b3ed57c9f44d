using Microsoft.AspNetCore.Http.HttpResults;
using Rendezvous.Domain;

namespace Rendezvous.Server.Infrastructure;

/// <summary>
/// The one place where failures become <c>application/problem+json</c>: expected failures (<see cref="DomainError"/>)
/// here, unexpected ones in <see cref="ProblemExceptionHandler"/> (which uses the same shape).
/// </summary>
public static class Problems
{
    public static int StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.Validation => StatusCodes.Status400BadRequest,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        ErrorKind.PolicyViolation => StatusCodes.Status422UnprocessableEntity,
        ErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static ProblemHttpResult From(DomainError error)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = error.Code };
        if (error.Fields.Count > 0)
        {
            extensions["errors"] = error.Fields
                .GroupBy(f => f.Field)
                .ToDictionary(g => g.Key, g => g.Select(f => f.Message).ToArray());
        }

        if (error.Field is not null)
        {
            extensions["field"] = error.Field;
        }

        return TypedResults.Problem(
            detail: error.Field is null ? error.Message : $"{error.Field}: {error.Message}",
            statusCode: StatusOf(error.Kind),
            title: TitleOf(error.Kind),
            extensions: extensions);
    }

    public static ProblemHttpResult Validation(string field, string message) => From(DomainError.Validation(field, message));

    public static ProblemHttpResult NotFound(string what) => From(DomainError.NotFound(what));

    public static string TitleOf(ErrorKind kind) => kind switch
    {
        ErrorKind.Validation => "The request is invalid.",
        ErrorKind.NotFound => "Not found.",
        ErrorKind.Conflict => "Conflict.",
        ErrorKind.PolicyViolation => "Not allowed by the booking's policy.",
        ErrorKind.Forbidden => "Forbidden.",
        _ => "Error.",
    };
}

using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Rendezvous.Domain;

namespace Rendezvous.Server.Infrastructure;

/// <summary>
/// Turns exceptions into problem+json. Malformed input is a 400 naming the field, a lost race is a 409, and anything
/// else is a 500 that reveals nothing internal.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var error = Classify(exception);
        if (error is null)
        {
            LogUnexpected(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            error = new DomainError((ErrorKind)(-1), "internal", "Something went wrong on our side; nothing was changed.");
        }

        var result = error.Kind == (ErrorKind)(-1)
            ? TypedResults.Problem(detail: error.Message, statusCode: 500, title: "Internal error.", extensions: new Dictionary<string, object?> { ["code"] = error.Code })
            : Problems.From(error);
        httpContext.Response.StatusCode = result.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = result.ProblemDetails,
            Exception = exception,
        }).ConfigureAwait(false);
    }

    /// <summary>The expected failure an exception stands for, or null when it is a real fault.</summary>
    public static DomainError? Classify(Exception exception) => exception switch
    {
        BadHttpRequestException { InnerException: JsonException json } => DomainError.Validation(FieldOf(json), "is not valid JSON for this field: " + Clean(json.Message)),
        BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge => new DomainError(ErrorKind.Validation, "too_large", "The request body is too large."),
        BadHttpRequestException bad => DomainError.Validation("body", bad.Message),
        JsonException json => DomainError.Validation(FieldOf(json), Clean(json.Message)),
        DbUpdateConcurrencyException => DomainError.Conflict("concurrent_change", "Someone else changed this at the same moment; reload and try again."),
        DbUpdateException { InnerException: PostgresException pg } => FromPostgres(pg),
        PostgresException pg => FromPostgres(pg),
        DomainException d => new DomainError(ErrorKind.Validation, d.Code, d.Message),
        _ => null,
    };

    private static DomainError? FromPostgres(PostgresException pg) => pg.SqlState switch
    {
        PostgresErrorCodes.ExclusionViolation => DomainError.Conflict("slot_taken", "That time has just been taken; please pick another."),
        PostgresErrorCodes.UniqueViolation => DomainError.Conflict("duplicate", "Something with the same unique value already exists."),
        PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected => DomainError.Conflict("concurrent_change", "A concurrent change got in the way; try again."),
        _ => null,
    };

    private static string FieldOf(JsonException json)
    {
        var path = json.Path;
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "body";
        }

        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    private static string Clean(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path);
}

using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Rendezvous.Data.Failover;
using Rendezvous.Domain;

namespace Rendezvous.Server.Infrastructure;

/// <summary>
/// Turns exceptions into problem+json. Malformed input is a 400 naming the field, a lost race is a 409, and anything
/// else is a 500 that reveals nothing internal,
/// except database overload (pool exhausted, too many clients) and a database that is failing over (no writable primary
/// for the moment), which are a 503 with Retry-After: the client may send the same request again shortly.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var error = Classify(exception);
        if (error is null && !AdmissionGate.IsOverload(exception) && FailoverErrors.IsFailover(exception))
        {
            // The database is failing over (no writable primary for a moment): not a fault of ours or the client's.
            // Booking creation retries through it (FailoverRetry); other writes answer 503 so the client sends again.
            LogOverload(logger, httpContext.Request.Method, httpContext.Request.Path, exception.GetBaseException().Message);
            httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            httpContext.Response.Headers.RetryAfter = "2";
            if (IsPageRequest(httpContext.Request))
            {
                httpContext.Response.ContentType = "text/html; charset=utf-8";
                await httpContext.Response.WriteAsync(
                    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
                    "<title>Unavailable · Rendezvous</title><link rel=\"stylesheet\" href=\"/css/site.css\"></head><body><main id=\"main\"><div class=\"wrap narrow\">" +
                    "<h1>Please try again in a moment</h1><p>Our database is switching over. Reload this page in a few seconds to see whether your change was saved.</p></div></main></body></html>", cancellationToken).ConfigureAwait(false);
                return true;
            }

            await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                ProblemDetails = new ProblemDetails
                {
                    Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4",
                    Title = "Database unavailable",
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Detail = "The database is switching over; try again in 2 seconds. A change cut at its commit may have been saved: "
                        + "send it again with the same Idempotency-Key, or read the resource first.",
                    Extensions = { ["code"] = "database_unavailable", ["retryAfter"] = 2 },
                },
            }).ConfigureAwait(false);
            return true;
        }

        if (error is null && AdmissionGate.IsOverload(exception))
        {
            // Too much load, not a fault: the client may try again shortly, and nothing was changed.
            LogOverload(logger, httpContext.Request.Method, httpContext.Request.Path, exception.GetBaseException().Message);
            if (IsPageRequest(httpContext.Request))
            {
                httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                httpContext.Response.Headers.RetryAfter = "1";
                httpContext.Response.ContentType = "text/html; charset=utf-8";
                await httpContext.Response.WriteAsync(
                    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
                    "<title>Busy · Rendezvous</title><link rel=\"stylesheet\" href=\"/css/site.css\"></head><body><main id=\"main\"><div class=\"wrap narrow\">" +
                    "<h1>We are busy right now</h1><p>Nothing was changed. Please try again in a moment.</p></div></main></body></html>", cancellationToken).ConfigureAwait(false);
                return true;
            }

            await AdmissionGate.WriteBusyAsync(httpContext, 1, cancellationToken).ConfigureAwait(false);
            return true;
        }

        if (error is null)
        {
            LogUnexpected(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            error = new DomainError((ErrorKind)(-1), "internal", "Something went wrong on our side; nothing was changed.");
        }

        var result = error.Kind == (ErrorKind)(-1)
            ? TypedResults.Problem(detail: error.Message, statusCode: 500, title: "Internal error.", extensions: new Dictionary<string, object?> { ["code"] = error.Code })
            : Problems.From(error);
        httpContext.Response.StatusCode = result.StatusCode;
        if (IsPageRequest(httpContext.Request))
        {
            // People get a page in the web application's style, not JSON.
            httpContext.Response.ContentType = "text/html; charset=utf-8";
            await httpContext.Response.WriteAsync(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
                "<title>Something went wrong · Rendezvous</title><link rel=\"stylesheet\" href=\"/css/site.css\"></head><body><main id=\"main\"><div class=\"wrap narrow\">" +
                $"<h1>{(result.StatusCode == 409 ? "That did not work" : "Something went wrong")}</h1><p>{Html.E(error.Message)}</p>" +
                "<p>Please go back and try again.</p></div></main></body></html>", cancellationToken).ConfigureAwait(false);
            return true;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = result.ProblemDetails,
            Exception = exception,
        }).ConfigureAwait(false);
    }

    /// <summary>A browser asking for a page of the web application (not the API).</summary>
    private static bool IsPageRequest(HttpRequest request) =>
        !request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
        && !request.Path.StartsWithSegments("/openapi", StringComparison.OrdinalIgnoreCase)
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>The expected failure an exception stands for, or null when it is a real fault.</summary>
    public static DomainError? Classify(Exception exception) => exception switch
    {
        BadHttpRequestException { InnerException: JsonException json } => DomainError.Validation(FieldOf(json), "is not valid JSON for this field: " + Clean(json.Message)),
        BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge => new DomainError(ErrorKind.Validation, "too_large", "The request body is too large."),
        BadHttpRequestException bad => DomainError.Validation("body", bad.Message),
        JsonException json => DomainError.Validation(FieldOf(json), Clean(json.Message)),
        // The form reader's refusal of malformed or NUL-holding fields.
        InvalidDataException bad => DomainError.Validation("form", bad.Message),
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
        // A backstop behind InputTextFilter: text PostgreSQL cannot store is the client's input, not our fault.
        PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter =>
            new DomainError(ErrorKind.Validation, InputTextFilter.Code, "The request holds a character that cannot be stored (such as NUL, U+0000).", "body"),
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answered 503 for {Method} {Path}: the database is overloaded or failing over ({Reason})")]
    private static partial void LogOverload(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path);
}

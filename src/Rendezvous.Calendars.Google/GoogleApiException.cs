using System.Net;

namespace Rendezvous.Calendars.Google;

/// <summary>
/// An error answer of the Calendar API after our retries, with the HTTP status and Google's first error reason
/// (https://developers.google.com/calendar/api/guides/errors).
/// </summary>
public sealed class GoogleApiException : Exception
{
    public GoogleApiException(HttpStatusCode status, string? reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        Reason = reason;
    }

    /// <summary>0 when no answer came at all (timeout, connection refused).</summary>
    public HttpStatusCode Status { get; }

    /// <summary>errors[0].reason of the body ("rateLimitExceeded", "fullSyncRequired", "duplicate", ...), when given.</summary>
    public string? Reason { get; }

    public bool IsUnauthorized => Status == HttpStatusCode.Unauthorized;

    /// <summary>Forbidden for a reason other than a rate limit: the grant does not cover the calendar.</summary>
    public bool IsForbidden => Status == HttpStatusCode.Forbidden && !GoogleRetry.IsRateLimitReason(Reason);

    public bool IsNotFound => Status == HttpStatusCode.NotFound;

    /// <summary>Throttled, 5xx, or no answer: worth trying again later.</summary>
    public bool IsTransient => Status == 0 || GoogleRetry.IsRetryable(Status, Reason);
}

/// <summary>The user withdrew our access (or it lapsed): only connecting again helps. Google answers <c>invalid_grant</c>.</summary>
public sealed class GoogleGrantRevokedException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>A sync token Google no longer accepts (410 Gone): the client must list the calendar in full again.</summary>
public sealed class GoogleSyncTokenExpiredException(string message) : Exception(message);

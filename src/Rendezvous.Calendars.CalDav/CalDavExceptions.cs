using System.Xml.Linq;

namespace Rendezvous.Calendars.CalDav;

/// <summary>How a failed CalDAV call should be handled by the caller.</summary>
public enum CalDavErrorKind
{
    /// <summary>401, or 403 without a precondition: the credentials are wrong or lack the right. Retrying will not help.</summary>
    AccessDenied,

    /// <summary>404 or 410: the resource (often a whole calendar) is gone.</summary>
    NotFound,

    /// <summary>412: an If-Match / If-None-Match condition did not hold.</summary>
    PreconditionFailed,

    /// <summary>5xx, 408, 429, a timeout or an unreachable server: try again later.</summary>
    Transient,

    /// <summary>The server answered something that is not valid WebDAV (malformed XML, missing required elements, an odd redirect).</summary>
    Protocol,

    /// <summary>Any other 4xx (or 501/507): the server refuses this request as made; see <see cref="CalDavRequestRejectedException.Precondition"/>.</summary>
    Rejected,
}

/// <summary>Why a <see cref="CalDavTransientException"/> happened.</summary>
public enum TransientReason
{
    /// <summary>The server answered 5xx.</summary>
    ServerError,

    /// <summary>The server answered 429 or 408.</summary>
    Throttled,

    /// <summary>No answer within the configured timeout.</summary>
    Timeout,

    /// <summary>No connection could be made or it broke (refused, DNS, reset, TLS).</summary>
    Unreachable,
}

/// <summary>
/// Base of every error the CalDAV client throws for a failed call. Expected outcomes (an etag mismatch on a write, an
/// invalid sync token, an object that is gone) are returned as values instead; see <see cref="WriteResult"/> and
/// <see cref="SyncCollectionResult"/>.
/// </summary>
public abstract class CalDavException : Exception
{
    protected CalDavException(string message, string? method, Uri? requestUri, int? statusCode, Exception? innerException)
        : base(message, innerException)
    {
        Method = method;
        RequestUri = requestUri;
        StatusCode = statusCode;
    }

    /// <summary>How to handle this error.</summary>
    public abstract CalDavErrorKind Kind { get; }

    /// <summary>The HTTP method of the failed request.</summary>
    public string? Method { get; }

    /// <summary>The URI of the failed request.</summary>
    public Uri? RequestUri { get; }

    /// <summary>The HTTP status, when the server answered.</summary>
    public int? StatusCode { get; }
}

/// <summary>401, or 403 without a WebDAV precondition in the body.</summary>
public sealed class CalDavAccessDeniedException : CalDavException
{
    public CalDavAccessDeniedException(string message, string? method, Uri? requestUri, int? statusCode)
        : base(message, method, requestUri, statusCode, null)
    {
    }

    public override CalDavErrorKind Kind => CalDavErrorKind.AccessDenied;
}

/// <summary>404 or 410 where the operation has no "gone" result of its own.</summary>
public sealed class CalDavNotFoundException : CalDavException
{
    public CalDavNotFoundException(string message, string? method, Uri? requestUri, int? statusCode)
        : base(message, method, requestUri, statusCode, null)
    {
    }

    public override CalDavErrorKind Kind => CalDavErrorKind.NotFound;
}

/// <summary>412 where the operation has no "precondition failed" result of its own.</summary>
public sealed class CalDavPreconditionFailedException : CalDavException
{
    public CalDavPreconditionFailedException(string message, string? method, Uri? requestUri, int? statusCode)
        : base(message, method, requestUri, statusCode, null)
    {
    }

    public override CalDavErrorKind Kind => CalDavErrorKind.PreconditionFailed;
}

/// <summary>A failure that may pass: 5xx, 408/429, a timeout, or no connection.</summary>
public sealed class CalDavTransientException : CalDavException
{
    public CalDavTransientException(
        string message, TransientReason reason, string? method, Uri? requestUri, int? statusCode, TimeSpan? retryAfter, Exception? innerException)
        : base(message, method, requestUri, statusCode, innerException)
    {
        Reason = reason;
        RetryAfter = retryAfter;
    }

    public override CalDavErrorKind Kind => CalDavErrorKind.Transient;

    public TransientReason Reason { get; }

    /// <summary>The server's Retry-After, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>The server's answer is not valid WebDAV: malformed XML, a missing required element, an unusable redirect.</summary>
public sealed class CalDavProtocolException : CalDavException
{
    public CalDavProtocolException(string message, string? method = null, Uri? requestUri = null, int? statusCode = null, Exception? innerException = null)
        : base(message, method, requestUri, statusCode, innerException)
    {
    }

    public override CalDavErrorKind Kind => CalDavErrorKind.Protocol;
}

/// <summary>
/// The server refused the request as made (400, 405, 409, 415, 501, ...). When it named a WebDAV or CalDAV
/// precondition in a DAV:error body (e.g. CalDAV <c>no-uid-conflict</c>, <c>valid-calendar-data</c>), it is in
/// <see cref="Precondition"/>.
/// </summary>
public sealed class CalDavRequestRejectedException : CalDavException
{
    public CalDavRequestRejectedException(string message, string? method, Uri? requestUri, int? statusCode, XName? precondition)
        : base(message, method, requestUri, statusCode, null)
    {
        Precondition = precondition;
    }

    public override CalDavErrorKind Kind => CalDavErrorKind.Rejected;

    /// <summary>The first element inside the server's DAV:error body, or null.</summary>
    public XName? Precondition { get; }
}

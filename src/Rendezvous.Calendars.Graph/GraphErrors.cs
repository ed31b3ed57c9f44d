namespace Rendezvous.Calendars.Graph;

/// <summary>What a failed Graph call was about.</summary>
public enum GraphErrorKind
{
    /// <summary>The user withdrew consent, the refresh token expired or was revoked (OAuth invalid_grant): reconnect.</summary>
    ConsentRevoked,
    /// <summary>401 even with a fresh access token, or 403: the account may not do this.</summary>
    AccessDenied,
    /// <summary>404: the calendar, event or subscription is not there.</summary>
    NotFound,
    /// <summary>429 (or 503 with Retry-After) that outlasted our retries.</summary>
    Throttled,
    /// <summary>5xx, network failure or timeout that outlasted our retries.</summary>
    Unavailable,
    /// <summary>A 4xx we did not expect, or an answer we cannot read.</summary>
    Protocol,
}

/// <summary>A Graph call that failed after its retries.</summary>
public sealed class GraphException : Exception
{
    public GraphException(GraphErrorKind kind, int? status, string? code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Status = status;
        Code = code;
    }

    public GraphErrorKind Kind { get; }

    public int? Status { get; }

    /// <summary>The service's error code (<c>error.code</c> in the body, or the OAuth error), when it gave one.</summary>
    public string? Code { get; }
}

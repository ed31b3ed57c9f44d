namespace Rendezvous.Integrations;

/// <summary>How an outbound call to a CRM or payment provider failed, which decides what happens next.</summary>
public enum IntegrationFailureKind
{
    /// <summary>Network trouble, a timeout or a 5xx: it may pass, so the work is retried with backoff.</summary>
    Transient,
    /// <summary>The provider asked us to slow down (429, Salesforce's REQUEST_LIMIT_EXCEEDED): retried with backoff.</summary>
    Throttled,
    /// <summary>The refresh token was refused: an administrator must authorize again. Retried once they have.</summary>
    AuthorizationRequired,
    /// <summary>
    /// The account is not set up as we need (a missing custom field, no API access, an unknown object): retried with
    /// backoff, because once someone fixes it the waiting work should go through rather than be lost.
    /// </summary>
    Configuration,
    /// <summary>The provider refused this one record for good (a validation rule, a value too long): not retried.</summary>
    Rejected,
}

/// <summary>A failed call to an integration, typed so callers can tell what to do; the message is fit to show an administrator.</summary>
public sealed class IntegrationException : Exception
{
    public IntegrationException(string provider, IntegrationFailureKind kind, string message, int? statusCode = null,
        string? errorCode = null, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(message, inner)
    {
        Provider = provider;
        Kind = kind;
        StatusCode = statusCode;
        ErrorCode = errorCode;
        RetryAfter = retryAfter;
    }

    public IntegrationException()
    {
        Provider = "";
    }

    public IntegrationException(string message) : base(message)
    {
        Provider = "";
    }

    public IntegrationException(string message, Exception innerException) : base(message, innerException)
    {
        Provider = "";
    }

    public string Provider { get; }

    public IntegrationFailureKind Kind { get; }

    /// <summary>The HTTP status the provider answered, when it answered.</summary>
    public int? StatusCode { get; }

    /// <summary>The provider's own error code (errorCode, issue, error), when it gave one.</summary>
    public string? ErrorCode { get; }

    /// <summary>How long the provider asked us to wait, when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>True when retrying later may succeed without anyone doing anything.</summary>
    public bool MayPass => Kind is IntegrationFailureKind.Transient or IntegrationFailureKind.Throttled;
}

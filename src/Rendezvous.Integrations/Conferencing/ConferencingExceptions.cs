using NodaTime;
using Rendezvous.Domain.Conferencing;

namespace Rendezvous.Integrations.Conferencing;

/// <summary>A conferencing call did not succeed. The outbox retries the work with backoff; the message says why in words a person can act on.</summary>
public class ConferencingException : Exception
{
    public ConferencingException(string message) : base(message)
    {
    }

    public ConferencingException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    public ConferencingException()
    {
    }
}

/// <summary>The user has no account with the service connected.</summary>
public sealed class ConferencingAccountMissingException(string message) : ConferencingException(message);

/// <summary>The service refused the account's tokens and refreshing them failed too: the user must connect it again.</summary>
public sealed class ConferencingAuthorizationException(string message) : ConferencingException(message);

/// <summary>The service asked us to wait longer than we wait in place (a daily limit, say); <see cref="RetryAt"/> says until when, when it said.</summary>
public sealed class ConferencingThrottledException(string message, Instant? retryAt) : ConferencingException(message)
{
    public Instant? RetryAt { get; } = retryAt;
}

/// <summary>The service failed (5xx, timeout, connection) and the call was not repeated, or kept failing.</summary>
public sealed class ConferencingTransientException(string message, Exception? inner = null) : ConferencingException(message, inner);

/// <summary>The service refused the request itself (4xx other than 401, 404 and 429), with its status and answer.</summary>
public sealed class ConferencingRequestException(ConferencingProvider provider, int status, string body)
    : ConferencingException($"{ConferencingProviders.DisplayName(provider)} refused the request ({status}): {Trim(body)}")
{
    public int Status { get; } = status;

    public string Body { get; } = body;

    private static string Trim(string body) => body.Length > 300 ? body[..300] : body;
}

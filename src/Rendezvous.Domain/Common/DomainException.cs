namespace Rendezvous.Domain;

/// <summary>
/// An unexpected failure inside the domain: a broken invariant that callers should have prevented.
/// Expected failures are <see cref="DomainError"/> values instead.
/// </summary>
public sealed class DomainException : Exception
{
    public DomainException(string code, string message) : base(message) => Code = code;

    public DomainException()
    {
        Code = "domain";
    }

    public DomainException(string message) : base(message) => Code = "domain";

    public DomainException(string message, Exception innerException) : base(message, innerException) => Code = "domain";

    /// <summary>A stable machine-readable error code.</summary>
    public string Code { get; }
}

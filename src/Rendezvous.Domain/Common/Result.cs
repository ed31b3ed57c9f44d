namespace Rendezvous.Domain;

/// <summary>The kinds of expected failure. The API maps each to one HTTP status in one place.</summary>
public enum ErrorKind
{
    /// <summary>The input is malformed or out of range (400).</summary>
    Validation,
    /// <summary>The thing does not exist, or belongs to another organization (404).</summary>
    NotFound,
    /// <summary>The state of the world forbids it: slot taken, illegal transition (409).</summary>
    Conflict,
    /// <summary>A cancellation or reschedule policy forbids it for this actor (422).</summary>
    PolicyViolation,
    /// <summary>The caller may not do this (403).</summary>
    Forbidden,
}

/// <summary>An expected failure, as a value. <paramref name="Field"/> names the offending input when there is one.</summary>
public sealed record DomainError(ErrorKind Kind, string Code, string Message, string? Field = null)
{
    /// <summary>Every offending field with its message, when a validation failed on several at once.</summary>
    public IReadOnlyList<FieldError> Fields { get; init; } = [];

    public static DomainError Validation(string field, string message) =>
        new(ErrorKind.Validation, "validation", message, field) { Fields = [new FieldError(field, message)] };

    /// <summary>One validation error naming all offending fields; the first one leads the message.</summary>
    public static DomainError Validation(IReadOnlyList<FieldError> fields) =>
        fields.Count == 0
            ? throw new ArgumentException("At least one field error is needed.", nameof(fields))
            : new(ErrorKind.Validation, "validation", fields[0].Message, fields[0].Field) { Fields = fields };
    public static DomainError NotFound(string what) => new(ErrorKind.NotFound, "not_found", $"{what} was not found.");
    public static DomainError Conflict(string code, string message) => new(ErrorKind.Conflict, code, message);
}

/// <summary>One invalid input field (camelCase API name) and why.</summary>
public sealed record FieldError(string Field, string Message);

/// <summary>Success with a value, or a <see cref="DomainError"/>.</summary>
public readonly struct Result<T>
{
    private readonly T? _value;

    private Result(T? value, DomainError? error)
    {
        _value = value;
        Error = error;
    }

    public DomainError? Error { get; }

    public bool IsSuccess => Error is null;

    /// <summary>The value; throws <see cref="InvalidOperationException"/> on a failed result.</summary>
    public T Value => Error is null ? _value! : throw new InvalidOperationException($"Result failed: {Error.Message}");

    public static Result<T> Success(T value) => new(value, null);

    public static Result<T> Failure(DomainError error) => new(default, error);

    public static implicit operator Result<T>(T value) => Success(value);

    public static implicit operator Result<T>(DomainError error) => Failure(error);
}

/// <summary>Success without a value, or a <see cref="DomainError"/>.</summary>
public readonly struct Result
{
    private Result(DomainError? error) => Error = error;

    public DomainError? Error { get; }

    public bool IsSuccess => Error is null;

    public static Result Success { get; } = new(null);

    public static Result Failure(DomainError error) => new(error);

    public static implicit operator Result(DomainError error) => Failure(error);
}

namespace Rendezvous.Domain;

/// <summary>An organization (tenant). Every other record belongs to exactly one.</summary>
public readonly record struct OrganizationId(Guid Value)
{
    public static OrganizationId New() => new(Guid.CreateVersion7());
    public override string ToString() => Value.ToString();
}

/// <summary>A team member of an organization.</summary>
public readonly record struct UserId(Guid Value)
{
    public static UserId New() => new(Guid.CreateVersion7());
    public override string ToString() => Value.ToString();
}

/// <summary>A customer (contact) who books meetings.</summary>
public readonly record struct CustomerId(Guid Value)
{
    public static CustomerId New() => new(Guid.CreateVersion7());
    public override string ToString() => Value.ToString();
}

/// <summary>A booking page.</summary>
public readonly record struct BookingPageId(Guid Value)
{
    public static BookingPageId New() => new(Guid.CreateVersion7());
    public override string ToString() => Value.ToString();
}

/// <summary>A booking: one meeting (or one session of a package) with one customer.</summary>
public readonly record struct BookingId(Guid Value)
{
    public static BookingId New() => new(Guid.CreateVersion7());
    public override string ToString() => Value.ToString();
}

/// <summary>The sessions of a session package share one package id.</summary>
public readonly record struct PackageId(Guid Value)
{
    public static PackageId New() => new(Guid.CreateVersion7());
    public override string ToString() => Value.ToString();
}

/// <summary>Parses the string form of the ids used on the API.</summary>
public static class Ids
{
    /// <summary>Parses a Guid-shaped id; returns false for anything else (never throws).</summary>
    public static bool TryParse(string? text, out Guid value) => Guid.TryParse(text, out value);
}

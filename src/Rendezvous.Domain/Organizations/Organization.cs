using NodaTime;

namespace Rendezvous.Domain.Organizations;

/// <summary>A tenant. Users, customers, pages and bookings all belong to one organization.</summary>
public sealed class Organization
{
    private Organization()
    {
        Name = "";
        Slug = "";
    }

    public Organization(OrganizationId id, string name, string slug, Instant createdAt)
    {
        Id = id;
        Name = name;
        Slug = slug;
        CreatedAt = createdAt;
    }

    public OrganizationId Id { get; private set; }

    public string Name { get; private set; }

    /// <summary>Lower-case URL segment, unique across organizations.</summary>
    public string Slug { get; private set; }

    public Instant CreatedAt { get; private set; }
}

/// <summary>A team member's role. Administrators manage users, keys and every booking of the organization.</summary>
public enum UserRole
{
    Member,
    Administrator,
}

/// <summary>A team member: owns booking pages and hosts meetings.</summary>
public sealed class User
{
    private User()
    {
        Name = "";
        Email = "";
        TimeZoneId = "UTC";
    }

    public User(UserId id, OrganizationId organizationId, string name, string email, string timeZoneId, UserRole role, Instant createdAt)
    {
        Id = id;
        OrganizationId = organizationId;
        Name = name;
        Email = email;
        TimeZoneId = timeZoneId;
        Role = role;
        CreatedAt = createdAt;
    }

    public UserId Id { get; private set; }

    public OrganizationId OrganizationId { get; private set; }

    public string Name { get; private set; }

    /// <summary>Stored lower-case; unique within the organization.</summary>
    public string Email { get; private set; }

    /// <summary>IANA zone id.</summary>
    public string TimeZoneId { get; private set; }

    public UserRole Role { get; private set; }

    public Instant CreatedAt { get; private set; }

    public bool IsAdministrator => Role == UserRole.Administrator;

    /// <summary>The language of the emails this user receives as a host: a two-letter code ("en", "de", "fr", "es").</summary>
    public string Language { get; private set; } = "en";

    /// <summary>The caller passes a supported code (the list lives with the translations, outside the domain).</summary>
    public void SetLanguage(string language) => Language = language;

    public void Update(string name, string timeZoneId, UserRole role)
    {
        Name = name;
        TimeZoneId = timeZoneId;
        Role = role;
    }
}

/// <summary>A customer (contact). Identified within an organization by email.</summary>
public sealed class Customer
{
    private Customer()
    {
        Name = "";
        Email = "";
        TimeZoneId = "UTC";
    }

    public Customer(CustomerId id, OrganizationId organizationId, string name, string email, string? phone, string timeZoneId, Instant createdAt)
    {
        Id = id;
        OrganizationId = organizationId;
        Name = name;
        Email = email;
        Phone = phone;
        TimeZoneId = timeZoneId;
        CreatedAt = createdAt;
    }

    public CustomerId Id { get; private set; }

    public OrganizationId OrganizationId { get; private set; }

    public string Name { get; private set; }

    /// <summary>Stored lower-case; unique within the organization.</summary>
    public string Email { get; private set; }

    public string? Phone { get; private set; }

    /// <summary>IANA zone id the customer last booked from.</summary>
    public string TimeZoneId { get; private set; }

    public Instant CreatedAt { get; private set; }

    /// <summary>
    /// The language the customer last booked in ("en", "de", "fr", "es"), which their emails are written in; null for a
    /// customer who never said (English).
    /// </summary>
    public string? Language { get; private set; }

    /// <summary>A returning customer may give a new name, phone or zone; the latest wins.</summary>
    public void Refresh(string name, string? phone, string timeZoneId)
    {
        Name = name;
        Phone = phone ?? Phone;
        TimeZoneId = timeZoneId;
    }
}

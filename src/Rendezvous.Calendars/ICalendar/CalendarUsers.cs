namespace Rendezvous.Calendars.ICalendar;

/// <summary>ORGANIZER (RFC 5545 3.8.4.3). <see cref="Address"/> is the CAL-ADDRESS URI, e.g. <c>mailto:host@example.com</c>.</summary>
public sealed record CalendarOrganizer(string Address)
{
    /// <summary>CN parameter: display name.</summary>
    public string? CommonName { get; init; }

    /// <summary>SENT-BY parameter: who acts on the organizer's behalf.</summary>
    public string? SentBy { get; init; }

    /// <summary>The address without a leading <c>mailto:</c> (any case).</summary>
    public string Email => CalendarAddress.ToEmail(Address);
}

/// <summary>ATTENDEE (RFC 5545 3.8.4.1) with the parameters we act on. Defaults are the RFC defaults.</summary>
public sealed record CalendarAttendee(string Address)
{
    public string? CommonName { get; init; }

    public ParticipationStatus Status { get; init; } = ParticipationStatus.NeedsAction;

    public ParticipationRole Role { get; init; } = ParticipationRole.Required;

    public CalendarUserType UserType { get; init; } = CalendarUserType.Individual;

    public bool Rsvp { get; init; }

    public string Email => CalendarAddress.ToEmail(Address);
}

/// <summary>An x-property on an event, read and written as TEXT (our own markers such as <c>X-RENDEZVOUS-BOOKING-ID</c>).</summary>
public sealed record CalendarExtensionProperty
{
    public CalendarExtensionProperty(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var normalized = ContentLineSyntax.NormalizeName(name, nameof(name));
        if (!normalized.StartsWith("X-", StringComparison.Ordinal))
        {
            throw new ArgumentException("Extension property names start with X-.", nameof(name));
        }

        Name = normalized;
        Value = value;
    }

    public string Name { get; }

    public string Value { get; }
}

/// <summary>Helpers for CAL-ADDRESS values.</summary>
public static class CalendarAddress
{
    /// <summary><c>mailto:</c> + the address, unless it already is a URI with that scheme.</summary>
    public static string FromEmail(string email)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        var trimmed = email.Trim();
        return trimmed.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? trimmed : "mailto:" + trimmed;
    }

    public static string ToEmail(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var trimmed = address.Trim();
        return trimmed.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) ? trimmed[7..] : trimmed;
    }
}

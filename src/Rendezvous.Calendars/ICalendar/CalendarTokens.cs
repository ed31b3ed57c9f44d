namespace Rendezvous.Calendars.ICalendar;

/// <summary>VEVENT STATUS values (RFC 5545 3.8.1.11).</summary>
public enum EventStatus
{
    Tentative,
    Confirmed,
    Cancelled,
}

/// <summary>The RANGE parameter of RECURRENCE-ID (RFC 5545 3.2.13).</summary>
public enum RecurrenceRange
{
    /// <summary>No RANGE: the override replaces the one instance it names.</summary>
    ThisInstance,

    /// <summary>RANGE=THISANDFUTURE: the override applies to the instance it names and to every later one.</summary>
    ThisAndFuture,
}

/// <summary>TRANSP values (RFC 5545 3.8.2.7): whether the event blocks time.</summary>
public enum EventTransparency
{
    Opaque,
    Transparent,
}

/// <summary>Shared rules for the open-ended token types below (iana-token or x-name, stored upper-case).</summary>
internal static class Token
{
    public static string Normalize(string value, string paramName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value, paramName);
        var trimmed = value.Trim();
        if (!ContentLineSyntax.IsValidName(trimmed))
        {
            throw new ArgumentException($"'{value}' is not an iCalendar token.", paramName);
        }

        return trimmed.ToUpperInvariant();
    }

    /// <summary>For values read from a file: anything goes, but it is upper-cased for comparison.</summary>
    public static string Lenient(string value) => value.Trim().ToUpperInvariant();
}

/// <summary>An iTIP METHOD (RFC 5546 section 1.4): PUBLISH, REQUEST, REPLY, ADD, CANCEL, REFRESH, COUNTER, DECLINECOUNTER or another token.</summary>
public readonly record struct ITipMethod
{
    private readonly string? _value;

    public ITipMethod(string value) => _value = Token.Normalize(value, nameof(value));

    private ITipMethod(string value, bool lenient) => _value = lenient ? Token.Lenient(value) : value;

    public string Value => _value ?? "PUBLISH";

    public static ITipMethod Publish { get; } = new("PUBLISH");
    public static ITipMethod Request { get; } = new("REQUEST");
    public static ITipMethod Reply { get; } = new("REPLY");
    public static ITipMethod Add { get; } = new("ADD");
    public static ITipMethod Cancel { get; } = new("CANCEL");
    public static ITipMethod Refresh { get; } = new("REFRESH");
    public static ITipMethod Counter { get; } = new("COUNTER");
    public static ITipMethod DeclineCounter { get; } = new("DECLINECOUNTER");

    internal static ITipMethod FromFile(string value) => new(value, lenient: true);

    public bool Equals(ITipMethod other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    public override string ToString() => Value;
}

/// <summary>PARTSTAT (RFC 5545 3.2.12). Unknown values are kept as written (upper-cased).</summary>
public readonly record struct ParticipationStatus
{
    private readonly string? _value;

    public ParticipationStatus(string value) => _value = Token.Normalize(value, nameof(value));

    private ParticipationStatus(string value, bool lenient) => _value = lenient ? Token.Lenient(value) : value;

    /// <summary>The value; NEEDS-ACTION (the RFC default) for <c>default</c>.</summary>
    public string Value => _value ?? "NEEDS-ACTION";

    public static ParticipationStatus NeedsAction { get; } = new("NEEDS-ACTION");
    public static ParticipationStatus Accepted { get; } = new("ACCEPTED");
    public static ParticipationStatus Declined { get; } = new("DECLINED");
    public static ParticipationStatus Tentative { get; } = new("TENTATIVE");
    public static ParticipationStatus Delegated { get; } = new("DELEGATED");

    internal static ParticipationStatus FromFile(string value) => new(value, lenient: true);

    public bool Equals(ParticipationStatus other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    public override string ToString() => Value;
}

/// <summary>ROLE (RFC 5545 3.2.16). Unknown values are kept as written (upper-cased).</summary>
public readonly record struct ParticipationRole
{
    private readonly string? _value;

    public ParticipationRole(string value) => _value = Token.Normalize(value, nameof(value));

    private ParticipationRole(string value, bool lenient) => _value = lenient ? Token.Lenient(value) : value;

    /// <summary>The value; REQ-PARTICIPANT (the RFC default) for <c>default</c>.</summary>
    public string Value => _value ?? "REQ-PARTICIPANT";

    public static ParticipationRole Chair { get; } = new("CHAIR");
    public static ParticipationRole Required { get; } = new("REQ-PARTICIPANT");
    public static ParticipationRole Optional { get; } = new("OPT-PARTICIPANT");
    public static ParticipationRole NonParticipant { get; } = new("NON-PARTICIPANT");

    internal static ParticipationRole FromFile(string value) => new(value, lenient: true);

    public bool Equals(ParticipationRole other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    public override string ToString() => Value;
}

/// <summary>CUTYPE (RFC 5545 3.2.3). Unknown values are kept as written (upper-cased).</summary>
public readonly record struct CalendarUserType
{
    private readonly string? _value;

    public CalendarUserType(string value) => _value = Token.Normalize(value, nameof(value));

    private CalendarUserType(string value, bool lenient) => _value = lenient ? Token.Lenient(value) : value;

    /// <summary>The value; INDIVIDUAL (the RFC default) for <c>default</c>.</summary>
    public string Value => _value ?? "INDIVIDUAL";

    public static CalendarUserType Individual { get; } = new("INDIVIDUAL");
    public static CalendarUserType Group { get; } = new("GROUP");
    public static CalendarUserType Resource { get; } = new("RESOURCE");
    public static CalendarUserType Room { get; } = new("ROOM");
    public static CalendarUserType Unknown { get; } = new("UNKNOWN");

    internal static CalendarUserType FromFile(string value) => new(value, lenient: true);

    public bool Equals(CalendarUserType other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    public override string ToString() => Value;
}

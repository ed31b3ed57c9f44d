using System.Globalization;
using NodaTime;

namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// A typed view of one VEVENT: the properties a scheduling system acts on. Everything else stays reachable
/// through <see cref="Source"/> when the event was read from text. Immutable: change it with <c>with</c>.
/// Equality compares every typed property (lists element by element) and ignores <see cref="Source"/>.
/// </summary>
public sealed record CalendarEvent
{
    public string? Uid { get; init; }

    /// <summary>SEQUENCE; 0 when absent.</summary>
    public int Sequence { get; init; }

    public Instant? DtStamp { get; init; }

    public CalendarDateTime? Start { get; init; }

    /// <summary>DTEND (exclusive). At most one of <see cref="End"/> and <see cref="Duration"/> is set.</summary>
    public CalendarDateTime? End { get; init; }

    public CalendarDuration? Duration { get; init; }

    public string? Summary { get; init; }

    public string? Description { get; init; }

    public string? Location { get; init; }

    /// <summary>STATUS; null when absent or not one of the three VEVENT values.</summary>
    public EventStatus? Status { get; init; }

    /// <summary>TRANSP; null when absent (which means OPAQUE).</summary>
    public EventTransparency? Transparency { get; init; }

    public CalendarOrganizer? Organizer { get; init; }

    public IReadOnlyList<CalendarAttendee> Attendees { get; init; } = [];

    public IReadOnlyList<RecurrenceRule> RecurrenceRules { get; init; } = [];

    public IReadOnlyList<RecurrenceDate> RecurrenceDates { get; init; } = [];

    public IReadOnlyList<CalendarDateTime> ExceptionDates { get; init; } = [];

    /// <summary>RECURRENCE-ID: set on an override of one instance of a recurring event.</summary>
    public CalendarDateTime? RecurrenceId { get; init; }

    /// <summary>
    /// The RANGE parameter of RECURRENCE-ID (RFC 5545 3.2.13): with <see cref="RecurrenceRange.ThisAndFuture"/>
    /// the override also reschedules and changes every later instance of the series.
    /// </summary>
    public RecurrenceRange RecurrenceIdRange { get; init; }

    /// <summary>X- properties, in order, with TEXT values.</summary>
    public IReadOnlyList<CalendarExtensionProperty> Extensions { get; init; } = [];

    /// <summary>The VEVENT this was read from; null for events built in code.</summary>
    public CalendarComponent? Source { get; init; }

    public bool IsAllDay => Start?.IsDate == true;

    public bool IsRecurring => RecurrenceRules.Count > 0 || RecurrenceDates.Count > 0;

    /// <summary>True when busy-time computations should ignore the event.</summary>
    public bool IsFree => Transparency == EventTransparency.Transparent || Status == EventStatus.Cancelled;

    /// <summary>The first extension property with this name, or null.</summary>
    public string? GetExtension(string name) =>
        Extensions.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))?.Value;

    public bool Equals(CalendarEvent? other) =>
        other is not null
        && Uid == other.Uid
        && Sequence == other.Sequence
        && DtStamp == other.DtStamp
        && Start == other.Start
        && End == other.End
        && Duration == other.Duration
        && Summary == other.Summary
        && Description == other.Description
        && Location == other.Location
        && Status == other.Status
        && Transparency == other.Transparency
        && Organizer == other.Organizer
        && Attendees.SequenceEqual(other.Attendees)
        && RecurrenceRules.Select(r => r.ToString()).SequenceEqual(other.RecurrenceRules.Select(r => r.ToString()), StringComparer.Ordinal)
        && RecurrenceDates.SequenceEqual(other.RecurrenceDates)
        && ExceptionDates.SequenceEqual(other.ExceptionDates)
        && RecurrenceId == other.RecurrenceId
        && RecurrenceIdRange == other.RecurrenceIdRange
        && Extensions.SequenceEqual(other.Extensions);

    public override int GetHashCode() => HashCode.Combine(Uid, Sequence, Start, Summary);

    /// <summary>
    /// Reads a VEVENT. TZIDs are resolved through <paramref name="timeZones"/>. Throws
    /// <see cref="ICalendarParseException"/> (with the property's line) when a typed property is malformed.
    /// </summary>
    public static CalendarEvent FromComponent(CalendarComponent vevent, CalendarTimeZoneResolver? timeZones = null)
    {
        ArgumentNullException.ThrowIfNull(vevent);
        var resolver = timeZones ?? CalendarTimeZoneResolver.WellKnownOnly;
        Func<string, DateTimeZone?> resolve = resolver.Resolve;
        var attendees = new List<CalendarAttendee>();
        var rules = new List<RecurrenceRule>();
        var rdates = new List<RecurrenceDate>();
        var exdates = new List<CalendarDateTime>();
        var extensions = new List<CalendarExtensionProperty>();
        foreach (var property in vevent.Properties)
        {
            switch (property.Name)
            {
                case "ATTENDEE":
                    attendees.Add(ReadAttendee(property));
                    break;
                case "RRULE":
                    rules.Add(RecurrenceRule.Parse(property.Value, property.LineNumber));
                    break;
                case "RDATE":
                    rdates.AddRange(TypedValues.ParseRecurrenceDates(property, resolve));
                    break;
                case "EXDATE":
                    exdates.AddRange(TypedValues.ParseDateTimeList(property, resolve));
                    break;
                default:
                    if (property.Name.StartsWith("X-", StringComparison.Ordinal))
                    {
                        extensions.Add(new CalendarExtensionProperty(property.Name, property.GetText()));
                    }

                    break;
            }
        }

        return new CalendarEvent
        {
            Uid = vevent.FindProperty("UID")?.GetText(),
            Sequence = ReadSequence(vevent.FindProperty("SEQUENCE")),
            DtStamp = vevent.FindProperty("DTSTAMP") is { } stamp
                ? TypedValues.ParseDateTime(stamp, resolve).ToInstant(DateTimeZone.Utc)
                : null,
            Start = ReadDateTime(vevent, "DTSTART", resolve),
            End = ReadDateTime(vevent, "DTEND", resolve),
            Duration = vevent.FindProperty("DURATION") is { } duration ? TypedValues.ParseDuration(duration) : null,
            Summary = vevent.FindProperty("SUMMARY")?.GetText(),
            Description = vevent.FindProperty("DESCRIPTION")?.GetText(),
            Location = vevent.FindProperty("LOCATION")?.GetText(),
            Status = vevent.FindProperty("STATUS")?.GetText().Trim().ToUpperInvariant() switch
            {
                "TENTATIVE" => EventStatus.Tentative,
                "CONFIRMED" => EventStatus.Confirmed,
                "CANCELLED" => EventStatus.Cancelled,
                _ => null,
            },
            Transparency = vevent.FindProperty("TRANSP")?.GetText().Trim().ToUpperInvariant() switch
            {
                "OPAQUE" => EventTransparency.Opaque,
                "TRANSPARENT" => EventTransparency.Transparent,
                _ => null,
            },
            Organizer = vevent.FindProperty("ORGANIZER") is { } organizer
                ? new CalendarOrganizer(organizer.Value.Trim())
                {
                    CommonName = organizer.GetParameter("CN"),
                    SentBy = organizer.GetParameter("SENT-BY"),
                }
                : null,
            Attendees = attendees,
            RecurrenceRules = rules,
            RecurrenceDates = rdates,
            ExceptionDates = exdates,
            RecurrenceId = ReadDateTime(vevent, "RECURRENCE-ID", resolve),
            RecurrenceIdRange = ReadRange(vevent.FindProperty("RECURRENCE-ID")),
            Extensions = extensions,
            Source = vevent,
        };
    }

    /// <summary>
    /// Builds the VEVENT. Throws <see cref="InvalidOperationException"/> when both DTEND and DURATION are set.
    /// </summary>
    public CalendarComponent ToComponent()
    {
        if (End is not null && Duration is not null)
        {
            throw new InvalidOperationException("An event has DTEND or DURATION, not both.");
        }

        var vevent = new CalendarComponent("VEVENT");
        if (Uid is not null)
        {
            vevent.AddText("UID", Uid);
        }

        vevent.AddProperty(new CalendarProperty("SEQUENCE", Sequence.ToString(CultureInfo.InvariantCulture)));
        if (DtStamp is { } stamp)
        {
            vevent.AddProperty(DateTimeProperty("DTSTAMP", CalendarDateTime.FromInstant(stamp)));
        }

        if (Start is { } start)
        {
            vevent.AddProperty(DateTimeProperty("DTSTART", start));
        }

        if (End is { } end)
        {
            vevent.AddProperty(DateTimeProperty("DTEND", end));
        }

        if (Duration is { } duration)
        {
            vevent.AddProperty(new CalendarProperty("DURATION", duration.ToString()));
        }

        if (RecurrenceId is { } recurrenceId)
        {
            var property = DateTimeProperty("RECURRENCE-ID", recurrenceId);
            if (RecurrenceIdRange == RecurrenceRange.ThisAndFuture)
            {
                property.SetParameter("RANGE", "THISANDFUTURE");
            }

            vevent.AddProperty(property);
        }

        foreach (var rule in RecurrenceRules)
        {
            vevent.AddProperty(new CalendarProperty("RRULE", rule.ToString()));
        }

        foreach (var rdate in RecurrenceDates)
        {
            vevent.AddProperty(RecurrenceDateProperty(rdate));
        }

        foreach (var exdate in ExceptionDates)
        {
            vevent.AddProperty(DateTimeProperty("EXDATE", exdate));
        }

        AddTextIfSet(vevent, "SUMMARY", Summary);
        AddTextIfSet(vevent, "DESCRIPTION", Description);
        AddTextIfSet(vevent, "LOCATION", Location);
        if (Status is { } status)
        {
            vevent.AddProperty(new CalendarProperty("STATUS", status.ToString().ToUpperInvariant()));
        }

        if (Transparency is { } transparency)
        {
            vevent.AddProperty(new CalendarProperty("TRANSP", transparency.ToString().ToUpperInvariant()));
        }

        if (Organizer is { } org)
        {
            var property = new CalendarProperty("ORGANIZER", org.Address);
            if (org.CommonName is not null)
            {
                property.SetParameter("CN", org.CommonName);
            }

            if (org.SentBy is not null)
            {
                property.SetParameter("SENT-BY", org.SentBy);
            }

            vevent.AddProperty(property);
        }

        foreach (var attendee in Attendees)
        {
            var property = new CalendarProperty("ATTENDEE", attendee.Address);
            property.SetParameter("CUTYPE", attendee.UserType.Value);
            property.SetParameter("ROLE", attendee.Role.Value);
            property.SetParameter("PARTSTAT", attendee.Status.Value);
            if (attendee.Rsvp)
            {
                property.SetParameter("RSVP", "TRUE");
            }

            if (attendee.CommonName is not null)
            {
                property.SetParameter("CN", attendee.CommonName);
            }

            vevent.AddProperty(property);
        }

        foreach (var extension in Extensions)
        {
            vevent.AddText(extension.Name, extension.Value);
        }

        return vevent;
    }

    /// <summary>Every zoned value of the event, for writing the VTIMEZONEs it needs.</summary>
    internal IEnumerable<CalendarDateTime> ZonedValues()
    {
        IEnumerable<CalendarDateTime?> all =
        [
            Start, End, RecurrenceId,
            .. RecurrenceDates.Select(r => (CalendarDateTime?)r.Start),
            .. RecurrenceDates.Select(r => r.End),
            .. ExceptionDates.Select(e => (CalendarDateTime?)e),
        ];
        return all.Where(v => v is { Kind: CalendarDateTimeKind.Zoned }).Select(v => v!.Value);
    }

    internal static CalendarProperty DateTimeProperty(string name, CalendarDateTime value)
    {
        var property = new CalendarProperty(name, value.FormatValue());
        if (value.Kind == CalendarDateTimeKind.Date)
        {
            property.SetParameter("VALUE", "DATE");
        }
        else if (value.Kind == CalendarDateTimeKind.Zoned)
        {
            property.SetParameter("TZID", value.TzId!);
        }

        return property;
    }

    private static CalendarProperty RecurrenceDateProperty(RecurrenceDate rdate)
    {
        if (!rdate.IsPeriod)
        {
            return DateTimeProperty("RDATE", rdate.Start);
        }

        var tail = rdate.End is { } end ? end.FormatValue() : rdate.Duration!.Value.ToString();
        var property = new CalendarProperty("RDATE", rdate.Start.FormatValue() + "/" + tail);
        property.SetParameter("VALUE", "PERIOD");
        if (rdate.Start.Kind == CalendarDateTimeKind.Zoned)
        {
            property.SetParameter("TZID", rdate.Start.TzId!);
        }

        return property;
    }

    private static void AddTextIfSet(CalendarComponent component, string name, string? text)
    {
        if (text is not null)
        {
            component.AddText(name, text);
        }
    }

    private static CalendarDateTime? ReadDateTime(CalendarComponent component, string name, Func<string, DateTimeZone?> resolve) =>
        component.FindProperty(name) is { } property ? TypedValues.ParseDateTime(property, resolve) : null;

    /// <summary>
    /// THISANDFUTURE is the only range RFC 5545 3.2.13 defines; the deprecated THISANDPRIOR of RFC 2445 and
    /// unknown values are read as the single instance, which is what an override without RANGE means.
    /// </summary>
    private static RecurrenceRange ReadRange(CalendarProperty? recurrenceId) =>
        string.Equals(recurrenceId?.GetParameter("RANGE")?.Trim(), "THISANDFUTURE", StringComparison.OrdinalIgnoreCase)
            ? RecurrenceRange.ThisAndFuture
            : RecurrenceRange.ThisInstance;

    private static int ReadSequence(CalendarProperty? property)
    {
        if (property is null)
        {
            return 0;
        }

        return property.TryGetInteger(out var sequence) && sequence >= 0
            ? sequence
            : throw new ICalendarParseException(
                ICalendarErrorKind.InvalidValue,
                property.LineNumber,
                $"SEQUENCE value '{TypedValues.Shorten(property.Value)}' is not a non-negative integer");
    }

    private static CalendarAttendee ReadAttendee(CalendarProperty property) =>
        new(property.Value.Trim())
        {
            CommonName = property.GetParameter("CN"),
            Status = property.GetParameter("PARTSTAT") is { Length: > 0 } status ? ParticipationStatus.FromFile(status) : ParticipationStatus.NeedsAction,
            Role = property.GetParameter("ROLE") is { Length: > 0 } role ? ParticipationRole.FromFile(role) : ParticipationRole.Required,
            UserType = property.GetParameter("CUTYPE") is { Length: > 0 } type ? CalendarUserType.FromFile(type) : CalendarUserType.Individual,
            Rsvp = string.Equals(property.GetParameter("RSVP")?.Trim(), "TRUE", StringComparison.OrdinalIgnoreCase),
        };
}

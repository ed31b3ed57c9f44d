namespace Rendezvous.Emulators.Graph;

/// <summary>How an event repeats (a small part of Graph's patternedRecurrence: daily or weekly, a count or an end).</summary>
/// <param name="Pattern">"daily" or "weekly".</param>
/// <param name="Interval">Every how many days or weeks.</param>
/// <param name="Count">Occurrences in all (numbered range), or null.</param>
/// <param name="Until">The last day an occurrence may start (end-date range), or null for no end.</param>
public sealed record EmulatedRecurrence(string Pattern, int Interval, int? Count, DateTimeOffset? Until);

/// <summary>
/// An attendee as Graph shows it (https://learn.microsoft.com/en-us/graph/api/resources/attendee): type required,
/// optional or resource, and the answer the organizer's copy shows (none, accepted, tentativelyAccepted, declined).
/// </summary>
public sealed record EmulatedAttendee(string Address, string? Name, string Type, string Response = "none");

/// <summary>An event in an emulated calendar (a single event or a series master).</summary>
public sealed class EmulatedEvent
{
    public required string Id { get; init; }

    public required string CalendarId { get; set; }

    public string ChangeKey { get; set; } = "";

    public string Subject { get; set; } = "";

    public string? BodyContentType { get; set; }

    public string? Body { get; set; }

    public string? Location { get; set; }

    public DateTimeOffset Start { get; set; }

    public DateTimeOffset End { get; set; }

    public bool IsAllDay { get; set; }

    /// <summary>free, tentative, busy, oof, workingElsewhere, unknown.</summary>
    public string ShowAs { get; set; } = "busy";

    public bool IsCancelled { get; set; }

    public string? TransactionId { get; set; }

    public List<EmulatedAttendee> Attendees { get; } = [];

    public EmulatedRecurrence? Recurrence { get; set; }

    public bool IsOnlineMeeting { get; set; }

    /// <summary>Shared by the organizer's event and every attendee's copy of it; null means one made from the id.</summary>
    public string? ICalUId { get; set; }

    /// <summary>False on an attendee's (a room's) copy of someone else's meeting.</summary>
    public bool IsOrganizer { get; set; } = true;

    /// <summary>The organizer's address on an attendee's copy.</summary>
    public string? OrganizerAddress { get; set; }

    public string? OrganizerName { get; set; }

    /// <summary>The mailbox owner's answer (https://learn.microsoft.com/en-us/graph/api/resources/responsestatus):
    /// none, organizer, notResponded, accepted, tentativelyAccepted, declined.</summary>
    public string ResponseStatus { get; set; } = "organizer";

    public DateTimeOffset? ResponseTime { get; set; }

    public DateTimeOffset LastModified { get; set; }

    public string? OnlineMeetingUrl { get; set; }

    /// <summary>The change number of the mailbox when this event last changed; delta tokens compare against it.</summary>
    internal long Sequence { get; set; }

    internal bool Deleted { get; set; }

    /// <summary>Every id a delta answer ever showed for this event (occurrences included), so removals can name them.</summary>
    internal HashSet<string> Shown { get; } = new(StringComparer.Ordinal);

    public EmulatedEvent Copy()
    {
        var copy = (EmulatedEvent)MemberwiseClone();
        return copy;
    }

    /// <summary>The iCalUId Graph shows for this event.</summary>
    public string UidForGraph => ICalUId ?? "040000008200E00074C5B7101A82E008" + Id.GetHashCode(StringComparison.Ordinal).ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One occurrence as calendarView shows it.</summary>
internal sealed record Instance(EmulatedEvent Source, string Id, DateTimeOffset Start, DateTimeOffset End, string Type);

/// <summary>A calendar of a mailbox.</summary>
public sealed record EmulatedCalendar(string Id, string Name, bool CanEdit, bool IsDefault);

/// <summary>A change-notification subscription.</summary>
public sealed class EmulatedSubscription
{
    public required string Id { get; init; }

    public required string MailboxEmail { get; init; }

    public required string Resource { get; init; }

    public required string? CalendarId { get; init; }

    public required string ChangeType { get; init; }

    public required Uri NotificationUrl { get; init; }

    public Uri? LifecycleNotificationUrl { get; init; }

    public string? ClientState { get; init; }

    public DateTimeOffset ExpirationDateTime { get; set; }
}

/// <summary>An answer a mailbox (a room) gave to a meeting through accept, decline or tentativelyAccept.</summary>
public sealed record EmulatedResponse(string Mailbox, string EventId, string ICalUId, string Response, string? Comment, bool SendResponse);

/// <summary>A notification the emulator delivered (or tried to), for assertions.</summary>
public sealed record DeliveredNotification(string SubscriptionId, string Kind, int Status);

/// <summary>
/// A fault to inject: requests whose path contains <see cref="PathContains"/> (and whose method matches, when given)
/// are answered with <see cref="Status"/> (after <see cref="Delay"/>) instead of normally, <see cref="Times"/> times.
/// Status 0 answers normally after the delay (a slow service).
/// </summary>
public sealed class EmulatedFault
{
    public required string PathContains { get; init; }

    public string? Method { get; init; }

    public int Status { get; init; }

    public string? Code { get; init; }

    public TimeSpan? RetryAfter { get; init; }

    public TimeSpan Delay { get; init; }

    public int Times { get; set; } = 1;

    /// <summary>How many requests it answered.</summary>
    public int Hits { get; internal set; }
}

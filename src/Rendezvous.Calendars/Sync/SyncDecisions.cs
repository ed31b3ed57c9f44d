using NodaTime;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Sync;

/// <summary>What we last wrote for a booking into one user's calendar.</summary>
public sealed record WrittenEvent(Instant Start, Instant End, string? ETag);

/// <summary>
/// A booking event as a calendar holds it now, whatever the provider: when it starts and whether it was cancelled.
/// Null <paramref name="Start"/> when the event has no readable start.
/// </summary>
public sealed record ObservedEvent(Instant? Start, bool Cancelled)
{
    /// <summary>Reads an iCalendar event; floating and all-day times are read in <paramref name="zone"/>.</summary>
    public static ObservedEvent From(CalendarEvent calendarEvent, DateTimeZone zone) =>
        new(calendarEvent.Start?.ToInstant(zone), calendarEvent.Status == EventStatus.Cancelled);
}

/// <summary>What happened to a booking's event in a calendar since we last wrote it.</summary>
public enum ExternalChange
{
    /// <summary>Our own write coming back (same ETag): nothing to do.</summary>
    Echo,
    /// <summary>Changed, but not its time (a note, a title): nothing to do for the booking.</summary>
    OtherEdit,
    /// <summary>The event is gone, or was marked cancelled.</summary>
    Deleted,
    /// <summary>The event's start moved.</summary>
    Moved,
}

/// <summary>What the sync engine does about an external change. The toggles and the seed's rules decide.</summary>
public enum SyncAction
{
    None,
    /// <summary>Cancel the booking as if the user had canceled it (customer notified, time freed, integrations told).</summary>
    Cancel,
    /// <summary>Reschedule at once, status Rescheduled, integrations updated, no email to user or customer.</summary>
    Reschedule,
    /// <summary>Remember the new time and apply it when the booking's next reminder is due; integrations untouched.</summary>
    DeferMove,
}

/// <summary>The pure part of two-way sync: classifying a change and deciding what it means for the booking.</summary>
public static class SyncDecisions
{
    /// <summary>
    /// Classifies what the calendar now holds for a booking event. <paramref name="current"/> is null when the object was
    /// deleted; <paramref name="etag"/> is its ETag as listed by the server. Floating and all-day times are read in
    /// <paramref name="userZone"/>.
    /// </summary>
    public static ExternalChange Classify(WrittenEvent written, string? etag, CalendarEvent? current, DateTimeZone userZone, out Instant newStart) =>
        Classify(written, etag, current is null ? null : ObservedEvent.From(current, userZone), out newStart);

    /// <summary>
    /// Classifies what a calendar of any provider now holds for a booking event. <paramref name="current"/> is null when
    /// the item was deleted; <paramref name="version"/> is its version (ETag, change key) as the provider reported it.
    /// </summary>
    public static ExternalChange Classify(WrittenEvent written, string? version, ObservedEvent? current, out Instant newStart)
    {
        newStart = written.Start;
        if (current is null || current.Cancelled)
        {
            return ExternalChange.Deleted;
        }

        if (version is not null && written.ETag is not null && version == written.ETag)
        {
            return ExternalChange.Echo;
        }

        if (current.Start is not { } start)
        {
            return ExternalChange.OtherEdit;
        }

        newStart = start;
        return newStart == written.Start ? ExternalChange.OtherEdit : ExternalChange.Moved;
    }

    /// <summary>
    /// The seed's rules: only changes in the booking calendar count (additional calendars are disregarded); for a panel
    /// only the primary team member's calendar counts, and then the booking changes for every member; each kind of
    /// change is behind its own toggle. A deletion with its toggle off changes nothing at all; a move with its toggle off
    /// is applied when the next reminder is due.
    /// </summary>
    public static SyncAction Decide(ExternalChange change, bool inBookingCalendar, bool isPrimaryHost, bool cancelOnDelete, bool updateOnMove)
    {
        if (!inBookingCalendar || !isPrimaryHost)
        {
            return SyncAction.None;
        }

        return change switch
        {
            ExternalChange.Deleted => cancelOnDelete ? SyncAction.Cancel : SyncAction.None,
            ExternalChange.Moved => updateOnMove ? SyncAction.Reschedule : SyncAction.DeferMove,
            _ => SyncAction.None,
        };
    }
}

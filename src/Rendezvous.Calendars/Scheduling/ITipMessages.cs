using NodaTime;
using Rendezvous.Calendars.ICalendar;

namespace Rendezvous.Calendars.Scheduling;

/// <summary>
/// What an invitation says to one attendee (a space): read from an iTIP message (RFC 5546) or from the attendee's copy
/// of a scheduled event on a CalDAV server (RFC 6638), whichever way it arrived.
/// <c>Method</c> is REQUEST or CANCEL (a copy in a calendar counts as REQUEST unless its STATUS is CANCELLED);
/// <c>Start</c> is the first occurrence's start (a recurring series is booked by its first occurrence only) and
/// <c>End</c> is exclusive; <c>AttendeePartstat</c> is the attendee's PARTSTAT as the message or copy has it
/// (NEEDS-ACTION when absent); <c>Stamp</c> is its DTSTAMP, which orders versions that share a SEQUENCE.
/// </summary>
public sealed record ITipInvitation(
    string Method,
    string Uid,
    int Sequence,
    string OrganizerEmail,
    string? OrganizerName,
    string Summary,
    Instant Start,
    Instant End,
    string AttendeePartstat,
    Instant? Stamp = null)
{
    public bool IsCancel => Method == "CANCEL";
}

/// <summary>Reads invitations and writes answers for an attendee that is a space, in iTIP terms (RFC 5546).</summary>
public static class ITipMessages
{
    public const string Accepted = "ACCEPTED";
    public const string Declined = "DECLINED";
    public const string Tentative = "TENTATIVE";

    /// <summary>
    /// The invitation <paramref name="icalendar"/> carries for <paramref name="attendeeEmail"/>, or null when it is not
    /// one: no VEVENT, no UID or ORGANIZER, the attendee is not invited (and it is no CANCEL), the attendee is the
    /// organizer, or the method is something else (REPLY, PUBLISH with no attendees...). Overrides of single instances
    /// (RECURRENCE-ID) are ignored: the master event decides.
    /// </summary>
    /// <exception cref="ICalendarParseException">The text is not iCalendar.</exception>
    public static ITipInvitation? Read(string icalendar, string attendeeEmail)
    {
        ArgumentNullException.ThrowIfNull(icalendar);
        ArgumentException.ThrowIfNullOrWhiteSpace(attendeeEmail);
        var document = ICalendarReader.Parse(icalendar);
        var method = document.Method?.Value;
        var master = document.Events.FirstOrDefault(e => e.RecurrenceId is null) ?? document.Events.FirstOrDefault();
        if (master is null || string.IsNullOrWhiteSpace(master.Uid) || master.Organizer is null || master.Start is null)
        {
            return null;
        }

        var organizerEmail = master.Organizer.Email;
        if (SameAddress(organizerEmail, attendeeEmail))
        {
            return null;
        }

        var attendee = master.Attendees.FirstOrDefault(a => SameAddress(a.Email, attendeeEmail));
        // A CANCEL for the whole event may list only the attendees it removes; a copy in a calendar always lists us.
        var cancelled = method == "CANCEL" || master.Status == EventStatus.Cancelled;
        if (attendee is null && !cancelled)
        {
            return null;
        }

        if (method is not (null or "REQUEST" or "CANCEL"))
        {
            return null;
        }

        var start = master.Start.Value.ToInstant(DateTimeZone.Utc);
        var end = EndOf(master, start);
        return new ITipInvitation(
            cancelled ? "CANCEL" : "REQUEST",
            master.Uid!,
            master.Sequence,
            organizerEmail,
            string.IsNullOrWhiteSpace(master.Organizer.CommonName) ? null : master.Organizer.CommonName,
            string.IsNullOrWhiteSpace(master.Summary) ? "(no title)" : master.Summary!,
            start,
            end,
            attendee is null ? "NEEDS-ACTION" : ParticipationText(attendee.Status),
            master.DtStamp);
    }

    /// <summary>
    /// The attendee's own copy of a scheduled event with its PARTSTAT set to <paramref name="partstat"/> on every
    /// VEVENT (master and overrides) — the change an RFC 6638 server turns into an iTIP REPLY to the organizer. A
    /// declined copy is also made TRANSP:TRANSPARENT, so it no longer counts as busy in the space's free-busy.
    /// Everything else in the object is kept as the server wrote it.
    /// </summary>
    /// <returns>The new text, or null when the attendee is not in the object.</returns>
    public static string? WithPartstat(string icalendar, string attendeeEmail, string partstat)
    {
        ArgumentNullException.ThrowIfNull(icalendar);
        CheckPartstat(partstat);
        var root = ICalendarReader.ReadComponents(icalendar).FirstOrDefault(c => c.Name == "VCALENDAR");
        if (root is null)
        {
            return null;
        }

        var found = false;
        foreach (var vevent in root.FindComponents("VEVENT"))
        {
            foreach (var attendee in vevent.FindProperties("ATTENDEE"))
            {
                if (!SameAddress(CalendarAddress.ToEmail(attendee.Value), attendeeEmail))
                {
                    continue;
                }

                found = true;
                attendee.SetParameter("PARTSTAT", partstat);
                // The question is answered; the server would otherwise keep asking the attendee's client.
                attendee.RemoveParameter("RSVP");
                attendee.RemoveParameter("SCHEDULE-STATUS");
            }

            vevent.RemoveProperties("TRANSP");
            if (partstat == Declined)
            {
                vevent.AddProperty(new CalendarProperty("TRANSP", "TRANSPARENT"));
            }
        }

        return found ? ICalendarWriter.Write(root) : null;
    }

    /// <summary>
    /// An iTIP REPLY (RFC 5546 3.2.3) from <paramref name="attendeeEmail"/> to the organizer of
    /// <paramref name="invitation"/>, for sending by email (iMIP, RFC 6047).
    /// </summary>
    public static string BuildReply(ITipInvitation invitation, string attendeeEmail, string? attendeeName, string partstat, Instant now,
        string? comment = null)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        ArgumentException.ThrowIfNullOrWhiteSpace(attendeeEmail);
        CheckPartstat(partstat);
        var vevent = new CalendarComponent("VEVENT")
            .AddText("UID", invitation.Uid)
            .AddProperty(new CalendarProperty("SEQUENCE", invitation.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .AddProperty(new CalendarProperty("DTSTAMP", Utc(now)))
            .AddProperty(new CalendarProperty("DTSTART", Utc(invitation.Start)))
            .AddProperty(new CalendarProperty("DTEND", Utc(invitation.End)))
            .AddText("SUMMARY", invitation.Summary);
        var organizer = new CalendarProperty("ORGANIZER", CalendarAddress.FromEmail(invitation.OrganizerEmail));
        if (invitation.OrganizerName is { } organizerName)
        {
            organizer.SetParameter("CN", organizerName);
        }

        vevent.AddProperty(organizer);
        var attendee = new CalendarProperty("ATTENDEE", CalendarAddress.FromEmail(attendeeEmail))
            .SetParameter("PARTSTAT", partstat)
            .SetParameter("CUTYPE", "ROOM");
        if (!string.IsNullOrWhiteSpace(attendeeName))
        {
            attendee.SetParameter("CN", attendeeName);
        }

        vevent.AddProperty(attendee);
        if (!string.IsNullOrWhiteSpace(comment))
        {
            vevent.AddText("COMMENT", comment);
        }

        var calendar = new CalendarComponent("VCALENDAR")
            .AddProperty(new CalendarProperty("PRODID", CalendarDocument.DefaultProductId))
            .AddProperty(new CalendarProperty("VERSION", "2.0"))
            .AddProperty(new CalendarProperty("METHOD", "REPLY"))
            .AddComponent(vevent);
        return ICalendarWriter.Write(calendar);
    }

    /// <summary>Email addresses compare without case (the local part is case-sensitive in theory, never in calendars).</summary>
    public static bool SameAddress(string a, string b) =>
        string.Equals(CalendarAddress.ToEmail(a).Trim(), CalendarAddress.ToEmail(b).Trim(), StringComparison.OrdinalIgnoreCase);

    private static Instant EndOf(CalendarEvent e, Instant start)
    {
        if (e.End is { } end)
        {
            return end.ToInstant(DateTimeZone.Utc);
        }

        if (e.Duration is { } duration)
        {
            var zone = e.Start!.Value.EffectiveZone(DateTimeZone.Utc);
            var local = start.InZone(zone).LocalDateTime.PlusDays((int)duration.NominalDays * (duration.IsNegative ? -1 : 1));
            var exact = duration.IsNegative ? -duration.ExactPart : duration.ExactPart;
            return local.InZoneLeniently(zone).ToInstant() + exact;
        }

        // RFC 5545 3.6.1: a DATE start without an end lasts the day; a DATE-TIME start without one is an instant.
        return e.IsAllDay ? start + Duration.FromDays(1) : start;
    }

    private static string ParticipationText(ParticipationStatus status) => status.Value;

    private static string Utc(Instant instant) =>
        NodaTime.Text.InstantPattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss'Z'").Format(instant);

    private static void CheckPartstat(string partstat)
    {
        if (partstat is not (Accepted or Declined or Tentative))
        {
            throw new ArgumentException($"A space answers ACCEPTED, DECLINED or TENTATIVE, not '{partstat}'.", nameof(partstat));
        }
    }
}

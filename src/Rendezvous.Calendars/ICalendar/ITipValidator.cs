namespace Rendezvous.Calendars.ICalendar;

/// <summary>
/// Checks the VEVENT restrictions of RFC 5546 section 3.2 for the document's METHOD, so that a message we are
/// about to send is not rejected by the recipient's calendar. Only properties of the typed view are checked.
/// </summary>
public static class ITipValidator
{
    /// <summary>
    /// The problems found, as readable sentences; empty when the document is a valid message for its METHOD,
    /// or has no METHOD (a CalDAV resource, which must not carry one: RFC 4791 section 4.1).
    /// </summary>
    public static IReadOnlyList<string> Validate(CalendarDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var problems = new List<string>();
        if (document.Method is not { } method)
        {
            return problems;
        }

        var name = method.Value;
        if (document.Events.Count == 0)
        {
            problems.Add($"{name}: the message has no VEVENT.");
            return problems;
        }

        if (document.Events.Select(e => e.Uid).Distinct(StringComparer.Ordinal).Count() > 1)
        {
            problems.Add($"{name}: all events of one message must share a UID.");
        }

        foreach (var item in document.Events)
        {
            var label = item.Uid is null ? "an event" : $"event {item.Uid}";
            void Require(bool present, string property)
            {
                if (!present)
                {
                    problems.Add($"{name}: {label} has no {property}.");
                }
            }

            Require(item.Uid is not null, "UID");
            Require(item.DtStamp is not null, "DTSTAMP");
            Require(item.Organizer is not null, "ORGANIZER");
            switch (name)
            {
                case "PUBLISH":
                    Require(item.Start is not null, "DTSTART");
                    Require(item.Summary is not null, "SUMMARY");
                    break;
                case "REQUEST":
                case "ADD":
                    Require(item.Start is not null, "DTSTART");
                    Require(item.Summary is not null, "SUMMARY");
                    Require(item.Attendees.Count > 0, "ATTENDEE");
                    break;
                case "REPLY":
                    if (item.Attendees.Count != 1)
                    {
                        problems.Add($"{name}: {label} must name exactly one ATTENDEE (the one replying).");
                    }

                    break;
                case "CANCEL":
                    Require(item.Attendees.Count > 0, "ATTENDEE");
                    if (item.RecurrenceId is null && item.Status != EventStatus.Cancelled)
                    {
                        problems.Add($"{name}: {label} cancels the whole event, so its STATUS must be CANCELLED.");
                    }

                    break;
                default:
                    break;
            }
        }

        return problems;
    }
}

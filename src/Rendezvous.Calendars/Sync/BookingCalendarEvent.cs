using NodaTime;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Domain;

namespace Rendezvous.Calendars.Sync;

/// <summary>What a booking's calendar event shows.</summary>
public sealed record BookingEventContent(
    BookingId BookingId,
    string Title,
    string? Description,
    string? Location,
    Instant Start,
    Instant End,
    bool Tentative,
    string OrganizerName,
    string OrganizerEmail,
    string CustomerName,
    string CustomerEmail,
    int Sequence,
    Instant Stamp);

/// <summary>
/// Builds the iCalendar object of a booking and recognises it again. The UID is derived from the booking id, so every
/// write of one booking lands on the same object and a retry never makes a second one.
/// </summary>
public static class BookingCalendarEvent
{
    public const string UidSuffix = "@rendezvous";
    public const string BookingIdProperty = "X-RENDEZVOUS-BOOKING-ID";

    public static string UidOf(BookingId id) => id.Value.ToString("N") + UidSuffix;

    /// <summary>The object's name inside a calendar collection.</summary>
    public static string ResourceNameOf(BookingId id) => "rendezvous-" + id.Value.ToString("N") + ".ics";

    /// <summary>The booking an event belongs to, when it is one of ours (by UID, or by our marker property).</summary>
    public static BookingId? TryGetBookingId(CalendarEvent calendarEvent)
    {
        var uid = calendarEvent.Uid;
        if (uid is not null && uid.EndsWith(UidSuffix, StringComparison.Ordinal)
            && Guid.TryParseExact(uid[..^UidSuffix.Length], "N", out var fromUid))
        {
            return new BookingId(fromUid);
        }

        return Guid.TryParse(calendarEvent.GetExtension(BookingIdProperty), out var fromMarker) ? new BookingId(fromMarker) : null;
    }

    /// <summary>The calendar object for CalDAV storage (no METHOD) or for an email invitation (REQUEST / CANCEL).</summary>
    public static CalendarDocument Build(BookingEventContent c, ITipMethod? method = null)
    {
        var calendarEvent = new CalendarEvent
        {
            Uid = UidOf(c.BookingId),
            Sequence = c.Sequence,
            DtStamp = c.Stamp,
            Start = CalendarDateTime.FromInstant(c.Start),
            End = CalendarDateTime.FromInstant(c.End),
            Summary = c.Title,
            Description = c.Description,
            Location = c.Location,
            Status = method == ITipMethod.Cancel ? EventStatus.Cancelled : c.Tentative ? EventStatus.Tentative : EventStatus.Confirmed,
            Transparency = EventTransparency.Opaque,
            Organizer = new CalendarOrganizer(CalendarAddress.FromEmail(c.OrganizerEmail)) { CommonName = c.OrganizerName },
            Attendees =
            [
                new CalendarAttendee(CalendarAddress.FromEmail(c.CustomerEmail))
                {
                    CommonName = c.CustomerName,
                    Status = ParticipationStatus.Accepted,
                    Role = ParticipationRole.Required,
                },
            ],
            Extensions = [new CalendarExtensionProperty(BookingIdProperty, c.BookingId.ToString())],
        };
        return new CalendarDocument { Method = method, Events = [calendarEvent] };
    }

    public static string Write(BookingEventContent content, ITipMethod? method = null) => ICalendarWriter.Write(Build(content, method));
}

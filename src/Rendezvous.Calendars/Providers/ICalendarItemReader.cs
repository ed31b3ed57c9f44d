using Rendezvous.Calendars.ICalendar;
using Rendezvous.Calendars.Sync;

namespace Rendezvous.Calendars.Providers;

/// <summary>
/// Turns an iCalendar object into a <see cref="ProviderItem"/>: recognises our booking events and computes busy time
/// for everything else. Any provider that can hand us iCalendar text uses it, so busy time is computed the same way.
/// </summary>
public static class ICalendarItemReader
{
    public static ProviderItem Read(string itemId, string? version, string icalendar, ChangeQuery query)
    {
        if (!ICalendarReader.TryParse(icalendar, out var document) || document.Events.Count == 0)
        {
            return new ProviderItem(itemId, version, null, null, null, [], Unreadable: true);
        }

        var master = document.Events.FirstOrDefault(e => e.RecurrenceId is null) ?? document.Events[0];
        if (BookingCalendarEvent.TryGetBookingId(master) is { } bookingId)
        {
            // Our own events are already held as bookings; they are never counted as busy time twice.
            return new ProviderItem(itemId, version, master.Uid, bookingId, ObservedEvent.From(master, query.Zone), []);
        }

        var busy = BusyTime.Compute(document, query.BusyFrom, query.BusyTo, query.Zone);
        return new ProviderItem(itemId, version, master.Uid, null, null, busy.Intervals);
    }
}

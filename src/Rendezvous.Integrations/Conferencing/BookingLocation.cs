using Rendezvous.Data.Conferencing;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Conferencing;

namespace Rendezvous.Integrations.Conferencing;

/// <summary>Where a booking takes place, as emails and calendar events show it to the customer or to the hosts.</summary>
public static class BookingLocation
{
    /// <summary>What hosts see once a reassignment withheld the location.</summary>
    public const string WithheldForHosts = "Not updated when this booking was reassigned: please tell the customer where you will meet.";

    /// <summary>
    /// The booking's location for one audience: nothing for the customer once a reassignment withheld it (seed 001: later
    /// customer notifications leave location details out) and a reminder to the hosts then; otherwise the meeting's join
    /// link when the booking has one, the service's name while it is being made, or the page's location text.
    /// </summary>
    public static string? For(BookingPage page, Booking booking, BookingConferencing? meeting, bool forCustomer)
    {
        if (booking.LocationWithheld)
        {
            return forCustomer ? null : WithheldForHosts;
        }

        if (meeting is { Deleted: false, JoinUrl: { Length: > 0 } url })
        {
            return $"{ConferencingProviders.DisplayName(meeting.Provider)} meeting: {url}";
        }

        return page.Conferencing is { } provider ? $"{ConferencingProviders.DisplayName(provider)} meeting" : page.Location;
    }
}

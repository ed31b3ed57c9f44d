using Rendezvous.Data.Conferencing;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Conferencing;

namespace Rendezvous.Integrations.Conferencing;

/// <summary>
/// Where a booking takes place, as each viewer may see it. This is the one rule every surface uses: emails, calendar events
/// and invitations, the .ics download, the /manage pages, the confirmation page, the self-service API, the portal and the
/// Salesforce Event's Location. Nothing shows a booking's location by reading its page's location directly.
/// </summary>
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

    /// <summary>The location the customer may see (see <see cref="For"/>), reading the booking's meeting from the database.</summary>
    public static async Task<string?> ForCustomerAsync(Data.RendezvousDbContext db, BookingPage page, Booking booking, CancellationToken ct)
    {
        if (booking.LocationWithheld)
        {
            // Nothing to look up: the customer sees no location at all.
            return null;
        }

        var meeting = page.Conferencing is null
            ? null
            : await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstOrDefaultAsync(
                Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AsNoTracking(db.BookingConferencing), m => m.BookingId == booking.Id, ct);
        return For(page, booking, meeting, forCustomer: true);
    }
}

using Rendezvous.Domain.Bookings;

namespace Rendezvous.Integrations.Notifications;

/// <summary>
/// The customer's links in emails. The seam between notifications and self-service: the self-service work replaces the
/// registration with signed links; nothing else in notifications needs to change.
/// </summary>
public interface ISelfServiceLinks
{
    /// <summary>Where the customer reschedules or cancels <paramref name="booking"/>; an absolute URL.</summary>
    string ManageUrl(Booking booking);

    /// <summary>
    /// Where host <paramref name="host"/> reschedules or cancels <paramref name="booking"/> from their own email, signed in
    /// or not (seed 003); an absolute URL, or null when there is none.
    /// </summary>
    string? StaffManageUrl(Booking booking, Rendezvous.Domain.UserId host) => null;
}

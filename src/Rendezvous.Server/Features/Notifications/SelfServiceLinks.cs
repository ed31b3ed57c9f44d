using Rendezvous.Domain.Bookings;

namespace Rendezvous.Server.Features.Notifications;

/// <summary>
/// The customer's links in emails. The seam between notifications and self-service: the self-service work replaces the
/// registration with signed links; nothing else in notifications needs to change.
/// </summary>
public interface ISelfServiceLinks
{
    /// <summary>Where the customer reschedules or cancels <paramref name="booking"/>; an absolute URL.</summary>
    string ManageUrl(Booking booking);
}

/// <summary>
/// Placeholder until signed links exist: <c>{PublicBaseUrl}/manage/{bookingId}</c>, unsigned. Registered only when no
/// other <see cref="ISelfServiceLinks"/> is.
/// </summary>
public sealed class UnsignedSelfServiceLinks(IConfiguration configuration) : ISelfServiceLinks
{
    public string ManageUrl(Booking booking) => $"{PublicBaseUrl(configuration)}/manage/{booking.Id}";

    /// <summary><c>Rendezvous__PublicBaseUrl</c> without a trailing slash (default http://localhost:8080).</summary>
    public static string PublicBaseUrl(IConfiguration configuration) =>
        (configuration["Rendezvous:PublicBaseUrl"] is { Length: > 0 } url ? url : "http://localhost:8080").TrimEnd('/');
}

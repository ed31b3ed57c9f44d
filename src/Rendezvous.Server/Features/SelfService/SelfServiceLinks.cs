using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Server.Features.SelfService;

/// <summary>What a self-service link allows. Each link carries exactly one.</summary>
public enum LinkPurpose
{
    /// <summary>See the booking (the link in the confirmation email).</summary>
    View,
    Cancel,
    Reschedule,
}

/// <summary>
/// Signed links that let a customer act on one booking without signing in. A token is the booking id and one purpose,
/// encrypted and authenticated with ASP.NET Data Protection: unguessable, and any change makes it unreadable. It works
/// only while the booking is upcoming: once it is over, canceled or a no-show, every link to it is dead.
/// </summary>
public sealed class SelfServiceLinks(IDataProtectionProvider protection, IOptions<PublicUrlOptions> urls) : Rendezvous.Integrations.Notifications.ISelfServiceLinks
{
    private readonly IDataProtector _protector = protection.CreateProtector("Rendezvous.SelfService.Link.v1");

    public string CreateToken(BookingId bookingId, LinkPurpose purpose) =>
        _protector.Protect($"{bookingId.Value:N}|{purpose}");

    /// <summary>The booking and purpose of a token, or null for anything tampered with, truncated or made up.</summary>
    public (BookingId Booking, LinkPurpose Purpose)? Read(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 1024)
        {
            return null;
        }

        try
        {
            var parts = _protector.Unprotect(token).Split('|');
            return parts.Length == 2 && Guid.TryParseExact(parts[0], "N", out var id) && Enum.TryParse<LinkPurpose>(parts[1], out var purpose)
                ? (new BookingId(id), purpose)
                : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The page a customer opens from the confirmation email.</summary>
    public string ManageUrl(BookingId bookingId) => Url($"/manage/{CreateToken(bookingId, LinkPurpose.View)}");

    public string ManageUrl(Booking booking) => ManageUrl(booking.Id);

    public string Url(string path) => urls.Value.PublicBaseUrl.TrimEnd('/') + path;

    /// <summary>True while links to the booking may be used.</summary>
    public static bool IsLive(Booking booking, NodaTime.Instant now) =>
        booking.Status is BookingStatus.Requested or BookingStatus.Scheduled or BookingStatus.Rescheduled && now < booking.End;
}

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

    /// <summary>
    /// A host's link from their own email (seed 003: staff reschedule or cancel "via the Appointment Email Confirmation"):
    /// the booking, the purpose and the host, under the same protection as the customer's links. It acts as that user,
    /// so it only ever works while the user may act on the booking.
    /// </summary>
    public string CreateStaffToken(BookingId bookingId, UserId userId, LinkPurpose purpose) =>
        _protector.Protect($"{bookingId.Value:N}|{purpose}|{userId.Value:N}");

    /// <summary>The booking and purpose of a customer's token, or null for a host's token and anything tampered with, truncated or made up.</summary>
    public (BookingId Booking, LinkPurpose Purpose)? Read(string? token) =>
        ReadAny(token) is { User: null } read ? (read.Booking, read.Purpose) : null;

    /// <summary>The booking, purpose and host of a host's token, or null for a customer's token and anything tampered with.</summary>
    public (BookingId Booking, LinkPurpose Purpose, UserId User)? ReadStaff(string? token) =>
        ReadAny(token) is { User: { } user } read ? (read.Booking, read.Purpose, user) : null;

    private (BookingId Booking, LinkPurpose Purpose, UserId? User)? ReadAny(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 1024)
        {
            return null;
        }

        try
        {
            var parts = _protector.Unprotect(token).Split('|');
            if (parts.Length is < 2 or > 3 || !Guid.TryParseExact(parts[0], "N", out var id) || !Enum.TryParse<LinkPurpose>(parts[1], out var purpose)
                || !Enum.IsDefined(purpose))
            {
                return null;
            }

            if (parts.Length == 2)
            {
                return (new BookingId(id), purpose, null);
            }

            return Guid.TryParseExact(parts[2], "N", out var user) ? (new BookingId(id), purpose, new UserId(user)) : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The page a host opens from their own email about the booking.</summary>
    public string? StaffManageUrl(Booking booking, UserId host) => Url($"/manage/{CreateStaffToken(booking.Id, host, LinkPurpose.View)}");

    /// <summary>The page a customer opens from the confirmation email.</summary>
    public string ManageUrl(BookingId bookingId) => Url($"/manage/{CreateToken(bookingId, LinkPurpose.View)}");

    public string ManageUrl(Booking booking) => ManageUrl(booking.Id);

    public string Url(string path) => urls.Value.PublicBaseUrl.TrimEnd('/') + path;

    /// <summary>True while links to the booking may be used.</summary>
    public static bool IsLive(Booking booking, NodaTime.Instant now) =>
        booking.Status is BookingStatus.Requested or BookingStatus.Scheduled or BookingStatus.Rescheduled && now < booking.End;
}

using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Availability;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.SelfService;

public sealed record SelfServiceBooking(
    string Id, string Status, string DetailedStatus, string Title, string? Location, string Start, string End, string TimeZone,
    string HostName, string HostEmail, string CustomerName);

/// <summary>
/// What the customer may do. When an action is not allowed, the message says why and whom to contact. The tokens are
/// links for the allowed actions (each scoped to that one purpose).
/// </summary>
public sealed record SelfServiceView(
    SelfServiceBooking Booking, bool CanCancel, bool CanReschedule, string? CancelMessage, string? RescheduleMessage,
    string? CancelToken, string? RescheduleToken)
{
    /// <summary>True for a host's link from their own email: the actions are the staff's, not bound by the customer's policies.</summary>
    public bool Staff { get; init; }
}

public sealed record SelfServiceCancelRequest(string? Reason);

public sealed record SelfServiceRescheduleRequest(string? Start, string? Reason = null)
{
    /// <summary>Another appointment type (from <c>/types</c>) to move into while rescheduling (seed 003); unset keeps the booking's own.</summary>
    public string? BookingPageId { get; init; }
}

/// <summary>
/// The booking and page a valid link leads to, with the tenant set. <paramref name="Staff"/> is the user a host's link
/// (from their own email) acts as; null for the customer's links. <see cref="Location"/> is what may be shown of where
/// it takes place (<see cref="Rendezvous.Integrations.Conferencing.BookingLocation"/>): never the page's location once a
/// reassignment withheld it.
/// </summary>
public sealed record LinkTarget(Booking Booking, BookingPage Page, Customer Customer, User Host, LinkPurpose Purpose, User? Staff = null)
{
    public string? Location { get; init; }
}

/// <summary>Reads links and says what the customer (or, from a host's email, the host) may do; shared by the JSON API and the pages.</summary>
public sealed class SelfServiceService(RendezvousDbContext db, SelfServiceLinks links, BookingService bookings, IClock clock)
{
    public const int MaxReason = 2000;

    public static DomainError Invalid { get; } = new(ErrorKind.NotFound, "link_invalid", "This link is no longer valid.");

    public async Task<Result<LinkTarget>> OpenAsync(string token, LinkPurpose required, CancellationToken ct)
    {
        // A customer's link, or a host's link from their own email; both are dead in the same cases.
        var customerLink = links.Read(token);
        var staffLink = customerLink is null ? links.ReadStaff(token) : null;
        var (bookingId, purpose) = customerLink ?? (staffLink is { } s ? (s.Booking, s.Purpose) : (default, LinkPurpose.View));
        // Any link shows the booking; acting needs a link made for that one action.
        if ((customerLink is null && staffLink is null) || (required != LinkPurpose.View && purpose != required))
        {
            return Invalid;
        }

        var booking = await db.Bookings.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(b => b.Id == bookingId, ct);
        if (booking is null || !SelfServiceLinks.IsLive(booking, clock.GetCurrentInstant()))
        {
            return Invalid;
        }

        db.TenantId = booking.OrganizationId;
        User? staff = null;
        if (staffLink is { } link)
        {
            // The link acts as the user: it works only while they still may act on the booking (a host, or an
            // administrator of its organization); a user who left or was taken off the booking holds a dead link.
            staff = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == link.User, ct);
            if (staff is null || (!staff.IsAdministrator && booking.Hosts.All(h => h.UserId != staff.Id)))
            {
                return Invalid;
            }
        }

        var page = await db.BookingPages.AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        var customer = await db.Customers.AsNoTracking().FirstAsync(c => c.Id == booking.CustomerId, ct);
        var host = await db.Users.AsNoTracking().FirstAsync(u => u.Id == booking.OwnerId, ct);
        return new LinkTarget(booking, page, customer, host, purpose, staff)
        {
            Location = await Rendezvous.Integrations.Conferencing.BookingLocation.ForCustomerAsync(db, page, booking, ct),
        };
    }

    /// <summary>Cancels as the link's holder: the customer within the policy, or the host as staff.</summary>
    public async Task<Result<Booking>> CancelAsync(LinkTarget t, string? reason, CancellationToken ct)
    {
        var clean = Clean(reason);
        if (t.Staff is { } user)
        {
            var result = await bookings.ActAsync(t.Booking.Id.ToString(), BookingAction.Cancel, clean, AsCurrentUser(user), ct);
            return result;
        }

        return await bookings.CancelAsCustomerAsync(t.Booking.Id, clean, ct);
    }

    /// <summary>Moves the booking as the link's holder, with an optional reason that reaches the emails, webhooks and CRM.</summary>
    public async Task<Result<Booking>> RescheduleAsync(LinkTarget t, string? start, string? reason, CancellationToken ct, string? bookingPageId = null)
    {
        var clean = Clean(reason);
        return t.Staff is { } user
            ? await bookings.RescheduleAsync(t.Booking.Id.ToString(), start, clean, AsCurrentUser(user), ct, bookingPageId: bookingPageId)
            : await bookings.RescheduleAsCustomerAsync(t.Booking.Id, start, clean, ct, bookingPageId);
    }

    /// <summary>The appointment types the link's booking can be rescheduled into, its own first.</summary>
    public Task<IReadOnlyList<BookingPage>> TypesAsync(LinkTarget t, CancellationToken ct) => bookings.RescheduleTypesAsync(t.Booking, ct);

    /// <summary>
    /// The page whose slots a reschedule into <paramref name="bookingPageId"/> offers (the booking's own page when unset),
    /// and for a round-robin page the booking's member; a validation error when it is not one of <see cref="TypesAsync"/>.
    /// </summary>
    public async Task<Result<(BookingPage Page, UserId? Member)>> SlotSourceAsync(LinkTarget t, string? bookingPageId, CancellationToken ct)
    {
        var page = t.Page;
        if (bookingPageId is not null)
        {
            var types = await TypesAsync(t, ct);
            var found = types.FirstOrDefault(p => p.Id.ToString() == bookingPageId);
            if (found is null)
            {
                return DomainError.Validation("bookingPageId", "must be one of the booking's appointment types");
            }

            page = found;
        }

        return (page, BookingService.MemberOf(page, t.Booking));
    }

    /// <summary>An optional reason, trimmed; blank is none.</summary>
    public static string? Clean(string? reason)
    {
        var clean = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        return clean is { Length: > MaxReason } ? clean[..MaxReason] : clean;
    }

    private static CurrentUser AsCurrentUser(User user) => new(user.Id, user.OrganizationId, user.IsAdministrator);

    public SelfServiceView Describe(LinkTarget t)
    {
        var now = clock.GetCurrentInstant();
        var zone = TimeZones.Find(t.Customer.TimeZoneId) ?? t.Page.Settings.TimeZone;
        var b = t.Booking;
        if (t.Staff is { } staff)
        {
            // A host acts as staff: the customer's policies do not bind them (README, "Who may act").
            var staffCancel = BookingLifecycle.Next(b.Status, BookingAction.Cancel) is not null;
            var staffMove = BookingLifecycle.Next(b.Status, BookingAction.Reschedule) is not null;
            return new SelfServiceView(
                new SelfServiceBooking(b.Id.ToString(), BookingLifecycle.ApiName(b.Status), b.DetailedStatus, t.Page.Title, t.Location,
                    ApiFormat.Format(b.Start, zone), ApiFormat.Format(b.End, zone), zone.Id, t.Host.Name, t.Host.Email, t.Customer.Name),
                staffCancel, staffMove, null, null,
                staffCancel ? links.CreateStaffToken(b.Id, staff.Id, LinkPurpose.Cancel) : null,
                staffMove ? links.CreateStaffToken(b.Id, staff.Id, LinkPurpose.Reschedule) : null) { Staff = true };
        }

        var contact = $"please contact {t.Host.Name} at {t.Host.Email}";
        var started = now >= b.Start;
        var canCancel = !started && b.CancellationPolicy.Allows(now, b.Start);
        var canReschedule = !started && b.ReschedulePolicy.Allows(now, b.Start);
        return new SelfServiceView(
            new SelfServiceBooking(b.Id.ToString(), BookingLifecycle.ApiName(b.Status), b.DetailedStatus, t.Page.Title, t.Location,
                ApiFormat.Format(b.Start, zone), ApiFormat.Format(b.End, zone), zone.Id, t.Host.Name, t.Host.Email, t.Customer.Name),
            canCancel, canReschedule,
            canCancel ? null : started ? $"The meeting has already started; {contact}." : $"Cancellations are accepted up to {Notice(b.CancellationPolicy)} before the start; {contact}.",
            canReschedule ? null : started ? $"The meeting has already started; {contact}." : $"Rescheduling is possible up to {Notice(b.ReschedulePolicy)} before the start; {contact}.",
            canCancel ? links.CreateToken(b.Id, LinkPurpose.Cancel) : null,
            canReschedule ? links.CreateToken(b.Id, LinkPurpose.Reschedule) : null);
    }

    private static string Notice(ChangePolicy policy) => policy.MinimumNotice is { } d
        ? d.TotalHours >= 1 && d.TotalHours % 1 == 0 ? $"{d.TotalHours:0} hour{(d.TotalHours == 1 ? "" : "s")}" : $"{d.TotalMinutes:0} minutes"
        : "the start";
}

/// <summary>The self-service API behind signed links: view, cancel, and reschedule from live availability, without signing in.</summary>
public static class SelfServiceEndpoints
{
    public static void MapSelfService(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/self-service/{token}").WithTags("Self-service").AllowAnonymous();
        group.MapGet("/", GetAsync);
        group.MapGet("/slots", SlotsAsync);
        group.MapPost("/cancel", CancelAsync);
        group.MapPost("/reschedule", RescheduleAsync);
        group.MapGet("/types", TypesAsync);
    }

    private static async Task<Results<Ok<AppointmentTypeResponse[]>, ProblemHttpResult>> TypesAsync(string token, SelfServiceService service, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.Reschedule, ct);
        if (!target.IsSuccess)
        {
            return Problems.From(target.Error!);
        }

        var types = await service.TypesAsync(target.Value, ct);
        return TypedResults.Ok(types.Select(p => AppointmentTypeResponse.From(p, target.Value.Booking)).ToArray());
    }

    private static async Task<Results<Ok<SelfServiceView>, ProblemHttpResult>> GetAsync(string token, SelfServiceService service, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.View, ct);
        return target.IsSuccess ? TypedResults.Ok(service.Describe(target.Value)) : Problems.From(target.Error!);
    }

    private static async Task<Results<Ok<SlotsResponse>, ProblemHttpResult>> SlotsAsync(
        string token, string? from, string? to, string? timeZone, string? bookingPageId, SelfServiceService service, AvailabilityService availability,
        IClock clock, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.Reschedule, ct);
        if (!target.IsSuccess)
        {
            return Problems.From(target.Error!);
        }

        var t = target.Value;
        var range = SlotsEndpoint.ParseRange(from, to, timeZone, TimeZones.Find(t.Customer.TimeZoneId) ?? t.Page.Settings.TimeZone);
        if (!range.IsSuccess)
        {
            return Problems.From(range.Error!);
        }

        var (fromDate, toDate, zone) = range.Value;
        var source = await service.SlotSourceAsync(t, bookingPageId, ct);
        if (!source.IsSuccess)
        {
            return Problems.From(source.Error!);
        }

        var slots = await availability.GetSlotsAsync(source.Value.Page, fromDate, toDate, zone, clock.GetCurrentInstant(), t.Booking.Id, ct,
            source.Value.Member);
        return TypedResults.Ok(new SlotsResponse(zone.Id,
            [.. slots.Select(s => new SlotResponse(ApiFormat.Format(s.Start, zone), ApiFormat.Format(s.End, zone), s.SeatsLeft))]));
    }

    private static async Task<Results<Ok<SelfServiceView>, ProblemHttpResult>> CancelAsync(
        string token, SelfServiceCancelRequest? body, SelfServiceService service, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.Cancel, ct);
        if (!target.IsSuccess)
        {
            return Problems.From(target.Error!);
        }

        if (body?.Reason is { Length: > SelfServiceService.MaxReason })
        {
            return Problems.Validation("reason", "must be at most 2000 characters");
        }

        var result = await service.CancelAsync(target.Value, body?.Reason, ct);
        return result.IsSuccess ? TypedResults.Ok(service.Describe(target.Value with { Booking = result.Value })) : Problems.From(WithContact(result.Error!, target.Value));
    }

    private static async Task<Results<Ok<SelfServiceView>, ProblemHttpResult>> RescheduleAsync(
        string token, SelfServiceRescheduleRequest body, SelfServiceService service, CancellationToken ct)
    {
        var target = await service.OpenAsync(token, LinkPurpose.Reschedule, ct);
        if (!target.IsSuccess)
        {
            return Problems.From(target.Error!);
        }

        if (body.Reason is { Length: > SelfServiceService.MaxReason })
        {
            return Problems.Validation("reason", "must be at most 2000 characters");
        }

        var result = await service.RescheduleAsync(target.Value, body.Start, body.Reason, ct, body.BookingPageId);
        return result.IsSuccess ? TypedResults.Ok(service.Describe(target.Value with { Booking = result.Value })) : Problems.From(WithContact(result.Error!, target.Value));
    }

    /// <summary>A customer outside the policy window is told whom to contact.</summary>
    public static DomainError WithContact(DomainError error, LinkTarget target) =>
        error.Kind == ErrorKind.PolicyViolation
            ? error with { Message = error.Message.Replace("please contact the host", $"please contact {target.Host.Name} at {target.Host.Email}", StringComparison.Ordinal) }
            : error;
}

using Rendezvous.Server.Features.Bookings;

namespace Rendezvous.Server.Features.Reassignment;

/// <summary>The body of <c>POST /bookings/{id}/reassign</c>: the page to move the booking to, and an optional reason.</summary>
public sealed record ReassignRequest(string? BookingPageId, string? Reason);

/// <summary>One rule that failed.</summary>
public sealed record RefusalResponse(string Code, string Message);

/// <summary>
/// What happens to the location if the booking moves to this page: <c>outcome</c> is <c>transferOwnership</c>,
/// <c>webexNotSupported</c>, <c>locationNotUpdated</c> or <c>noLocation</c>; <c>notice</c> says it in words.
/// </summary>
public sealed record TargetLocationResponse(string? Conferencing, string Outcome, bool LocationWithheld, string? Notice);

/// <summary>
/// A page that can receive the booking. <c>availability</c> is <c>available</c> or <c>busy</c> at the meeting time;
/// <c>busyWith</c> says with what (<c>booking</c>: another booking holds the time, so the reassignment would be refused
/// as a double booking; <c>busyTime</c>: time off or busy time from the owner's calendar, which does not prevent it).
/// </summary>
public sealed record ReassignmentTargetResponse(
    string BookingPageId,
    string Slug,
    string Title,
    string OwnerId,
    string OwnerName,
    string? Calendar,
    string Availability,
    string[] BusyWith,
    TargetLocationResponse Location);

/// <summary>A page of the organization that cannot receive the booking, and why.</summary>
public sealed record ExcludedPageResponse(string BookingPageId, string Title, RefusalResponse[] Reasons);

/// <summary>The answer to <c>GET /bookings/{id}/reassignment-targets</c>.</summary>
public sealed record ReassignmentTargetsResponse(
    string BookingId,
    bool Eligible,
    RefusalResponse[] Refusals,
    string Start,
    string End,
    ReassignmentTargetResponse[] Targets,
    ExcludedPageResponse[] Excluded);

/// <summary>The answer to a reassignment: the booking as it is now, and what happened to its location.</summary>
public sealed record ReassignmentResponse(BookingResponse Booking, TargetLocationResponse Location);

using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Bookings;

/// <summary>
/// The customer of a public booking. <c>language</c> ("en", "de", "fr", "es") is the language of their emails; without it
/// the language they gave last time stays (English for a new customer).
/// </summary>
public sealed record CustomerRequest(string? Name, string? Email, string? Phone, string? TimeZone, string? Language = null);

/// <summary>
/// A public booking. <c>start</c> for one meeting; a session package sends <c>starts</c> with one start per session
/// (or <c>start</c> alone when the package has one session).
/// </summary>
public sealed record CreateBookingRequest(
    string? Start,
    IReadOnlyList<string>? Starts,
    CustomerRequest? Customer,
    Dictionary<string, string?>? Answers,
    string? ReplacesBookingId)
{
    /// <summary>Round-robin pages: the member the booking must go to (a routing form's choice); unset lets the page choose.</summary>
    public string? MemberId { get; init; }
}

/// <summary>The body of cancel, approve, decline and no-show.</summary>
public sealed record BookingActionRequest(string? Reason, string? Start);

/// <summary>
/// The body of a staff reschedule: the new <c>start</c> and a <c>reason</c>, optionally <c>publicNotes</c> for the customer
/// (kept on the booking; an empty string removes them) and <c>email</c> to word, or hold back, the customer's email
/// about this change.
/// </summary>
public sealed record RescheduleRequest(string? Start, string? Reason, string? PublicNotes, RescheduleEmailRequest? Email)
{
    /// <summary>Another appointment type (booking page) to move the booking into while rescheduling (seed 003); unset keeps its own.</summary>
    public string? BookingPageId { get; init; }

    /// <summary>The booking's own reminders from now on, replacing the page's (seed 003); with <see cref="FollowUp"/>.</summary>
    public IReadOnlyList<Domain.BookingPages.ReminderSpec>? Reminders { get; init; }

    public Domain.BookingPages.ReminderSpec? FollowUp { get; init; }
}

/// <summary>
/// The customer's email about one reschedule: <c>send</c> false sends none; <c>subject</c> and <c>message</c> replace the
/// template's (placeholders allowed). The new time, place and manage link are always added below the message.
/// </summary>
/// <summary>An appointment type a booking can move into while rescheduling: its page, title, duration and whether it is the current one.</summary>
public sealed record AppointmentTypeResponse(string BookingPageId, string Slug, string Title, int DurationMinutes, bool Current)
{
    public static AppointmentTypeResponse From(Domain.BookingPages.BookingPage page, Domain.Bookings.Booking booking) =>
        new(page.Id.ToString(), page.Slug, page.Title, (int)page.Settings.Duration.TotalMinutes, page.Id == booking.BookingPageId);
}

public sealed record RescheduleEmailRequest(bool? Send, string? Subject, string? Message);

public sealed record CustomerResponse(string Id, string Name, string Email, string? Phone, string TimeZone);

public sealed record HostResponse(string UserId, bool IsPrimary);

public sealed record ActivityResponse(string At, string? Action, string? FromStatus, string Status, string DetailedStatus,
    string Actor, string? ActorId, string? Reason, string Start, string End, string? PreviousOwnerId = null, string? PreviousBookingPageId = null);

public sealed record BookingResponse
{
    public required string Id { get; init; }

    public required string Status { get; init; }

    public required string DetailedStatus { get; init; }

    public required string Start { get; init; }

    public required string End { get; init; }

    public required string BookingPageId { get; init; }

    public required string OwnerId { get; init; }

    public required HostResponse[] Hosts { get; init; }

    public CustomerResponse? Customer { get; init; }

    public string? Reason { get; init; }

    /// <summary>Notes from the team that the customer sees.</summary>
    public string? PublicNotes { get; init; }

    /// <summary>True once a reassignment left the location as it was: customer notifications no longer show it.</summary>
    public bool LocationWithheld { get; init; }

    public string? PackageId { get; init; }

    public int SessionNumber { get; init; }

    public int SessionCount { get; init; }

    public string? ReplacesBookingId { get; init; }

    public string? ReplacedByBookingId { get; init; }

    public required IReadOnlyDictionary<string, string> Answers { get; init; }

    public required string CreatedAt { get; init; }

    public required string UpdatedAt { get; init; }

    /// <summary>The payment the booking needs (pages with a price), with any refunds; null when it needs none.</summary>
    public Payments.PaymentResponse? Payment { get; init; }

    /// <summary>The booking's history, newest last (on single-booking responses); refunds appear in it with action "refund".</summary>
    public ActivityResponse[]? History { get; init; }

    /// <summary>Every session of the package (on the response to booking a package).</summary>
    public BookingResponse[]? Sessions { get; init; }

    public static BookingResponse From(Booking b, Customer? customer, bool withHistory) => new()
    {
        Id = b.Id.ToString(),
        Status = BookingLifecycle.ApiName(b.Status),
        DetailedStatus = b.DetailedStatus,
        Start = ApiFormat.Format(b.Start),
        End = ApiFormat.Format(b.End),
        BookingPageId = b.BookingPageId.ToString(),
        OwnerId = b.OwnerId.ToString(),
        Hosts = [.. b.Hosts.Select(h => new HostResponse(h.UserId.ToString(), h.IsPrimary))],
        Customer = customer is null ? null : new CustomerResponse(customer.Id.ToString(), customer.Name, customer.Email, customer.Phone, customer.TimeZoneId),
        Reason = b.LastReason,
        PublicNotes = b.PublicNotes,
        LocationWithheld = b.LocationWithheld,
        PackageId = b.PackageId?.ToString(),
        SessionNumber = b.SessionNumber,
        SessionCount = b.SessionCount,
        ReplacesBookingId = b.ReplacesBookingId?.ToString(),
        ReplacedByBookingId = b.ReplacedByBookingId?.ToString(),
        Answers = b.Answers,
        CreatedAt = ApiFormat.Format(b.CreatedAt),
        UpdatedAt = ApiFormat.Format(b.UpdatedAt),
        Payment = b.Payment is null ? null : Payments.PaymentResponse.From(b.Payment),
        History = withHistory ? HistoryOf(b) : null,
    };

    /// <summary>The lifecycle entries and, between them at the time they were asked for, the refunds issued by hand.</summary>
    private static ActivityResponse[] HistoryOf(Booking b)
    {
        var entries = b.History.OrderBy(a => a.At).ThenBy(a => a.Id).ToList();
        var items = entries.Select(a => (a.At, Order: 0, Entry: new ActivityResponse(
            ApiFormat.Format(a.At), a.Action is { } act ? ActionName(act) : null, a.FromStatus is { } f ? BookingLifecycle.ApiName(f) : null,
            BookingLifecycle.ApiName(a.ToStatus), a.DetailedStatus, ActorName(a.ActorKind), a.ActorId, a.Reason,
            ApiFormat.Format(a.Start), ApiFormat.Format(a.End), a.PreviousOwnerId?.ToString(), a.PreviousBookingPageId?.ToString()))).ToList();
        foreach (var refund in b.Payment?.Refunds ?? [])
        {
            var before = entries.LastOrDefault(a => a.At <= refund.RequestedAt) ?? entries[0];
            var status = BookingLifecycle.ApiName(before.ToStatus);
            var state = refund.Status switch
            {
                RefundStatus.Completed => "Refunded",
                RefundStatus.Failed => "Refund failed:",
                _ => "Refund pending:",
            };
            items.Add((refund.RequestedAt, 1, new ActivityResponse(
                ApiFormat.Format(refund.RequestedAt), "refund", status, status, $"{state} {refund.Money} by {(refund.ActorKind == ActorKind.User ? "User" : "System")}",
                ActorName(refund.ActorKind), refund.ActorId, refund.Reason, ApiFormat.Format(before.Start), ApiFormat.Format(before.End))));
        }

        return [.. items.OrderBy(i => i.At).ThenBy(i => i.Order).Select(i => i.Entry)];
    }

    public static string ActionName(BookingAction action) => action switch
    {
        BookingAction.MarkNoShow => "noShow",
        BookingAction.ConfirmPayment => "confirmPayment",
        BookingAction.ExpirePayment => "expirePayment",
        _ => action.ToString().ToLowerInvariant(),
    };

    public static string ActorName(ActorKind kind) => ApiFormat.ActorName(kind);
}

using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Calendars;
using Rendezvous.Domain.Organizations;
using Rendezvous.Domain.Reassignment;
using Rendezvous.Server.Features.Bookings;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Web;

/// <summary>What the staff pages share: the signed-in user (as the API sees them) and their zone.</summary>
public abstract class StaffPageModel : WebPageModel
{
    private User? _user;

    public CurrentUser Me => CurrentUser.From(User);

    /// <summary>The signed-in user's record (name, email, zone).</summary>
    protected async Task<User> MeAsync(RendezvousDbContext db, CancellationToken ct) =>
        _user ??= await db.Users.AsNoTracking().FirstAsync(u => u.Id == Me.Id, ct);

    /// <summary>The signed-in user's zone: every staff page shows times in it.</summary>
    protected async Task<DateTimeZone> MyZoneAsync(RendezvousDbContext db, CancellationToken ct) =>
        TimeZones.Find((await MeAsync(db, ct)).TimeZoneId) ?? DateTimeZone.Utc;

    /// <summary>A domain error as a flash message on the next page.</summary>
    protected void FlashError(DomainError error) => TempData["FlashError"] = error.Message;
}

/// <summary>One entry of a booking's history, with who acted spelled out.</summary>
public sealed record HistoryLine(Instant At, string Text, string Actor, string? Reason, Instant Start, Instant End);

/// <summary>
/// A booking as the details pane shows it: its page, customer, hosts, answers, history, and the actions the lifecycle
/// allows now. The same model serves the activity stream, the calendar and the booking's own page.
/// </summary>
public sealed class BookingDetails
{
    public required Booking Booking { get; init; }

    public required Customer? Customer { get; init; }

    public required BookingPage Page { get; init; }

    public required IReadOnlyList<User> Hosts { get; init; }

    public required IReadOnlyList<HistoryLine> History { get; init; }

    public required DateTimeZone Zone { get; init; }

    public required Instant Now { get; init; }

    public required bool ViewerIsAdministrator { get; init; }

    /// <summary>Where the action forms come back to (the list the pane was opened from).</summary>
    public string ReturnUrl { get; set; } = "";

    public string Path => $"/app/bookings/{Booking.Id}";

    public string Status => BookingLifecycle.ApiName(Booking.Status);

    public bool CanReschedule => BookingLifecycle.Next(Booking.Status, BookingAction.Reschedule) is not null;

    public bool CanCancel => BookingLifecycle.Next(Booking.Status, BookingAction.Cancel) is not null && Booking.Status != BookingStatus.Requested;

    public bool CanApprove => BookingLifecycle.Next(Booking.Status, BookingAction.Approve) is not null;

    public bool CanDecline => BookingLifecycle.Next(Booking.Status, BookingAction.Decline) is not null;

    /// <summary>A no-show can be recorded once the meeting has started.</summary>
    public bool CanMarkNoShow => BookingLifecycle.Next(Booking.Status, BookingAction.MarkNoShow) is not null && Now >= Booking.Start;

    /// <summary>The provider of the page owner's calendar connection (null: none), as the reassignment rules read it.</summary>
    public CalendarProvider? PageCalendar { get; init; }

    /// <summary>
    /// Whether to show "Reassign booking" (seed 001: the action is not there for No-show, Canceled, Completed or Requested
    /// bookings, group sessions, packages and their sessions, pages connected to Outlook, Office 365, Exchange, iCloud or
    /// CalDAV, nor for members). The same rules as the API (<see cref="ReassignmentRules.CheckBooking"/>), so the action is
    /// shown exactly when the booking can be reassigned.
    /// </summary>
    public bool ReassignmentMayApply => ReassignmentRules.CheckBooking(new ReassignmentSubject(
        Booking.Status, Page.Settings.SchedulingOption, Booking.GroupKey is not null, Booking.PackageId is not null, PageCalendar,
        ViewerIsAdministrator)).Count == 0;

    /// <summary>The answers with the page's question labels where there is one; notes and guests first.</summary>
    public IEnumerable<(string Label, string Answer)> Answers()
    {
        var answers = Booking.Answers;
        if (answers.TryGetValue("notes", out var notes))
        {
            yield return ("Notes", notes);
        }

        if (answers.TryGetValue("guests", out var guests))
        {
            yield return ("Guests", guests);
        }

        foreach (var q in Page.Settings.Questions)
        {
            if (answers.TryGetValue(q.Id, out var a))
            {
                yield return (q.Label, a);
            }
        }

        var known = new HashSet<string>(Page.Settings.Questions.Select(q => q.Id)) { "notes", "guests" };
        foreach (var (key, value) in answers.Where(kv => !known.Contains(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            yield return (key, value);
        }
    }
}

/// <summary>Loads <see cref="BookingDetails"/> with the same permission rule as the API (members: bookings they host).</summary>
public sealed class BookingDetailsLoader(RendezvousDbContext db, BookingService bookings, IClock clock)
{
    public async Task<Result<BookingDetails>> LoadAsync(string id, CurrentUser me, DateTimeZone zone, CancellationToken ct)
    {
        var found = await bookings.FindForStaffAsync(id, me, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        return await DescribeAsync(found.Value, me, zone, ct);
    }

    public async Task<BookingDetails> DescribeAsync(Booking booking, CurrentUser me, DateTimeZone zone, CancellationToken ct)
    {
        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == booking.CustomerId, ct);
        var page = await db.BookingPages.AsNoTracking().FirstAsync(p => p.Id == booking.BookingPageId, ct);
        var userIds = booking.Hosts.Select(h => h.UserId).ToList();
        var actorIds = booking.History.Where(a => a.ActorKind is ActorKind.User or ActorKind.CalendarSync && a.ActorId is not null)
            .Select(a => Ids.TryParse(a.ActorId, out var g) ? new UserId(g) : (UserId?)null).OfType<UserId>();
        userIds.AddRange(actorIds);
        var users = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, ct);
        // The page owner's calendar connection, chosen as the reassignment service chooses it (the booking calendar first).
        var pageCalendar = await db.CalendarConnections.AsNoTracking().Where(c => c.UserId == page.OwnerId)
            .OrderByDescending(c => c.IsBookingConnection).Select(c => (CalendarProvider?)c.Provider).FirstOrDefaultAsync(ct);

        string ActorName(BookingActivity a) => a.ActorKind switch
        {
            ActorKind.Customer => customer?.Name ?? "The customer",
            ActorKind.System => "Rendezvous",
            ActorKind.CalendarSync => (Ids.TryParse(a.ActorId, out var g) && users.TryGetValue(new UserId(g), out var u) ? u.Name : "A user") + " (in their calendar)",
            _ => Ids.TryParse(a.ActorId, out var id) && users.TryGetValue(new UserId(id), out var user) ? user.Name : "A user",
        };

        return new BookingDetails
        {
            Booking = booking,
            Customer = customer,
            Page = page,
            Hosts = [.. booking.Hosts.OrderByDescending(h => h.IsPrimary).Select(h => users.GetValueOrDefault(h.UserId)).OfType<User>()],
            History = [.. booking.History.OrderBy(a => a.At).ThenBy(a => a.Id)
                .Select(a => new HistoryLine(a.At, a.DetailedStatus, ActorName(a), a.Reason, a.Start, a.End))],
            Zone = zone,
            Now = clock.GetCurrentInstant(),
            ViewerIsAdministrator = me.IsAdministrator,
            PageCalendar = pageCalendar,
        };
    }
}

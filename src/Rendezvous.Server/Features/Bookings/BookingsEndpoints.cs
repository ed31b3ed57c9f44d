using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Infrastructure;
using Rendezvous.Server.Infrastructure.OpenApi;

namespace Rendezvous.Server.Features.Bookings;

public static class BookingsEndpoints
{
    public const int MaxListSize = 500;

    public static void MapBookings(this IEndpointRouteBuilder api)
    {
        api.MapPost("/booking-pages/{slug}/bookings", CreateAsync).WithTags("Public booking").AllowAnonymous().WithMetadata(PublicRouteAttribute.Instance)
            .RequireRateLimiting(Rendezvous.Server.Features.Security.RateLimits.Booking);

        var bookings = api.MapGroup("/bookings").WithTags("Bookings");
        bookings.MapGet("/", ListAsync);
        bookings.MapGet("/{id}", GetAsync);
        bookings.MapPost("/{id}/cancel", (string id, BookingActionRequest? body, BookingService s, RendezvousDbContext db, HttpContext h, CancellationToken ct) =>
            ActAsync(id, BookingAction.Cancel, body, s, db, h, ct));
        bookings.MapPost("/{id}/approve", (string id, BookingActionRequest? body, BookingService s, RendezvousDbContext db, HttpContext h, CancellationToken ct) =>
            ActAsync(id, BookingAction.Approve, body, s, db, h, ct));
        bookings.MapPost("/{id}/decline", (string id, BookingActionRequest? body, BookingService s, RendezvousDbContext db, HttpContext h, CancellationToken ct) =>
            ActAsync(id, BookingAction.Decline, body, s, db, h, ct));
        bookings.MapPost("/{id}/no-show", (string id, BookingActionRequest? body, BookingService s, RendezvousDbContext db, HttpContext h, CancellationToken ct) =>
            ActAsync(id, BookingAction.MarkNoShow, body, s, db, h, ct));
        bookings.MapPost("/{id}/reschedule", RescheduleAsync);
        bookings.MapGet("/{id}/reschedule-types", RescheduleTypesAsync);
    }

    /// <summary>The appointment types a booking can be rescheduled into (seed 003), its own first.</summary>
    private static async Task<Results<Ok<AppointmentTypeResponse[]>, ProblemHttpResult>> RescheduleTypesAsync(
        string id, BookingService service, HttpContext http, CancellationToken ct)
    {
        var booking = await service.FindForStaffAsync(id, CurrentUser.From(http.User), ct);
        if (!booking.IsSuccess)
        {
            return Problems.From(booking.Error!);
        }

        var types = await service.RescheduleTypesAsync(booking.Value, ct);
        return TypedResults.Ok(types.Select(p => AppointmentTypeResponse.From(p, booking.Value)).ToArray());
    }

    private static async Task<Results<Created<BookingResponse>, Ok<BookingResponse>, ProblemHttpResult>> CreateAsync(
        string slug, CreateBookingRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        BookingService service, Rendezvous.Integrations.Payments.PaymentService payments, CancellationToken ct)
    {
        var outcome = await service.CreateAsync(slug, request, idempotencyKey, ct);
        if (!outcome.IsSuccess)
        {
            return Problems.From(outcome.Error!);
        }

        // A replay answers as the first request did, with the payment as it now is.
        var response = outcome.Value.Response;
        if (response.Payment is not null && Ids.TryParse(response.Id, out var id)
            && await payments.EnsureOrderAsync(new BookingId(id), ct) is { Payment: { } payment })
        {
            response = response with { Payment = Payments.PaymentResponse.From(payment) };
        }

        return TypedResults.Created($"/api/v1/bookings/{response.Id}", response);
    }

    private static async Task<Results<Ok<BookingResponse>, ProblemHttpResult>> GetAsync(
        string id, BookingService service, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var booking = await service.FindForStaffAsync(id, CurrentUser.From(http.User), ct);
        return booking.IsSuccess ? TypedResults.Ok(await WithCustomerAsync(booking.Value, db, ct)) : Problems.From(booking.Error!);
    }

    /// <summary>The activity stream: bookings by start, filtered by status, time, host and page.</summary>
    private static async Task<Results<Ok<BookingResponse[]>, ProblemHttpResult>> ListAsync(
        string? status, string? from, string? to, string? userId, string? bookingPageId, int? limit, string? cursor,
        RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var errors = new List<FieldError>();
        var query = db.Bookings.AsNoTracking().AsQueryable();

        if (status is not null)
        {
            var wanted = Enum.GetValues<BookingStatus>().Where(s => BookingLifecycle.ApiName(s) == status).ToList();
            if (wanted.Count == 0)
            {
                errors.Add(new("status", "must be requested, scheduled, rescheduled, completed, canceled, noShow or awaitingPayment"));
            }
            else
            {
                var s = wanted[0];
                query = query.Where(b => b.Status == s);
            }
        }

        if (from is not null)
        {
            if (TryParseBound(from, false, out var f))
            {
                query = query.Where(b => b.End > f);
            }
            else
            {
                errors.Add(new("from", "must be a date (yyyy-MM-dd) or a date-time with an offset"));
            }
        }

        if (to is not null)
        {
            if (TryParseBound(to, true, out var t))
            {
                query = query.Where(b => b.Start < t);
            }
            else
            {
                errors.Add(new("to", "must be a date (yyyy-MM-dd, inclusive) or a date-time with an offset"));
            }
        }

        UserId? host = me.IsAdministrator ? null : me.Id;
        if (userId is not null)
        {
            if (!Ids.TryParse(userId, out var uid))
            {
                errors.Add(new("userId", "must be a user id"));
            }
            else if (!me.IsAdministrator && new UserId(uid) != me.Id)
            {
                return Problems.From(new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only list their own bookings."));
            }
            else
            {
                host = new UserId(uid);
            }
        }

        if (host is { } h)
        {
            query = query.Where(b => b.Hosts.Any(x => x.UserId == h));
        }

        if (bookingPageId is not null)
        {
            if (Ids.TryParse(bookingPageId, out var pid))
            {
                var pageId = new BookingPageId(pid);
                query = query.Where(b => b.BookingPageId == pageId);
            }
            else
            {
                errors.Add(new("bookingPageId", "must be a booking page id"));
            }
        }

        if (limit is < 1 or > MaxListSize)
        {
            errors.Add(new("limit", $"must be between 1 and {MaxListSize}"));
        }

        // A keyset cursor: the (start, id) of the last booking of the previous page, so a booking made or canceled
        // meanwhile neither repeats nor hides one, and the list pages on past any size.
        if (cursor is not null)
        {
            if (ApiPaging.TryDecodeKey(cursor, out var afterStart, out var afterId))
            {
                var after = new BookingId(afterId);
                query = query.Where(b => EF.Functions.GreaterThan(ValueTuple.Create(b.Start, b.Id), ValueTuple.Create(afterStart, after)));
            }
            else
            {
                errors.Add(new("cursor", "is not a cursor this API gave out; start again without one"));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.From(DomainError.Validation(errors));
        }

        var pageSize = limit ?? ApiPaging.DefaultLimit;
        var bookings = await query.OrderBy(b => b.Start).ThenBy(b => b.Id).Take(pageSize + 1).ToListAsync(ct);
        if (bookings.Count > pageSize)
        {
            bookings.RemoveAt(pageSize);
            var last = bookings[^1];
            ApiPaging.SetNext(http, ApiPaging.EncodeKey(last.Start, last.Id.Value), pageSize);
        }

        var customerIds = bookings.Select(b => b.CustomerId).Distinct().ToList();
        var customers = await db.Customers.AsNoTracking().Where(c => customerIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        return TypedResults.Ok(bookings.Select(b => BookingResponse.From(b, customers.GetValueOrDefault(b.CustomerId), withHistory: false)).ToArray());
    }

    private static async Task<Results<Ok<BookingResponse>, ProblemHttpResult>> ActAsync(
        string id, BookingAction action, BookingActionRequest? body, BookingService service, RendezvousDbContext db, HttpContext http,
        CancellationToken ct)
    {
        if (body?.Reason is { Length: > 2000 })
        {
            return Problems.Validation("reason", "must be at most 2000 characters");
        }

        var result = await service.ActAsync(id, action, body?.Reason, CurrentUser.From(http.User), ct);
        return result.IsSuccess ? TypedResults.Ok(await WithCustomerAsync(result.Value, db, ct)) : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<BookingResponse>, ProblemHttpResult>> RescheduleAsync(
        string id, RescheduleRequest body, BookingService service, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var prepared = PrepareReschedule(body);
        if (!prepared.IsSuccess)
        {
            return Problems.From(prepared.Error!);
        }

        var (plan, extras) = prepared.Value;
        var result = await service.RescheduleAsync(id, body.Start, body.Reason, CurrentUser.From(http.User), ct, plan, extras, body.BookingPageId);
        return result.IsSuccess ? TypedResults.Ok(await WithCustomerAsync(result.Value, db, ct)) : Problems.From(result.Error!);
    }

    /// <summary>
    /// Checks what a staff reschedule carries besides the time (reason, the booking's own reminders, public notes, the
    /// email) and turns it into what <see cref="BookingService.RescheduleAsync"/> takes; shared by the API and the web page.
    /// </summary>
    public static Result<(Reminders.ReminderPlan? Plan, RescheduleExtras Extras)> PrepareReschedule(RescheduleRequest body)
    {
        if (body.Reason is { Length: > 2000 })
        {
            return DomainError.Validation("reason", "must be at most 2000 characters");
        }

        Reminders.ReminderPlan? plan = null;
        if (body.Reminders is not null || body.FollowUp is not null)
        {
            var errors = new List<FieldError>();
            var rules = Domain.BookingPages.BookingPageSettingsSpec.ParseReminders(body.Reminders ?? [], "reminders", errors);
            var followUp = body.FollowUp is null ? null : Domain.BookingPages.BookingPageSettingsSpec.ParseReminder(body.FollowUp, "followUp", errors);
            if (errors.Count == 0)
            {
                Domain.BookingPages.BookingPageSettings.ValidateReminders(rules, followUp, errors);
            }

            if (errors.Count > 0)
            {
                return DomainError.Validation(errors);
            }

            plan = new Reminders.ReminderPlan(body.Reminders ?? [], body.FollowUp);
        }

        var extras = RescheduleExtras.From(body);
        return extras.IsSuccess ? (plan, extras.Value) : extras.Error!;
    }

    private static async Task<BookingResponse> WithCustomerAsync(Booking booking, RendezvousDbContext db, CancellationToken ct)
    {
        var customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == booking.CustomerId, ct);
        return BookingResponse.From(booking, customer, withHistory: true);
    }

    /// <summary>A date means the start of that UTC day (the day after it, for an inclusive upper bound).</summary>
    private static bool TryParseBound(string text, bool upper, out Instant bound)
    {
        if (ApiFormat.TryParseDate(text, out var date))
        {
            bound = (upper ? date.PlusDays(1) : date).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
            return true;
        }

        return ApiFormat.TryParseInstant(text, out bound);
    }
}

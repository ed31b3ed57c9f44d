using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Availability;

public sealed record SlotResponse(string Start, string End, int SeatsLeft);

public sealed record SlotsResponse(string TimeZone, SlotResponse[] Slots);

/// <summary>The public list of free slots of a page, in the visitor's time zone.</summary>
public static class SlotsEndpoint
{
    /// <summary>The longest range one request may ask for.</summary>
    public const int MaxDays = 62;

    /// <summary>
    /// Reads a slot query: <paramref name="from"/> and <paramref name="to"/> as yyyy-MM-dd (inclusive, at most
    /// <see cref="MaxDays"/> days) and an IANA zone (<paramref name="fallbackZone"/> when none is given).
    /// </summary>
    public static Result<(LocalDate From, LocalDate To, DateTimeZone Zone)> ParseRange(string? from, string? to, string? timeZone, DateTimeZone fallbackZone)
    {
        var errors = new List<FieldError>();
        var zone = timeZone is null ? fallbackZone : TimeZones.Find(timeZone);
        if (zone is null)
        {
            errors.Add(new("timeZone", "must be an IANA time zone id such as America/New_York"));
        }

        if (!ApiFormat.TryParseDate(from, out var fromDate))
        {
            errors.Add(new("from", "is required, as yyyy-MM-dd"));
        }

        if (!ApiFormat.TryParseDate(to, out var toDate))
        {
            errors.Add(new("to", "is required, as yyyy-MM-dd"));
        }
        else if (errors.Count == 0 && (toDate < fromDate || Period.Between(fromDate, toDate, PeriodUnits.Days).Days >= MaxDays))
        {
            errors.Add(new("to", $"must be on or after from, and at most {MaxDays} days in all"));
        }

        return errors.Count > 0 ? DomainError.Validation(errors) : (fromDate, toDate, zone!);
    }

    public static void MapSlots(this IEndpointRouteBuilder api) =>
        api.MapGet("/booking-pages/{slug}/slots", GetAsync).WithTags("Public booking").AllowAnonymous()
            .RequireRateLimiting(Rendezvous.Server.Features.Security.RateLimits.Slots);

    private static async Task<Results<Ok<SlotsResponse>, ProblemHttpResult>> GetAsync(
        string slug, string? from, string? to, string? timeZone, RendezvousDbContext db, AvailabilityService availability, IClock clock,
        CancellationToken ct)
    {
        var page = await db.BookingPages.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(p => p.Slug == slug, ct);
        if (page is null)
        {
            return Problems.NotFound("Booking page");
        }

        db.TenantId = page.OrganizationId;
        var range = ParseRange(from, to, timeZone, page.Settings.TimeZone);
        if (!range.IsSuccess)
        {
            return Problems.From(range.Error!);
        }

        var (fromDate, toDate, zone) = range.Value;
        if (await availability.WhyUnavailableAsync(page, ct) is { } unavailable)
        {
            return Problems.From(unavailable);
        }

        var slots = await availability.GetSlotsAsync(page, fromDate, toDate, zone, clock.GetCurrentInstant(), null, ct);
        return TypedResults.Ok(new SlotsResponse(zone.Id,
            [.. slots.Select(s => new SlotResponse(ApiFormat.Format(s.Start, zone), ApiFormat.Format(s.End, zone), s.SeatsLeft))]));
    }
}

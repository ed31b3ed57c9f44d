using Microsoft.AspNetCore.Http.HttpResults;
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
        api.MapGet("/booking-pages/{slug}/slots", GetAsync).WithTags("Public booking").AllowAnonymous().WithMetadata(PublicRouteAttribute.Instance)
            .RequireRateLimiting(Rendezvous.Server.Features.Security.RateLimits.Slots);

    private static async Task<Results<Ok<SlotsResponse>, ProblemHttpResult>> GetAsync(
        string slug, string? from, string? to, string? timeZone, string? member, RendezvousDbContext db, AvailabilityService availability,
        BookingPages.BookingPageCache pages, IClock clock, CancellationToken ct)
    {
        // One round trip when the page is cached: its version, its calendars' health and the hosts' time, together.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var cached = await pages.FindAsync(db, slug, ct);
            if (cached is null)
            {
                return Problems.NotFound("Booking page");
            }

            var page = cached.Page;
            db.TenantId = page.OrganizationId;
            var range = ParseRange(from, to, timeZone, page.Settings.TimeZone);
            if (!range.IsSuccess)
            {
                return Problems.From(range.Error!);
            }

            var (fromDate, toDate, zone) = range.Value;
            UserId? only = null;
            if (member is not null)
            {
                // A routing form may send the visitor to one member of a round-robin page: only that member's times count.
                if (page.Settings.SchedulingOption != Domain.BookingPages.SchedulingOption.RoundRobin || !Ids.TryParse(member, out var memberId)
                    || page.Settings.TeamMembers.All(m => m.UserId.Value != memberId))
                {
                    return Problems.From(DomainError.Validation("member", "must be a member of this round-robin page's team"));
                }

                only = new UserId(memberId);
            }

            var reads = await availability.ReadAsync(page, AvailabilityService.RangeOf(page, fromDate, toDate, zone), PageLock.None, null, ct);
            if (reads.Version != cached.Version)
            {
                pages.Invalidate(slug, cached);
                continue;
            }

            if (AvailabilityService.WhyUnavailable(reads) is { } unavailable)
            {
                return Problems.From(unavailable);
            }

            var slots = await availability.ComputeSlotsAsync(page, fromDate, toDate, zone, clock.GetCurrentInstant(), null, reads, ct, only);
            return TypedResults.Ok(new SlotsResponse(zone.Id,
                [.. slots.Select(s => new SlotResponse(ApiFormat.Format(s.Start, zone), ApiFormat.Format(s.End, zone), s.SeatsLeft))]));
        }

        return Problems.From(DomainError.Conflict("concurrent_change", "The booking page is being changed; try again."));
    }
}

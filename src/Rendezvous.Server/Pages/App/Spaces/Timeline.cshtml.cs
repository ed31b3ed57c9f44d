using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Server.Features.Spaces;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Spaces;

/// <summary>
/// The day timeline: one row per space, the viewer's day as columns of hours, each open or confirmed request placed on
/// its row. Times are shown in the viewer's zone, and in the space's own zone where it differs.
/// </summary>
public sealed class TimelineModel(RendezvousDbContext db, IClock clock) : StaffPageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Date { get; set; }

    public LocalDate Day { get; private set; }

    public DateTimeZone Zone { get; private set; } = DateTimeZone.Utc;

    public SpaceTimeline Timeline { get; private set; } = null!;

    public const int FirstHour = 7;

    public const int LastHour = 21;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        ViewData["Title"] = "Spaces";
        ViewData["Nav"] = "spaces";
        Zone = await MyZoneAsync(db, ct);
        Day = ParseDate(Date) ?? clock.GetCurrentInstant().InZone(Zone).Date;
        Timeline = await SpaceTimeline.LoadAsync(db, Day, Zone, ct);
        return Page();
    }

    /// <summary>
    /// Lanes for one row, so overlapping requests (open ones may overlap) sit one above the other instead of covering
    /// each other: each request takes the first lane free at its start.
    /// </summary>
    public static (Dictionary<Guid, int> Lane, int Count) Lanes(IReadOnlyList<SpaceRequest> requests)
    {
        var ends = new List<Instant>();
        var lane = new Dictionary<Guid, int>();
        foreach (var r in requests.OrderBy(r => r.Start).ThenBy(r => r.End))
        {
            var free = ends.FindIndex(end => end <= r.Start);
            if (free < 0)
            {
                ends.Add(r.End);
                free = ends.Count - 1;
            }
            else
            {
                ends[free] = r.End;
            }

            lane[r.Id] = free;
        }

        return (lane, Math.Max(ends.Count, 1));
    }

    /// <summary>The height of a lane (rem); a space in another zone has taller lanes for the time there.</summary>
    public const double Lane = 3.4;

    public const double TallLane = 5.6;

    /// <summary>The CSS placing a request on the hour columns (clipped to the hours shown) and in its lane.</summary>
    public string Position(SpaceRequest r, int lane, double laneRem) =>
        Position(r) + FormattableString.Invariant($";top:{0.3 + (lane * laneRem)}rem;bottom:auto;height:{laneRem - 0.3}rem");

    /// <summary>The CSS placing a request on the hour columns (clipped to the hours shown).</summary>
    public string Position(SpaceRequest r)
    {
        var dayStart = Day.At(new LocalTime(FirstHour, 0)).InZoneLeniently(Zone).ToInstant();
        var total = (LastHour - FirstHour) * 60.0;
        var from = Math.Clamp((r.Start - dayStart).TotalMinutes, 0, total);
        var to = Math.Clamp((r.End - dayStart).TotalMinutes, 0, total);
        var left = from / total * 100;
        var width = Math.Max((to - from) / total * 100, 1.5);
        return FormattableString.Invariant($"left:{left:0.##}%;width:{width:0.##}%");
    }

    public static DateTimeZone ZoneOf(Space space) => TimeZones.Find(space.TimeZoneId) ?? DateTimeZone.Utc;
}

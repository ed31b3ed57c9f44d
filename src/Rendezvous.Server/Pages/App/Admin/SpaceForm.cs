using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Spaces;
using Rendezvous.Server.Features.Web;

namespace Rendezvous.Server.Pages.App.Admin;

/// <summary>The fields of a space, shared by the form that adds one and the one that edits one (<c>_SpaceFields</c>).</summary>
public abstract class SpaceFormModel : StaffPageModel
{
    public IReadOnlyList<User> Users { get; protected set; } = [];

    [BindProperty]
    public string? Name { get; set; }

    [BindProperty]
    public string Kind { get; set; } = "room";

    [BindProperty]
    public int? Capacity { get; set; }

    [BindProperty]
    public string? Features { get; set; }

    [BindProperty]
    public string? TimeZone { get; set; }

    [BindProperty]
    public string Administration { get; set; } = "autoAccept";

    [BindProperty]
    public string? ModeratorId { get; set; }

    [BindProperty]
    public string? ResourceCalendarKind { get; set; }

    [BindProperty]
    public string? ResourceCalendarAddress { get; set; }

    [BindProperty]
    public bool WriteToOrganizerCalendar { get; set; } = true;

    [BindProperty]
    public string? FallbackCalendarUserId { get; set; }

    /// <summary>Whether the form edits an existing space (shows the calendar-write settings too).</summary>
    public virtual bool Editing => false;

    protected void Labels()
    {
        Errors.Labels["name"] = "The name";
        Errors.Labels["kind"] = "The kind";
        Errors.Labels["capacity"] = "The capacity";
        Errors.Labels["features"] = "The features";
        Errors.Labels["timeZone"] = "The time zone";
        Errors.Labels["administration"] = "The administration";
        Errors.Labels["moderatorId"] = "The moderator";
        Errors.Labels["resourceCalendarKind"] = "The resource calendar";
        Errors.Labels["resourceCalendarAddress"] = "The resource calendar address";
        Errors.Labels["fallbackCalendarUserId"] = "The fallback calendar";
    }

    protected async Task LoadUsersAsync(RendezvousDbContext db, CancellationToken ct) =>
        Users = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);

    /// <summary>The form as the API's body: an empty choice clears (moderator, resource calendar, fallback user).</summary>
    protected SpaceBody Body(bool complete)
    {
        var features = (Features ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new SpaceBody(Name, Kind, Capacity ?? 0, features, TimeZone, Administration,
            complete ? ModeratorId ?? "" : NullIfEmpty(ModeratorId),
            complete ? ResourceCalendarKind ?? "" : NullIfEmpty(ResourceCalendarKind),
            string.IsNullOrWhiteSpace(ResourceCalendarAddress) ? null : ResourceCalendarAddress,
            complete ? WriteToOrganizerCalendar : null,
            complete ? FallbackCalendarUserId ?? "" : null);
    }

    protected void Fill(Space s)
    {
        Name = s.Name;
        Kind = Rendezvous.Domain.Spaces.SpaceRules.Name(s.Kind);
        Capacity = s.Capacity;
        Features = string.Join(", ", s.Features);
        TimeZone = s.TimeZoneId;
        Administration = Rendezvous.Domain.Spaces.SpaceRules.Name(s.Administration);
        ModeratorId = s.ModeratorId?.ToString();
        ResourceCalendarKind = s.ResourceCalendarKind;
        ResourceCalendarAddress = s.ResourceCalendarAddress;
        WriteToOrganizerCalendar = s.WriteToOrganizerCalendar;
        FallbackCalendarUserId = s.FallbackCalendarUserId?.ToString();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

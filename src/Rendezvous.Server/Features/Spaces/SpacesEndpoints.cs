using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain;
using Rendezvous.Domain.Spaces;
using Rendezvous.Integrations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Spaces;

/// <summary>
/// <c>/api/v1/spaces</c>: spaces (administrators change them, every user reads them), requests for them, the actions
/// of the lifecycle, the conflicts of a request before confirming it, and one day's timeline. See docs/SPACES.md.
/// </summary>
public static class SpacesEndpoints
{
    public static void MapSpaces(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/spaces").WithTags("Spaces");
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.AdministratorPolicy);
        group.MapGet("/timeline", TimelineAsync);
        group.MapGet("/requests", ListRequestsAsync);
        group.MapPost("/requests", RequestAsync);
        group.MapGet("/requests/{id}", GetRequestAsync);
        group.MapGet("/requests/{id}/conflicts", ConflictsAsync);
        group.MapPost("/requests/{id}/{action}", ActAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPut("/{id}", UpdateAsync).RequireAuthorization(ApiKeys.AdministratorPolicy);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(ApiKeys.AdministratorPolicy);

        var pools = api.MapGroup("/booking-pages/{id}/space-pool").WithTags("Spaces").RequireAuthorization(ApiKeys.AdministratorPolicy);
        pools.MapGet("/", GetPoolAsync);
        pools.MapPut("/", PutPoolAsync);
        pools.MapDelete("/", DeletePoolAsync);
    }

    private static SpacePoolResponse ToResponse(BookingPageSpacePool p) =>
        new(p.BookingPageId.ToString(), [.. p.SpaceIds.Select(i => i.ToString())], p.MinimumCapacity, [.. p.RequiredFeatures]);

    private static async Task<Domain.BookingPages.BookingPage?> FindPageAsync(RendezvousDbContext db, string id, CancellationToken ct) =>
        Ids.TryParse(id, out var guid) ? await db.BookingPages.AsNoTracking().FirstOrDefaultAsync(p => p.Id == new BookingPageId(guid), ct) : null;

    private static async Task<Results<Ok<SpacePoolResponse>, ProblemHttpResult>> GetPoolAsync(string id, RendezvousDbContext db, CancellationToken ct)
    {
        var page = await FindPageAsync(db, id, ct);
        var pool = page is null ? null : await db.BookingPageSpacePools.AsNoTracking().FirstOrDefaultAsync(p => p.BookingPageId == page.Id, ct);
        return pool is null ? Problems.NotFound("Space pool") : TypedResults.Ok(ToResponse(pool));
    }

    /// <summary>Makes the page need a space: <c>spaceIds</c> (empty = every space), <c>minimumCapacity</c>, <c>requiredFeatures</c>.</summary>
    private static async Task<Results<Ok<SpacePoolResponse>, ProblemHttpResult>> PutPoolAsync(
        string id, SpacePoolBody body, RendezvousDbContext db, CancellationToken ct)
    {
        var page = await FindPageAsync(db, id, ct);
        if (page is null)
        {
            return Problems.NotFound("Booking page");
        }

        var errors = new List<FieldError>();
        var ids = new List<Guid>();
        var given = body.SpaceIds ?? [];
        for (var i = 0; i < given.Count; i++)
        {
            if (!Ids.TryParse(given[i], out var guid) || !await db.Spaces.AnyAsync(s => s.Id == guid, ct))
            {
                errors.Add(new($"spaceIds[{i}]", "is not a space of this organization"));
            }
            else if (!ids.Contains(guid))
            {
                ids.Add(guid);
            }
        }

        if (body.MinimumCapacity is < 0 or > 100_000)
        {
            errors.Add(new("minimumCapacity", "must be between 0 and 100000"));
        }

        var features = new List<string>();
        var wanted = body.RequiredFeatures ?? [];
        for (var i = 0; i < wanted.Count; i++)
        {
            if (!ApiFormat.TryText(wanted[i], 100, out var f))
            {
                errors.Add(new($"requiredFeatures[{i}]", "must be 1-100 characters"));
            }
            else if (!features.Contains(f.ToLowerInvariant()))
            {
                features.Add(f.ToLowerInvariant());
            }
        }

        if (errors.Count > 0)
        {
            return Problems.From(DomainError.Validation(errors));
        }

        var pool = await db.BookingPageSpacePools.FirstOrDefaultAsync(p => p.BookingPageId == page.Id, ct);
        if (pool is null)
        {
            pool = new BookingPageSpacePool { BookingPageId = page.Id };
            db.BookingPageSpacePools.Add(pool);
        }

        pool.SpaceIds = ids;
        pool.MinimumCapacity = body.MinimumCapacity ?? 0;
        pool.RequiredFeatures = features;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResponse(pool));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeletePoolAsync(string id, RendezvousDbContext db, CancellationToken ct)
    {
        var page = await FindPageAsync(db, id, ct);
        var pool = page is null ? null : await db.BookingPageSpacePools.FirstOrDefaultAsync(p => p.BookingPageId == page.Id, ct);
        if (pool is null)
        {
            return Problems.NotFound("Space pool");
        }

        db.BookingPageSpacePools.Remove(pool);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    public static SpaceResponse ToResponse(Space s) => new(
        s.Id.ToString(), s.Name, SpaceRules.Name(s.Kind), s.Capacity, [.. s.Features], s.TimeZoneId, SpaceRules.Name(s.Administration),
        s.ModeratorId?.ToString(), s.ResourceCalendarKind, s.ResourceCalendarAddress, s.WriteToOrganizerCalendar,
        s.FallbackCalendarUserId?.ToString(), ApiFormat.Format(s.CreatedAt), ApiFormat.Format(s.UpdatedAt));

    public static SpaceRequestResponse ToResponse(SpaceRequest r, Space space, DateTimeZone viewer, IEnumerable<SpaceRequestActivity>? history = null)
    {
        var zone = TimeZones.Find(space.TimeZoneId) ?? DateTimeZone.Utc;
        SpaceTimes Times(Instant i) => new(ApiFormat.Format(i), ApiFormat.Format(i, zone), ApiFormat.Format(i, viewer));
        return new SpaceRequestResponse(
            r.Id.ToString(), space.Id.ToString(), space.Name, space.TimeZoneId, viewer.Id, r.Uid, r.Sequence, r.Summary, r.OrganizerEmail,
            r.OrganizerName, r.OrganizerUserId?.ToString(), ApiFormat.Format(r.Start), ApiFormat.Format(r.End), Times(r.Start), Times(r.End),
            SpaceRules.Name(r.State), r.Channel, r.BookingId?.ToString(), r.OnResourceCalendar,
            r.LastActorKind is null ? null : new SpaceActorResponse(r.LastActorKind, r.LastActorId), r.LastReason,
            ApiFormat.Format(r.CreatedAt), ApiFormat.Format(r.UpdatedAt),
            history?.Select(a => new SpaceActivityResponse(ApiFormat.Format(a.At), a.Action, a.FromState is { } f ? SpaceRules.Name(f) : null,
                SpaceRules.Name(a.ToState), new SpaceActorResponse(a.ActorKind, a.ActorId), a.Reason, a.Sequence,
                ApiFormat.Format(a.Start), ApiFormat.Format(a.End))).ToArray());
    }

    private static async Task<Ok<SpaceResponse[]>> ListAsync(RendezvousDbContext db, CancellationToken ct)
    {
        var all = await db.Spaces.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
        return TypedResults.Ok(all.Select(ToResponse).ToArray());
    }

    private static async Task<Results<Ok<SpaceResponse>, ProblemHttpResult>> GetAsync(string id, RendezvousDbContext db, CancellationToken ct)
    {
        var space = await FindSpaceAsync(db, id, ct);
        return space is null ? Problems.NotFound("Space") : TypedResults.Ok(ToResponse(space));
    }

    private static async Task<Results<Created<SpaceResponse>, ProblemHttpResult>> CreateAsync(
        SpaceBody body, SpaceAdministrationService spaces, HttpContext http, CancellationToken ct)
    {
        var made = await spaces.CreateAsync(body, CurrentUser.From(http.User), ct);
        return made.IsSuccess
            ? TypedResults.Created($"/api/v1/spaces/{made.Value.Id}", ToResponse(made.Value))
            : Problems.From(made.Error!);
    }

    private static async Task<Results<Ok<SpaceResponse>, ProblemHttpResult>> UpdateAsync(
        string id, SpaceBody body, SpaceAdministrationService spaces, HttpContext http, CancellationToken ct)
    {
        var changed = await spaces.UpdateAsync(id, body, CurrentUser.From(http.User), ct);
        return changed.IsSuccess ? TypedResults.Ok(ToResponse(changed.Value)) : Problems.From(changed.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, SpaceAdministrationService spaces, HttpContext http, CancellationToken ct)
    {
        var deleted = await spaces.DeleteAsync(id, CurrentUser.From(http.User), ct);
        return deleted.IsSuccess ? TypedResults.NoContent() : Problems.From(deleted.Error!);
    }

    private static async Task<Results<Created<SpaceRequestResponse[]>, ProblemHttpResult>> RequestAsync(
        SpaceRequestBody body, SpaceService service, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var user = await db.Users.AsNoTracking().FirstAsync(u => u.Id == me.Id, ct);
        var errors = new List<FieldError>();
        var spaceIds = new List<Guid>();
        if (body.SpaceIds is not { Count: > 0 and <= 20 })
        {
            errors.Add(new("spaceIds", "must list 1 to 20 spaces"));
        }
        else
        {
            for (var i = 0; i < body.SpaceIds.Count; i++)
            {
                if (!Ids.TryParse(body.SpaceIds[i], out var guid) || !await db.Spaces.AnyAsync(s => s.Id == guid, ct))
                {
                    errors.Add(new($"spaceIds[{i}]", "is not a space of this organization"));
                }
                else
                {
                    spaceIds.Add(guid);
                }
            }
        }

        var summary = "Event";
        if (body.Summary is not null && !ApiFormat.TryText(body.Summary, 500, out summary))
        {
            errors.Add(new("summary", "must be 1-500 characters without control characters"));
        }

        if (!ApiFormat.TryParseInstant(body.Start, out var start))
        {
            errors.Add(new("start", "must be a date-time with an offset, e.g. 2027-03-01T10:00:00+01:00"));
        }

        if (!ApiFormat.TryParseInstant(body.End, out var end))
        {
            errors.Add(new("end", "must be a date-time with an offset, e.g. 2027-03-01T11:00:00+01:00"));
        }
        else if (body.Start is not null && end <= start)
        {
            errors.Add(new("end", "must be after start"));
        }

        var organizerEmail = user.Email;
        if (body.OrganizerEmail is not null && !ApiFormat.TryNormalizeEmail(body.OrganizerEmail, out organizerEmail))
        {
            errors.Add(new("organizerEmail", "must be an email address"));
        }

        var organizerName = body.OrganizerEmail is null ? user.Name : null;
        if (body.OrganizerName is not null)
        {
            if (!ApiFormat.TryText(body.OrganizerName, 200, out var name))
            {
                errors.Add(new("organizerName", "must be 1-200 characters"));
            }

            organizerName = name;
        }

        var uid = $"{Guid.CreateVersion7()}@rendezvous";
        if (body.Uid is not null && !ApiFormat.TryText(body.Uid, 255, out uid))
        {
            errors.Add(new("uid", "must be 1-255 characters"));
        }

        if (errors.Count > 0)
        {
            return Problems.From(DomainError.Validation(errors));
        }

        var organizerId = string.Equals(organizerEmail, user.Email, StringComparison.OrdinalIgnoreCase) ? me.Id : (UserId?)null;
        var made = await service.RequestAsync(me.OrganizationId, spaceIds, uid, summary, start, end, organizerEmail, organizerName, organizerId, null, ct);
        if (!made.IsSuccess)
        {
            return Problems.From(made.Error!);
        }

        var viewer = await ViewerZoneAsync(db, me, null, ct);
        var spaces = await db.Spaces.AsNoTracking().Where(s => spaceIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);
        return TypedResults.Created($"/api/v1/spaces/requests?uid={Uri.EscapeDataString(uid)}",
            made.Value.Select(r => ToResponse(r, spaces[r.SpaceId], viewer)).ToArray());
    }

    private static async Task<Results<Ok<SpaceRequestResponse[]>, ProblemHttpResult>> ListRequestsAsync(
        string? spaceId, string? state, string? uid, string? from, string? to, string? timeZone, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var query = db.SpaceRequests.AsNoTracking();
        if (spaceId is not null)
        {
            if (!Ids.TryParse(spaceId, out var sid))
            {
                return Problems.Validation("spaceId", "is not a space id");
            }

            query = query.Where(r => r.SpaceId == sid);
        }

        if (state is not null)
        {
            if (state == "open")
            {
                query = query.Where(r => r.State == SpaceRequestState.Prospect || r.State == SpaceRequestState.Pending
                    || r.State == SpaceRequestState.Tentative || r.State == SpaceRequestState.Hold);
            }
            else if (SpaceRules.TryParseState(state, out var s))
            {
                query = query.Where(r => r.State == s);
            }
            else
            {
                return Problems.Validation("state", "must be open, prospect, pending, tentative, hold, confirmed, declined or canceled");
            }
        }

        if (uid is not null)
        {
            query = query.Where(r => r.Uid == uid);
        }

        if (from is not null)
        {
            if (!ApiFormat.TryParseInstant(from, out var f))
            {
                return Problems.Validation("from", "must be a date-time with an offset");
            }

            query = query.Where(r => r.End > f);
        }

        if (to is not null)
        {
            if (!ApiFormat.TryParseInstant(to, out var t))
            {
                return Problems.Validation("to", "must be a date-time with an offset");
            }

            query = query.Where(r => r.Start < t);
        }

        if (timeZone is not null && TimeZones.Find(timeZone) is null)
        {
            return Problems.Validation("timeZone", "must be an IANA time zone");
        }

        var viewer = await ViewerZoneAsync(db, me, timeZone, ct);
        var list = await query.OrderBy(r => r.Start).ThenBy(r => r.CreatedAt).Take(1000).ToListAsync(ct);
        var spaces = await db.Spaces.AsNoTracking().ToDictionaryAsync(s => s.Id, ct);
        return TypedResults.Ok(list.Select(r => ToResponse(r, spaces[r.SpaceId], viewer)).ToArray());
    }

    private static async Task<Results<Ok<SpaceRequestResponse>, ProblemHttpResult>> GetRequestAsync(
        string id, string? timeZone, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid) || await db.SpaceRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == guid, ct) is not { } request)
        {
            return Problems.NotFound("Space request");
        }

        var space = await db.Spaces.AsNoTracking().FirstAsync(s => s.Id == request.SpaceId, ct);
        var history = await db.SpaceRequestActivities.AsNoTracking().Where(a => a.RequestId == request.Id).OrderBy(a => a.Id).ToListAsync(ct);
        return TypedResults.Ok(ToResponse(request, space, await ViewerZoneAsync(db, CurrentUser.From(http.User), timeZone, ct), history));
    }

    private static async Task<Results<Ok<SpaceConflictsResponse>, ProblemHttpResult>> ConflictsAsync(
        string id, SpaceService service, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid))
        {
            return Problems.NotFound("Space request");
        }

        var found = await service.ConflictsAsync(guid, ct);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var c = found.Value;
        var space = await db.Spaces.AsNoTracking().FirstAsync(s => s.Id == c.Request.SpaceId, ct);
        var viewer = await ViewerZoneAsync(db, CurrentUser.From(http.User), null, ct);
        return TypedResults.Ok(new SpaceConflictsResponse(ToResponse(c.Request, space, viewer),
            [.. c.Blocking.Select(r => ToResponse(r, space, viewer))], [.. c.WouldBeDeclined.Select(r => ToResponse(r, space, viewer))]));
    }

    private static async Task<Results<Ok<SpaceRequestResponse>, ProblemHttpResult>> ActAsync(
        string id, string action, SpaceActionBody? body, SpaceService service, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        if (!SpaceRules.TryParseAction(action, out var a))
        {
            return Problems.NotFound("Action");
        }

        if (!Ids.TryParse(id, out var guid))
        {
            return Problems.NotFound("Space request");
        }

        string? reason = null;
        if (body?.Reason is not null && !ApiFormat.TryText(body.Reason, 1000, out reason))
        {
            return Problems.Validation("reason", "must be 1-1000 characters");
        }

        var organizerId = await db.SpaceRequests.AsNoTracking().Where(r => r.Id == guid).Select(r => r.OrganizerUserId).FirstOrDefaultAsync(ct);
        var done = await service.ActAsync(guid, a, SpaceActor.User(me.Id), reason, space => Authorize(space, a, me, organizerId), ct);
        if (!done.IsSuccess)
        {
            return Problems.From(done.Error!);
        }

        var s = await db.Spaces.AsNoTracking().FirstAsync(x => x.Id == done.Value.SpaceId, ct);
        return TypedResults.Ok(ToResponse(done.Value, s, await ViewerZoneAsync(db, me, null, ct)));
    }

    /// <summary>
    /// Administrators (the events team) may do everything; a moderated space's moderator accepts and declines its
    /// requests; an organizer may cancel their own request.
    /// </summary>
    public static Result Authorize(Space space, SpaceAction action, CurrentUser me, UserId? organizerId)
    {
        if (me.IsAdministrator)
        {
            return Result.Success;
        }

        if (space.Administration == SpaceAdministration.Moderated && space.ModeratorId == me.Id)
        {
            return Result.Success;
        }

        if (action == SpaceAction.Cancel && organizerId == me.Id)
        {
            return Result.Success;
        }

        return Result.Failure(new DomainError(ErrorKind.Forbidden, "not_allowed",
            space.Administration == SpaceAdministration.Moderated
                ? "Only the space's moderator or an administrator may act on its requests."
                : "Only administrators (the events team) may act on this request; organizers may cancel their own."));
    }

    private static async Task<Results<Ok<SpaceTimelineResponse>, ProblemHttpResult>> TimelineAsync(
        string? date, string? timeZone, RendezvousDbContext db, HttpContext http, IClock clock, CancellationToken ct)
    {
        if (timeZone is not null && TimeZones.Find(timeZone) is null)
        {
            return Problems.Validation("timeZone", "must be an IANA time zone");
        }

        var viewer = await ViewerZoneAsync(db, CurrentUser.From(http.User), timeZone, ct);
        var day = clock.GetCurrentInstant().InZone(viewer).Date;
        if (date is not null && !ApiFormat.TryParseDate(date, out day))
        {
            return Problems.Validation("date", "must be a date, yyyy-MM-dd");
        }

        var timeline = await SpaceTimeline.LoadAsync(db, day, viewer, ct);
        return TypedResults.Ok(new SpaceTimelineResponse(day.ToString("yyyy-MM-dd", null), viewer.Id, ApiFormat.Format(timeline.From, viewer),
            ApiFormat.Format(timeline.To, viewer),
            [.. timeline.Rows.Select(row => new SpaceTimelineRow(ToResponse(row.Space), [.. row.Requests.Select(r => ToResponse(r, row.Space, viewer))]))]));
    }

    /// <summary>The zone times are shown in: the one asked for, else the caller's own.</summary>
    public static async Task<DateTimeZone> ViewerZoneAsync(RendezvousDbContext db, CurrentUser me, string? timeZone, CancellationToken ct)
    {
        if (TimeZones.Find(timeZone) is { } asked)
        {
            return asked;
        }

        var own = await db.Users.AsNoTracking().Where(u => u.Id == me.Id).Select(u => u.TimeZoneId).FirstOrDefaultAsync(ct);
        return TimeZones.Find(own) ?? DateTimeZone.Utc;
    }

    public static async Task<Space?> FindSpaceAsync(RendezvousDbContext db, string id, CancellationToken ct) =>
        Ids.TryParse(id, out var guid) ? await db.Spaces.FirstOrDefaultAsync(s => s.Id == guid, ct) : null;
}

/// <summary>One day of every space of the organization, for the timeline screen and route.</summary>
public sealed record SpaceTimeline(Instant From, Instant To, IReadOnlyList<(Space Space, IReadOnlyList<SpaceRequest> Requests)> Rows)
{
    public static async Task<SpaceTimeline> LoadAsync(RendezvousDbContext db, LocalDate day, DateTimeZone viewer, CancellationToken ct)
    {
        var from = day.AtStartOfDayInZone(viewer).ToInstant();
        var to = day.PlusDays(1).AtStartOfDayInZone(viewer).ToInstant();
        var spaces = await db.Spaces.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
        var requests = await db.SpaceRequests.AsNoTracking()
            .Where(r => r.Start < to && r.End > from && r.State != SpaceRequestState.Declined && r.State != SpaceRequestState.Canceled)
            .OrderBy(r => r.Start).ToListAsync(ct);
        return new SpaceTimeline(from, to,
            [.. spaces.Select(s => (s, (IReadOnlyList<SpaceRequest>)[.. requests.Where(r => r.SpaceId == s.Id)]))]);
    }
}

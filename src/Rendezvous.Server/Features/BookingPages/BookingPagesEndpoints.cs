using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Conferencing;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.BookingPages;

/// <summary>Create or replace a page: its identity plus every setting (unset settings take their defaults).</summary>
public sealed record BookingPageRequest : BookingPageSettingsSpec
{
    /// <summary>Defaults to the caller. Only administrators may create pages for someone else.</summary>
    public string? OwnerId { get; init; }

    public string? Slug { get; init; }

    public string? Title { get; init; }

    public string? Description { get; init; }

    public string? Location { get; init; }

    /// <summary>A conferencing service instead of a location: <c>{ "provider": "zoom" | "gotomeeting" | "webex" }</c>.</summary>
    public ConferencingSpec? Conferencing { get; init; }
}

/// <summary>A page's conferencing service.</summary>
public sealed record ConferencingSpec(string? Provider);

public sealed record BookingPageResponse : BookingPageSettingsSpec
{
    public BookingPageResponse(BookingPageSettingsSpec settings) : base(settings)
    {
    }

    public required string Id { get; init; }

    public required string OwnerId { get; init; }

    public required string Slug { get; init; }

    public required string Title { get; init; }

    public string? Description { get; init; }

    public string? Location { get; init; }

    public ConferencingSpec? Conferencing { get; init; }

    public required string CreatedAt { get; init; }
}

public static class BookingPagesEndpoints
{
    public static void MapBookingPages(this IEndpointRouteBuilder api)
    {
        var pages = api.MapGroup("/booking-pages").WithTags("Booking pages");
        pages.MapPost("/", CreateAsync);
        pages.MapGet("/", ListAsync);
        pages.MapGet("/{id}", GetAsync);
        pages.MapPut("/{id}", UpdateAsync);
    }

    public static BookingPageResponse ToResponse(BookingPage p) => new(BookingPageSettingsSpec.FromSettings(p.Settings))
    {
        Id = p.Id.ToString(),
        OwnerId = p.OwnerId.ToString(),
        Slug = p.Slug,
        Title = p.Title,
        Description = p.Description,
        Location = p.Location,
        Conferencing = p.Conferencing is { } c ? new ConferencingSpec(ConferencingProviders.ApiName(c)) : null,
        CreatedAt = ApiFormat.Format(p.CreatedAt),
    };

    private static async Task<Results<Created<BookingPageResponse>, ProblemHttpResult>> CreateAsync(
        BookingPageRequest request, BookingPageService pages, HttpContext http, CancellationToken ct)
    {
        var created = await pages.CreateAsync(request, CurrentUser.From(http.User), ct);
        return created.IsSuccess
            ? TypedResults.Created($"/api/v1/booking-pages/{created.Value.Id}", ToResponse(created.Value))
            : Problems.From(created.Error!);
    }

    private static async Task<Ok<BookingPageResponse[]>> ListAsync(RendezvousDbContext db, CancellationToken ct)
    {
        var pages = await db.BookingPages.AsNoTracking().OrderBy(p => p.Title).ToListAsync(ct);
        return TypedResults.Ok(pages.Select(ToResponse).ToArray());
    }

    private static async Task<Results<Ok<BookingPageResponse>, ProblemHttpResult>> GetAsync(string id, RendezvousDbContext db, CancellationToken ct)
    {
        var page = await FindAsync(db, id, ct);
        return page is null ? Problems.NotFound("Booking page") : TypedResults.Ok(ToResponse(page));
    }

    private static async Task<Results<Ok<BookingPageResponse>, ProblemHttpResult>> UpdateAsync(
        string id, BookingPageRequest request, RendezvousDbContext db, BookingPageService pages, HttpContext http, CancellationToken ct)
    {
        var page = await FindAsync(db, id, ct);
        if (page is null)
        {
            return Problems.NotFound("Booking page");
        }

        var updated = await pages.UpdateAsync(page, request, CurrentUser.From(http.User), ct);
        return updated.IsSuccess ? TypedResults.Ok(ToResponse(updated.Value)) : Problems.From(updated.Error!);
    }

    internal static async Task<Result<(UserId Owner, BookingPageSettings Settings, ConferencingProvider? Conferencing)>> CheckAsync(
        BookingPageRequest request, BookingPage? existing, CurrentUser me, RendezvousDbContext db, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (!BookingPage.IsValidSlug(request.Slug))
        {
            errors.Add(new("slug", "must be 2-64 lower-case letters, digits and single dashes"));
        }

        if (!ApiFormat.TryText(request.Title, 200, out _))
        {
            errors.Add(new("title", "is required (1-200 characters)"));
        }

        if (request.Description is { Length: > 5000 })
        {
            errors.Add(new("description", "must be at most 5000 characters"));
        }

        if (request.Location is { Length: > 1000 })
        {
            errors.Add(new("location", "must be at most 1000 characters"));
        }

        ConferencingProvider? conferencing = null;
        if (request.Conferencing is { } wanted)
        {
            if (!ConferencingProviders.TryParse(wanted.Provider, out var provider))
            {
                errors.Add(new("conferencing.provider", "must be zoom, gotomeeting or webex"));
            }
            else if (!string.IsNullOrWhiteSpace(request.Location))
            {
                errors.Add(new("conferencing", "a page has either a conferencing service or a location, not both"));
            }
            else
            {
                conferencing = provider;
            }
        }

        var owner = me.Id;
        if (request.OwnerId is not null)
        {
            var found = await UsersEndpoints.FindAsync(db, request.OwnerId, ct);
            if (found is null)
            {
                errors.Add(new("ownerId", "is not a user of this organization"));
            }
            else
            {
                owner = found.Id;
            }
        }

        var settings = request.ToSettings();
        if (!settings.IsSuccess)
        {
            errors.AddRange(settings.Error!.Fields);
        }
        else
        {
            var members = settings.Value.PanelMemberIds;
            if (members.Contains(owner))
            {
                errors.Add(new("panelMemberIds", "must not include the owner (the primary team member)"));
            }

            var known = await db.Users.Where(u => members.Contains(u.Id)).CountAsync(ct);
            if (known != members.Count)
            {
                errors.Add(new("panelMemberIds", "every panel member must be a user of this organization"));
            }

            var team = settings.Value.TeamMembers.Select(m => m.UserId).ToList();
            if (team.Count > 0 && await db.Users.Where(u => team.Contains(u.Id)).CountAsync(ct) != team.Count)
            {
                errors.Add(new("teamMembers", "every team member must be a user of this organization"));
            }

            if (team.Count > 0 && !me.IsAdministrator)
            {
                // A team page books other people's time: only administrators set one up.
                return new DomainError(ErrorKind.Forbidden, "administrator_required", "Only administrators can set up round-robin and collective pages.");
            }
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        if (!me.IsAdministrator && owner != me.Id)
        {
            return new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only own their own booking pages.");
        }

        var slugTaken = await db.BookingPages.AcrossTenants()
            .AnyAsync(p => p.Slug == request.Slug && (existing == null || p.Id != existing.Id), ct);
        if (slugTaken)
        {
            return DomainError.Conflict("slug_taken", "Another booking page already uses this slug.");
        }

        return (owner, settings.Value, conferencing);
    }

    internal static string? Clean(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    internal static async Task<BookingPage?> FindAsync(RendezvousDbContext db, string id, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid))
        {
            return null;
        }

        var pageId = new BookingPageId(guid);
        return await db.BookingPages.FirstOrDefaultAsync(p => p.Id == pageId, ct);
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Routing;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Routing;

/// <summary>A routing form as the API takes it: its public slug, title, optional description and definition.</summary>
public sealed record RoutingFormRequest(string? Slug, string? Title, string? Description, IReadOnlyList<RoutingQuestionSpec>? Questions,
    IReadOnlyList<RoutingRuleSpec>? Rules, string? FallbackMessage);

public sealed record RoutingFormResponse(string Id, string Slug, string Title, string? Description, IReadOnlyList<RoutingQuestionSpec> Questions,
    IReadOnlyList<RoutingRuleSpec> Rules, string FallbackMessage, string Url);

/// <summary>The visitor's answers, keyed by question id.</summary>
public sealed record RoutingAnswersRequest(Dictionary<string, string?>? Answers);

/// <summary>
/// Where the answers lead: <c>target</c> "page" or "member" with the booking page's <c>url</c> (the member pre-selected),
/// or "message" with the <c>message</c> to show.
/// </summary>
public sealed record RoutingDecisionResponse(string Target, string? BookingPageSlug, string? MemberId, string? Url, string? Message);

/// <summary>Routing forms: administrators define them; anyone may answer one by its slug.</summary>
public sealed class RoutingFormService(RendezvousDbContext db, IClock clock)
{
    /// <summary>A stored form with its parsed definition.</summary>
    public sealed record Loaded(RoutingFormRecord Record, RoutingFormDefinition Definition, Domain.Organizations.Organization Organization);

    public async Task<IReadOnlyList<RoutingFormRecord>> ListAsync(CancellationToken ct) =>
        await db.RoutingForms.AsNoTracking().OrderBy(f => f.Title).ThenBy(f => f.Id).ToListAsync(ct);

    public async Task<RoutingFormRecord?> FindAsync(string id, CancellationToken ct) =>
        Ids.TryParse(id, out var guid) ? await db.RoutingForms.FirstOrDefaultAsync(f => f.Id == guid, ct) : null;

    public static RoutingFormDefinition DefinitionOf(RoutingFormRecord record) =>
        JsonSerializer.Deserialize<RoutingFormDefinitionSpec>(record.Definition, JsonDefaults.Options)!.ToDefinition().Value;

    public async Task<Result<RoutingFormRecord>> SaveAsync(OrganizationId org, RoutingFormRecord? existing, RoutingFormRequest request, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var slug = request.Slug?.Trim();
        if (!BookingPage.IsValidSlug(slug))
        {
            errors.Add(new("slug", "must be 2-64 lower-case letters, digits and single dashes"));
        }

        if (!ApiFormat.TryText(request.Title, 200, out _))
        {
            errors.Add(new("title", "is required (1-200 characters)"));
        }

        if (request.Description is { Length: > 2000 })
        {
            errors.Add(new("description", "must be at most 2000 characters"));
        }

        var definition = new RoutingFormDefinitionSpec(request.Questions, request.Rules, request.FallbackMessage).ToDefinition();
        if (!definition.IsSuccess)
        {
            errors.AddRange(definition.Error!.Fields);
        }
        else
        {
            await CheckTargetsAsync(definition.Value, errors, ct);
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        // Slugs are public addresses, unique across organizations like booking pages'.
        if (await db.RoutingForms.AcrossTenants().AnyAsync(f => f.Slug == slug && (existing == null || f.Id != existing.Id), ct))
        {
            return DomainError.Conflict("slug_taken", "Another routing form already uses this slug.");
        }

        var now = clock.GetCurrentInstant();
        var json = JsonSerializer.Serialize(RoutingFormDefinitionSpec.From(definition.Value), JsonDefaults.Options);
        var record = existing ?? new RoutingFormRecord
        {
            Id = Guid.CreateVersion7(), OrganizationId = org, Slug = slug!, Title = "", Definition = json, CreatedAt = now, UpdatedAt = now,
        };
        record.Slug = slug!;
        record.Title = request.Title!.Trim();
        record.Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim();
        record.Definition = json;
        record.UpdatedAt = now;
        if (existing is null)
        {
            db.RoutingForms.Add(record);
        }

        await db.SaveChangesAsync(ct);
        return record;
    }

    public async Task DeleteAsync(RoutingFormRecord record, CancellationToken ct)
    {
        db.RoutingForms.Remove(record);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>A form by its public slug, across organizations; sets the request's tenant to the form's organization.</summary>
    public async Task<Loaded?> FindPublicAsync(string slug, CancellationToken ct)
    {
        if (!BookingPage.IsValidSlug(slug))
        {
            return null;
        }

        var record = await db.RoutingForms.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(f => f.Slug == slug, ct);
        if (record is null)
        {
            return null;
        }

        db.TenantId = record.OrganizationId;
        var organization = await db.Organizations.AsNoTracking().FirstAsync(o => o.Id == record.OrganizationId, ct);
        return new Loaded(record, DefinitionOf(record), organization);
    }

    /// <summary>Routes <paramref name="answers"/> through <paramref name="form"/>; a page that has gone since is answered with the fallback.</summary>
    public async Task<Result<RoutingDecisionResponse>> RouteAsync(Loaded form, IReadOnlyDictionary<string, string?>? answers, CancellationToken ct)
    {
        var given = (answers ?? new Dictionary<string, string?>()).Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!);
        var decision = form.Definition.Route(given);
        if (!decision.IsSuccess)
        {
            return decision.Error!;
        }

        var d = decision.Value;
        if (d.Target == RoutingTargetKind.Message)
        {
            return new RoutingDecisionResponse("message", null, null, null, d.Message);
        }

        var page = await db.BookingPages.AsNoTracking().FirstOrDefaultAsync(p => p.Id == d.BookingPageId, ct);
        var member = d.MemberId is { } m && page is not null && page.Settings.SchedulingOption == SchedulingOption.RoundRobin
            && page.Settings.TeamMembers.Any(t => t.UserId == m) ? m.ToString() : null;
        if (page is null || (d.Target == RoutingTargetKind.Member && member is null))
        {
            // The page was deleted or its team changed after the form was saved: say so rather than send the visitor nowhere.
            return new RoutingDecisionResponse("message", null, null, null, form.Definition.FallbackMessage);
        }

        var url = $"/{form.Organization.Slug}/{page.Slug}" + (member is null ? "" : "?member=" + member);
        return new RoutingDecisionResponse(member is null ? "page" : "member", page.Slug, member, url, null);
    }

    public static RoutingFormResponse ToResponse(RoutingFormRecord record, string orgSlug)
    {
        var spec = RoutingFormDefinitionSpec.From(DefinitionOf(record));
        return new(record.Id.ToString(), record.Slug, record.Title, record.Description, spec.Questions!, spec.Rules!, spec.FallbackMessage!,
            $"/route/{orgSlug}/{record.Slug}");
    }

    private async Task CheckTargetsAsync(RoutingFormDefinition definition, List<FieldError> errors, CancellationToken ct)
    {
        var ids = definition.Rules.Where(r => r.BookingPageId is not null).Select(r => r.BookingPageId!.Value).Distinct().ToList();
        var pages = await db.BookingPages.AsNoTracking().Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, ct);
        for (var i = 0; i < definition.Rules.Count; i++)
        {
            var rule = definition.Rules[i];
            if (rule.Target == RoutingTargetKind.Message)
            {
                continue;
            }

            if (rule.BookingPageId is not { } id || !pages.TryGetValue(id, out var page))
            {
                errors.Add(new($"rules[{i}].bookingPageId", "is not a booking page of this organization"));
            }
            else if (rule.Target == RoutingTargetKind.Member && (page.Settings.SchedulingOption != SchedulingOption.RoundRobin
                || page.Settings.TeamMembers.All(m => m.UserId != rule.MemberId)))
            {
                errors.Add(new($"rules[{i}].userId", "must be a member of the team of a round-robin page"));
            }
        }
    }
}

/// <summary>The routing form routes: administration under /routing-forms, answering under /routing (public).</summary>
public static class RoutingFormsEndpoints
{
    public static void MapRoutingForms(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/routing-forms").WithTags("Routing forms").RequireAuthorization(ApiKeys.AdministratorPolicy);
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPut("/{id}", UpdateAsync);
        group.MapDelete("/{id}", DeleteAsync);

        var open = api.MapGroup("/routing/{slug}").WithTags("Routing forms").AllowAnonymous().WithMetadata(PublicRouteAttribute.Instance)
            .RequireRateLimiting(Security.RateLimits.Slots);
        open.MapGet("/", ShowAsync);
        open.MapPost("/", RouteAsync);
    }

    private static async Task<string> OrgSlugAsync(RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var org = CurrentUser.From(http.User).OrganizationId;
        return await db.Organizations.AsNoTracking().Where(o => o.Id == org).Select(o => o.Slug).FirstAsync(ct);
    }

    private static async Task<Ok<RoutingFormResponse[]>> ListAsync(RoutingFormService forms, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var org = await OrgSlugAsync(db, http, ct);
        return TypedResults.Ok((await forms.ListAsync(ct)).Select(f => RoutingFormService.ToResponse(f, org)).ToArray());
    }

    private static async Task<Results<Created<RoutingFormResponse>, ProblemHttpResult>> CreateAsync(
        RoutingFormRequest request, RoutingFormService forms, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var saved = await forms.SaveAsync(CurrentUser.From(http.User).OrganizationId, null, request, ct);
        return saved.IsSuccess
            ? TypedResults.Created($"/api/v1/routing-forms/{saved.Value.Id}", RoutingFormService.ToResponse(saved.Value, await OrgSlugAsync(db, http, ct)))
            : Problems.From(saved.Error!);
    }

    private static async Task<Results<Ok<RoutingFormResponse>, ProblemHttpResult>> GetAsync(
        string id, RoutingFormService forms, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var form = await forms.FindAsync(id, ct);
        return form is null ? Problems.NotFound("Routing form") : TypedResults.Ok(RoutingFormService.ToResponse(form, await OrgSlugAsync(db, http, ct)));
    }

    private static async Task<Results<Ok<RoutingFormResponse>, ProblemHttpResult>> UpdateAsync(
        string id, RoutingFormRequest request, RoutingFormService forms, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var form = await forms.FindAsync(id, ct);
        if (form is null)
        {
            return Problems.NotFound("Routing form");
        }

        var saved = await forms.SaveAsync(form.OrganizationId, form, request, ct);
        return saved.IsSuccess ? TypedResults.Ok(RoutingFormService.ToResponse(saved.Value, await OrgSlugAsync(db, http, ct))) : Problems.From(saved.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, RoutingFormService forms, CancellationToken ct)
    {
        var form = await forms.FindAsync(id, ct);
        if (form is null)
        {
            return Problems.NotFound("Routing form");
        }

        await forms.DeleteAsync(form, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<RoutingFormResponse>, ProblemHttpResult>> ShowAsync(string slug, RoutingFormService forms, CancellationToken ct)
    {
        var form = await forms.FindPublicAsync(slug, ct);
        return form is null ? Problems.NotFound("Routing form") : TypedResults.Ok(RoutingFormService.ToResponse(form.Record, form.Organization.Slug));
    }

    private static async Task<Results<Ok<RoutingDecisionResponse>, ProblemHttpResult>> RouteAsync(
        string slug, RoutingAnswersRequest? body, RoutingFormService forms, CancellationToken ct)
    {
        var form = await forms.FindPublicAsync(slug, ct);
        if (form is null)
        {
            return Problems.NotFound("Routing form");
        }

        var routed = await forms.RouteAsync(form, body?.Answers, ct);
        return routed.IsSuccess ? TypedResults.Ok(routed.Value) : Problems.From(routed.Error!);
    }
}

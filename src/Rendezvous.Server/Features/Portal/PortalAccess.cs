using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Portal;

/// <summary>Who may use an organization's customer portal.</summary>
public enum PortalMode
{
    /// <summary>Every customer with an appointment (every customer Rendezvous knows came from a booking).</summary>
    Open,

    /// <summary>Only contacts granted access, themselves or through their company.</summary>
    Granted,
}

public sealed record PortalSettingsResponse(string Mode);

public sealed record PortalSettingsRequest(string? Mode);

public sealed record CompanyRequest(string? Name, bool? PortalAccess);

public sealed record CompanyResponse(string Id, string Name, bool PortalAccess, string CreatedAt, ContactResponse[] Contacts);

public sealed record ContactResponse(string Id, string Name, string Email, string? CompanyId, string? CompanyName, bool PortalAccess,
    bool CanUsePortal);

/// <summary><c>companyId</c> null leaves the company as it is; "" takes the contact out of their company.</summary>
public sealed record ContactAccessRequest(bool? PortalAccess, string? CompanyId);

/// <summary>
/// Portal access (seed 003: "If the Contact/Company has Portal Access"): the organization's mode, per-contact grants and
/// companies. A company groups contacts: each of them sees the company's appointments, and a grant to the company is a
/// grant to each of its contacts. One implementation for the API, the staff screens and the portal itself.
/// </summary>
public sealed class PortalAccessService(RendezvousDbContext db, IClock clock)
{
    public const int MaxCompanyName = 200;

    public static string Name(PortalMode mode) => mode == PortalMode.Open ? "open" : "granted";

    public Task<PortalMode> ModeAsync(OrganizationId org, CancellationToken ct) => ModeAsync(db, org, ct);

    public static async Task<PortalMode> ModeAsync(RendezvousDbContext db, OrganizationId org, CancellationToken ct) =>
        await db.Database.SqlQuery<string>($"SELECT portal_access AS \"Value\" FROM organizations WHERE id = {org.Value}").FirstAsync(ct) == "granted"
            ? PortalMode.Granted
            : PortalMode.Open;

    public async Task<Result> SetModeAsync(OrganizationId org, string? mode, CancellationToken ct)
    {
        if (mode is not ("open" or "granted"))
        {
            return DomainError.Validation("mode", "must be open (every customer with an appointment) or granted (only contacts given access)");
        }

        await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE organizations SET portal_access = {mode} WHERE id = {org.Value}", ct);
        return Result.Success;
    }

    /// <summary>True when the customer may sign in to and use the portal now.</summary>
    public static async Task<bool> MayUsePortalAsync(RendezvousDbContext db, Customer customer, CancellationToken ct)
    {
        if (await ModeAsync(db, customer.OrganizationId, ct) == PortalMode.Open)
        {
            return true;
        }

        var row = await db.Database.SqlQuery<AccessRow>($"""
            SELECT c.portal_access AS "PortalAccess", co.portal_access AS "CompanyAccess"
            FROM customers c LEFT JOIN companies co ON co.id = c.company_id WHERE c.id = {customer.Id.Value}
            """).FirstOrDefaultAsync(ct);
        return row is { } r && (r.PortalAccess || r.CompanyAccess == true);
    }

    /// <summary>The contacts whose appointments the customer sees: their company's contacts, or only themselves.</summary>
    public static async Task<CustomerId[]> CircleAsync(RendezvousDbContext db, Customer customer, CancellationToken ct)
    {
        var ids = await db.Database.SqlQuery<Guid>($"""
            SELECT c.id AS "Value" FROM customers c
            WHERE c.organization_id = {customer.OrganizationId.Value}
              AND (c.id = {customer.Id.Value}
                   OR c.company_id = (SELECT company_id FROM customers WHERE id = {customer.Id.Value}))
            """).ToListAsync(ct);
        return [.. ids.Select(i => new CustomerId(i))];
    }

    public async Task<ContactResponse[]> ContactsAsync(OrganizationId org, string? search, Guid? companyId, int limit, CancellationToken ct)
    {
        var pattern = string.IsNullOrWhiteSpace(search) ? null : "%" + search.Trim().Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
        var mode = await ModeAsync(org, ct);
        var rows = await db.Database.SqlQuery<ContactRow>($"""
            SELECT c.id AS "Id", c.name AS "Name", c.email AS "Email", c.company_id AS "CompanyId", co.name AS "CompanyName",
                   c.portal_access AS "PortalAccess", co.portal_access AS "CompanyAccess"
            FROM customers c LEFT JOIN companies co ON co.id = c.company_id
            WHERE c.organization_id = {org.Value}
              AND ({pattern}::text IS NULL OR c.name ILIKE {pattern} OR c.email ILIKE {pattern})
              AND ({companyId}::uuid IS NULL OR c.company_id = {companyId})
            ORDER BY c.name, c.email
            LIMIT {limit}
            """).ToListAsync(ct);
        return [.. rows.Select(r => ToResponse(r, mode))];
    }

    public async Task<Result<ContactResponse>> ContactAsync(OrganizationId org, string id, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid))
        {
            return DomainError.NotFound("Customer");
        }

        var rows = await db.Database.SqlQuery<ContactRow>($"""
            SELECT c.id AS "Id", c.name AS "Name", c.email AS "Email", c.company_id AS "CompanyId", co.name AS "CompanyName",
                   c.portal_access AS "PortalAccess", co.portal_access AS "CompanyAccess"
            FROM customers c LEFT JOIN companies co ON co.id = c.company_id
            WHERE c.organization_id = {org.Value} AND c.id = {guid}
            """).ToListAsync(ct);
        return rows.Count == 0 ? DomainError.NotFound("Customer") : ToResponse(rows[0], await ModeAsync(org, ct));
    }

    /// <summary>Grants or revokes a contact's access and moves them into or out of a company.</summary>
    public async Task<Result<ContactResponse>> UpdateContactAsync(OrganizationId org, string id, ContactAccessRequest request, CancellationToken ct)
    {
        var contact = await ContactAsync(org, id, ct);
        if (!contact.IsSuccess)
        {
            return contact;
        }

        var customerId = Guid.Parse(contact.Value.Id);
        if (request.CompanyId is { } companyText)
        {
            Guid? companyId = null;
            if (companyText.Length > 0)
            {
                if (!Ids.TryParse(companyText, out var parsed)
                    || await db.Database.SqlQuery<int>($"SELECT 1 AS \"Value\" FROM companies WHERE id = {parsed} AND organization_id = {org.Value}").CountAsync(ct) == 0)
                {
                    return DomainError.Validation("companyId", "is not a company of this organization");
                }

                companyId = parsed;
            }

            await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE customers SET company_id = {companyId} WHERE id = {customerId} AND organization_id = {org.Value}", ct);
        }

        if (request.PortalAccess is { } granted)
        {
            await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE customers SET portal_access = {granted} WHERE id = {customerId} AND organization_id = {org.Value}", ct);
        }

        return await ContactAsync(org, id, ct);
    }

    public async Task<CompanyResponse[]> CompaniesAsync(OrganizationId org, CancellationToken ct)
    {
        var rows = await db.Database.SqlQuery<CompanyRow>($"""
            SELECT id AS "Id", name AS "Name", portal_access AS "PortalAccess", created_at AS "CreatedAt"
            FROM companies WHERE organization_id = {org.Value} ORDER BY lower(name)
            """).ToListAsync(ct);
        var result = new List<CompanyResponse>();
        foreach (var r in rows)
        {
            result.Add(new CompanyResponse(r.Id.ToString(), r.Name, r.PortalAccess, ApiFormat.Format(r.CreatedAt),
                await ContactsAsync(org, null, r.Id, 500, ct)));
        }

        return [.. result];
    }

    public async Task<Result<CompanyResponse>> CompanyAsync(OrganizationId org, string id, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid))
        {
            return DomainError.NotFound("Company");
        }

        var rows = await db.Database.SqlQuery<CompanyRow>($"""
            SELECT id AS "Id", name AS "Name", portal_access AS "PortalAccess", created_at AS "CreatedAt"
            FROM companies WHERE organization_id = {org.Value} AND id = {guid}
            """).ToListAsync(ct);
        return rows.Count == 0
            ? DomainError.NotFound("Company")
            : new CompanyResponse(rows[0].Id.ToString(), rows[0].Name, rows[0].PortalAccess, ApiFormat.Format(rows[0].CreatedAt),
                await ContactsAsync(org, null, guid, 500, ct));
    }

    public async Task<Result<CompanyResponse>> CreateCompanyAsync(OrganizationId org, CompanyRequest request, CancellationToken ct)
    {
        if (!ApiFormat.TryText(request.Name, MaxCompanyName, out var name))
        {
            return DomainError.Validation("name", $"is required (1-{MaxCompanyName} characters)");
        }

        var id = Guid.CreateVersion7();
        var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO companies (id, organization_id, name, portal_access, created_at)
            VALUES ({id}, {org.Value}, {name}, {request.PortalAccess ?? false}, {clock.GetCurrentInstant()})
            ON CONFLICT DO NOTHING
            """, ct);
        return inserted == 0
            ? DomainError.Conflict("company_exists", $"A company named \"{name}\" already exists.")
            : await CompanyAsync(org, id.ToString(), ct);
    }

    public async Task<Result<CompanyResponse>> UpdateCompanyAsync(OrganizationId org, string id, CompanyRequest request, CancellationToken ct)
    {
        var company = await CompanyAsync(org, id, ct);
        if (!company.IsSuccess)
        {
            return company;
        }

        var guid = Guid.Parse(company.Value.Id);
        if (request.Name is not null)
        {
            if (!ApiFormat.TryText(request.Name, MaxCompanyName, out var name))
            {
                return DomainError.Validation("name", $"is required (1-{MaxCompanyName} characters)");
            }

            try
            {
                await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE companies SET name = {name} WHERE id = {guid}", ct);
            }
            catch (Npgsql.PostgresException ex) when (ex.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation)
            {
                return DomainError.Conflict("company_exists", $"A company named \"{name}\" already exists.");
            }
        }

        if (request.PortalAccess is { } access)
        {
            await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE companies SET portal_access = {access} WHERE id = {guid}", ct);
        }

        return await CompanyAsync(org, id, ct);
    }

    /// <summary>Deletes a company; its contacts stay, without a company.</summary>
    public async Task<bool> DeleteCompanyAsync(OrganizationId org, string id, CancellationToken ct) =>
        Ids.TryParse(id, out var guid)
        && await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM companies WHERE id = {guid} AND organization_id = {org.Value}", ct) > 0;

    private static ContactResponse ToResponse(ContactRow r, PortalMode mode) => new(r.Id.ToString(), r.Name, r.Email, r.CompanyId?.ToString(),
        r.CompanyName, r.PortalAccess, mode == PortalMode.Open || r.PortalAccess || r.CompanyAccess == true);

    private sealed record AccessRow(bool PortalAccess, bool? CompanyAccess);

    private sealed record ContactRow(Guid Id, string Name, string Email, Guid? CompanyId, string? CompanyName, bool PortalAccess, bool? CompanyAccess);

    private sealed record CompanyRow(Guid Id, string Name, bool PortalAccess, Instant CreatedAt);
}

/// <summary>
/// Administrators choose who may use the portal and manage contacts' grants and companies:
/// <c>GET/PUT /portal-settings</c>, <c>GET /customers</c>, <c>GET/PUT /customers/{id}</c>, <c>/companies</c>.
/// </summary>
public static class PortalAccessEndpoints
{
    public const int MaxContacts = 500;

    public static void MapPortalAccess(this IEndpointRouteBuilder api)
    {
        var settings = api.MapGroup("/portal-settings").WithTags("Portal access").RequireAuthorization(ApiKeys.AdministratorPolicy);
        settings.MapGet("/", async (HttpContext http, PortalAccessService s, CancellationToken ct) =>
            TypedResults.Ok(new PortalSettingsResponse(PortalAccessService.Name(await s.ModeAsync(Me(http).OrganizationId, ct)))));
        settings.MapPut("/", SetModeAsync);

        var customers = api.MapGroup("/customers").WithTags("Portal access").RequireAuthorization(ApiKeys.AdministratorPolicy);
        customers.MapGet("/", async (string? search, string? companyId, int? limit, HttpContext http, PortalAccessService s, CancellationToken ct) =>
            TypedResults.Ok(await s.ContactsAsync(Me(http).OrganizationId, search, Ids.TryParse(companyId, out var c) ? c : null,
                Math.Clamp(limit ?? 100, 1, MaxContacts), ct)));
        customers.MapGet("/{id}", async Task<Results<Ok<ContactResponse>, ProblemHttpResult>> (string id, HttpContext http, PortalAccessService s, CancellationToken ct) =>
            Reply(await s.ContactAsync(Me(http).OrganizationId, id, ct)));
        customers.MapPut("/{id}", async Task<Results<Ok<ContactResponse>, ProblemHttpResult>> (string id, ContactAccessRequest body, HttpContext http,
            PortalAccessService s, CancellationToken ct) => Reply(await s.UpdateContactAsync(Me(http).OrganizationId, id, body, ct)));

        var companies = api.MapGroup("/companies").WithTags("Portal access").RequireAuthorization(ApiKeys.AdministratorPolicy);
        companies.MapGet("/", async (HttpContext http, PortalAccessService s, CancellationToken ct) =>
            TypedResults.Ok(await s.CompaniesAsync(Me(http).OrganizationId, ct)));
        companies.MapPost("/", async Task<Results<Created<CompanyResponse>, ProblemHttpResult>> (CompanyRequest body, HttpContext http,
            PortalAccessService s, CancellationToken ct) =>
        {
            var created = await s.CreateCompanyAsync(Me(http).OrganizationId, body, ct);
            return created.IsSuccess ? TypedResults.Created($"/api/v1/companies/{created.Value.Id}", created.Value) : Problems.From(created.Error!);
        });
        companies.MapGet("/{id}", async Task<Results<Ok<CompanyResponse>, ProblemHttpResult>> (string id, HttpContext http, PortalAccessService s,
            CancellationToken ct) => Reply(await s.CompanyAsync(Me(http).OrganizationId, id, ct)));
        companies.MapPut("/{id}", async Task<Results<Ok<CompanyResponse>, ProblemHttpResult>> (string id, CompanyRequest body, HttpContext http,
            PortalAccessService s, CancellationToken ct) => Reply(await s.UpdateCompanyAsync(Me(http).OrganizationId, id, body, ct)));
        companies.MapDelete("/{id}", async Task<Results<NoContent, ProblemHttpResult>> (string id, HttpContext http, PortalAccessService s,
            CancellationToken ct) => await s.DeleteCompanyAsync(Me(http).OrganizationId, id, ct) ? TypedResults.NoContent() : Problems.NotFound("Company"));
    }

    private static async Task<Results<Ok<PortalSettingsResponse>, ProblemHttpResult>> SetModeAsync(PortalSettingsRequest body, HttpContext http,
        PortalAccessService s, CancellationToken ct)
    {
        var org = Me(http).OrganizationId;
        var set = await s.SetModeAsync(org, body.Mode, ct);
        return set.IsSuccess ? TypedResults.Ok(new PortalSettingsResponse(PortalAccessService.Name(await s.ModeAsync(org, ct)))) : Problems.From(set.Error!);
    }

    private static Results<Ok<T>, ProblemHttpResult> Reply<T>(Result<T> result) =>
        result.IsSuccess ? TypedResults.Ok(result.Value) : Problems.From(result.Error!);

    private static CurrentUser Me(HttpContext http) => CurrentUser.From(http.User);
}

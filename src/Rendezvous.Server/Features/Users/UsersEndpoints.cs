using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Users;

public sealed record CreateUserRequest(string? Name, string? Email, string? TimeZone, string? Role);

public sealed record UserResponse(string Id, string Name, string Email, string TimeZone, string Role, string CreatedAt);

/// <summary>
/// A new API key: its name, its scopes ("bookings:read", "pages:write", ...; omitted: the scopes of the caller's own key or
/// token) and when it expires (omitted: never).
/// </summary>
public sealed record CreateApiKeyRequest(string? Name, string[]? Scopes = null, string? ExpiresAt = null);

/// <summary>A password for the web application (10 to 200 characters).</summary>
public sealed record SetUserPasswordRequest(string? Password);

/// <summary>An API key; <c>key</c>, the secret itself, is there only in the answer that created it.</summary>
public sealed record ApiKeyResponse(string Id, string UserId, string Name, string Prefix, string CreatedAt, string? Key,
    string[] Scopes, string? ExpiresAt, string? LastUsedAt, string? RevokedAt);

public sealed record BusyBlockRequest(string? Start, string? End, string? Note);

public sealed record BusyBlockResponse(string Id, string UserId, string Start, string End, string Source, string? Note);

/// <summary>Team members, their API keys, and their time off (busy blocks).</summary>
public static class UsersEndpoints
{
    public static void MapUsers(this IEndpointRouteBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users");
        users.MapPost("/", CreateAsync).RequireAuthorization(ApiKeys.AdministratorPolicy);
        users.MapGet("/", ListAsync);
        users.MapGet("/{id}", GetAsync);
        users.MapPost("/{id}/api-keys", CreateKeyAsync).RequireAuthorization(ApiKeys.AdministratorPolicy);
        users.MapGet("/{id}/api-keys", ListKeysAsync).RequireAuthorization(ApiKeys.AdministratorPolicy);
        users.MapDelete("/{id}/api-keys/{keyId}", RevokeKeyAsync).RequireAuthorization(ApiKeys.AdministratorPolicy);
        users.MapPut("/{id}/password", SetPasswordAsync).RequireAuthorization(ApiKeys.AdministratorPolicy);
        users.MapGet("/{id}/busy-blocks", ListBusyAsync);
        users.MapPost("/{id}/busy-blocks", AddBusyAsync);
        users.MapDelete("/{id}/busy-blocks/{blockId}", DeleteBusyAsync);
    }

    public static UserResponse ToResponse(User u) =>
        new(u.Id.ToString(), u.Name, u.Email, u.TimeZoneId, u.IsAdministrator ? "administrator" : "member", ApiFormat.Format(u.CreatedAt));

    private static async Task<Results<Created<UserResponse>, ProblemHttpResult>> CreateAsync(
        CreateUserRequest request, RendezvousDbContext db, IClock clock, HttpContext http, CancellationToken ct)
    {
        var created = await CreateUserAsync(request, CurrentUser.From(http.User), db, clock, ct);
        return created.IsSuccess
            ? TypedResults.Created($"/api/v1/users/{created.Value.Id}", ToResponse(created.Value))
            : Problems.From(created.Error!);
    }

    /// <summary>Checks and adds a user to the caller's organization (the API and the web application share it).</summary>
    internal static async Task<Result<User>> CreateUserAsync(CreateUserRequest request, CurrentUser me, RendezvousDbContext db, IClock clock,
        CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (!ApiFormat.TryText(request.Name, 200, out var name))
        {
            errors.Add(new("name", "is required (1-200 characters)"));
        }

        if (!ApiFormat.TryNormalizeEmail(request.Email, out var email))
        {
            errors.Add(new("email", "must be a valid email address"));
        }

        if (TimeZones.Find(request.TimeZone) is null)
        {
            errors.Add(new("timeZone", "must be an IANA time zone id such as Europe/London"));
        }

        UserRole role = UserRole.Member;
        if (request.Role is not null && !TryParseRole(request.Role, out role))
        {
            errors.Add(new("role", "must be administrator or member"));
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        if (await db.Users.AnyAsync(u => u.Email == email, ct))
        {
            return DomainError.Conflict("email_taken", "A user with this email already exists in the organization.");
        }

        var user = new User(UserId.New(), me.OrganizationId, name, email, request.TimeZone!, role, clock.GetCurrentInstant());
        db.Users.Add(user);
        await db.SaveChangesAsync(ct);
        return user;
    }

    private static async Task<Ok<UserResponse[]>> ListAsync(RendezvousDbContext db, CancellationToken ct)
    {
        var all = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);
        return TypedResults.Ok(all.Select(ToResponse).ToArray());
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetAsync(string id, RendezvousDbContext db, CancellationToken ct)
    {
        var user = await FindAsync(db, id, ct);
        return user is null ? Problems.NotFound("User") : TypedResults.Ok(ToResponse(user));
    }

    public static ApiKeyResponse ToResponse(ApiKey key, string? secret) => new(key.Id.ToString(), key.UserId.ToString(), key.Name,
        key.Prefix, ApiFormat.Format(key.CreatedAt), secret, key.Scopes,
        key.ExpiresAt is { } e ? ApiFormat.Format(e) : null, key.LastUsedAt is { } u ? ApiFormat.Format(u) : null,
        key.RevokedAt is { } r ? ApiFormat.Format(r) : null);

    private static async Task<Results<Created<ApiKeyResponse>, ProblemHttpResult>> CreateKeyAsync(
        string id, CreateApiKeyRequest? request, RendezvousDbContext db, TeamMembers members, IClock clock, HttpContext http,
        CancellationToken ct)
    {
        var user = await FindAsync(db, id, ct);
        if (user is null)
        {
            return Problems.NotFound("User");
        }

        // A key or token hands on only scopes it holds itself, so a narrow key cannot mint a wide one.
        var held = http.User.FindAll(ApiScopes.Claim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        string[] scopes;
        if (request?.Scopes is null)
        {
            scopes = [.. ApiScopes.All.Where(held.Contains)];
        }
        else if (ApiScopes.Normalize(request.Scopes) is { } wanted)
        {
            scopes = wanted;
        }
        else
        {
            return Problems.Validation("scopes", "must list one or more of: " + string.Join(", ", ApiScopes.All));
        }

        if (scopes.FirstOrDefault(s => !held.Contains(s)) is { } beyond)
        {
            return TypedResults.Problem(statusCode: 403, title: "Missing scope.",
                detail: $"A new key may only hold scopes the caller holds; this one lacks {beyond}.",
                extensions: new Dictionary<string, object?> { ["code"] = "insufficient_scope", ["missingScope"] = beyond });
        }

        Instant? expiresAt = null;
        if (request?.ExpiresAt is not null)
        {
            if (!ApiFormat.TryParseInstant(request.ExpiresAt, out var parsed) || parsed <= clock.GetCurrentInstant())
            {
                return Problems.Validation("expiresAt", "must be a date-time with an offset in the future");
            }

            expiresAt = parsed;
        }

        var (key, secret) = await members.CreateApiKeyAsync(user, request?.Name, scopes, expiresAt, ct);
        return TypedResults.Created($"/api/v1/users/{user.Id}/api-keys/{key.Id}", ToResponse(key, secret));
    }

    /// <summary>The user's keys, newest first, revoked ones included (without their secrets, which are never stored).</summary>
    private static async Task<Results<Ok<ApiKeyResponse[]>, ProblemHttpResult>> ListKeysAsync(string id, RendezvousDbContext db,
        HttpContext http, CancellationToken ct)
    {
        var user = await FindAsync(db, id, ct);
        if (user is null)
        {
            return Problems.NotFound("User");
        }

        // API keys are not tenant-filtered: name the organization as well as the user.
        var organization = CurrentUser.From(http.User).OrganizationId;
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.UserId == user.Id && k.OrganizationId == organization)
            .OrderByDescending(k => k.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(keys.Select(k => ToResponse(k, null)).ToArray());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeKeyAsync(string id, string keyId, RendezvousDbContext db,
        IClock clock, HttpContext http, CancellationToken ct)
    {
        var user = await FindAsync(db, id, ct);
        if (user is null || !Guid.TryParse(keyId, out var keyGuid))
        {
            return Problems.NotFound(user is null ? "User" : "API key");
        }

        var organization = CurrentUser.From(http.User).OrganizationId;
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyGuid && k.UserId == user.Id && k.OrganizationId == organization, ct);
        if (key is null)
        {
            return Problems.NotFound("API key");
        }

        key.RevokedAt ??= clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>Administrators set a user's password for the web application (an initial one, or a reset); it clears any lockout.</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> SetPasswordAsync(
        string id, SetUserPasswordRequest request, RendezvousDbContext db, StaffAuth.StaffAccounts accounts, CancellationToken ct)
    {
        var user = await FindAsync(db, id, ct);
        if (user is null)
        {
            return Problems.NotFound("User");
        }

        if (StaffAuth.StaffAccounts.CheckPassword(request.Password) is { } problem)
        {
            return Problems.Validation("password", problem);
        }

        await accounts.SetPasswordAsync(user, request.Password!, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<BusyBlockResponse[]>, ProblemHttpResult>> ListBusyAsync(string id, RendezvousDbContext db, CancellationToken ct)
    {
        var user = await FindAsync(db, id, ct);
        if (user is null)
        {
            return Problems.NotFound("User");
        }

        var blocks = await db.BusyBlocks.AsNoTracking().Where(b => b.UserId == user.Id).OrderBy(b => b.Start).ToListAsync(ct);
        return TypedResults.Ok(blocks.Select(ToResponse).ToArray());
    }

    private static async Task<Results<Created<BusyBlockResponse>, ProblemHttpResult>> AddBusyAsync(
        string id, BusyBlockRequest request, RendezvousDbContext db, TeamMembers members, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var user = await FindAsync(db, id, ct);
        if (user is null)
        {
            return Problems.NotFound("User");
        }

        if (!me.IsAdministrator && me.Id != user.Id)
        {
            return Problems.From(new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only change their own busy time."));
        }

        if (!ApiFormat.TryParseInstant(request.Start, out var start))
        {
            return Problems.Validation("start", "must be a date-time with an offset, e.g. 2027-03-15T09:00:00-04:00");
        }

        if (!ApiFormat.TryParseInstant(request.End, out var end))
        {
            return Problems.Validation("end", "must be a date-time with an offset after start (at most 366 days later)");
        }

        var added = await members.AddBusyBlockAsync(me, user, start, end, request.Note, ct);
        return added.IsSuccess
            ? TypedResults.Created($"/api/v1/users/{user.Id}/busy-blocks/{added.Value.Id}", ToResponse(added.Value))
            : Problems.From(added.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteBusyAsync(
        string id, string blockId, RendezvousDbContext db, TeamMembers members, HttpContext http, CancellationToken ct)
    {
        var user = await FindAsync(db, id, ct);
        if (user is null || !Guid.TryParse(blockId, out var bid))
        {
            return Problems.NotFound("Busy block");
        }

        var removed = await members.RemoveBusyBlockAsync(CurrentUser.From(http.User), user, bid, manualOnly: false, ct);
        return removed.IsSuccess ? TypedResults.NoContent() : Problems.From(removed.Error!);
    }

    private static BusyBlockResponse ToResponse(BusyBlock b) =>
        new(b.Id.ToString(), b.UserId.ToString(), ApiFormat.Format(b.Start), ApiFormat.Format(b.End), b.Source, b.Note);

    internal static async Task<User?> FindAsync(RendezvousDbContext db, string id, CancellationToken ct)
    {
        if (!Ids.TryParse(id, out var guid))
        {
            return null;
        }

        var userId = new UserId(guid);
        return await db.Users.FirstOrDefaultAsync(u => u.Id == userId, ct);
    }

    internal static bool TryParseRole(string text, out UserRole role)
    {
        role = text.ToLowerInvariant() switch
        {
            "administrator" => UserRole.Administrator,
            "member" => UserRole.Member,
            _ => (UserRole)(-1),
        };
        return role != (UserRole)(-1);
    }
}

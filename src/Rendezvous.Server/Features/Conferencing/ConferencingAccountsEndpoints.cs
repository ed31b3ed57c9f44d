using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Conferencing;
using Rendezvous.Domain;
using Rendezvous.Domain.Conferencing;
using Rendezvous.Integrations.Conferencing;
using Rendezvous.Server.Features.Users;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Conferencing;

/// <summary>
/// Connects a user's conferencing account with tokens obtained elsewhere (the OAuth consent screen is not part of this
/// API): <c>accessToken</c>, optionally <c>refreshToken</c>, <c>expiresInSeconds</c> and <c>externalUserId</c> (the user's id
/// or email in the service).
/// </summary>
public sealed record ConferencingAccountRequest(
    string? UserId,
    string? Provider,
    string? AccessToken,
    string? RefreshToken,
    int? ExpiresInSeconds,
    string? ExternalUserId);

/// <summary>An account as the API shows it; tokens are never returned.</summary>
public sealed record ConferencingAccountResponse(
    string Id,
    string UserId,
    string Provider,
    string? ExternalUserId,
    bool HasRefreshToken,
    string? AccessTokenExpiresAt,
    string? LastError,
    string CreatedAt,
    string UpdatedAt);

/// <summary>
/// Conferencing accounts, one per user and service. Members manage their own; administrators everyone's. Tokens are
/// encrypted at rest with Data Protection and never returned.
/// </summary>
public static class ConferencingAccountsEndpoints
{
    public static void MapConferencingAccounts(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/conferencing-accounts").WithTags("Conferencing accounts");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPut("/{id}", UpdateAsync);
        group.MapDelete("/{id}", DeleteAsync);
    }

    public static ConferencingAccountResponse ToResponse(ConferencingAccount a) => new(
        a.Id.ToString(), a.UserId.ToString(), ConferencingProviders.ApiName(a.Provider), a.ExternalUserId, a.ProtectedRefreshToken is not null,
        a.AccessTokenExpiresAt is { } e ? ApiFormat.Format(e) : null, a.LastError, ApiFormat.Format(a.CreatedAt), ApiFormat.Format(a.UpdatedAt));

    internal static async Task<Results<Created<ConferencingAccountResponse>, ProblemHttpResult>> CreateAsync(
        ConferencingAccountRequest request, RendezvousDbContext db, Secrets secrets, IClock clock, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var input = await ValidateAsync(request, null, me, db, ct);
        if (!input.IsSuccess)
        {
            return Problems.From(input.Error!);
        }

        var v = input.Value;
        if (await db.ConferencingAccounts.AnyAsync(a => a.UserId == v.UserId && a.Provider == v.Provider, ct))
        {
            return Problems.From(DomainError.Conflict("already_connected",
                $"This user already has a {ConferencingProviders.DisplayName(v.Provider)} account; replace its tokens with PUT or delete it first."));
        }

        var now = clock.GetCurrentInstant();
        var account = new ConferencingAccount
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = me.OrganizationId,
            UserId = v.UserId,
            Provider = v.Provider,
            ExternalUserId = v.ExternalUserId,
            ProtectedAccessToken = secrets.ProtectConferencingToken(v.AccessToken),
            ProtectedRefreshToken = v.RefreshToken is null ? null : secrets.ProtectConferencingToken(v.RefreshToken),
            AccessTokenExpiresAt = v.ExpiresIn is { } s ? now + Duration.FromSeconds(s) : null,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.ConferencingAccounts.Add(account);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/conferencing-accounts/{account.Id}", ToResponse(account));
    }

    internal static async Task<Ok<ConferencingAccountResponse[]>> ListAsync(RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var all = await db.ConferencingAccounts.AsNoTracking()
            .Where(a => me.IsAdministrator || a.UserId == me.Id)
            .OrderBy(a => a.CreatedAt)
            .ToListAsync(ct);
        return TypedResults.Ok(all.Select(ToResponse).ToArray());
    }

    private static async Task<Results<Ok<ConferencingAccountResponse>, ProblemHttpResult>> GetAsync(
        string id, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var found = await FindAsync(id, db, CurrentUser.From(http.User), ct);
        return found.IsSuccess ? TypedResults.Ok(ToResponse(found.Value)) : Problems.From(found.Error!);
    }

    /// <summary>Replaces the tokens (a reconnect); the provider and user stay.</summary>
    internal static async Task<Results<Ok<ConferencingAccountResponse>, ProblemHttpResult>> UpdateAsync(
        string id, ConferencingAccountRequest request, RendezvousDbContext db, Secrets secrets, IClock clock, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var found = await FindAsync(id, db, me, ct);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var account = found.Value;
        var input = await ValidateAsync(request with { UserId = account.UserId.ToString(), Provider = request.Provider ?? ConferencingProviders.ApiName(account.Provider) },
            account, me, db, ct);
        if (!input.IsSuccess)
        {
            return Problems.From(input.Error!);
        }

        var v = input.Value;
        var now = clock.GetCurrentInstant();
        account.ProtectedAccessToken = secrets.ProtectConferencingToken(v.AccessToken);
        account.ProtectedRefreshToken = v.RefreshToken is null ? account.ProtectedRefreshToken : secrets.ProtectConferencingToken(v.RefreshToken);
        account.AccessTokenExpiresAt = v.ExpiresIn is { } s ? now + Duration.FromSeconds(s) : null;
        account.ExternalUserId = v.ExternalUserId ?? account.ExternalUserId;
        account.LastError = null;
        account.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResponse(account));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var found = await FindAsync(id, db, CurrentUser.From(http.User), ct);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        db.ConferencingAccounts.Remove(found.Value);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static Task<Result<ConferencingAccount>> FindAsync(string id, RendezvousDbContext db, CurrentUser me, CancellationToken ct) =>
        Owned.FindAsync(id, "Conferencing account", guid => db.ConferencingAccounts.FirstOrDefaultAsync(x => x.Id == guid, ct), x => x.UserId, me);

    private sealed record Valid(UserId UserId, ConferencingProvider Provider, string AccessToken, string? RefreshToken, int? ExpiresIn, string? ExternalUserId);

    private static async Task<Result<Valid>> ValidateAsync(ConferencingAccountRequest r, ConferencingAccount? existing, CurrentUser me,
        RendezvousDbContext db, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var userId = me.Id;
        if (r.UserId is not null)
        {
            var user = await UsersEndpoints.FindAsync(db, r.UserId, ct);
            if (user is null)
            {
                errors.Add(new("userId", "is not a user of this organization"));
            }
            else
            {
                userId = user.Id;
            }
        }

        if (!ConferencingProviders.TryParse(r.Provider, out var provider))
        {
            errors.Add(new("provider", "must be zoom, gotomeeting or webex"));
        }
        else if (existing is not null && provider != existing.Provider)
        {
            errors.Add(new("provider", "cannot change; connect the other service as a new account"));
        }

        if (string.IsNullOrWhiteSpace(r.AccessToken) || r.AccessToken.Length > 8000 || r.AccessToken.Any(char.IsControl))
        {
            errors.Add(new("accessToken", "is required (at most 8000 characters)"));
        }

        if (r.RefreshToken is { } refresh && (refresh.Length is 0 or > 8000 || refresh.Any(char.IsControl)))
        {
            errors.Add(new("refreshToken", "must be 1-8000 characters when given"));
        }

        if (r.ExpiresInSeconds is < 1 or > 31_536_000)
        {
            errors.Add(new("expiresInSeconds", "must be between 1 second and a year"));
        }

        if (r.ExternalUserId is { } external && !ApiFormat.TryText(external, 320, out _))
        {
            errors.Add(new("externalUserId", "must be 1-320 characters when given"));
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        if (!me.IsAdministrator && userId != me.Id)
        {
            return new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only connect their own conferencing accounts.");
        }

        return new Valid(userId, provider, r.AccessToken!.Trim(), r.RefreshToken, r.ExpiresInSeconds, r.ExternalUserId?.Trim());
    }
}

using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Users;

/// <summary>
/// A change to a user: null keeps the role as it is (people may not change their own), and null keeps the language of
/// their host emails.
/// </summary>
public sealed record UserChange(string? Name, string? TimeZone, string? Role, string? Language = null);

/// <summary>
/// Changing a user, their API keys and their time off: the one implementation the API endpoints and the web
/// application's pages both call. Each answers with a result; the API turns a failure into problem+json, a page into
/// messages next to its fields.
/// </summary>
public sealed class TeamMembers(RendezvousDbContext db, IClock clock)
{
    /// <summary>The message on <c>role</c> when it is neither administrator nor member (pages word it their own way).</summary>
    public const string UnknownRole = "must be administrator or member";

    /// <summary>Name, time zone and role. The last administrator cannot be demoted (a conflict on <c>role</c>).</summary>
    public async Task<Result<User>> UpdateAsync(User user, UserChange change, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (!ApiFormat.TryText(change.Name, 200, out var name))
        {
            errors.Add(new("name", "is required (1-200 characters)"));
        }

        if (TimeZones.Find(change.TimeZone) is null)
        {
            errors.Add(new("timeZone", "must be an IANA time zone id such as Europe/London"));
        }

        if (change.Language is not null && !Rendezvous.Integrations.Localization.Languages.IsSupported(change.Language))
        {
            errors.Add(new("language", "must be one of en, de, fr, es"));
        }

        var role = user.Role;
        if (change.Role is not null && !UsersEndpoints.TryParseRole(change.Role, out role))
        {
            errors.Add(new("role", UnknownRole));
            role = user.Role;
        }

        if (user.IsAdministrator && role != UserRole.Administrator
            && !await db.Users.AnyAsync(u => u.Role == UserRole.Administrator && u.Id != user.Id, ct))
        {
            errors.Add(new("role", "This is the only administrator; make someone else an administrator first."));
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        var tracked = await db.Users.FirstAsync(u => u.Id == user.Id, ct);
        tracked.Update(name, change.TimeZone!, role);
        if (change.Language is not null)
        {
            tracked.SetLanguage(change.Language);
        }

        await db.SaveChangesAsync(ct);
        return tracked;
    }

    /// <summary>
    /// A new API key for the user and its secret in clear (shown once, only its hash is stored), holding
    /// <paramref name="scopes"/> (already checked: known scopes only) until <paramref name="expiresAt"/> (null: no expiry).
    /// </summary>
    public async Task<(ApiKey Key, string Secret)> CreateApiKeyAsync(User user, string? name, IReadOnlyCollection<string> scopes,
        Instant? expiresAt, CancellationToken ct)
    {
        var secret = ApiKeys.Generate();
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = user.OrganizationId,
            UserId = user.Id,
            Name = ApiFormat.TryText(name, 100, out var clean) ? clean : "API key",
            Prefix = ApiKeys.PrefixOf(secret),
            KeyHash = ApiKeys.Hash(secret),
            Scopes = [.. scopes],
            CreatedAt = clock.GetCurrentInstant(),
            ExpiresAt = expiresAt,
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return (key, secret);
    }

    /// <summary>
    /// Time off for <paramref name="user"/> (a manual busy block): their booking pages offer no times during it. Members
    /// change only their own.
    /// </summary>
    public async Task<Result<BusyBlock>> AddBusyBlockAsync(CurrentUser me, User user, Instant start, Instant end, string? note,
        CancellationToken ct)
    {
        if (!me.IsAdministrator && me.Id != user.Id)
        {
            return NotYours;
        }

        if (end <= start || end - start > Duration.FromDays(366))
        {
            return DomainError.Validation("end", "must be a date-time with an offset after start (at most 366 days later)");
        }

        var block = new BusyBlock
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = user.OrganizationId,
            UserId = user.Id,
            Start = start,
            End = end,
            Source = "manual",
            Note = note is { Length: > 0 and <= 500 } ? note : null,
        };
        db.BusyBlocks.Add(block);
        await db.SaveChangesAsync(ct);
        return block;
    }

    /// <summary>Removes one of the user's busy blocks; <paramref name="manualOnly"/> leaves those read from a calendar.</summary>
    public async Task<Result> RemoveBusyBlockAsync(CurrentUser me, User user, Guid blockId, bool manualOnly, CancellationToken ct)
    {
        if (!me.IsAdministrator && me.Id != user.Id)
        {
            return NotYours;
        }

        var block = await db.BusyBlocks.FirstOrDefaultAsync(b => b.Id == blockId && b.UserId == user.Id && (!manualOnly || b.Source == "manual"), ct);
        if (block is null)
        {
            return DomainError.NotFound("Busy block");
        }

        db.BusyBlocks.Remove(block);
        await db.SaveChangesAsync(ct);
        return Result.Success;
    }

    private static DomainError NotYours => new(ErrorKind.Forbidden, "not_yours", "Members may only change their own busy time.");
}

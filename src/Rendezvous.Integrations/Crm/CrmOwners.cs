using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;

namespace Rendezvous.Integrations.Crm;

/// <summary>
/// Which CRM user stands for a Rendezvous user in one CRM account. An administrator's choice wins; otherwise the CRM's
/// users are searched by the user's email, and the answer (a user or nobody) is kept as a <see cref="CrmUserLink"/> so that
/// not every write asks again and the connection's health can say who matched nobody.
/// </summary>
public static class CrmOwners
{
    /// <summary>How long a match by email is trusted before it is looked up again.</summary>
    public static readonly Duration MatchKeptFor = Duration.FromHours(24);

    /// <summary>How long "nobody has this email" is trusted: shorter, so a user created in the CRM is found soon.</summary>
    public static readonly Duration MissKeptFor = Duration.FromHours(1);

    /// <summary>
    /// The CRM user id for <paramref name="userId"/> in <paramref name="connection"/>'s account, or null when nobody matches
    /// (or the connection names no account). <paramref name="findByEmail"/> asks the CRM; it is called only when the kept
    /// answer is missing, stale, or was for another email.
    /// </summary>
    public static async Task<string?> ResolveAsync(RendezvousDbContext db, CrmConnection connection, UserId userId, Instant now,
        Func<string, CancellationToken, Task<string?>> findByEmail, CancellationToken ct)
    {
        if (connection.AccountId is not { } account)
        {
            return null;
        }

        var link = await db.CrmUserLinks.AcrossTenants().FirstOrDefaultAsync(l =>
            l.OrganizationId == connection.OrganizationId && l.Provider == connection.Provider && l.AccountId == account && l.UserId == userId, ct);
        if (link is { Source: CrmUserLink.Manual })
        {
            return link.ExternalUserId;
        }

        var user = await db.Users.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null)
        {
            return null;
        }

        if (link is not null && string.Equals(link.Email, user.Email, StringComparison.OrdinalIgnoreCase)
            && now - link.CheckedAt < (link.ExternalUserId is null ? MissKeptFor : MatchKeptFor))
        {
            return link.ExternalUserId;
        }

        var found = await findByEmail(user.Email, ct);
        if (link is null)
        {
            link = new CrmUserLink
            {
                OrganizationId = connection.OrganizationId,
                UserId = userId,
                Provider = connection.Provider,
                AccountId = account,
                Source = CrmUserLink.ByEmail,
                CheckedAt = now,
            };
            db.CrmUserLinks.Add(link);
        }

        link.Email = user.Email;
        link.ExternalUserId = found;
        link.CheckedAt = now;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            // Another booking of the same user looked them up at the same moment and kept its answer first: ours is the same.
            db.Entry(link).State = EntityState.Detached;
        }

        return found;
    }
}

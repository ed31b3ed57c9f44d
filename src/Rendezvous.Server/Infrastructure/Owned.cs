using Rendezvous.Domain;

namespace Rendezvous.Server.Infrastructure;

/// <summary>Looks up something a user owns (a calendar connection, a conferencing account) for the caller.</summary>
public static class Owned
{
    /// <summary>
    /// Not found for a malformed id or a missing record (other organizations' records are invisible through the tenant
    /// filter); forbidden when a member asks for another user's; the record otherwise.
    /// </summary>
    public static async Task<Result<T>> FindAsync<T>(string id, string what, Func<Guid, Task<T?>> load, Func<T, UserId> owner, CurrentUser me)
        where T : class
    {
        if (!Guid.TryParse(id, out var guid) || await load(guid) is not { } found)
        {
            return DomainError.NotFound(what);
        }

        return me.IsAdministrator || owner(found) == me.Id
            ? found
            : new DomainError(ErrorKind.Forbidden, "not_yours", $"Members may only see and change their own {what.ToLowerInvariant()}.");
    }
}

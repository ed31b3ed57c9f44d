using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Security;

namespace Rendezvous.Server.Features.StaffAuth;

/// <summary>How a staff sign-in attempt ended.</summary>
public enum SignInStatus
{
    Succeeded,
    /// <summary>Unknown email, no password set, or a wrong password: the answer does not say which.</summary>
    Invalid,
    /// <summary>Too many failures in a row; <see cref="StaffSignIn.LockedUntil"/> says until when.</summary>
    LockedOut,
}

public sealed record StaffSignIn(SignInStatus Status, User? User = null, string? PasswordHash = null, Instant? LockedUntil = null);

/// <summary>
/// Passwords of team members for the web application: hashed with ASP.NET's <see cref="PasswordHasher{TUser}"/>, with a
/// lockout kept by <see cref="SignInThrottle"/> (per client address and per account, decision 0022). The hash lives next
/// to the user (users.password_hash) but outside the domain model, as the portal's customer passwords do.
/// </summary>
public sealed class StaffAccounts(RendezvousDbContext db, SignInThrottle throttle)
{
    public const int MinPasswordLength = 10;
    public const int MaxPasswordLength = 200;

    private static readonly PasswordHasher<User> Hasher = new();

    // Verified against when nobody matches, so an unknown address costs as long as a wrong password.
    private static readonly string DummyHash = Hasher.HashPassword(null!, "not a real password, only for timing");

    /// <summary>Null when the password is acceptable, otherwise why not (for the field "password").</summary>
    public static string? CheckPassword(string? password) =>
        password is { Length: >= MinPasswordLength and <= MaxPasswordLength } && !password.Any(char.IsControl)
            ? null
            : $"must be {MinPasswordLength} to {MaxPasswordLength} characters";

    /// <summary>A short fingerprint of the stored hash: the sign-in cookie carries it, so changing the password ends other sessions.</summary>
    public static string StampOf(string? passwordHash) =>
        passwordHash is null ? "" : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(passwordHash)))[..16];

    /// <summary>Sets (or replaces) a user's password and clears any lockout.</summary>
    public async Task SetPasswordAsync(User user, string password, CancellationToken ct)
    {
        var hash = Hasher.HashPassword(user, password);
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"UPDATE users SET password_hash = {hash} WHERE id = {user.Id.Value}", ct);
        await throttle.ClearAsync(SignInThrottle.Staff, user.Id.Value, ct);
    }

    /// <summary>True when <paramref name="password"/> is the user's current password (for changing it while signed in).</summary>
    public async Task<bool> VerifyAsync(User user, string? password, CancellationToken ct) =>
        password is { Length: > 0 and <= MaxPasswordLength } && await PasswordHashAsync(user.Id, ct) is { } hash
        && Hasher.VerifyHashedPassword(user, hash, password) != PasswordVerificationResult.Failed;

    public async Task<bool> HasPasswordAsync(UserId id, CancellationToken ct) =>
        await db.Database.SqlQuery<string?>($"SELECT password_hash AS \"Value\" FROM users WHERE id = {id.Value}").FirstOrDefaultAsync(ct) is not null;

    /// <summary>The current password hash of a user (null when none is set).</summary>
    public async Task<string?> PasswordHashAsync(UserId id, CancellationToken ct) =>
        await db.Database.SqlQuery<string?>($"SELECT password_hash AS \"Value\" FROM users WHERE id = {id.Value}").FirstOrDefaultAsync(ct);

    /// <summary>Users whose lockout is running now (for the whole account or for some address), with its end.</summary>
    public async Task<Dictionary<UserId, Instant>> LockedUsersAsync(OrganizationId organization, CancellationToken ct)
    {
        var ids = await db.Users.AcrossTenants().Where(u => u.OrganizationId == organization).Select(u => u.Id).ToListAsync(ct);
        var locked = await throttle.LockedAsync(SignInThrottle.Staff, ids.Select(i => i.Value).ToArray(), ct);
        return locked.ToDictionary(p => new UserId(p.Key), p => p.Value);
    }

    /// <summary>
    /// Checks an email and password from a client address (see <see cref="SignInThrottle.AddressKey"/>). Users of any
    /// organization with that address and a password are candidates; each is tried only when the throttle lets this
    /// attempt through, so parallel guesses cannot check more passwords than the limits allow (decision 0022).
    /// </summary>
    public async Task<StaffSignIn> SignInAsync(string? email, string? password, string clientAddress, CancellationToken ct)
    {
        if (!Rendezvous.Integrations.ApiFormat.TryNormalizeEmail(email, out var address) || string.IsNullOrEmpty(password) || password.Length > MaxPasswordLength)
        {
            return new StaffSignIn(SignInStatus.Invalid);
        }

        var rows = await db.Database.SqlQuery<AccountRow>($"""
            SELECT id AS "Id", password_hash AS "Hash"
            FROM users WHERE email = {address} AND password_hash IS NOT NULL
            """).ToListAsync(ct);
        if (rows.Count == 0)
        {
            Hasher.VerifyHashedPassword(null!, DummyHash, password);
            return new StaffSignIn(SignInStatus.Invalid);
        }

        Instant? lockedUntil = null;
        var tried = 0;
        foreach (var row in rows)
        {
            var gate = await throttle.TryEnterAsync(SignInThrottle.Staff, row.Id, clientAddress, ct);
            if (gate.LockedUntil is { } until)
            {
                lockedUntil = lockedUntil is { } l && l > until ? l : until;
            }

            if (!gate.Allowed)
            {
                continue;
            }

            tried++;
            var user = await db.Users.AcrossTenants().AsNoTracking().FirstAsync(x => x.Id == new UserId(row.Id), ct);
            var verdict = Hasher.VerifyHashedPassword(user, row.Hash!, password);
            if (verdict == PasswordVerificationResult.Failed)
            {
                continue;
            }

            var hash = verdict == PasswordVerificationResult.SuccessRehashNeeded ? Hasher.HashPassword(user, password) : row.Hash!;
            await throttle.SucceededAsync(SignInThrottle.Staff, row.Id, clientAddress, ct);
            if (!ReferenceEquals(hash, row.Hash))
            {
                await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE users SET password_hash = {hash} WHERE id = {row.Id}", ct);
            }

            return new StaffSignIn(SignInStatus.Succeeded, user, hash);
        }

        // Locked out when a lock runs for a candidate and none was left that could still be tried.
        return lockedUntil is not null && (tried == 0 || rows.Count == 1)
            ? new StaffSignIn(SignInStatus.LockedOut, LockedUntil: lockedUntil)
            : new StaffSignIn(SignInStatus.Invalid);
    }

    private sealed record AccountRow(Guid Id, string? Hash);

}

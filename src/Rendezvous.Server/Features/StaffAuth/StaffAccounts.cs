using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;

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
/// lockout after <see cref="MaxFailures"/> failures in a row for <see cref="LockoutPeriod"/>. The columns live next to the
/// user (users.password_hash, failed_sign_ins, locked_until) but outside the domain model, as the portal's customer
/// passwords do.
/// </summary>
public sealed class StaffAccounts(RendezvousDbContext db, IClock clock)
{
    public const int MinPasswordLength = 10;
    public const int MaxPasswordLength = 200;
    public const int MaxFailures = 5;
    public static readonly Duration LockoutPeriod = Duration.FromMinutes(15);

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
            $"UPDATE users SET password_hash = {hash}, failed_sign_ins = 0, locked_until = NULL WHERE id = {user.Id.Value}", ct);
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

    /// <summary>Users whose lockout is running now, with its end.</summary>
    public async Task<Dictionary<UserId, Instant>> LockedUsersAsync(OrganizationId organization, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var rows = await db.Database.SqlQuery<LockRow>($"""
            SELECT id AS "Id", locked_until AS "Until" FROM users
            WHERE organization_id = {organization.Value} AND locked_until > {now}
            """).ToListAsync(ct);
        return rows.ToDictionary(r => new UserId(r.Id), r => r.Until);
    }

    /// <summary>
    /// Checks an email and password. Users of any organization with that address and a password are candidates; the one
    /// whose password matches signs in. A failure counts against every candidate that is not locked out.
    /// </summary>
    public async Task<StaffSignIn> SignInAsync(string? email, string? password, CancellationToken ct)
    {
        if (!Rendezvous.Integrations.ApiFormat.TryNormalizeEmail(email, out var address) || string.IsNullOrEmpty(password) || password.Length > MaxPasswordLength)
        {
            return new StaffSignIn(SignInStatus.Invalid);
        }

        var now = clock.GetCurrentInstant();
        var rows = await db.Database.SqlQuery<AccountRow>($"""
            SELECT id AS "Id", password_hash AS "Hash", locked_until AS "LockedUntil"
            FROM users WHERE email = {address} AND password_hash IS NOT NULL
            """).ToListAsync(ct);
        if (rows.Count == 0)
        {
            Hasher.VerifyHashedPassword(null!, DummyHash, password);
            return new StaffSignIn(SignInStatus.Invalid);
        }

        Instant? lockedUntil = null;
        var open = new List<AccountRow>();
        foreach (var row in rows)
        {
            var until = row.LockedUntil;
            if (until > now)
            {
                lockedUntil = lockedUntil is { } l && l > until ? l : until;
            }
            else
            {
                open.Add(row);
            }
        }

        foreach (var row in open)
        {
            var user = await db.Users.IgnoreQueryFilters().AsNoTracking().FirstAsync(x => x.Id == new UserId(row.Id), ct);
            var verdict = Hasher.VerifyHashedPassword(user, row.Hash!, password);
            if (verdict == PasswordVerificationResult.Failed)
            {
                continue;
            }

            var hash = verdict == PasswordVerificationResult.SuccessRehashNeeded ? Hasher.HashPassword(user, password) : row.Hash!;
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"UPDATE users SET failed_sign_ins = 0, locked_until = NULL, password_hash = {hash} WHERE id = {row.Id}", ct);
            return new StaffSignIn(SignInStatus.Succeeded, user, hash);
        }

        var lockUntil = now + LockoutPeriod;
        var stillOpen = 0;
        foreach (var row in open)
        {
            // One statement per user, so concurrent failures are all counted.
            var locked = await db.Database.SqlQuery<Instant?>($"""
                UPDATE users SET
                    failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= {MaxFailures} THEN 0 ELSE failed_sign_ins + 1 END,
                    locked_until = CASE WHEN failed_sign_ins + 1 >= {MaxFailures} THEN {lockUntil} ELSE NULL END
                WHERE id = {row.Id} AND (locked_until IS NULL OR locked_until <= {now})
                RETURNING locked_until AS "Value"
                """).ToListAsync(ct);
            if (locked is [{ } end])
            {
                lockedUntil = lockedUntil is { } l && l > end ? l : end;
            }
            else
            {
                stillOpen++;
            }
        }

        // Locked out only when no candidate can still be tried.
        return stillOpen == 0 && lockedUntil is not null
            ? new StaffSignIn(SignInStatus.LockedOut, LockedUntil: lockedUntil)
            : new StaffSignIn(SignInStatus.Invalid);
    }

    private sealed record AccountRow(Guid Id, string? Hash, Instant? LockedUntil);

    private sealed record LockRow(Guid Id, Instant Until);
}

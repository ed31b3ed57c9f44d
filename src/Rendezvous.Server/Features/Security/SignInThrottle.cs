using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Data;

namespace Rendezvous.Server.Features.Security;

/// <summary>Limits of <see cref="SignInThrottle"/> (section "Rendezvous:SignIn"); decision 0022 explains them.</summary>
public sealed class SignInThrottleOptions
{
    /// <summary>Password checks one client address may make against one account before that pairing is locked.</summary>
    public int MaxFailuresPerAddress { get; set; } = 5;

    /// <summary>Password checks against one account from all addresses together before the whole account is locked.</summary>
    public int MaxFailuresPerAccount { get; set; } = 50;

    public int LockoutMinutes { get; set; } = 15;
}

/// <summary>The answer of <see cref="SignInThrottle.TryEnterAsync"/>: whether the password may be checked, and the lock otherwise.</summary>
public sealed record SignInGate(bool Allowed, Instant? LockedUntil);

/// <summary>
/// Decides, before a password is checked, whether the guess may be tried at all. Each attempt is counted first, in one
/// atomic upsert per counter, so that parallel guesses cannot all read "four failures so far" and all go ahead: the
/// database hands out the numbers 1, 2, 3... and only those up to the limit are checked. A success clears the counters.
/// </summary>
public sealed class SignInThrottle
{
    public const string Staff = "staff";
    public const string Portal = "portal";
    private const string AccountWide = "*";

    private readonly RendezvousDbContext _db;
    private readonly IClock _clock;
    private readonly SignInThrottleOptions _options;
    private readonly Counter<long> _checks;

    public SignInThrottle(RendezvousDbContext db, IClock clock, IOptions<SignInThrottleOptions> options, IMeterFactory meters)
    {
        _db = db;
        _clock = clock;
        _options = options.Value;
        _checks = meters.Create("Rendezvous.SignIn").CreateCounter<long>("rendezvous.sign_in.password_checks",
            description: "Passwords checked against a stored hash (attempts refused by the lockout are not checked).");
    }

    /// <summary>
    /// The key a client address is counted under: the IPv4 address, or the /64 prefix of an IPv6 address (one home or
    /// one server usually holds a whole /64, so counting single IPv6 addresses would be no limit at all).
    /// </summary>
    public static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>Counts an attempt against the (account, address) pairing and then the account; allowed only when both are under their limits.</summary>
    public async Task<SignInGate> TryEnterAsync(string kind, Guid account, string address, CancellationToken ct)
    {
        var pair = await CountAsync(kind, account, address, _options.MaxFailuresPerAddress, ct);
        if (pair.Failures > _options.MaxFailuresPerAddress)
        {
            return new SignInGate(false, pair.LockedUntil);
        }

        var whole = await CountAsync(kind, account, AccountWide, _options.MaxFailuresPerAccount, ct);
        if (whole.Failures > _options.MaxFailuresPerAccount)
        {
            return new SignInGate(false, whole.LockedUntil);
        }

        _checks.Add(1, new KeyValuePair<string, object?>("kind", kind));
        return new SignInGate(true, Later(pair.LockedUntil, whole.LockedUntil));
    }

    /// <summary>The password was right: the failures in a row end, for this address and for the account.</summary>
    public Task SucceededAsync(string kind, Guid account, string address, CancellationToken ct) =>
        _db.Database.ExecuteSqlInterpolatedAsync(
            $"DELETE FROM sign_in_failures WHERE kind = {kind} AND account_id = {account} AND address IN ({address}, {AccountWide})", ct);

    /// <summary>A new password set by an administrator (or by the customer) lifts every lock on the account.</summary>
    public Task ClearAsync(string kind, Guid account, CancellationToken ct) =>
        _db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM sign_in_failures WHERE kind = {kind} AND account_id = {account}", ct);

    /// <summary>Accounts of <paramref name="kind"/> among <paramref name="accounts"/> with a lock running now (for any address), with its latest end.</summary>
    public async Task<Dictionary<Guid, Instant>> LockedAsync(string kind, Guid[] accounts, CancellationToken ct)
    {
        var now = _clock.GetCurrentInstant();
        var rows = await _db.Database.SqlQuery<LockRow>($"""
            SELECT account_id AS "Id", max(locked_until) AS "Until" FROM sign_in_failures
            WHERE kind = {kind} AND account_id = ANY({accounts}) AND locked_until > {now}
            GROUP BY account_id
            """).ToListAsync(ct);
        return rows.ToDictionary(r => r.Id, r => r.Until);
    }

    private async Task<CountRow> CountAsync(string kind, Guid account, string address, int max, CancellationToken ct)
    {
        var now = _clock.GetCurrentInstant();
        var lockUntil = now + Duration.FromMinutes(_options.LockoutMinutes);
        // One statement: the row lock taken by ON CONFLICT DO UPDATE serializes concurrent attempts, and each gets its
        // own number. A lock that has run out starts the count again at 1. The attempt that reaches the limit is still
        // checked and starts the lock, so a wrong fifth guess already answers "locked".
        var rows = await _db.Database.SqlQuery<CountRow>($"""
            INSERT INTO sign_in_failures AS f (kind, account_id, address, failures, locked_until)
            VALUES ({kind}, {account}, {address}, 1, CASE WHEN 1 >= {max} THEN {lockUntil} END)
            ON CONFLICT (kind, account_id, address) DO UPDATE SET
                failures = CASE WHEN f.locked_until <= {now} THEN 1 ELSE f.failures + 1 END,
                locked_until = CASE
                    WHEN f.locked_until > {now} THEN f.locked_until
                    WHEN (CASE WHEN f.locked_until <= {now} THEN 1 ELSE f.failures + 1 END) >= {max} THEN {lockUntil}
                    ELSE NULL END
            RETURNING failures AS "Failures", locked_until AS "LockedUntil"
            """).ToListAsync(ct);
        return rows[0];
    }

    private static Instant? Later(Instant? a, Instant? b) => a is null ? b : b is null ? a : Instant.Max(a.Value, b.Value);

    private sealed record CountRow(int Failures, Instant? LockedUntil);

    private sealed record LockRow(Guid Id, Instant Until);
}

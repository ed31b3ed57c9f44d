using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Server.Workers;

namespace Rendezvous.Server.Features.Outbox;

/// <summary>What a replay of one message found.</summary>
public enum OutboxReplayOutcome
{
    Replayed,
    NotFound,
    NotDead,
}

/// <summary>
/// Reads and replays one organization's outbox messages, for the API and the web app. A replay gives a dead message a
/// fresh set of attempts, due now, and keeps its handled-by list, so only the handlers that had not succeeded run again.
/// </summary>
public sealed class OutboxAdministration(RendezvousDbContext db, IClock clock, OutboxSignal signal)
{
    /// <summary>The states a list can ask for; <c>failing</c> is dead and retrying together.</summary>
    public static IReadOnlyList<string> States { get; } = ["failing", "dead", "retrying", "running", "pending", "done"];

    public async Task<List<OutboxMessage>> ListAsync(OrganizationId org, string state, string? type, int limit, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var query = db.OutboxMessages.AsNoTracking().Where(m => m.OrganizationId == org);
        query = state switch
        {
            "dead" => query.Where(m => m.DeadAt != null),
            "retrying" => query.Where(m => m.DeadAt == null && m.ProcessedAt == null && m.LastError != null && !(m.LeaseUntil > now)),
            "running" => query.Where(m => m.DeadAt == null && m.ProcessedAt == null && m.LeaseUntil > now),
            "pending" => query.Where(m => m.DeadAt == null && m.ProcessedAt == null && m.LastError == null && !(m.LeaseUntil > now)),
            "done" => query.Where(m => m.ProcessedAt != null),
            _ => query.Where(m => m.DeadAt != null || (m.ProcessedAt == null && m.LastError != null)),
        };
        if (!string.IsNullOrEmpty(type))
        {
            query = query.Where(m => m.Type == type);
        }

        return await query.OrderByDescending(m => m.Id).Take(limit).ToListAsync(ct);
    }

    /// <summary>How many of the organization's messages are dead and how many wait for a retry, per type.</summary>
    public async Task<List<(string Type, int Dead, int Retrying)>> CountsAsync(OrganizationId org, CancellationToken ct)
    {
        var rows = await db.OutboxMessages.AsNoTracking()
            .Where(m => m.OrganizationId == org && (m.DeadAt != null || (m.ProcessedAt == null && m.LastError != null)))
            .GroupBy(m => m.Type)
            .Select(g => new { Type = g.Key, Dead = g.Count(m => m.DeadAt != null), Retrying = g.Count(m => m.DeadAt == null) })
            .OrderBy(g => g.Type)
            .ToListAsync(ct);
        return [.. rows.Select(r => (r.Type, r.Dead, r.Retrying))];
    }

    public Task<OutboxMessage?> FindAsync(OrganizationId org, long id, CancellationToken ct) =>
        db.OutboxMessages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.OrganizationId == org, ct);

    public async Task<OutboxReplayOutcome> ReplayAsync(OrganizationId org, long id, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var replayed = await db.OutboxMessages
            .Where(m => m.Id == id && m.OrganizationId == org && m.DeadAt != null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeadAt, (Instant?)null).SetProperty(m => m.Attempts, 0).SetProperty(m => m.AvailableAt, now), ct);
        if (replayed > 0)
        {
            signal.Notify();
            return OutboxReplayOutcome.Replayed;
        }

        return await db.OutboxMessages.AnyAsync(m => m.Id == id && m.OrganizationId == org, ct) ? OutboxReplayOutcome.NotDead : OutboxReplayOutcome.NotFound;
    }

    /// <summary>Replays every dead message of the organization with this type; returns how many.</summary>
    public async Task<int> ReplayTypeAsync(OrganizationId org, string type, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var replayed = await db.OutboxMessages
            .Where(m => m.OrganizationId == org && m.Type == type && m.DeadAt != null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeadAt, (Instant?)null).SetProperty(m => m.Attempts, 0).SetProperty(m => m.AvailableAt, now), ct);
        if (replayed > 0)
        {
            signal.Notify();
        }

        return replayed;
    }

    public static string StateOf(OutboxMessage m, Instant now) => m switch
    {
        { DeadAt: not null } => "dead",
        { ProcessedAt: not null } => "done",
        { LeaseUntil: { } lease } when lease > now => "running",
        { LastError: not null } => "retrying",
        _ => "pending",
    };
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;

namespace Rendezvous.Server.Features.CalendarSync;

/// <summary>
/// Wakes the sync of a connection now instead of at its next poll, when a calendar service says something changed.
/// The wake-up is written to the database (so whichever process holds or next claims the connection sees it) and
/// signalled to this process's worker, which then claims at once.
/// </summary>
public sealed class CalendarSyncWakeups(IServiceScopeFactory scopes, IClock clock)
{
    private readonly SemaphoreSlim _signal = new(0);

    public async Task WakeAsync(Guid connectionId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
        var now = clock.GetCurrentInstant();
        // woken_at survives a round that is running right now: the engine looks again at once after it. A connection
        // in backoff stays in backoff, so a flood of notifications cannot hammer a failing service.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE calendar_connections
            SET woken_at = {now}, next_sync_at = CASE WHEN consecutive_failures = 0 AND next_sync_at > {now} THEN {now} ELSE next_sync_at END
            WHERE id = {connectionId}
            """, ct);
        Signal();
    }

    /// <summary>Wakes the connection whose calendar holds the push subscription <paramref name="channelId"/>, when
    /// <paramref name="token"/> is the secret it was made with. Returns false for unknown channels or wrong tokens.</summary>
    public async Task<bool> WakeChannelAsync(string channelId, string? token, CancellationToken ct) =>
        await WakeChannelAsync(channelId, token, PushLifecycle.Changed, ct);

    /// <summary>
    /// As <see cref="WakeChannelAsync(string, string?, CancellationToken)"/>, and first acts on a lifecycle signal: a
    /// subscription that needs renewing is marked as expiring now (the round renews it), one the service removed is
    /// forgotten (the round makes a new one); missed notifications need nothing more than the sync itself.
    /// </summary>
    public async Task<bool> WakeChannelAsync(string channelId, string? token, PushLifecycle lifecycle, CancellationToken ct)
    {
        Guid? connectionId;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
            var state = await db.CalendarSyncStates.AsNoTracking().FirstOrDefaultAsync(s => s.PushChannelId == channelId, ct);
            connectionId = state is { PushToken: { } expected } && token is not null
                && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(token))
                    ? state.ConnectionId
                    : null;
        }

        if (connectionId is not { } id)
        {
            return false;
        }

        if (lifecycle is PushLifecycle.RenewNow or PushLifecycle.Removed)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RendezvousDbContext>();
            var now = clock.GetCurrentInstant();
            await (lifecycle == PushLifecycle.RenewNow
                ? db.Database.ExecuteSqlInterpolatedAsync($"UPDATE calendar_sync_states SET push_expires_at = {now} WHERE push_channel_id = {channelId}", ct)
                : db.Database.ExecuteSqlInterpolatedAsync(
                    $"UPDATE calendar_sync_states SET push_channel_id = NULL, push_expires_at = NULL WHERE push_channel_id = {channelId}", ct));
        }

        await WakeAsync(id, ct);
        return true;
    }

    internal void Signal()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    /// <summary>Waits for a wake-up, or <paramref name="timeout"/>, whichever comes first.</summary>
    internal Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

/// <summary>One notification as a provider's push receiver read it.</summary>
/// <param name="ChannelId">The subscription it is about (Graph subscription id, Google channel id).</param>
/// <param name="Token">The secret it carried (Graph clientState, Google X-Goog-Channel-Token).</param>
/// <param name="Lifecycle">What the notification says about the subscription itself (most say only "something changed").</param>
public sealed record PushPing(string ChannelId, string? Token, PushLifecycle Lifecycle = PushLifecycle.Changed);

/// <summary>What a push notification means for its subscription.</summary>
public enum PushLifecycle
{
    /// <summary>Something changed in the calendar (or notifications were missed): sync now.</summary>
    Changed,
    /// <summary>The service wants the subscription renewed or reauthorized soon (Graph reauthorizationRequired).</summary>
    RenewNow,
    /// <summary>The service dropped the subscription (Graph subscriptionRemoved): make a new one.</summary>
    Removed,
}

/// <summary>What a push receiver made of a request: the answer the service expects, and the notifications in it.</summary>
public sealed record PushReceipt(IResult Response, IReadOnlyList<PushPing> Pings);

/// <summary>
/// Reads a provider's push notification requests (<c>POST /api/v1/calendar-push/{name}</c>): answers the service's
/// handshakes (e.g. Graph's validationToken) and lists the subscriptions notified. Registered as a singleton per provider
/// that supports push; <see cref="Name"/> matches its <see cref="Calendars.Providers.ICalendarProvider.Name"/>.
/// </summary>
public interface ICalendarPushReceiver
{
    string Name { get; }

    Task<PushReceipt> ReceiveAsync(HttpRequest request, CancellationToken ct);
}

public static class CalendarPushEndpoints
{
    public static void MapCalendarPush(this IEndpointRouteBuilder api) =>
        api.MapPost("/calendar-push/{provider}", ReceiveAsync).WithTags("Calendar connections").AllowAnonymous().ExcludeFromDescription();

    /// <summary>
    /// Anonymous by necessity (the calendar service calls it): a notification only wakes a sync, and only when it names a
    /// subscription we made and carries that subscription's secret. It never carries data we act on.
    /// </summary>
    private static async Task<IResult> ReceiveAsync(string provider, HttpRequest request, IEnumerable<ICalendarPushReceiver> receivers,
        CalendarSyncWakeups wakeups, CancellationToken ct)
    {
        var receiver = receivers.FirstOrDefault(r => string.Equals(r.Name, provider, StringComparison.OrdinalIgnoreCase));
        if (receiver is null)
        {
            return TypedResults.NotFound();
        }

        var receipt = await receiver.ReceiveAsync(request, ct);
        foreach (var ping in receipt.Pings.DistinctBy(p => (p.ChannelId, p.Lifecycle)))
        {
            await wakeups.WakeChannelAsync(ping.ChannelId, ping.Token, ping.Lifecycle, ct);
        }

        return receipt.Response;
    }
}

/// <summary>Ends a connection's push subscriptions when it is deleted, so the service stops calling us.</summary>
public static class CalendarPushStop
{
    public static async Task StopAllAsync(Domain.Calendars.CalendarConnection connection, RendezvousDbContext db, CalendarProviders providers, CancellationToken ct)
    {
        var states = await db.CalendarSyncStates.AsNoTracking()
            .Where(s => s.ConnectionId == connection.Id && s.PushChannelId != null && s.PushExpiresAt != null).ToListAsync(ct);
        if (states.Count == 0 || !connection.IsSynced || providers.Open(connection) is not { } session)
        {
            return;
        }

        using (session)
        {
            foreach (var state in states)
            {
                try
                {
                    await session.StopPushAsync(state.CalendarUrl, new Calendars.Providers.PushSubscription(state.PushChannelId!, state.PushExpiresAt!.Value, state.ProviderState), ct);
                }
                catch (Calendars.Providers.CalendarProviderException)
                {
                    // Best effort: an unanswered channel expires by itself, and notifications for it find no connection.
                }
            }
        }
    }
}

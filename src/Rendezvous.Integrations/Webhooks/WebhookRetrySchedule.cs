using NodaTime;

namespace Rendezvous.Integrations.Webhooks;

/// <summary>
/// How long to wait after each failed scheduled attempt. The first attempt goes at once; the waits grow so a receiver
/// that is down for a day still gets every event once it is back. Attempt 8 comes about 31.6 hours after the first
/// (more with jitter); when it fails too, the delivery is marked failed.
/// </summary>
public static class WebhookRetrySchedule
{
    /// <summary>The wait after failed attempt 1, 2, ...; after the last one there is no further attempt.</summary>
    public static IReadOnlyList<Duration> Waits { get; } =
    [
        Duration.FromMinutes(1),
        Duration.FromMinutes(5),
        Duration.FromMinutes(30),
        Duration.FromHours(2),
        Duration.FromHours(5),
        Duration.FromHours(10),
        Duration.FromHours(14),
    ];

    /// <summary>Attempts made before giving up.</summary>
    public static int MaxAttempts => Waits.Count + 1;

    /// <summary>
    /// The wait after the failed scheduled attempt number <paramref name="attempt"/> (1-based), with up to 10% added at
    /// random so many deliveries that failed together do not all come back at the same second; null when that was the
    /// last attempt.
    /// </summary>
    public static Duration? WaitAfter(int attempt)
    {
        if (attempt < 1 || attempt > Waits.Count)
        {
            return null;
        }

        var wait = Waits[attempt - 1];
#pragma warning disable CA5394 // Jitter needs no cryptographic randomness.
        var jitter = Random.Shared.NextDouble() * 0.1;
#pragma warning restore CA5394
        return wait + Duration.FromTicks((long)(wait.BclCompatibleTicks * jitter));
    }
}

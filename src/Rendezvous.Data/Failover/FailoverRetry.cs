using Microsoft.Extensions.Logging;

namespace Rendezvous.Data.Failover;

/// <summary>How long a unit of work keeps retrying while the database fails over.</summary>
public sealed class FailoverRetryOptions
{
    /// <summary>
    /// The total wait across retries. It must cover a whole failover: about 15 s with pg_auto_failover's timeouts
    /// lowered, about 50 s with its defaults (docs/RELIABILITY.md).
    /// </summary>
    public TimeSpan Budget { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The wait before the first retry; it doubles up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Runs a unit of work again when the database fails over under it (<see cref="FailoverErrors.IsFailover"/>). The
/// work must be safe to run twice: a commit cut by a failover may have been applied, so each attempt first looks for
/// the previous attempt's result (decision 0029).
/// </summary>
public static partial class FailoverRetry
{
    /// <summary>
    /// Runs <paramref name="attempt"/> (given the attempt number, from 1) until it succeeds, fails with an error that
    /// is not a failover, or the waits between attempts add up to the budget; then the last failure is thrown.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<int, CancellationToken, Task<T>> attempt, FailoverRetryOptions options, ILogger? logger,
        CancellationToken ct)
    {
        var waited = TimeSpan.Zero;
        var delay = options.FirstDelay;
        for (var number = 1; ; number++)
        {
            try
            {
                return await attempt(number, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && FailoverErrors.IsFailover(ex) && waited < options.Budget)
            {
                if (logger is not null)
                {
                    LogRetry(logger, number, delay.TotalMilliseconds, ex.GetType().Name, ex.Message);
                }
            }

            // Jitter spreads the retries of many requests cut by the same failover.
            var wait = delay * (0.75 + (Random.Shared.NextDouble() / 2));
            await Task.Delay(wait, ct).ConfigureAwait(false);
            waited += wait;
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxDelay.Ticks));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unavailable on attempt {Attempt} ({Error}: {Detail}); retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, int attempt, double delayMs, string error, string detail);
}

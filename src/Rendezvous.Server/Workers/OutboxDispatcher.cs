using Microsoft.Extensions.Options;
using Rendezvous.Data.Outbox;

namespace Rendezvous.Server.Workers;

public sealed class WorkerOptions
{
    /// <summary>How often the outbox is polled when nothing in this process signalled new messages.</summary>
    public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    public int OutboxBatchSize { get; set; } = 50;

    /// <summary>How often bookings whose end has passed are marked Completed.</summary>
    public TimeSpan CompletionInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a stored answer to an Idempotency-Key is kept. A client resends within seconds or minutes (a lost
    /// answer, a failover); after this a repeat of the key books again. Pruned on the completion worker's rounds.
    /// </summary>
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Off in tests that drive the workers by hand.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>Wakes the dispatcher when this process has just written outbox rows; other processes find them by polling.</summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled; one wake-up is enough.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

/// <summary>Runs the outbox processor in a loop; any number of server processes can run it against one database.</summary>
public sealed partial class OutboxDispatcher(IServiceScopeFactory scopes, OutboxSignal signal, IOptions<WorkerOptions> options, ILogger<OutboxDispatcher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                claimed = await scope.ServiceProvider.GetRequiredService<OutboxProcessor>().ProcessBatchAsync(o.OutboxBatchSize, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFailed(logger, ex);
            }

            if (claimed < o.OutboxBatchSize)
            {
                try
                {
                    await signal.WaitAsync(o.OutboxPollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox batch failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

using Microsoft.Extensions.Options;
using Rendezvous.Integrations.Webhooks;
using Rendezvous.Server.Workers;

namespace Rendezvous.Server.Features.Webhooks;

/// <summary>
/// Runs <see cref="WebhookDispatcher.ProcessDueAsync"/> in a loop. Off when <c>Rendezvous:Workers:Enabled</c> is false
/// (tests call the dispatcher themselves).
/// </summary>
public sealed partial class WebhookWorker(
    WebhookDispatcher dispatcher, WebhookSignal signal, IOptions<WorkerOptions> workers, IOptions<WebhookOptions> options,
    ILogger<WebhookWorker> logger) : BackgroundService
{
    /// <summary>Sends what is due now, once (one batch); returns how many deliveries were claimed. Tests call this.</summary>
    public Task<int> ProcessDueOnceAsync(CancellationToken cancellationToken) => dispatcher.ProcessDueAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!workers.Value.Enabled)
        {
            return;
        }

        var o = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await dispatcher.ProcessDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFailed(logger, ex);
            }

            if (claimed < o.BatchSize)
            {
                try
                {
                    await signal.WaitAsync(o.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook batch failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

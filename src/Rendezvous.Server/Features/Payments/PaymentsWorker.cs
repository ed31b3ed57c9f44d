using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using Rendezvous.Integrations.Payments;
using Rendezvous.Server.Workers;

namespace Rendezvous.Server.Features.Payments;

/// <summary>
/// The payments' background work, shared by any number of server processes: settles unpaid bookings whose window has
/// closed (leased with SKIP LOCKED, so each is handled by one process), creates orders that could not be created at
/// booking time, and (re)sends pending refunds. Off when <c>Rendezvous:Workers:Enabled</c> is false; tests call
/// <see cref="ProcessOnceAsync"/>.
/// </summary>
public sealed partial class PaymentsWorker(
    IServiceScopeFactory scopes, NpgsqlDataSource dataSource, IClock clock, IOptions<WorkerOptions> workers, IOptions<PayPalOptions> options,
    ILogger<PaymentsWorker> logger) : BackgroundService
{
    public const int BatchSize = 50;

    /// <summary>One round of every kind of work; returns how many items were handled.</summary>
    public async Task<int> ProcessOnceAsync(CancellationToken ct)
    {
        var handled = 0;
        foreach (var id in await PaymentService.ClaimDueAsync(dataSource, clock.GetCurrentInstant(), BatchSize, ct))
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<PaymentService>().SettleDueAsync(id, ct);
            handled++;
        }

        foreach (var id in await PaymentService.FindWithoutOrderAsync(dataSource, clock.GetCurrentInstant(), BatchSize, ct))
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<PaymentService>().EnsureOrderAsync(id, ct);
            handled++;
        }

        foreach (var (booking, refund) in await PaymentService.FindRefundsDueAsync(dataSource, clock.GetCurrentInstant(), BatchSize, ct))
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<PaymentService>().ExecuteRefundAsync(booking, refund, ct);
            handled++;
        }

        return handled;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!workers.Value.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.WorkerInterval);
        do
        {
            try
            {
                await ProcessOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A round of payment work failed; will retry")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

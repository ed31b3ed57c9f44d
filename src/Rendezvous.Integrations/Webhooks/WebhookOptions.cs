namespace Rendezvous.Integrations.Webhooks;

/// <summary>Settings under <c>Rendezvous:Webhooks</c>. Whether the worker runs at all follows <c>Rendezvous:Workers:Enabled</c>.</summary>
public sealed class WebhookOptions
{
    /// <summary>How long one request may take, answer body included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the worker looks for due deliveries when nothing in this process signalled new ones.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries claimed at once by one process.</summary>
    public int BatchSize { get; set; } = 20;

    /// <summary>Subscriptions sent to at the same time by one process (each one's deliveries go one after another).</summary>
    public int Parallelism { get; set; } = 8;

    /// <summary>
    /// A claimed delivery is not due again for this long, so a process that dies mid-send hands it back. Must exceed a
    /// batch's worst case (one subscription's share of the batch, each request taking the whole timeout).
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(5);
}

using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rendezvous.Data.Diagnostics;

/// <summary>
/// The application's own traces and metrics (docs/OPERATIONS.md lists them and what to watch). One ActivitySource and
/// one Meter, both named <see cref="Name"/>, so the host subscribes to them by that one name. Instruments are static:
/// they cost nothing while nobody listens, and every project below the server can record without a service.
/// </summary>
public static class RendezvousTelemetry
{
    public const string Name = "Rendezvous";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Bookings made (tag <c>channel</c>: api or web is not known here, so <c>option</c>: the scheduling option).</summary>
    public static readonly Counter<long> BookingsCreated = Meter.CreateCounter<long>(
        "rendezvous.bookings.created", "{booking}", "Bookings created (public and staff).");

    /// <summary>Outbox messages handled, tags <c>type</c> and <c>outcome</c> (done, retry).</summary>
    public static readonly Counter<long> OutboxMessages = Meter.CreateCounter<long>(
        "rendezvous.outbox.messages", "{message}", "Outbox messages processed, by type and outcome (done or retry).");

    /// <summary>Seconds from a message being written to its processing finishing: the delay people feel.</summary>
    public static readonly Histogram<double> OutboxDelay = Meter.CreateHistogram<double>(
        "rendezvous.outbox.delay", "s", "Time from an outbox message being written to it being processed.");

    /// <summary>Calendar sync rounds, tags <c>provider</c> and <c>outcome</c> (ok, failed).</summary>
    public static readonly Counter<long> SyncRounds = Meter.CreateCounter<long>(
        "rendezvous.calendar_sync.rounds", "{round}", "Calendar sync rounds, by provider and outcome.");

    public static readonly Histogram<double> SyncRoundDuration = Meter.CreateHistogram<double>(
        "rendezvous.calendar_sync.round.duration", "s", "How long one connection's sync round took.");

    /// <summary>Emails handed to the mail server, tag <c>outcome</c> (sent, failed).</summary>
    public static readonly Counter<long> EmailsSent = Meter.CreateCounter<long>(
        "rendezvous.emails.sent", "{email}", "Emails handed to the mail server, by outcome (sent or failed).");

    /// <summary>Outbound connections refused by the address policy (tag <c>reason</c>).</summary>
    public static readonly Counter<long> OutboundRefused = Meter.CreateCounter<long>(
        "rendezvous.outbound.refused", "{connection}", "Outbound connections refused because the address is not allowed.");
}

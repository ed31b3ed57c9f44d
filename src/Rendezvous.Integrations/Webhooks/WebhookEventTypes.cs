using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Integrations.Webhooks;

/// <summary>
/// The event types a subscription may name: the outbox's public booking and space event names, and the outcomes of
/// automation runs (see docs/AUTOMATIONS.md).
/// </summary>
public static class WebhookEventTypes
{
    /// <summary>Subscribes to every type, including types added later.</summary>
    public const string All = "*";

    /// <summary>Raised when an administrator reassigns a booking to another page and host.</summary>
    public const string Reassigned = BookingEvent.Reassigned;

    /// <summary>An automation run did its action.</summary>
    public const string AutomationSucceeded = "automation.succeeded";

    /// <summary>An automation run failed for good (at once, or after its last retry).</summary>
    public const string AutomationFailed = "automation.failed";

    /// <summary>An automation run had nothing to do (the rule was switched off, the booking no longer matched, ...).</summary>
    public const string AutomationSkipped = "automation.skipped";

    /// <summary>The outcomes of automation runs, one event per run that ends.</summary>
    public static IReadOnlyList<string> AutomationTypes { get; } = [AutomationSucceeded, AutomationFailed, AutomationSkipped];

    /// <summary>Every type a subscription may name, in lifecycle order.</summary>
    public static IReadOnlyList<string> Known { get; } =
        [.. BookingEvent.AllTypes.Append(Reassigned).Concat(SpaceEvent.AllTypes).Concat(AutomationTypes).Distinct(StringComparer.Ordinal)];

    public static bool IsKnown(string type) => Known.Contains(type, StringComparer.Ordinal);

    /// <summary>Whether an outbox message type is one webhooks carry.</summary>
    public static bool IsBookingEvent(string type) => type.StartsWith("booking.", StringComparison.Ordinal);

    /// <summary>Whether an outbox message type is the outcome of an automation run that webhooks carry.</summary>
    public static bool IsAutomationEvent(string type) => AutomationTypes.Contains(type, StringComparer.Ordinal);

    /// <summary>Whether an outbox message type is a change to a space or a space request that webhooks carry.</summary>
    public static bool IsSpaceEvent(string type) => SpaceEvent.AllTypes.Contains(type, StringComparer.Ordinal);
}

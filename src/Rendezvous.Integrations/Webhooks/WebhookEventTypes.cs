using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Bookings;

namespace Rendezvous.Integrations.Webhooks;

/// <summary>The event types a subscription may name. They are the outbox's public booking event names.</summary>
public static class WebhookEventTypes
{
    /// <summary>Subscribes to every type, including types added later.</summary>
    public const string All = "*";

    /// <summary>Raised when an administrator reassigns a booking to another page and host.</summary>
    public const string Reassigned = BookingEvent.Reassigned;

    /// <summary>Every type a subscription may name, in lifecycle order.</summary>
    public static IReadOnlyList<string> Known { get; } =
        [.. BookingEvent.AllTypes.Append(Reassigned).Concat(SpaceEvent.AllTypes).Distinct(StringComparer.Ordinal)];

    public static bool IsKnown(string type) => Known.Contains(type, StringComparer.Ordinal);

    /// <summary>Whether an outbox message type is one webhooks carry.</summary>
    public static bool IsBookingEvent(string type) => type.StartsWith("booking.", StringComparison.Ordinal);

    /// <summary>Whether an outbox message type is a change to a space or a space request that webhooks carry.</summary>
    public static bool IsSpaceEvent(string type) => SpaceEvent.AllTypes.Contains(type, StringComparer.Ordinal);
}

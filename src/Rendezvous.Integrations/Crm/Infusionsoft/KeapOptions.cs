using Rendezvous.Integrations;

namespace Rendezvous.Integrations.Crm.Infusionsoft;

/// <summary>
/// Settings under <c>Rendezvous:Keap</c>: the deployment's Keap developer app (client id and secret), Keap's API host (which
/// also serves the token endpoint) and its authorization page. Each booking page authorizes its own Keap account.
/// </summary>
public sealed class KeapOptions : OutboundHttpOptions
{
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public string BaseUrl { get; set; } = "https://api.infusionsoft.com";

    public string AuthorizeUrl { get; set; } = "https://accounts.infusionsoft.com/app/oauth/authorize";

    /// <summary>The app's redirect URI; defaults to <c>{PublicBaseUrl}/api/v1/infusionsoft/callback</c>.</summary>
    public string? RedirectUri { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ClientId) && !string.IsNullOrWhiteSpace(ClientSecret);
}

/// <summary>The booking lifecycle stages that put a tag on the customer's Keap contact.</summary>
public static class KeapStages
{
    public const string Scheduled = "scheduled";
    public const string Rescheduled = "rescheduled";
    public const string Canceled = "canceled";
    public const string Completed = "completed";
    public const string NoShow = "noShow";
    public const string Reassigned = "reassigned";

    /// <summary>Every stage, with the name of the tag used (found, or created) when no tag id is configured for it.</summary>
    public static IReadOnlyDictionary<string, string> DefaultTagNames { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Scheduled] = "Rendezvous: Scheduled",
        [Rescheduled] = "Rendezvous: Rescheduled",
        [Canceled] = "Rendezvous: Canceled",
        [Completed] = "Rendezvous: Completed",
        [NoShow] = "Rendezvous: No-show",
        [Reassigned] = "Rendezvous: Reassigned",
    };

    /// <summary>The stage a booking event tags, or null when it tags nothing.</summary>
    public static string? Of(string eventType) => eventType switch
    {
        Domain.Bookings.BookingEvent.Created or Domain.Bookings.BookingEvent.Approved => Scheduled,
        Domain.Bookings.BookingEvent.Rescheduled => Rescheduled,
        Domain.Bookings.BookingEvent.Canceled or Domain.Bookings.BookingEvent.Declined => Canceled,
        Domain.Bookings.BookingEvent.Completed => Completed,
        Domain.Bookings.BookingEvent.NoShow => NoShow,
        CrmEvent.Reassigned => Reassigned,
        _ => null,
    };
}

/// <summary>
/// A booking page's Keap settings (stored as JSON on the connection): a tag id per stage, or none to use the tag named in
/// <see cref="KeapStages.DefaultTagNames"/> (created when missing). Ids found by name are remembered in
/// <see cref="ResolvedTagIds"/>.
/// </summary>
public sealed record KeapSettings
{
    public Dictionary<string, long> TagIds { get; init; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> ResolvedTagIds { get; init; } = new(StringComparer.Ordinal);
}

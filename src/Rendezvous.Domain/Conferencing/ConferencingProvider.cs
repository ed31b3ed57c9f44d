namespace Rendezvous.Domain.Conferencing;

/// <summary>
/// A web conferencing service a booking page can use as its location: each booking then gets its own meeting in the page
/// owner's account with that service, made after the booking is saved and removed when it is canceled.
/// </summary>
public enum ConferencingProvider
{
    Zoom,
    GoToMeeting,
    Webex,
}

/// <summary>API names of the conferencing providers ("zoom", "gotomeeting", "webex") and their display names.</summary>
public static class ConferencingProviders
{
    /// <summary>The API name; the inverse of <see cref="TryParse"/>.</summary>
    public static string ApiName(ConferencingProvider provider) => provider switch
    {
        ConferencingProvider.Zoom => "zoom",
        ConferencingProvider.GoToMeeting => "gotomeeting",
        ConferencingProvider.Webex => "webex",
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    /// <summary>The name people know the service by: "Zoom", "GoTo Meeting", "Webex".</summary>
    public static string DisplayName(ConferencingProvider provider) => provider switch
    {
        ConferencingProvider.Zoom => "Zoom",
        ConferencingProvider.GoToMeeting => "GoTo Meeting",
        ConferencingProvider.Webex => "Webex",
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    /// <summary>Parses an API name (case-insensitive); false for anything else, never throws.</summary>
    public static bool TryParse(string? text, out ConferencingProvider provider)
    {
        foreach (var p in Enum.GetValues<ConferencingProvider>())
        {
            if (string.Equals(ApiName(p), text, StringComparison.OrdinalIgnoreCase))
            {
                provider = p;
                return true;
            }
        }

        provider = default;
        return false;
    }
}

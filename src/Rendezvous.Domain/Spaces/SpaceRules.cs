namespace Rendezvous.Domain.Spaces;

/// <summary>What a space is.</summary>
public enum SpaceKind
{
    Room,
    Equipment,
    Other,
}

/// <summary>Who decides whether a space is booked (seed 004's "Administration setting on the calendar").</summary>
public enum SpaceAdministration
{
    /// <summary>Calendar-managed, auto-accept: accepted when free, declined on a conflict, at once.</summary>
    AutoAccept,

    /// <summary>Calendar-managed, moderated: the space's moderator accepts or declines each request.</summary>
    Moderated,

    /// <summary>Rendezvous-managed: the events team works each request from prospect to confirmed or canceled.</summary>
    RendezvousManaged,
}

/// <summary>Where a request for a space stands. Only <see cref="Confirmed"/> occupies the space.</summary>
public enum SpaceRequestState
{
    Prospect,
    Pending,
    Tentative,
    Hold,
    Confirmed,
    Declined,
    Canceled,
}

/// <summary>What someone does to a request.</summary>
public enum SpaceAction
{
    Accept,
    Decline,
    Hold,
    Tentative,
    Confirm,
    Cancel,
}

/// <summary>The lifecycle rules of space requests, free of storage and transport.</summary>
public static class SpaceRules
{
    /// <summary>The state a new (or re-timed) request starts in under each mode; auto-accept decides on whether the space is free.</summary>
    public static SpaceRequestState Initial(SpaceAdministration mode, bool free) => mode switch
    {
        SpaceAdministration.AutoAccept => free ? SpaceRequestState.Confirmed : SpaceRequestState.Declined,
        SpaceAdministration.Moderated => SpaceRequestState.Pending,
        _ => SpaceRequestState.Prospect,
    };

    /// <summary>Whether the request still waits for a decision (and so may overlap others, and is declined when another is confirmed).</summary>
    public static bool IsOpen(SpaceRequestState state) =>
        state is SpaceRequestState.Prospect or SpaceRequestState.Pending or SpaceRequestState.Tentative or SpaceRequestState.Hold;

    /// <summary>Whether the request is over (nothing more can be done to it but a new invitation sequence).</summary>
    public static bool IsClosed(SpaceRequestState state) => state is SpaceRequestState.Declined or SpaceRequestState.Canceled;

    /// <summary>
    /// The state an action leads to under a mode, or an error when the mode or the current state does not allow it.
    /// Auto-accept spaces decide alone; a moderator accepts or declines; the events team holds, marks tentative,
    /// confirms (accept is the same as confirm there) and cancels, and may set a confirmed request back to tentative.
    /// </summary>
    public static Result<SpaceRequestState> Apply(SpaceAdministration mode, SpaceRequestState current, SpaceAction action)
    {
        if (IsClosed(current))
        {
            return DomainError.Conflict("request_closed", $"The request is {Name(current)}; nothing more can be done to it.");
        }

        switch (mode)
        {
            case SpaceAdministration.AutoAccept:
                return action == SpaceAction.Cancel
                    ? SpaceRequestState.Canceled
                    : DomainError.Conflict("auto_accept", "This space accepts and declines requests itself; only canceling is possible.");
            case SpaceAdministration.Moderated:
                return action switch
                {
                    SpaceAction.Accept or SpaceAction.Confirm when current == SpaceRequestState.Pending => SpaceRequestState.Confirmed,
                    SpaceAction.Decline when current == SpaceRequestState.Pending => SpaceRequestState.Declined,
                    SpaceAction.Cancel => SpaceRequestState.Canceled,
                    SpaceAction.Hold or SpaceAction.Tentative => DomainError.Conflict("moderated",
                        "A moderated space is accepted or declined by its moderator; holds and tentative belong to Rendezvous-managed spaces."),
                    _ => DomainError.Conflict("invalid_transition", $"A {Name(current)} request cannot be {Past(action)}."),
                };
            default:
                return action switch
                {
                    SpaceAction.Hold when current is SpaceRequestState.Prospect or SpaceRequestState.Tentative => SpaceRequestState.Hold,
                    SpaceAction.Tentative when current is SpaceRequestState.Prospect or SpaceRequestState.Hold or SpaceRequestState.Confirmed
                        => SpaceRequestState.Tentative,
                    SpaceAction.Confirm or SpaceAction.Accept when IsOpen(current) => SpaceRequestState.Confirmed,
                    SpaceAction.Decline when IsOpen(current) => SpaceRequestState.Declined,
                    SpaceAction.Cancel => SpaceRequestState.Canceled,
                    _ => DomainError.Conflict("invalid_transition", $"A {Name(current)} request cannot be {Past(action)}."),
                };
        }
    }

    public static string Name(SpaceRequestState state) => state.ToString().ToLowerInvariant();

    public static string Name(SpaceAdministration mode) => mode switch
    {
        SpaceAdministration.AutoAccept => "autoAccept",
        SpaceAdministration.Moderated => "moderated",
        _ => "rendezvousManaged",
    };

    public static string Name(SpaceKind kind) => kind.ToString().ToLowerInvariant();

    public static bool TryParseState(string? text, out SpaceRequestState state) =>
        Enum.TryParse(text, true, out state) && !int.TryParse(text, out _);

    public static bool TryParseMode(string? text, out SpaceAdministration mode)
    {
        mode = text switch
        {
            "autoAccept" => SpaceAdministration.AutoAccept,
            "moderated" => SpaceAdministration.Moderated,
            "rendezvousManaged" => SpaceAdministration.RendezvousManaged,
            _ => (SpaceAdministration)(-1),
        };
        return Enum.IsDefined(mode);
    }

    public static bool TryParseKind(string? text, out SpaceKind kind) =>
        Enum.TryParse(text, true, out kind) && !int.TryParse(text, out _) && Enum.IsDefined(kind);

    public static bool TryParseAction(string? text, out SpaceAction action) =>
        Enum.TryParse(text, true, out action) && !int.TryParse(text, out _) && Enum.IsDefined(action);

    private static string Past(SpaceAction action) => action switch
    {
        SpaceAction.Accept => "accepted",
        SpaceAction.Decline => "declined",
        SpaceAction.Hold => "held",
        SpaceAction.Tentative => "set to tentative",
        SpaceAction.Confirm => "confirmed",
        _ => "canceled",
    };
}

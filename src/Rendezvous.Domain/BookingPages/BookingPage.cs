using NodaTime;
using Rendezvous.Domain.Conferencing;

namespace Rendezvous.Domain.BookingPages;

/// <summary>A page customers book from. Owned by a user (the primary team member of a panel).</summary>
public sealed class BookingPage
{
    private BookingPage()
    {
        Slug = "";
        Title = "";
        Settings = null!;
    }

    public BookingPage(BookingPageId id, OrganizationId organizationId, UserId ownerId, string slug, string title,
        string? description, string? location, BookingPageSettings settings, Instant createdAt)
    {
        Id = id;
        OrganizationId = organizationId;
        OwnerId = ownerId;
        Slug = slug;
        Title = title;
        Description = description;
        Location = location;
        Settings = settings;
        CreatedAt = createdAt;
    }

    public BookingPageId Id { get; private set; }

    public OrganizationId OrganizationId { get; private set; }

    /// <summary>The owner; for a panel, the primary team member.</summary>
    public UserId OwnerId { get; private set; }

    /// <summary>Lower-case letters, digits and dashes; unique across organizations (it is the public address).</summary>
    public string Slug { get; private set; }

    public string Title { get; private set; }

    public string? Description { get; private set; }

    /// <summary>Where the meeting happens, as free text (an address, a phone number, a video link).</summary>
    public string? Location { get; private set; }

    /// <summary>
    /// The web conferencing service each meeting of the page takes place in, or null when the page has a physical or
    /// "other" location (<see cref="Location"/>) or none. A page has one or the other, never both.
    /// </summary>
    public ConferencingProvider? Conferencing { get; private set; }

    public BookingPageSettings Settings { get; private set; }

    public Instant CreatedAt { get; private set; }

    /// <summary>
    /// Every user whose time the page's meetings depend on: the owner, then the panel members; for a team page its
    /// members (a collective meeting holds them all, a round-robin meeting one of them).
    /// </summary>
    public IReadOnlyList<UserId> Hosts => Settings.SchedulingOption switch
    {
        SchedulingOption.Panel => [OwnerId, .. Settings.PanelMemberIds],
        SchedulingOption.RoundRobin or SchedulingOption.Collective => [.. Settings.TeamMembers.Select(m => m.UserId)],
        _ => [OwnerId],
    };

    /// <summary>The owner of a booking made here: the page owner, or the first team member of a collective page.</summary>
    public UserId BookingOwner => Settings.SchedulingOption == SchedulingOption.Collective ? Settings.TeamMembers[0].UserId : OwnerId;

    /// <summary>True when <paramref name="user"/> may host a meeting of this page on their own (one-on-one owner or round-robin member).</summary>
    public bool IsSoleHostOption(UserId user) => Settings.SchedulingOption switch
    {
        SchedulingOption.OneOnOne => OwnerId == user,
        SchedulingOption.RoundRobin => Settings.TeamMembers.Any(m => m.UserId == user),
        _ => false,
    };

    public void Update(UserId ownerId, string slug, string title, string? description, string? location, BookingPageSettings settings)
    {
        OwnerId = ownerId;
        Slug = slug;
        Title = title;
        Description = description;
        Location = location;
        Settings = settings;
    }

    /// <summary>Sets the page's conferencing service (null for none). The caller has made sure the page has no <see cref="Location"/> then.</summary>
    public void SetConferencing(ConferencingProvider? provider) => Conferencing = provider;

    /// <summary>True for lower-case letters, digits and single inner dashes, 2 to 64 characters.</summary>
    public static bool IsValidSlug(string? slug) =>
        slug is { Length: >= 2 and <= 64 }
        && slug.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && slug[0] != '-' && slug[^1] != '-' && !slug.Contains("--", StringComparison.Ordinal);
}

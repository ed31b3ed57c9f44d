namespace Rendezvous.Domain.BookingPages;

/// <summary>Chooses the member of a round-robin page who gets a booking.</summary>
public static class RoundRobin
{
    /// <summary>
    /// The members of <paramref name="team"/> that are in <paramref name="free"/>, best first: by
    /// <see cref="RoundRobinBalance.FewestBookings"/> the fewest <paramref name="bookingCounts"/> (a member missing there
    /// has none), then the highest priority; by <see cref="RoundRobinBalance.Priority"/> the highest priority, then the
    /// fewest bookings. Remaining ties keep the team's order, so the choice is the same on every server.
    /// </summary>
    public static IReadOnlyList<UserId> Rank(IReadOnlyList<TeamMember> team, IReadOnlySet<UserId> free,
        IReadOnlyDictionary<UserId, int> bookingCounts, RoundRobinBalance balance)
    {
        var candidates = team.Select((m, i) => (Member: m, Index: i, Count: bookingCounts.GetValueOrDefault(m.UserId)))
            .Where(c => free.Contains(c.Member.UserId));
        var ordered = balance == RoundRobinBalance.Priority
            ? candidates.OrderByDescending(c => c.Member.Priority).ThenBy(c => c.Count)
            : candidates.OrderBy(c => c.Count).ThenByDescending(c => c.Member.Priority);
        return [.. ordered.ThenBy(c => c.Index).Select(c => c.Member.UserId)];
    }
}

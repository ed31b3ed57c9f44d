using Rendezvous.Domain.BookingPages;
using Rendezvous.Domain.Bookings;
using Rendezvous.Domain.Routing;
using Rendezvous.Domain.Tests.Support;
using Shouldly;

namespace Rendezvous.Domain.Tests.BookingPages;

public sealed class TeamAndRoutingTests
{
    private static readonly UserId Ann = UserId.New();
    private static readonly UserId Bob = UserId.New();
    private static readonly UserId Cy = UserId.New();

    [Fact]
    public void Fewest_bookings_wins_then_priority_then_the_teams_order()
    {
        IReadOnlyList<TeamMember> team = [new(Ann, 5), new(Bob, 5), new(Cy, 9)];
        var all = new HashSet<UserId> { Ann, Bob, Cy };
        RoundRobin.Rank(team, all, new Dictionary<UserId, int> { [Ann] = 2, [Bob] = 1, [Cy] = 1 }, RoundRobinBalance.FewestBookings)
            .ShouldBe([Cy, Bob, Ann]);
        RoundRobin.Rank(team, all, new Dictionary<UserId, int>(), RoundRobinBalance.FewestBookings).ShouldBe([Cy, Ann, Bob]);
        RoundRobin.Rank(team, new HashSet<UserId> { Ann }, new Dictionary<UserId, int> { [Ann] = 9 }, RoundRobinBalance.FewestBookings).ShouldBe([Ann]);
        RoundRobin.Rank(team, new HashSet<UserId>(), new Dictionary<UserId, int>(), RoundRobinBalance.Priority).ShouldBeEmpty();
    }

    [Fact]
    public void Priority_wins_then_fewest_bookings()
    {
        IReadOnlyList<TeamMember> team = [new(Ann, 3), new(Bob, 8), new(Cy, 8)];
        RoundRobin.Rank(team, new HashSet<UserId> { Ann, Bob, Cy }, new Dictionary<UserId, int> { [Bob] = 4, [Cy] = 1 }, RoundRobinBalance.Priority)
            .ShouldBe([Cy, Bob, Ann]);
    }

    [Fact]
    public void Team_settings_are_validated_per_option()
    {
        var baseSettings = new BookingPageSettings { Duration = Duration.FromMinutes(30), TimeZone = DateTimeZone.Utc };
        (baseSettings with { SchedulingOption = SchedulingOption.Collective, TeamMembers = [new(Ann)] }).Validate()
            .Select(e => e.Field).ShouldContain("teamMembers");
        (baseSettings with { SchedulingOption = SchedulingOption.RoundRobin, TeamMembers = [new(Ann), new(Ann)] }).Validate()
            .Select(e => e.Field).ShouldContain("teamMembers");
        (baseSettings with { TeamMembers = [new(Ann)] }).Validate().Select(e => e.Field).ShouldContain("teamMembers");
        (baseSettings with { SchedulingOption = SchedulingOption.RoundRobin, TeamMembers = [new(Ann, 11)] }).Validate()
            .Select(e => e.Field).ShouldContain("teamMembers[0].priority");
        (baseSettings with { SchedulingOption = SchedulingOption.RoundRobin, TeamMembers = [new(Ann)] }).Validate().ShouldBeEmpty();
    }

    [Fact]
    public void The_first_matching_rule_routes_and_the_fallback_catches_the_rest()
    {
        var page = BookingPageId.New();
        var team = BookingPageId.New();
        var form = new RoutingFormDefinition(
            [new("size", "Size", RoutingQuestionKind.Choice, ["small", "large"], true), new("topic", "Topic", RoutingQuestionKind.Text, [], false)],
            [
                new("topic", RoutingMatch.Contains, "invoice", RoutingTargetKind.Message, null, null, "Billing"),
                new("size", RoutingMatch.Equals, "large", RoutingTargetKind.Member, team, Bob, null),
                new("size", RoutingMatch.Equals, "small", RoutingTargetKind.Page, page, null, null),
            ],
            "Sorry");
        form.Validate().ShouldBeEmpty();
        form.Route(new Dictionary<string, string> { ["size"] = "LARGE " }).Value.ShouldBe(new RoutingDecision(RoutingTargetKind.Member, team, Bob, null, 1));
        form.Route(new Dictionary<string, string> { ["size"] = "small", ["topic"] = "my Invoice" }).Value.Message.ShouldBe("Billing");
        form.Route(new Dictionary<string, string> { ["size"] = "small" }).Value.BookingPageId.ShouldBe(page);
        form.Route(new Dictionary<string, string>()).Error!.Fields.Select(f => f.Field).ShouldBe(["answers.size"]);
        form.Route(new Dictionary<string, string> { ["size"] = "medium" }).Error!.Fields.Select(f => f.Field).ShouldBe(["answers.size"]);
        (form with { Rules = [] }).Route(new Dictionary<string, string> { ["size"] = "small" }).Value.Message.ShouldBe("Sorry");
        (form with { Rules = [new("nope", RoutingMatch.Equals, "x", RoutingTargetKind.Page, null, null, null)] }).Validate()
            .Select(e => e.Field).ShouldBe(["rules[0].questionId", "rules[0].bookingPageId"], ignoreOrder: true);
    }

    [Fact]
    public void Rescheduling_into_another_type_takes_its_duration_and_policies_and_records_the_previous_page()
    {
        var bookings = new Support.Bookings();
        var booking = bookings.Create();
        booking.ClearPendingEvents();
        var longer = new AppointmentType(BookingPageId.New(), Duration.FromMinutes(60), ChangePolicy.UpTo(Duration.FromHours(2)), ChangePolicy.AnyTime);

        booking.RescheduleInto(longer, Support.Bookings.Start, bookings.User, "longer", Support.Bookings.Now).IsSuccess.ShouldBeTrue();
        booking.BookingPageId.ShouldBe(longer.PageId);
        booking.Duration.ShouldBe(Duration.FromMinutes(60));
        booking.Hosts.Single().End.ShouldBe(Support.Bookings.Start + Duration.FromMinutes(60));
        booking.CancellationPolicy.ShouldBe(longer.CancellationPolicy);
        booking.History[^1].PreviousBookingPageId.ShouldBe(bookings.PageId);
        booking.PendingEvents.Single().Type.ShouldBe(BookingEvent.Rescheduled);
        booking.PendingEvents.Single().PreviousBookingPageId.ShouldBe(bookings.PageId);

        var group = bookings.Create(groupKey: "g");
        group.RescheduleInto(longer, Support.Bookings.Start + Duration.FromDays(1), bookings.User, null, Support.Bookings.Now).Error!.Code
            .ShouldBe("type_switch_unavailable");
    }
}

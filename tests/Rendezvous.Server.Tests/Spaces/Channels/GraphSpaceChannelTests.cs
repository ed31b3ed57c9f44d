using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data.Outbox;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Spaces;
using Rendezvous.Emulators.Graph;
using Rendezvous.Server.Features.CalendarSync.Microsoft;
using Rendezvous.Server.Features.Spaces.Channels;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Spaces.Channels;

/// <summary>
/// The application with Microsoft Graph pointed at the local Graph emulator, the space channel poller driven by the tests.
/// The emulator follows Microsoft's documentation for room mailboxes reached with application permissions (client
/// credentials grant, /users/{room}/calendarView/delta, event accept, decline and tentativelyAccept; each endpoint
/// names its reference page in GraphEmulator.Rooms.cs).
/// </summary>
public sealed class GraphRoomApp : RendezvousApp
{
    public GraphEmulator Emulator { get; private set; } = null!;

    protected override async Task StartServicesAsync() =>
        Emulator = await GraphEmulator.StartAsync(() => Clock.GetCurrentInstant().ToDateTimeOffset());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rendezvous:SpaceChannels:Enabled", "false");
        builder.UseSetting("Rendezvous:Microsoft:AuthorityHost", Emulator.BaseUrl.ToString());
        builder.UseSetting("Rendezvous:Microsoft:GraphBaseUrl", Emulator.GraphBaseUrl.ToString());
        builder.UseSetting("Rendezvous:Microsoft:RequestTimeout", "00:00:05");
        builder.UseSetting("Rendezvous:Microsoft:RetryBaseDelay", "00:00:00.05");
        builder.UseSetting("Rendezvous:Microsoft:MaxRetries", "2");
    }

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<MicrosoftHttpHandlerFactory>(new TrustEmulator(this));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Emulator.DisposeAsync();
    }

    public Task<int> PollAsync(string spaceId) =>
        WithScopeAsync(sp => sp.GetRequiredService<SpaceChannelPoller>().PollAsync(Guid.Parse(spaceId), null, CancellationToken.None));

    /// <summary>Runs the outbox until nothing is due and asserts nothing failed.</summary>
    public async Task DrainOutboxAsync()
    {
        await WithScopeAsync(async sp =>
        {
            var processor = sp.GetRequiredService<OutboxProcessor>();
            while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
            {
            }

            return 0;
        });
        var stuck = await WithDbAsync(db => db.OutboxMessages.Where(m => m.ProcessedAt == null && m.LastError != null).Select(m => m.LastError).ToListAsync());
        stuck.ShouldBeEmpty();
    }

    private sealed class TrustEmulator(GraphRoomApp app) : MicrosoftHttpHandlerFactory
    {
        public override HttpMessageHandler Create() => app.Emulator.CreateTrustingHandler();
    }
}

/// <summary>
/// Seed 004 through a Microsoft 365 room mailbox: an organizer invites the room from Outlook, the meeting appears in the
/// room's calendar, Rendezvous reads it through Graph, decides by the space's administration mode, and answers with
/// accept or decline on the room's copy, which the organizer's meeting then shows as the room's response.
/// </summary>
public sealed class GraphSpaceChannelTests(GraphRoomApp app) : IClassFixture<GraphRoomApp>
{
    private sealed record Room(string SpaceId, EmulatedMailbox Mailbox);

    private async Task<Room> RoomAsync(string administration, string? moderatorId = null)
    {
        var mailbox = app.Emulator.AddMailbox($"room-{Guid.NewGuid():N}@contoso.example");
        var space = await (await app.Client().PostJsonAsync("/api/v1/spaces", new
        {
            name = "Graph room " + Guid.NewGuid().ToString("N")[..8],
            kind = "room",
            capacity = 10,
            timeZone = "Europe/Paris",
            administration,
            moderatorId,
            resourceCalendarKind = "graph",
            resourceCalendarAddress = mailbox.Email,
        })).ExpectAsync(201);
        var spaceId = space["id"]!.GetValue<string>();
        var channel = await (await app.Client().PutJsonAsync($"/api/v1/spaces/{spaceId}/channel", new
        {
            kind = "graph",
            address = mailbox.Email,
            tenant = GraphEmulator.TenantId,
            userName = GraphEmulator.ClientId,
            password = GraphEmulator.ClientSecret,
        })).ExpectAsync(200);
        channel["kind"]!.GetValue<string>().ShouldBe("graph");
        channel["tenant"]!.GetValue<string>().ShouldBe(GraphEmulator.TenantId);
        return new Room(spaceId, mailbox);
    }

    private EmulatedMailbox Organizer() => app.Emulator.AddMailbox($"olga-{Guid.NewGuid():N}@contoso.example");

    private static DateTimeOffset SomeHour() =>
        (RendezvousApp.Start + Duration.FromDays(2 + Random.Shared.Next(60)) + Duration.FromHours(Random.Shared.Next(9))).ToDateTimeOffset();

    private Task<SpaceRequest> RequestAsync(Room room, string iCalUId) =>
        app.WithDbAsync(db => db.SpaceRequests.AsNoTracking().SingleAsync(r => r.SpaceId == Guid.Parse(room.SpaceId) && r.Uid == iCalUId));

    /// <summary>The organizer invites the room; returns the organizer's event id and the meeting's iCalUId.</summary>
    private static async Task<(string EventId, string Uid)> InviteAsync(EmulatedMailbox organizer, Room room, DateTimeOffset start,
        string subject = "Budget review")
    {
        var id = await organizer.InviteAsync(subject, start, start.AddHours(1), room.Mailbox.Email);
        return (id, organizer.Find(id)!.ICalUId!);
    }

    [GraphRoomFact]
    public async Task Auto_accept_room_accepts_a_free_meeting_and_the_organizer_sees_accepted()
    {
        var room = await RoomAsync("autoAccept");
        var organizer = Organizer();
        var start = SomeHour();
        var (eventId, uid) = await InviteAsync(organizer, room, start);
        room.Mailbox.CopyOf(uid).ShouldNotBeNull().ResponseStatus.ShouldBe("notResponded");

        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        var request = await RequestAsync(room, uid);
        request.State.ShouldBe(SpaceRequestState.Confirmed);
        request.Channel.ShouldBe("graph");
        request.OrganizerEmail.ShouldBe(organizer.Email);
        request.Summary.ShouldBe("Budget review");
        request.Start.ShouldBe(Instant.FromDateTimeOffset(start));
        request.ChannelReference.ShouldBe(room.Mailbox.CopyOf(uid)!.Id);

        await app.DrainOutboxAsync();

        room.Mailbox.CopyOf(uid)!.ResponseStatus.ShouldBe("accepted");
        organizer.AttendeeResponse(eventId, room.Mailbox.Email).ShouldBe("accepted");
        var answer = app.Emulator.Responses.Where(r => r.ICalUId == uid).ShouldHaveSingleItem();
        answer.SendResponse.ShouldBeTrue();
        answer.Response.ShouldBe("accepted");
        // Our own answer changes the room's copy; reading it back is no new invitation, and nothing is answered twice.
        (await app.PollAsync(room.SpaceId)).ShouldBe(0);
        await app.DrainOutboxAsync();
        app.Emulator.Responses.Count(r => r.ICalUId == uid).ShouldBe(1);
    }

    [GraphRoomFact]
    public async Task Auto_accept_room_declines_an_overlapping_meeting_and_the_organizer_sees_declined()
    {
        var room = await RoomAsync("autoAccept");
        var start = SomeHour();
        var first = Organizer();
        var (firstId, _) = await InviteAsync(first, room, start);
        await app.PollAsync(room.SpaceId);
        var late = Organizer();
        var (lateId, lateUid) = await InviteAsync(late, room, start.AddMinutes(30), "Clashing meeting");

        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        await app.DrainOutboxAsync();

        (await RequestAsync(room, lateUid)).State.ShouldBe(SpaceRequestState.Declined);
        first.AttendeeResponse(firstId, room.Mailbox.Email).ShouldBe("accepted");
        late.AttendeeResponse(lateId, room.Mailbox.Email).ShouldBe("declined");
        app.Emulator.Responses.Single(r => r.ICalUId == lateUid).Comment.ShouldBe(Features.Spaces.SpaceService.DeclinedByConflict);
        // Exchange takes the declined meeting out of the room's calendar: that is no cancel by the organizer.
        (await app.PollAsync(room.SpaceId)).ShouldBe(0);
        (await RequestAsync(room, lateUid)).State.ShouldBe(SpaceRequestState.Declined);
    }

    [GraphRoomFact]
    public async Task Moderated_room_leaves_meetings_pending_until_the_moderator_accepts_one_and_declines_another()
    {
        var moderator = await Scenario.CreateUserAsync(app.Client(), "Mo Derator");
        var room = await RoomAsync("moderated", moderator);
        var organizer = Organizer();
        var (acceptedId, acceptedUid) = await InviteAsync(organizer, room, SomeHour());
        var (declinedId, declinedUid) = await InviteAsync(organizer, room, SomeHour().AddDays(70), "Offsite");
        (await app.PollAsync(room.SpaceId)).ShouldBe(2);
        await app.DrainOutboxAsync();
        var accepted = await RequestAsync(room, acceptedUid);
        accepted.State.ShouldBe(SpaceRequestState.Pending);
        room.Mailbox.CopyOf(acceptedUid)!.ResponseStatus.ShouldBe("notResponded");
        organizer.AttendeeResponse(acceptedId, room.Mailbox.Email).ShouldBe("none");

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{accepted.Id}/accept", new { })).ExpectAsync(200);
        var declined = await RequestAsync(room, declinedUid);
        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{declined.Id}/decline", new { reason = "The room is closed that week." }))
            .ExpectAsync(200);
        await app.DrainOutboxAsync();

        organizer.AttendeeResponse(acceptedId, room.Mailbox.Email).ShouldBe("accepted");
        organizer.AttendeeResponse(declinedId, room.Mailbox.Email).ShouldBe("declined");
        app.Emulator.Responses.Single(r => r.ICalUId == declinedUid).Comment.ShouldBe("The room is closed that week.");
    }

    [GraphRoomFact]
    public async Task Rendezvous_managed_hold_keeps_the_meeting_pending_and_confirm_accepts_it_and_declines_the_overlapping_one()
    {
        var room = await RoomAsync("rendezvousManaged");
        var start = SomeHour();
        var organizer = Organizer();
        var (eventId, uid) = await InviteAsync(organizer, room, start);
        var other = Organizer();
        var (otherId, otherUid) = await InviteAsync(other, room, start.AddMinutes(15), "Other team's meeting");
        await app.PollAsync(room.SpaceId);
        var request = await RequestAsync(room, uid);
        request.State.ShouldBe(SpaceRequestState.Prospect);

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{request.Id}/hold", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        room.Mailbox.CopyOf(uid)!.ResponseStatus.ShouldBe("notResponded");
        organizer.AttendeeResponse(eventId, room.Mailbox.Email).ShouldBe("none");

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{request.Id}/confirm", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();

        organizer.AttendeeResponse(eventId, room.Mailbox.Email).ShouldBe("accepted");
        other.AttendeeResponse(otherId, room.Mailbox.Email).ShouldBe("declined");
        (await RequestAsync(room, otherUid)).State.ShouldBe(SpaceRequestState.Declined);
    }

    [GraphRoomFact]
    public async Task A_meeting_the_organizer_cancels_in_Outlook_is_canceled_in_Rendezvous()
    {
        var room = await RoomAsync("autoAccept");
        var organizer = Organizer();
        var (eventId, uid) = await InviteAsync(organizer, room, SomeHour());
        await app.PollAsync(room.SpaceId);
        await app.DrainOutboxAsync();
        (await RequestAsync(room, uid)).State.ShouldBe(SpaceRequestState.Confirmed);

        await organizer.CancelMeetingAsync(eventId);
        room.Mailbox.CopyOf(uid)!.IsCancelled.ShouldBeTrue();

        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        var request = await RequestAsync(room, uid);
        request.State.ShouldBe(SpaceRequestState.Canceled);
        request.LastActorKind.ShouldBe("calendar");
        await app.DrainOutboxAsync();
        // Nobody waits for an answer to a canceled meeting.
        app.Emulator.Responses.Count(r => r.ICalUId == uid).ShouldBe(1);
    }

    [GraphRoomFact]
    public async Task A_meeting_the_organizer_moves_is_decided_again_at_its_new_time()
    {
        var room = await RoomAsync("autoAccept");
        var start = SomeHour();
        var blocker = Organizer();
        await InviteAsync(blocker, room, start.AddHours(3));
        var organizer = Organizer();
        var (eventId, uid) = await InviteAsync(organizer, room, start);
        await app.PollAsync(room.SpaceId);
        await app.DrainOutboxAsync();
        organizer.AttendeeResponse(eventId, room.Mailbox.Email).ShouldBe("accepted");

        // Graph shows no SEQUENCE: the copy's new time and newer lastModifiedDateTime make it a new version.
        await organizer.MoveAsync(eventId, start.AddHours(3), start.AddHours(4));
        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        await app.DrainOutboxAsync();

        var request = await RequestAsync(room, uid);
        request.Start.ShouldBe(Instant.FromDateTimeOffset(start.AddHours(3)));
        request.State.ShouldBe(SpaceRequestState.Declined);
        organizer.AttendeeResponse(eventId, room.Mailbox.Email).ShouldBe("declined");
    }

    [GraphRoomFact]
    public async Task Wrong_application_credentials_are_recorded_on_the_channel_without_losing_the_meeting()
    {
        var room = await RoomAsync("autoAccept");
        await (await app.Client().PutJsonAsync($"/api/v1/spaces/{room.SpaceId}/channel", new
        {
            kind = "graph", address = room.Mailbox.Email, tenant = GraphEmulator.TenantId, userName = GraphEmulator.ClientId, password = "wrong",
        })).ExpectAsync(200);
        var (_, uid) = await InviteAsync(Organizer(), room, SomeHour());

        (await app.PollAsync(room.SpaceId)).ShouldBe(0);
        var broken = await (await app.Client().GetAsync($"/api/v1/spaces/{room.SpaceId}/channel")).ExpectAsync(200);
        broken["lastError"]!.GetValue<string>().ShouldContain("credentials");
        broken["consecutiveFailures"]!.GetValue<int>().ShouldBe(1);

        await (await app.Client().PutJsonAsync($"/api/v1/spaces/{room.SpaceId}/channel", new
        {
            kind = "graph", address = room.Mailbox.Email, tenant = GraphEmulator.TenantId, userName = GraphEmulator.ClientId,
            password = GraphEmulator.ClientSecret,
        })).ExpectAsync(200);
        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        (await RequestAsync(room, uid)).State.ShouldBe(SpaceRequestState.Confirmed);

        var invalid = await (await app.Client().PutJsonAsync($"/api/v1/spaces/{room.SpaceId}/channel", new
        {
            kind = "graph", address = room.Mailbox.Email, userName = GraphEmulator.ClientId, serverUrl = "http://graph.example",
        })).ExpectAsync(400);
        invalid["errors"]!["tenant"].ShouldNotBeNull();
        invalid["errors"]!["serverUrl"].ShouldNotBeNull();
    }
}

/// <summary>A fact that needs PostgreSQL (the Graph emulator runs in the test process).</summary>
public sealed class GraphRoomFactAttribute : FactAttribute
{
    public GraphRoomFactAttribute()
    {
        if (TestDatabase.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

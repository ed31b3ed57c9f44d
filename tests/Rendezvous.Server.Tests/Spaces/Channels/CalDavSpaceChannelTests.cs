using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.CalDav.Scheduling;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Spaces;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Spaces.Channels;

/// <summary>
/// Seed 004 through a real RFC 6638 server (the scheduling Cyrus): an organizer invites the room's calendar user from
/// their own calendar, Rendezvous reads the room's calendar, decides by the space's administration mode, and answers by
/// the room's PARTSTAT; the organizer's copy shows the answer because Cyrus delivered the iTIP REPLY.
/// </summary>
public sealed class CalDavSpaceChannelTests(SpaceChannelApp app) : IClassFixture<SpaceChannelApp>
{
    private static string Organizer => SpaceChannelServers.Organizer;

    private sealed record Room(string SpaceId, string User, string Email);

    /// <summary>A space on its own room user, read from the room calendar's current state on (earlier runs' events are history).</summary>
    private async Task<Room> RoomAsync(string user, string administration, string? moderatorId = null)
    {
        var email = user + "@localhost";
        var space = await (await app.Client().PostJsonAsync("/api/v1/spaces", new
        {
            name = "Room " + Guid.NewGuid().ToString("N")[..8],
            kind = "room",
            capacity = 12,
            timeZone = "Europe/London",
            administration,
            moderatorId,
            resourceCalendarKind = "caldav",
            resourceCalendarAddress = email,
        })).ExpectAsync(201);
        var spaceId = space["id"]!.GetValue<string>();
        await (await app.Client().PutJsonAsync($"/api/v1/spaces/{spaceId}/channel", new
        {
            kind = "caldav",
            address = email,
            serverUrl = SpaceChannelServers.CyrusUrl,
            userName = user,
            password = SpaceChannelServers.CyrusPassword,
        })).ExpectAsync(200);

        using var client = SpaceChannelServers.CyrusClient(user);
        var agent = new CalDavSchedulingAgent(client, email);
        var calendar = await agent.FindCalendarAsync(CancellationToken.None);
        var token = (await agent.ChangesAsync(calendar, null, CancellationToken.None)).SyncToken;
        await app.WithDbAsync(async db =>
        {
            var channel = await db.SpaceChannels.SingleAsync(c => c.SpaceId == Guid.Parse(spaceId));
            channel.CalendarHref = calendar;
            channel.SyncToken = token;
            return await db.SaveChangesAsync();
        });
        return new Room(spaceId, user, email);
    }

    /// <summary>The organizer puts a meeting with the room as attendee into their own calendar; returns its href.</summary>
    private static async Task<string> InviteAsync(Room room, string uid, Instant start, int sequence = 0, string summary = "Quarterly review")
    {
        using var organizer = SpaceChannelServers.CyrusClient(Organizer);
        var href = $"/dav/calendars/user/{Organizer}/Default/{uid}.ics";
        (await organizer.CreateObjectAsync(href, Meeting(room, uid, start, sequence, summary))).Succeeded.ShouldBeTrue();
        return href;
    }

    private static string Meeting(Room room, string uid, Instant start, int sequence = 0, string summary = "Quarterly review",
        string stamp = "20261206T100000Z") =>
        string.Join("\r\n",
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Rendezvous tests//EN", "BEGIN:VEVENT",
            "UID:" + uid, "DTSTAMP:" + stamp,
            "DTSTART:" + SpaceChannelServers.Utc(start), "DTEND:" + SpaceChannelServers.Utc(start + Duration.FromHours(1)),
            "SUMMARY:" + summary, "SEQUENCE:" + sequence,
            $"ORGANIZER;CN=Olga Organizer:mailto:{Organizer}@localhost",
            $"ATTENDEE;CN=Olga Organizer;PARTSTAT=ACCEPTED:mailto:{Organizer}@localhost",
            $"ATTENDEE;CUTYPE=ROOM;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{room.Email}",
            "END:VEVENT", "END:VCALENDAR", "");

    /// <summary>The room's PARTSTAT on the organizer's own copy.</summary>
    private static async Task<string> PartstatAtOrganizerAsync(string href, Room room)
    {
        using var organizer = SpaceChannelServers.CyrusClient(Organizer);
        var copy = await organizer.GetObjectAsync(href) ?? throw new InvalidOperationException("The organizer's event is gone.");
        return ICalendarReader.Parse(copy.CalendarData).Events[0].Attendees.Single(a => a.Email == room.Email).Status.Value;
    }

    private Task<SpaceRequest> RequestAsync(Room room, string uid) =>
        app.WithDbAsync(db => db.SpaceRequests.AsNoTracking().SingleAsync(r => r.SpaceId == Guid.Parse(room.SpaceId) && r.Uid == uid));

    private static string NewUid() => "space-test-" + Guid.NewGuid().ToString("N");

    [CyrusSchedulingFact]
    public async Task Auto_accept_space_accepts_a_free_invitation_and_the_organizer_sees_accepted()
    {
        var room = await RoomAsync("rdv-room1", "autoAccept");
        var uid = NewUid();
        var start = SpaceChannelServers.SomeFutureHour();
        var href = await InviteAsync(room, uid, start);

        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        var request = await RequestAsync(room, uid);
        request.State.ShouldBe(SpaceRequestState.Confirmed);
        request.Channel.ShouldBe("caldav");
        request.Summary.ShouldBe("Quarterly review");
        request.OrganizerEmail.ShouldBe(Organizer + "@localhost");
        request.OrganizerName.ShouldBe("Olga Organizer");
        request.Start.ShouldBe(start);
        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("NEEDS-ACTION");

        await app.DrainOutboxAsync();

        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("ACCEPTED");
        // Our own answer changes the room's copy; reading it back is no new invitation.
        (await app.PollAsync(room.SpaceId)).ShouldBe(0);
    }

    [CyrusSchedulingFact]
    public async Task Auto_accept_space_declines_an_overlapping_invitation_and_the_organizer_sees_declined()
    {
        var room = await RoomAsync("rdv-room2", "autoAccept");
        var start = SpaceChannelServers.SomeFutureHour();
        var first = await InviteAsync(room, NewUid(), start);
        await app.PollAsync(room.SpaceId);
        var secondUid = NewUid();
        var second = await InviteAsync(room, secondUid, start + Duration.FromMinutes(30), summary: "Clashing meeting");

        await app.PollAsync(room.SpaceId);
        await app.DrainOutboxAsync();

        (await RequestAsync(room, secondUid)).State.ShouldBe(SpaceRequestState.Declined);
        (await PartstatAtOrganizerAsync(first, room)).ShouldBe("ACCEPTED");
        (await PartstatAtOrganizerAsync(second, room)).ShouldBe("DECLINED");
    }

    [CyrusSchedulingFact]
    public async Task Moderated_space_leaves_the_invitation_pending_until_the_moderator_accepts()
    {
        var moderator = await Scenario.CreateUserAsync(app.Client(), "Mo Derator");
        var room = await RoomAsync("rdv-room3", "moderated", moderator);
        var uid = NewUid();
        var href = await InviteAsync(room, uid, SpaceChannelServers.SomeFutureHour());
        await app.PollAsync(room.SpaceId);
        await app.DrainOutboxAsync();
        var request = await RequestAsync(room, uid);
        request.State.ShouldBe(SpaceRequestState.Pending);
        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("NEEDS-ACTION");

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{request.Id}/accept", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();

        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("ACCEPTED");
    }

    [CyrusSchedulingFact]
    public async Task Rendezvous_managed_hold_keeps_the_invitation_pending_and_confirm_accepts_it_and_declines_the_overlapping_one()
    {
        var room = await RoomAsync("rdv-room4", "rendezvousManaged");
        var start = SpaceChannelServers.SomeFutureHour();
        var uid = NewUid();
        var href = await InviteAsync(room, uid, start);
        var otherUid = NewUid();
        var other = await InviteAsync(room, otherUid, start + Duration.FromMinutes(15), summary: "Other team's meeting");
        await app.PollAsync(room.SpaceId);
        var request = await RequestAsync(room, uid);
        request.State.ShouldBe(SpaceRequestState.Prospect);

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{request.Id}/hold", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("NEEDS-ACTION");

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{request.Id}/confirm", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();

        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("ACCEPTED");
        (await PartstatAtOrganizerAsync(other, room)).ShouldBe("DECLINED");
        (await RequestAsync(room, otherUid)).State.ShouldBe(SpaceRequestState.Declined);
    }

    [CyrusSchedulingFact]
    public async Task Rendezvous_managed_cancel_declines_the_invitation()
    {
        var room = await RoomAsync("rdv-room5", "rendezvousManaged");
        var uid = NewUid();
        var href = await InviteAsync(room, uid, SpaceChannelServers.SomeFutureHour());
        await app.PollAsync(room.SpaceId);
        var request = await RequestAsync(room, uid);

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{request.Id}/cancel", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();

        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("DECLINED");
    }

    [CyrusSchedulingFact]
    public async Task An_organizer_move_that_keeps_SEQUENCE_moves_the_request()
    {
        var room = await RoomAsync("rdv-room2", "autoAccept");
        var uid = NewUid();
        var start = SpaceChannelServers.SomeFutureHour();
        var href = await InviteAsync(room, uid, start);
        await app.PollAsync(room.SpaceId);
        await app.DrainOutboxAsync();
        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("ACCEPTED");

        // Some clients move a meeting without raising SEQUENCE; only DTSTAMP is newer. (Cyrus raises SEQUENCE on the room's
        // copy itself when the time changes; the iMIP test shows the same-SEQUENCE case reaching the lifecycle.)
        var moved = start + Duration.FromHours(2);
        using (var organizer = SpaceChannelServers.CyrusClient(Organizer))
        {
            var etag = await organizer.GetETagAsync(href) ?? throw new InvalidOperationException("no etag");
            (await organizer.UpdateObjectAsync(href, Meeting(room, uid, moved, stamp: "20261206T120000Z"), etag)).Succeeded.ShouldBeTrue();
        }

        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        var request = await RequestAsync(room, uid);
        request.Start.ShouldBe(moved);
        request.State.ShouldBe(SpaceRequestState.Confirmed);
        await app.DrainOutboxAsync();
    }

    [CyrusSchedulingFact]
    public async Task An_event_canceled_in_the_calendar_is_canceled_in_Rendezvous()
    {
        var room = await RoomAsync("rdv-room6", "autoAccept");
        var uid = NewUid();
        var href = await InviteAsync(room, uid, SpaceChannelServers.SomeFutureHour());
        await app.PollAsync(room.SpaceId);
        await app.DrainOutboxAsync();
        (await RequestAsync(room, uid)).State.ShouldBe(SpaceRequestState.Confirmed);

        using (var organizer = SpaceChannelServers.CyrusClient(Organizer))
        {
            (await organizer.DeleteAsync(href)).Succeeded.ShouldBeTrue();
        }

        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        (await RequestAsync(room, uid)).State.ShouldBe(SpaceRequestState.Canceled);
    }

    [CyrusSchedulingFact]
    public async Task A_request_made_in_Rendezvous_is_written_to_the_resource_calendar_when_confirmed_and_removed_when_canceled()
    {
        var room = await RoomAsync("rdv-room7", "rendezvousManaged");
        var start = SpaceChannelServers.SomeFutureHour();
        var made = await (await app.Client().PostJsonAsync("/api/v1/spaces/requests", new
        {
            spaceIds = new[] { room.SpaceId },
            summary = "Launch party",
            start = start.ToString(),
            end = (start + Duration.FromHours(2)).ToString(),
        })).ExpectAsync(201);
        var requestId = made[0]!["id"]!.GetValue<string>();
        var uid = (await app.WithDbAsync(db => db.SpaceRequests.SingleAsync(r => r.Id == Guid.Parse(requestId)))).Uid;

        // A hold is not written to the resource calendar (seed: only confirmed events are synced).
        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{requestId}/hold", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        (await RoomEventsAsync(room, uid)).ShouldBeEmpty();

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{requestId}/confirm", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        var written = (await RoomEventsAsync(room, uid)).ShouldHaveSingleItem();
        written.Summary.ShouldBe("Launch party");
        written.Start!.Value.ToInstant(DateTimeZone.Utc).ShouldBe(start);

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{requestId}/cancel", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        (await RoomEventsAsync(room, uid)).ShouldBeEmpty();
    }

    [CyrusSchedulingFact]
    public async Task A_confirmed_event_set_back_to_tentative_stays_on_the_resource_calendar_and_the_organizer_keeps_accepted()
    {
        var room = await RoomAsync("rdv-room8", "rendezvousManaged");
        var start = SpaceChannelServers.SomeFutureHour();

        // An event booked in Rendezvous, written to the room's calendar on confirmation...
        var made = await (await app.Client().PostJsonAsync("/api/v1/spaces/requests", new
        {
            spaceIds = new[] { room.SpaceId }, summary = "Press briefing", start = start.ToString(), end = (start + Duration.FromHours(1)).ToString(),
        })).ExpectAsync(201);
        var requestId = made[0]!["id"]!.GetValue<string>();
        var uid = (await app.WithDbAsync(db => db.SpaceRequests.SingleAsync(r => r.Id == Guid.Parse(requestId)))).Uid;
        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{requestId}/confirm", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        (await RoomEventsAsync(room, uid)).ShouldHaveSingleItem();

        // ...and an invitation from the organizer's calendar, accepted on confirmation, two hours later.
        var inviteUid = NewUid();
        var href = await InviteAsync(room, inviteUid, start + Duration.FromHours(2));
        await app.PollAsync(room.SpaceId);
        var invited = await RequestAsync(room, inviteUid);
        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{invited.Id}/confirm", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("ACCEPTED");

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{requestId}/tentative", new { reason = "Waiting for the catering quote" })).ExpectAsync(200);
        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{invited.Id}/tentative", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();
        await app.PollAsync(room.SpaceId);

        // Both still show on the room's real calendar, and the organizer's copy still says accepted.
        (await RoomEventsAsync(room, uid)).ShouldHaveSingleItem().Summary.ShouldBe("Press briefing");
        (await RoomEventsAsync(room, inviteUid)).ShouldHaveSingleItem();
        (await PartstatAtOrganizerAsync(href, room)).ShouldBe("ACCEPTED");
        (await RequestAsync(room, uid)).State.ShouldBe(SpaceRequestState.Tentative);
    }

    [CyrusSchedulingFact]
    public async Task On_confirmation_the_event_goes_on_the_organizers_calendar_and_the_resource_calendar_or_the_resource_calendar_alone()
    {
        // The organizer is a user whose booking calendar is on Radicale; the space's resource calendar is the room's on Cyrus.
        var admin = app.Client();
        var organizerId = await Scenario.CreateUserAsync(admin, "Olive Organizer", timeZone: "UTC");
        var organizer = app.Client(await Scenario.CreateKeyAsync(admin, organizerId));
        var organizerCalendar = await Radicale.NewCalendarAsync("bookings");
        await (await organizer.PostJsonAsync("/api/v1/calendar-connections", new
        {
            url = Radicale.Url, username = Radicale.User, password = Radicale.Password, bookingCalendarUrl = organizerCalendar,
            additionalCalendarUrls = Array.Empty<string>(), cancelBookingOnDelete = false, updateBookingOnMove = false,
        })).ExpectAsync(201);
        var room = await RoomAsync("rdv-room8", "rendezvousManaged");
        var start = SpaceChannelServers.SomeFutureHour() + Duration.FromHours(5);

        async Task<(string Id, string Uid)> ConfirmedAsync(HttpClient by, string summary, Instant at, string? organizerEmail = null)
        {
            var made = await (await by.PostJsonAsync("/api/v1/spaces/requests", new
            {
                spaceIds = new[] { room.SpaceId }, summary, start = at.ToString(), end = (at + Duration.FromHours(1)).ToString(), organizerEmail,
            })).ExpectAsync(201);
            var id = made[0]!["id"]!.GetValue<string>();
            await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{id}/confirm", new { })).ExpectAsync(200);
            await app.DrainOutboxAsync();
            return (id, (await app.WithDbAsync(db => db.SpaceRequests.SingleAsync(r => r.Id == Guid.Parse(id)))).Uid);
        }

        Task<string?> OrganizerHrefAsync(string id) =>
            app.WithDbAsync(db => db.SpaceRequests.Where(r => r.Id == Guid.Parse(id)).Select(r => r.OrganizerCalendarHref).SingleAsync());

        // A known organizer with a calendar: on both.
        var known = await ConfirmedAsync(organizer, "Team offsite", start);
        (await RoomEventsAsync(room, known.Uid)).ShouldHaveSingleItem().Summary.ShouldBe("Team offsite");
        using var radicale = Radicale.Client();
        (await radicale.GetObjectAsync((await OrganizerHrefAsync(known.Id)).ShouldNotBeNull())).ShouldNotBeNull()
            .CalendarData.ShouldContain("SUMMARY:Team offsite");

        // An organizer no user matches, and no fallback calendar set: on the resource calendar alone.
        var unknown = await ConfirmedAsync(admin, "Visitors' lunch", start + Duration.FromHours(2), $"guest.{Guid.NewGuid():N}@outside.example");
        (await RoomEventsAsync(room, unknown.Uid)).ShouldHaveSingleItem().Summary.ShouldBe("Visitors' lunch");
        (await OrganizerHrefAsync(unknown.Id)).ShouldBeNull();

        // The setting: with writeToOrganizerCalendar off, even a known organizer's event is on the resource calendar alone.
        await (await admin.PutJsonAsync($"/api/v1/spaces/{room.SpaceId}", new { writeToOrganizerCalendar = false })).ExpectAsync(200);
        var setting = await ConfirmedAsync(organizer, "Quiet review", start + Duration.FromHours(4));
        (await RoomEventsAsync(room, setting.Uid)).ShouldHaveSingleItem();
        (await OrganizerHrefAsync(setting.Id)).ShouldBeNull();
    }

    private static async Task<IReadOnlyList<CalendarEvent>> RoomEventsAsync(Room room, string uid)
    {
        using var client = SpaceChannelServers.CyrusClient(room.User);
        var calendar = await new CalDavSchedulingAgent(client, room.Email).FindCalendarAsync(CancellationToken.None);
        var objects = await client.ListObjectsAsync(calendar);
        var all = await client.MultigetAsync(calendar, objects.Select(o => o.Href));
        return [.. all.Objects.SelectMany(o => ICalendarReader.Parse(o.CalendarData).Events).Where(e => e.Uid == uid)];
    }
}

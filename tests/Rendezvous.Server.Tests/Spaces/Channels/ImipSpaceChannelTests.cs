using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NodaTime;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Domain.Spaces;
using Rendezvous.Server.Features.Spaces.Channels;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Spaces.Channels;

/// <summary>
/// Seed 004 by email (iMIP, RFC 6047): invitations mailed to the space's address are read over IMAP from a real Dovecot,
/// and the space's answer leaves as an iTIP REPLY through the real SMTP server, whose Maildir shows it.
/// </summary>
public sealed class ImipSpaceChannelTests(SpaceChannelApp app) : IClassFixture<SpaceChannelApp>
{
    private sealed record Mailbox(string SpaceId, string User, string Email);

    /// <summary>A space whose channel is the mailbox of <paramref name="user"/>, read from its next message on.</summary>
    private async Task<Mailbox> MailboxAsync(string user, string administration)
    {
        var email = $"{user}@rooms.example.test";
        var space = await (await app.Client().PostJsonAsync("/api/v1/spaces", new
        {
            name = "Mail room " + Guid.NewGuid().ToString("N")[..8],
            kind = "room",
            capacity = 8,
            timeZone = "America/New_York",
            administration,
            resourceCalendarKind = "imip",
            resourceCalendarAddress = email,
        })).ExpectAsync(201);
        var spaceId = space["id"]!.GetValue<string>();
        await (await app.Client().PutJsonAsync($"/api/v1/spaces/{spaceId}/channel", new
        {
            kind = "imip",
            address = email,
            imapHost = SpaceChannelServers.ImapHost,
            imapPort = SpaceChannelServers.ImapPort,
            imapSecurity = "None",
            userName = user,
            password = SpaceChannelServers.ImapPassword,
        })).ExpectAsync(200);

        // The mailbox is shared with earlier runs: start after what is in it now.
        using var imap = new ImapClient();
        await imap.ConnectAsync(SpaceChannelServers.ImapHost, SpaceChannelServers.ImapPort, SecureSocketOptions.None);
        await imap.AuthenticateAsync(user, SpaceChannelServers.ImapPassword);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var validity = imap.Inbox.UidValidity;
        var next = imap.Inbox.UidNext?.Id ?? 1;
        await imap.DisconnectAsync(true);
        await app.WithDbAsync(async db =>
        {
            var channel = await db.SpaceChannels.SingleAsync(c => c.SpaceId == Guid.Parse(spaceId));
            channel.ImapUidValidity = validity;
            channel.ImapLastUid = next - 1;
            return await db.SaveChangesAsync();
        });
        return new Mailbox(spaceId, user, email);
    }

    private static MimeMessage Invitation(Mailbox room, string organizer, string uid, Instant start, string method = "REQUEST", int sequence = 0,
        string stamp = "20261206T100000Z")
    {
        var ics = string.Join("\r\n",
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Some mail client//EN", "METHOD:" + method, "BEGIN:VEVENT",
            "UID:" + uid, "DTSTAMP:" + stamp,
            "DTSTART:" + SpaceChannelServers.Utc(start), "DTEND:" + SpaceChannelServers.Utc(start + Duration.FromMinutes(45)),
            "SUMMARY:Design review", "SEQUENCE:" + sequence,
            method == "CANCEL" ? "STATUS:CANCELLED" : "STATUS:CONFIRMED",
            $"ORGANIZER;CN=Ines Organizer:mailto:{organizer}",
            $"ATTENDEE;CUTYPE=ROOM;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{room.Email}",
            "END:VEVENT", "END:VCALENDAR", "");
        var calendar = new TextPart("calendar") { Text = ics };
        calendar.ContentType.Parameters.Add("method", method);
        var message = new MimeMessage
        {
            Subject = method == "CANCEL" ? "Canceled: Design review" : "Invitation: Design review",
            Body = new Multipart("alternative") { new TextPart("plain") { Text = "You are invited." }, calendar },
        };
        message.From.Add(new MailboxAddress("Ines Organizer", organizer));
        message.To.Add(new MailboxAddress(null, room.Email));
        message.MessageId = uid + "." + method.ToLowerInvariant() + (stamp == "20261206T100000Z" ? "" : "." + stamp) + "@mail.example.test";
        return message;
    }

    private Task<SpaceRequest> RequestAsync(Mailbox room, string uid) =>
        app.WithDbAsync(db => db.SpaceRequests.AsNoTracking().SingleAsync(r => r.SpaceId == Guid.Parse(room.SpaceId) && r.Uid == uid));

    private static string NewOrganizer() => $"ines-{Guid.NewGuid():N}@corp.example.test";

    [ImapFact]
    public async Task Auto_accept_space_accepts_a_mailed_invitation_and_emails_an_iTIP_REPLY_to_the_organizer()
    {
        var room = await MailboxAsync("room1", "autoAccept");
        var organizer = NewOrganizer();
        var uid = "imip-" + Guid.NewGuid().ToString("N");
        var start = SpaceChannelServers.SomeFutureHour();
        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, organizer, uid, start));

        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        var request = await RequestAsync(room, uid);
        request.State.ShouldBe(SpaceRequestState.Confirmed);
        request.Channel.ShouldBe("imip");
        request.ChannelReference.ShouldBe(uid + ".request@mail.example.test");
        request.OrganizerEmail.ShouldBe(organizer);
        request.End.ShouldBe(start + Duration.FromMinutes(45));

        await app.DrainOutboxAsync();

        var reply = SmtpServer.MessagesTo(organizer).ShouldHaveSingleItem();
        reply.Header("From")!.ShouldContain(room.Email);
        var part = reply.Leaves().Single(p => p.MediaType == "text/calendar");
        part.ContentTypeParameters["method"].ShouldBe("REPLY");
        var document = ICalendarReader.Parse(part.Text);
        document.Method!.Value.Value.ShouldBe("REPLY");
        var answered = document.Events.ShouldHaveSingleItem();
        answered.Uid.ShouldBe(uid);
        answered.Organizer!.Email.ShouldBe(organizer);
        var attendee = answered.Attendees.ShouldHaveSingleItem();
        attendee.Email.ShouldBe(room.Email);
        attendee.Status.Value.ShouldBe("ACCEPTED");

        // Read once: the next poll finds nothing new, and the outbox sends no second reply.
        (await app.PollAsync(room.SpaceId)).ShouldBe(0);
        await app.DrainOutboxAsync();
        SmtpServer.MessagesTo(organizer).Count.ShouldBe(1);
    }

    [ImapFact]
    public async Task Auto_accept_space_declines_a_mailed_invitation_that_overlaps_a_confirmed_one()
    {
        var room = await MailboxAsync("room2", "autoAccept");
        var start = SpaceChannelServers.SomeFutureHour();
        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, NewOrganizer(), "imip-" + Guid.NewGuid().ToString("N"), start));
        var late = NewOrganizer();
        var lateUid = "imip-" + Guid.NewGuid().ToString("N");
        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, late, lateUid, start + Duration.FromMinutes(30)));

        (await app.PollAsync(room.SpaceId)).ShouldBe(2);
        await app.DrainOutboxAsync();

        (await RequestAsync(room, lateUid)).State.ShouldBe(SpaceRequestState.Declined);
        var part = SmtpServer.MessagesTo(late).ShouldHaveSingleItem().Leaves().Single(p => p.MediaType == "text/calendar");
        ICalendarReader.Parse(part.Text).Events[0].Attendees[0].Status.Value.ShouldBe("DECLINED");
    }

    [ImapFact]
    public async Task A_mailed_cancel_cancels_the_request()
    {
        var room = await MailboxAsync("room3", "rendezvousManaged");
        var organizer = NewOrganizer();
        var uid = "imip-" + Guid.NewGuid().ToString("N");
        var start = SpaceChannelServers.SomeFutureHour();
        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, organizer, uid, start));
        await app.PollAsync(room.SpaceId);
        (await RequestAsync(room, uid)).State.ShouldBe(SpaceRequestState.Prospect);

        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, organizer, uid, start, "CANCEL", sequence: 1));

        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        (await RequestAsync(room, uid)).State.ShouldBe(SpaceRequestState.Canceled);
    }

    [ImapFact]
    public async Task Confirming_one_mailed_invitation_declines_every_overlapping_one_and_each_organizer_is_told_by_email()
    {
        var room = await MailboxAsync("room8", "rendezvousManaged");
        var start = SpaceChannelServers.SomeFutureHour();
        var organizers = new[] { NewOrganizer(), NewOrganizer(), NewOrganizer() };
        var uids = organizers.Select(_ => "imip-" + Guid.NewGuid().ToString("N")).ToArray();
        for (var i = 0; i < organizers.Length; i++)
        {
            // Each overlaps the first: 0, +15 and +30 minutes, 45 minutes long.
            await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, organizers[i], uids[i], start + Duration.FromMinutes(15 * i)));
        }

        (await app.PollAsync(room.SpaceId)).ShouldBe(3);
        var chosen = await RequestAsync(room, uids[0]);
        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{chosen.Id}/confirm", new { })).ExpectAsync(200);
        await app.DrainOutboxAsync();

        string Answer(string organizer)
        {
            var reply = SmtpServer.MessagesTo(organizer).ShouldHaveSingleItem();
            var part = reply.Leaves().Single(p => p.MediaType == "text/calendar");
            return ICalendarReader.Parse(part.Text).Events.ShouldHaveSingleItem().Attendees.ShouldHaveSingleItem().Status.Value;
        }

        Answer(organizers[0]).ShouldBe("ACCEPTED");
        Answer(organizers[1]).ShouldBe("DECLINED");
        Answer(organizers[2]).ShouldBe("DECLINED");
        (await RequestAsync(room, uids[1])).State.ShouldBe(SpaceRequestState.Declined);
        (await RequestAsync(room, uids[2])).State.ShouldBe(SpaceRequestState.Declined);
    }

    [ImapFact]
    public async Task A_moved_invitation_that_keeps_its_SEQUENCE_with_a_newer_DTSTAMP_moves_the_request_and_an_older_copy_is_ignored()
    {
        var room = await MailboxAsync("room7", "autoAccept");
        var organizer = NewOrganizer();
        var uid = "imip-" + Guid.NewGuid().ToString("N");
        var start = SpaceChannelServers.SomeFutureHour();
        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, organizer, uid, start));
        (await app.PollAsync(room.SpaceId)).ShouldBe(1);

        // The organizer's client moves the meeting an hour later and sends it again with the same SEQUENCE, a newer DTSTAMP.
        var moved = start + Duration.FromHours(1);
        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, organizer, uid, moved, stamp: "20261206T110000Z"));
        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        var request = await RequestAsync(room, uid);
        request.Start.ShouldBe(moved);
        request.Sequence.ShouldBe(0);
        request.State.ShouldBe(SpaceRequestState.Confirmed);

        // The first message delivered again (a late duplicate, older DTSTAMP) changes nothing, nor does the newer one again.
        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, organizer, uid, start));
        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, organizer, uid, moved, stamp: "20261206T110000Z"));
        (await app.PollAsync(room.SpaceId)).ShouldBe(0);
        (await RequestAsync(room, uid)).Start.ShouldBe(moved);
        var history = await app.WithDbAsync(db => db.SpaceRequestActivities.Where(a => a.RequestId == request.Id).Select(a => a.Action).ToListAsync());
        history.Count(a => a == "updated").ShouldBe(1);
    }

    [ImapFact]
    public async Task A_wrong_password_is_recorded_on_the_channel_and_backs_off_without_losing_mail()
    {
        var room = await MailboxAsync("room4", "autoAccept");
        await (await app.Client().PutJsonAsync($"/api/v1/spaces/{room.SpaceId}/channel", new
        {
            kind = "imip", address = room.Email, imapHost = SpaceChannelServers.ImapHost, imapPort = SpaceChannelServers.ImapPort,
            imapSecurity = "None", userName = room.User, password = "not-the-password",
        })).ExpectAsync(200);
        var uid = "imip-" + Guid.NewGuid().ToString("N");
        await SpaceChannelServers.DeliverAsync(room.User, Invitation(room, NewOrganizer(), uid, SpaceChannelServers.SomeFutureHour()));

        (await app.PollAsync(room.SpaceId)).ShouldBe(0);
        var broken = await (await app.Client().GetAsync($"/api/v1/spaces/{room.SpaceId}/channel")).ExpectAsync(200);
        broken["lastError"]!.GetValue<string>().ShouldContain("Authentication");
        broken["consecutiveFailures"]!.GetValue<int>().ShouldBe(1);
        var next = await app.WithDbAsync(db => db.SpaceChannels.Where(c => c.SpaceId == Guid.Parse(room.SpaceId)).Select(c => c.NextPollAt).SingleAsync());
        next.ShouldBeGreaterThan(app.Clock.GetCurrentInstant());

        await (await app.Client().PutJsonAsync($"/api/v1/spaces/{room.SpaceId}/channel", new
        {
            kind = "imip", address = room.Email, imapHost = SpaceChannelServers.ImapHost, imapPort = SpaceChannelServers.ImapPort,
            imapSecurity = "None", userName = room.User, password = SpaceChannelServers.ImapPassword,
        })).ExpectAsync(200);
        (await app.PollAsync(room.SpaceId)).ShouldBe(1);
        (await RequestAsync(room, uid)).State.ShouldBe(SpaceRequestState.Confirmed);
    }

    [ImapFact]
    public async Task The_channel_password_is_never_returned_and_is_stored_encrypted_and_other_organizations_cannot_see_the_channel()
    {
        var room = await MailboxAsync("room5", "autoAccept");
        var shown = await (await app.Client().GetAsync($"/api/v1/spaces/{room.SpaceId}/channel")).ExpectAsync(200);
        shown.ToJsonString().ShouldNotContain(SpaceChannelServers.ImapPassword);
        shown["hasPassword"]!.GetValue<bool>().ShouldBeTrue();
        var stored = await app.WithDbAsync(db => db.SpaceChannels.Where(c => c.SpaceId == Guid.Parse(room.SpaceId)).Select(c => c.ProtectedSecret).SingleAsync());
        stored.ShouldNotContain(SpaceChannelServers.ImapPassword);
        (await app.WithScopeAsync(sp => Task.FromResult(sp.GetRequiredService<SpaceChannelSecrets>().Unprotect(stored)))).ShouldBe(SpaceChannelServers.ImapPassword);

        var other = app.Client(await app.CreateOrganizationAsync("other-" + Guid.NewGuid().ToString("N")[..6]));
        await (await other.GetAsync($"/api/v1/spaces/{room.SpaceId}/channel")).ExpectAsync(404);
        await (await other.PutJsonAsync($"/api/v1/spaces/{room.SpaceId}/channel", new
        {
            kind = "imip", address = "x@example.test", imapHost = "127.0.0.1", userName = "x", password = "y",
        })).ExpectAsync(404);
        await (await other.DeleteAsync($"/api/v1/spaces/{room.SpaceId}/channel")).ExpectAsync(404);
        await (await app.Client().GetAsync($"/api/v1/spaces/{room.SpaceId}/channel")).ExpectAsync(200);

        var invalid = await (await app.Client().PutJsonAsync($"/api/v1/spaces/{room.SpaceId}/channel", new
        {
            kind = "caldav", address = room.Email, serverUrl = "ftp://nowhere", userName = "x",
        })).ExpectAsync(400);
        invalid["errors"]!["serverUrl"].ShouldNotBeNull();
    }

    [ImapFact]
    public async Task A_due_channel_is_claimed_by_one_process_at_a_time_until_its_lease_runs_out()
    {
        var room = await MailboxAsync("room6", "autoAccept");
        var id = Guid.Parse(room.SpaceId);
        var now = app.Clock.GetCurrentInstant();
        var lease = Duration.FromSeconds(60);

        async Task<bool> ClaimedAsync(Instant at) => await app.WithDbAsync(async db =>
            (await SpaceChannelWorker.ClaimAsync(db, at, lease, 1000, CancellationToken.None)).Contains(id));

        (await ClaimedAsync(now)).ShouldBeTrue();
        (await ClaimedAsync(now)).ShouldBeFalse();
        (await ClaimedAsync(now + lease + Duration.FromSeconds(1))).ShouldBeTrue();
        await app.WithDbAsync(async db => { await SpaceChannelWorker.ReleaseAsync(db, id, CancellationToken.None); return 0; });
        (await ClaimedAsync(now + lease + Duration.FromSeconds(1))).ShouldBeTrue();
    }
}

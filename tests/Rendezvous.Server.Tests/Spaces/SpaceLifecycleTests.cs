using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;
using Rendezvous.Data.Spaces;
using Rendezvous.Server.Features.Spaces;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Notifications;
using Shouldly;

namespace Rendezvous.Server.Tests.Spaces;

/// <summary>
/// Seed 004, statement by statement (docs/SPACES.md maps each sentence to its test): spaces administered by their
/// calendar (auto-accept, moderated) or by Rendezvous, against real PostgreSQL and the real SMTP server.
/// </summary>
public sealed class SpaceLifecycleTests(EmailApp app) : IClassFixture<EmailApp>
{
    // Tuesday 2027-03-02, after the tests' "now" (2027-03-01 08:00 UTC).
    private static readonly Instant Ten = Instant.FromUtc(2027, 3, 2, 10, 0);

    private async Task<string> SpaceAsync(string administration, Action<JsonObject>? customize = null, HttpClient? admin = null)
    {
        var body = new JsonObject
        {
            ["name"] = "Room " + Guid.NewGuid().ToString("N")[..8],
            ["kind"] = "room",
            ["capacity"] = 12,
            ["features"] = new JsonArray("projector", "whiteboard"),
            ["timeZone"] = "Europe/London",
            ["administration"] = administration,
            ["resourceCalendarKind"] = "caldav",
            ["resourceCalendarAddress"] = "mailto:room-" + Guid.NewGuid().ToString("N")[..8] + "@acme.example",
        };
        customize?.Invoke(body);
        var made = await (await (admin ?? app.Client()).PostJsonAsync("/api/v1/spaces", body)).ExpectAsync(201);
        return made["id"]!.GetValue<string>();
    }

    private async Task<Guid> OrgAsync() => await app.WithDbAsync(db => db.Organizations.Where(o => o.Slug == "acme").Select(o => o.Id.Value).FirstAsync());

    private static string Organizer() => $"organizer.{Guid.NewGuid():N}@outside.example";

    private async Task<SpaceRequestResult> InviteAsync(string spaceId, string organizer, Instant start, int minutes = 60, string? uid = null,
        int sequence = 0, string channel = "caldav") =>
        await app.WithScopeAsync(sp => sp.GetRequiredService<ISpaceInvitations>().ReceiveAsync(
            new SpaceInvitation(OrgAsync().GetAwaiter().GetResult(), Guid.Parse(spaceId), uid ?? Guid.NewGuid() + "@outside.example", sequence,
                organizer, "Organizer", "Quarterly review", start, start + Duration.FromMinutes(minutes), channel, "inbox/" + Guid.NewGuid()),
            CancellationToken.None));

    /// <summary>The answers owed to organizers for one request, oldest first.</summary>
    private async Task<List<JsonNode>> AnswersAsync(Guid requestId) =>
        (await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type == SpaceRequestAnswered.Type).OrderBy(m => m.Id).Select(m => m.Payload).ToListAsync()))
        .Select(p => JsonNode.Parse(p)!)
        .Where(p => p["requestId"]!.GetValue<string>() == requestId.ToString())
        .ToList();

    private async Task<JsonNode> ActAsync(string requestId, string action, int status = 200, HttpClient? client = null) =>
        await (await (client ?? app.Client()).PostJsonAsync($"/api/v1/spaces/requests/{requestId}/{action}", new { reason = (string?)null }))
            .ExpectAsync(status);

    private async Task<JsonNode> RequestViaApiAsync(HttpClient client, string[] spaceIds, Instant start, string? organizerEmail = null, int status = 201)
    {
        var body = new JsonObject
        {
            ["spaceIds"] = new JsonArray([.. spaceIds.Select(id => (JsonNode)JsonValue.Create(id)!)]),
            ["start"] = start.ToString(),
            ["end"] = (start + Duration.FromHours(1)).ToString(),
        };
        if (organizerEmail is not null)
        {
            body["organizerEmail"] = organizerEmail;
            body["summary"] = "Board dinner";
        }

        return await (await client.PostJsonAsync("/api/v1/spaces/requests", body)).ExpectAsync(status);
    }

    [DbFact]
    public async Task Auto_accept_space_accepts_a_free_invitation_and_it_arrives_confirmed_with_the_event_defaults()
    {
        var space = await SpaceAsync("autoAccept");
        var result = await InviteAsync(space, Organizer(), Ten);

        result.State.ShouldBe("confirmed");
        var answers = await AnswersAsync(result.RequestId);
        answers.Count.ShouldBe(1);
        answers[0]["partstat"]!.GetValue<string>().ShouldBe("ACCEPTED");
        answers[0]["channel"]!.GetValue<string>().ShouldBe("caldav");
        answers[0]["channelReference"]!.GetValue<string>().ShouldStartWith("inbox/");
        var request = await (await app.Client().GetAsync($"/api/v1/spaces/requests/{result.RequestId}")).ExpectAsync(200);
        request["state"]!.GetValue<string>().ShouldBe("confirmed");
        request["summary"]!.GetValue<string>().ShouldBe("Quarterly review");
        request["history"]!.AsArray().Select(h => h!["action"]!.GetValue<string>()).ShouldContain("received");
    }

    [DbFact]
    public async Task Auto_accept_space_declines_an_invitation_that_conflicts()
    {
        var space = await SpaceAsync("autoAccept");
        (await InviteAsync(space, Organizer(), Ten)).State.ShouldBe("confirmed");

        var clash = await InviteAsync(space, Organizer(), Ten + Duration.FromMinutes(30));

        clash.State.ShouldBe("declined");
        var answers = await AnswersAsync(clash.RequestId);
        answers.Single()["partstat"]!.GetValue<string>().ShouldBe("DECLINED");
        answers.Single()["writeToResourceCalendar"]!.GetValue<bool>().ShouldBeFalse();
    }

    [DbFact]
    public async Task A_repeated_invitation_keeps_its_answer_and_a_moved_one_is_decided_again()
    {
        var space = await SpaceAsync("autoAccept");
        var uid = Guid.NewGuid() + "@outside.example";
        var organizer = Organizer();
        var first = await InviteAsync(space, organizer, Ten, uid: uid, sequence: 0);
        var again = await InviteAsync(space, organizer, Ten, uid: uid, sequence: 0);
        again.ShouldBe(first);
        (await AnswersAsync(first.RequestId)).Count.ShouldBe(1);

        (await InviteAsync(space, Organizer(), Ten + Duration.FromHours(2))).State.ShouldBe("confirmed");
        var moved = await InviteAsync(space, organizer, Ten + Duration.FromHours(2), uid: uid, sequence: 1);

        moved.RequestId.ShouldBe(first.RequestId);
        moved.State.ShouldBe("declined");
    }

    [DbFact]
    public async Task Moderated_space_waits_for_its_moderator_who_accepts()
    {
        var admin = app.Client();
        var moderatorId = await Scenario.CreateUserAsync(admin, "Mona Moderator");
        var moderator = app.Client(await Scenario.CreateKeyAsync(admin, moderatorId));
        var someone = app.Client(await Scenario.CreateKeyAsync(admin, await Scenario.CreateUserAsync(admin, "Sam Someone")));
        var space = await SpaceAsync("moderated", s => s["moderatorId"] = moderatorId);

        var result = await InviteAsync(space, Organizer(), Ten);

        result.State.ShouldBe("pending");
        (await AnswersAsync(result.RequestId)).ShouldBeEmpty();
        await ActAsync(result.RequestId.ToString(), "accept", 403, someone);
        (await ActAsync(result.RequestId.ToString(), "accept", 200, moderator))["state"]!.GetValue<string>().ShouldBe("confirmed");
        (await AnswersAsync(result.RequestId)).Single()["partstat"]!.GetValue<string>().ShouldBe("ACCEPTED");
    }

    [DbFact]
    public async Task Moderated_space_moderator_declines()
    {
        var admin = app.Client();
        var moderatorId = await Scenario.CreateUserAsync(admin, "Mona Moderator");
        var moderator = app.Client(await Scenario.CreateKeyAsync(admin, moderatorId));
        var space = await SpaceAsync("moderated", s => s["moderatorId"] = moderatorId);
        var result = await InviteAsync(space, Organizer(), Ten);

        (await ActAsync(result.RequestId.ToString(), "decline", 200, moderator))["state"]!.GetValue<string>().ShouldBe("declined");

        (await AnswersAsync(result.RequestId)).Single()["partstat"]!.GetValue<string>().ShouldBe("DECLINED");
        await ActAsync(result.RequestId.ToString(), "accept", 409, moderator);
    }

    [DbFact]
    public async Task A_moderated_space_needs_a_moderator()
    {
        var response = await app.Client().PostJsonAsync("/api/v1/spaces",
            new { name = "No moderator", timeZone = "Europe/London", administration = "moderated" });
        var problem = await response.ExpectAsync(400);
        problem["errors"]!["moderatorId"].ShouldNotBeNull();
    }

    [SmtpFact]
    public async Task Request_made_in_Rendezvous_on_a_calendar_managed_space_tells_its_creator_by_email()
    {
        var space = await SpaceAsync("autoAccept");
        var creator = Organizer();

        var made = await RequestViaApiAsync(app.Client(), [space], Ten, creator);

        made[0]!["state"]!.GetValue<string>().ShouldBe("confirmed");
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        var mail = SmtpServer.MessagesTo(creator).ShouldHaveSingleItem();
        mail.Header("Subject")!.ShouldStartWith("Accepted:");
        var answer = (await AnswersAsync(Guid.Parse(made[0]!["id"]!.GetValue<string>()))).Single();
        answer["channel"]!.GetValue<string>().ShouldBe("api");
        answer["writeToResourceCalendar"]!.GetValue<bool>().ShouldBeTrue();
    }

    [DbFact]
    public async Task Request_made_in_Rendezvous_on_a_booked_calendar_managed_space_must_choose_another_space()
    {
        var space = await SpaceAsync("autoAccept");
        await RequestViaApiAsync(app.Client(), [space], Ten, Organizer());

        var refused = await RequestViaApiAsync(app.Client(), [space], Ten, Organizer(), 409);

        refused["code"]!.GetValue<string>().ShouldBe("space_taken");
        refused["detail"]!.GetValue<string>().ShouldContain("Already booked");
    }

    [DbFact]
    public async Task Rendezvous_managed_request_starts_as_prospect_with_the_event_defaults()
    {
        var space = await SpaceAsync("rendezvousManaged");

        var made = await RequestViaApiAsync(app.Client(), [space], Ten);

        var request = made[0]!;
        request["state"]!.GetValue<string>().ShouldBe("prospect");
        request["summary"]!.GetValue<string>().ShouldBe("Event");
        request["organizerEmail"]!.GetValue<string>().ShouldBe("admin@acme.example");
        request["channel"]!.GetValue<string>().ShouldBe("api");
        (await AnswersAsync(Guid.Parse(request["id"]!.GetValue<string>()))).ShouldBeEmpty();
    }

    [SmtpFact]
    public async Task Hold_or_tentative_emails_the_organizer_and_leaves_the_invitation_pending_off_the_resource_calendar()
    {
        var space = await SpaceAsync("rendezvousManaged");
        var organizer = Organizer();
        var held = await InviteAsync(space, organizer, Ten);
        held.State.ShouldBe("prospect");
        var other = await InviteAsync(space, Organizer(), Ten + Duration.FromDays(1));

        (await ActAsync(held.RequestId.ToString(), "hold"))["onResourceCalendar"]!.GetValue<bool>().ShouldBeFalse();
        (await ActAsync(other.RequestId.ToString(), "tentative"))["state"]!.GetValue<string>().ShouldBe("tentative");

        (await AnswersAsync(held.RequestId)).ShouldBeEmpty();
        (await AnswersAsync(other.RequestId)).ShouldBeEmpty();
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        var mail = SmtpServer.MessagesTo(organizer).ShouldHaveSingleItem();
        mail.Header("Subject")!.ShouldStartWith("On hold:");
        mail.Text.ShouldContain("stays pending");
    }

    [SmtpFact]
    public async Task Confirm_accepts_the_invitation_and_declines_every_other_overlapping_invitation_each_organizer_told()
    {
        var space = await SpaceAsync("rendezvousManaged");
        var winner = await InviteAsync(space, Organizer(), Ten);
        var loserByCalendar = await InviteAsync(space, Organizer(), Ten + Duration.FromMinutes(30));
        var apiCreator = Organizer();
        var loserInRendezvous = (await RequestViaApiAsync(app.Client(), [space], Ten - Duration.FromMinutes(30), apiCreator))[0]!["id"]!.GetValue<string>();
        await ActAsync(loserInRendezvous, "hold");
        var later = await InviteAsync(space, Organizer(), Ten + Duration.FromHours(3));

        (await ActAsync(winner.RequestId.ToString(), "confirm"))["state"]!.GetValue<string>().ShouldBe("confirmed");

        var accepted = (await AnswersAsync(winner.RequestId)).Single();
        accepted["partstat"]!.GetValue<string>().ShouldBe("ACCEPTED");
        accepted["writeToResourceCalendar"]!.GetValue<bool>().ShouldBeTrue();
        (await AnswersAsync(loserByCalendar.RequestId)).Single()["partstat"]!.GetValue<string>().ShouldBe("DECLINED");
        (await AnswersAsync(Guid.Parse(loserInRendezvous))).Single()["partstat"]!.GetValue<string>().ShouldBe("DECLINED");
        (await AnswersAsync(later.RequestId)).ShouldBeEmpty();
        var declined = await (await app.Client().GetAsync($"/api/v1/spaces/requests/{loserByCalendar.RequestId}")).ExpectAsync(200);
        declined["state"]!.GetValue<string>().ShouldBe("declined");
        declined["lastReason"]!.GetValue<string>().ShouldBe(SpaceService.DeclinedByOtherConfirmed);
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        SmtpServer.MessagesTo(apiCreator).Select(m => m.Header("Subject")!).ShouldContain(s => s.StartsWith("Declined:", StringComparison.Ordinal));
    }

    [DbFact]
    public async Task Cancel_declines_the_invitation_and_removes_it_from_the_resource_calendar()
    {
        var space = await SpaceAsync("rendezvousManaged");
        var request = await InviteAsync(space, Organizer(), Ten);
        await ActAsync(request.RequestId.ToString(), "confirm");

        (await ActAsync(request.RequestId.ToString(), "cancel"))["state"]!.GetValue<string>().ShouldBe("canceled");

        var answers = await AnswersAsync(request.RequestId);
        answers.Count.ShouldBe(2);
        answers[1]["partstat"]!.GetValue<string>().ShouldBe("DECLINED");
        answers[1]["removeFromResourceCalendar"]!.GetValue<bool>().ShouldBeTrue();
    }

    [DbFact]
    public async Task A_confirmed_event_set_back_to_tentative_stays_on_the_resource_calendar()
    {
        var space = await SpaceAsync("rendezvousManaged");
        var request = await InviteAsync(space, Organizer(), Ten);
        await ActAsync(request.RequestId.ToString(), "confirm");

        var tentative = await ActAsync(request.RequestId.ToString(), "tentative");

        tentative["state"]!.GetValue<string>().ShouldBe("tentative");
        tentative["onResourceCalendar"]!.GetValue<bool>().ShouldBeTrue();
        var answers = await AnswersAsync(request.RequestId);
        answers.Single()["partstat"]!.GetValue<string>().ShouldBe("ACCEPTED");
        answers.ShouldAllBe(a => !a!["removeFromResourceCalendar"]!.GetValue<bool>());
    }

    [DbFact]
    public async Task Only_confirmed_events_are_written_to_the_resource_calendar()
    {
        var space = await SpaceAsync("rendezvousManaged");
        var request = await InviteAsync(space, Organizer(), Ten);
        await ActAsync(request.RequestId.ToString(), "hold");
        (await AnswersAsync(request.RequestId)).ShouldBeEmpty();

        await ActAsync(request.RequestId.ToString(), "confirm");

        (await AnswersAsync(request.RequestId)).Single()["writeToResourceCalendar"]!.GetValue<bool>().ShouldBeTrue();
    }

    [DbFact]
    public async Task An_event_canceled_in_the_calendar_is_canceled_in_Rendezvous()
    {
        var space = await SpaceAsync("rendezvousManaged");
        var uid = Guid.NewGuid() + "@outside.example";
        var request = await InviteAsync(space, Organizer(), Ten, uid: uid);
        await ActAsync(request.RequestId.ToString(), "confirm");

        await app.WithScopeAsync(async sp =>
        {
            await sp.GetRequiredService<ISpaceInvitations>().CancelFromCalendarAsync(Guid.Parse(space), uid, CancellationToken.None);
            return 0;
        });

        var canceled = await (await app.Client().GetAsync($"/api/v1/spaces/requests/{request.RequestId}")).ExpectAsync(200);
        canceled["state"]!.GetValue<string>().ShouldBe("canceled");
        canceled["lastActor"]!["kind"]!.GetValue<string>().ShouldBe("calendar");
        (await RequestViaApiAsync(app.Client(), [space], Ten, Organizer()))[0]!["state"]!.GetValue<string>().ShouldBe("prospect");
    }

    [DbFact]
    public async Task The_database_refuses_two_overlapping_confirmed_requests_for_one_space_while_open_ones_may_overlap()
    {
        var space = Guid.Parse(await SpaceAsync("rendezvousManaged"));
        var org = await OrgAsync();
        // The application's own data source: it maps NodaTime instants.
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();

        async Task InsertAsync(string state, int offsetMinutes)
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO space_requests (id, organization_id, space_id, uid, sequence, organizer_email, summary, start_at, end_at, state, channel,
                    on_resource_calendar, on_organizer_calendar, created_at, updated_at)
                VALUES (@id, @org, @space, @uid, 0, 'o@x.example', 's', @start, @end, @state, 'api', false, false, @start, @start)
                """, connection);
            insert.Parameters.AddWithValue("id", Guid.NewGuid());
            insert.Parameters.AddWithValue("org", org);
            insert.Parameters.AddWithValue("space", space);
            insert.Parameters.AddWithValue("uid", Guid.NewGuid().ToString());
            insert.Parameters.AddWithValue("start", Ten + Duration.FromMinutes(offsetMinutes));
            insert.Parameters.AddWithValue("end", Ten + Duration.FromMinutes(offsetMinutes + 60));
            insert.Parameters.AddWithValue("state", state);
            await insert.ExecuteNonQueryAsync();
        }

        await InsertAsync("prospect", 0);
        await InsertAsync("hold", 10);
        await InsertAsync("confirmed", 20);
        await InsertAsync("confirmed", 80);
        var refused = await Should.ThrowAsync<PostgresException>(() => InsertAsync("confirmed", 30));
        refused.SqlState.ShouldBe(PostgresErrorCodes.ExclusionViolation);
    }

    [DbFact]
    public async Task Confirming_over_a_confirmed_event_is_refused_and_the_conflicts_are_visible_before()
    {
        var space = await SpaceAsync("rendezvousManaged");
        var first = await InviteAsync(space, Organizer(), Ten);
        var second = await InviteAsync(space, Organizer(), Ten + Duration.FromMinutes(15));
        var third = await InviteAsync(space, Organizer(), Ten + Duration.FromMinutes(45));

        var before = await (await app.Client().GetAsync($"/api/v1/spaces/requests/{first.RequestId}/conflicts")).ExpectAsync(200);
        before["blocking"]!.AsArray().ShouldBeEmpty();
        before["wouldBeDeclined"]!.AsArray().Select(r => r!["id"]!.GetValue<string>())
            .ShouldBe([second.RequestId.ToString(), third.RequestId.ToString()], ignoreOrder: true);
        await ActAsync(first.RequestId.ToString(), "confirm");
        await ActAsync(third.RequestId.ToString(), "confirm", 409);

        var after = await (await app.Client().GetAsync($"/api/v1/spaces/requests/{third.RequestId}/conflicts")).ExpectAsync(200);
        after["request"]!["state"]!.GetValue<string>().ShouldBe("declined");
        after["blocking"]!.AsArray().Single()!["id"]!.GetValue<string>().ShouldBe(first.RequestId.ToString());
    }

    [DbFact]
    public async Task Several_spaces_on_one_event_are_booked_all_or_nothing()
    {
        var hall = await SpaceAsync("autoAccept");
        var kitchen = await SpaceAsync("autoAccept");
        await RequestViaApiAsync(app.Client(), [kitchen], Ten, Organizer());

        var refused = await RequestViaApiAsync(app.Client(), [hall, kitchen], Ten, Organizer(), 409);

        refused["detail"]!.GetValue<string>().ShouldContain("Already booked");
        var onHall = await (await app.Client().GetAsync($"/api/v1/spaces/requests?spaceId={hall}")).ExpectAsync(200);
        onHall.AsArray().ShouldBeEmpty();
        var both = await RequestViaApiAsync(app.Client(), [hall, kitchen], Ten + Duration.FromHours(4), Organizer());
        both.AsArray().Select(r => r!["state"]!.GetValue<string>()).ShouldBe(["confirmed", "confirmed"]);
        both.AsArray().Select(r => r!["uid"]!.GetValue<string>()).Distinct().Count().ShouldBe(1);
    }

    [DbFact]
    public async Task Confirming_one_space_of_an_event_confirms_its_other_managed_spaces_or_none()
    {
        var stage = await SpaceAsync("rendezvousManaged");
        var foyer = await SpaceAsync("rendezvousManaged");
        var blocker = (await RequestViaApiAsync(app.Client(), [foyer], Ten, Organizer()))[0]!["id"]!.GetValue<string>();
        await ActAsync(blocker, "confirm");
        var made = await RequestViaApiAsync(app.Client(), [stage, foyer], Ten, Organizer());
        var ids = made.AsArray().Select(r => r!["id"]!.GetValue<string>()).ToArray();

        (await ActAsync(ids[0], "confirm", 409))["code"]!.GetValue<string>().ShouldBe("space_taken");
        var states = await (await app.Client().GetAsync($"/api/v1/spaces/requests?uid={Uri.EscapeDataString(made[0]!["uid"]!.GetValue<string>())}")).ExpectAsync(200);
        states.AsArray().Select(r => r!["state"]!.GetValue<string>()).ShouldBe(["prospect", "prospect"]);

        var other = await RequestViaApiAsync(app.Client(), [stage, foyer], Ten + Duration.FromHours(5), Organizer());
        await ActAsync(other[1]!["id"]!.GetValue<string>(), "confirm");
        var confirmed = await (await app.Client().GetAsync($"/api/v1/spaces/requests?uid={Uri.EscapeDataString(other[0]!["uid"]!.GetValue<string>())}")).ExpectAsync(200);
        confirmed.AsArray().Select(r => r!["state"]!.GetValue<string>()).ShouldBe(["confirmed", "confirmed"]);
    }

    [DbFact]
    public async Task Spaces_in_different_time_zones_show_times_in_the_space_zone_and_the_viewer_zone()
    {
        var tokyo = await SpaceAsync("autoAccept", s => s["timeZone"] = "Asia/Tokyo");
        var made = await RequestViaApiAsync(app.Client(), [tokyo], Ten, Organizer());

        var request = await (await app.Client().GetAsync($"/api/v1/spaces/requests/{made[0]!["id"]}?timeZone=America/New_York")).ExpectAsync(200);

        request["spaceTimeZone"]!.GetValue<string>().ShouldBe("Asia/Tokyo");
        request["startTimes"]!["inSpaceZone"]!.GetValue<string>().ShouldBe("2027-03-02T19:00:00+09:00");
        request["startTimes"]!["inViewerZone"]!.GetValue<string>().ShouldBe("2027-03-02T05:00:00-05:00");
        var timeline = await (await app.Client().GetAsync("/api/v1/spaces/timeline?date=2027-03-02&timeZone=America/New_York")).ExpectAsync(200);
        var row = timeline["spaces"]!.AsArray().Single(r => r!["space"]!["id"]!.GetValue<string>() == tokyo)!;
        row["requests"]!.AsArray().Single()!["startTimes"]!["inSpaceZone"]!.GetValue<string>().ShouldBe("2027-03-02T19:00:00+09:00");
    }

    [DbFact]
    public async Task The_day_timeline_shows_pending_and_confirmed_events_but_not_declined_ones()
    {
        var space = await SpaceAsync("rendezvousManaged");
        var confirmed = await InviteAsync(space, Organizer(), Ten);
        var pending = await InviteAsync(space, Organizer(), Ten + Duration.FromHours(2));
        var declined = await InviteAsync(space, Organizer(), Ten + Duration.FromMinutes(30));
        await ActAsync(confirmed.RequestId.ToString(), "confirm");

        var timeline = await (await app.Client().GetAsync("/api/v1/spaces/timeline?date=2027-03-02&timeZone=Europe/London")).ExpectAsync(200);

        var row = timeline["spaces"]!.AsArray().Single(r => r!["space"]!["id"]!.GetValue<string>() == space)!;
        row["requests"]!.AsArray().Select(r => r!["id"]!.GetValue<string>())
            .ShouldBe([confirmed.RequestId.ToString(), pending.RequestId.ToString()]);
        row["requests"]!.AsArray().ShouldNotContain(r => r!["id"]!.GetValue<string>() == declined.RequestId.ToString());
    }

    [DbFact]
    public async Task Every_change_is_an_outbox_event_webhooks_can_subscribe_to()
    {
        var admin = app.Client();
        await (await admin.PostJsonAsync("/api/v1/webhooks", new { url = "http://127.0.0.1:9/hook", events = new[] { "space.request.confirmed", "space.created" } }))
            .ExpectAsync(201);
        var space = await SpaceAsync("rendezvousManaged");
        var request = await InviteAsync(space, Organizer(), Ten);
        await ActAsync(request.RequestId.ToString(), "hold");
        await ActAsync(request.RequestId.ToString(), "confirm");

        var types = await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type.StartsWith("space.")).Select(m => new { m.Type, m.Payload }).ToListAsync());
        var mine = types.Where(t => t.Payload.Contains(request.RequestId.ToString(), StringComparison.Ordinal)).Select(t => t.Type).ToList();
        mine.ShouldBe([SpaceEvent.RequestReceived, SpaceEvent.RequestHeld, SpaceEvent.RequestConfirmed, SpaceRequestAnswered.Type], ignoreOrder: true);
        await app.DrainOutboxAsync();
        var payloads = await app.WithDbAsync(db => db.WebhookDeliveries.IgnoreQueryFilters().Where(d => d.EventType == SpaceEvent.RequestConfirmed)
            .Select(d => d.Payload).ToListAsync());
        var delivered = payloads.Select(p => JsonNode.Parse(p)!).Single(p => p["data"]!["requestId"]!.GetValue<string>() == request.RequestId.ToString());
        delivered["data"]!["state"]!.GetValue<string>().ShouldBe("confirmed");
        delivered["data"]!["previousState"]!.GetValue<string>().ShouldBe("hold");
    }

    [DbFact]
    public async Task Space_routes_answer_problem_json_for_bad_input_and_members_cannot_change_spaces()
    {
        var admin = app.Client();
        var bad = await (await admin.PostJsonAsync("/api/v1/spaces", new { name = "", timeZone = "Mars/Olympus", kind = "castle", capacity = -1 })).ExpectAsync(400);
        bad["errors"]!.AsObject().Select(e => e.Key).ShouldBe(["name", "kind", "capacity", "timeZone"], ignoreOrder: true);
        var member = app.Client(await Scenario.CreateKeyAsync(admin, await Scenario.CreateUserAsync(admin, "Mo Member")));
        await (await member.PostJsonAsync("/api/v1/spaces", new { name = "Mine", timeZone = "Europe/London" })).ExpectAsync(403);
        await (await admin.GetAsync($"/api/v1/spaces/{Guid.NewGuid()}")).ExpectAsync(404);
        await (await admin.PostJsonAsync($"/api/v1/spaces/requests/{Guid.NewGuid()}/confirm", new { })).ExpectAsync(404);
        var space = await SpaceAsync("rendezvousManaged");
        var request = (await RequestViaApiAsync(member, [space], Ten))[0]!["id"]!.GetValue<string>();
        await ActAsync(request, "confirm", 403, member);
        (await ActAsync(request, "cancel", 200, member))["state"]!.GetValue<string>().ShouldBe("canceled");
    }
}

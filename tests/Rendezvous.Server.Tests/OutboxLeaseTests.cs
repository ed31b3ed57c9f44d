using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>
/// Handles the tests' own "lease.*" messages: records every run (with how many runs of the same key were under way at the
/// time), can be told to fail, and can hold a run open until released.
/// </summary>
public sealed class LeaseProbe : IOutboxHandler
{
    private readonly ConcurrentDictionary<string, int> _running = new(StringComparer.Ordinal);

    public ConcurrentQueue<(long Id, string Key, int Overlapping)> Runs { get; } = new();

    /// <summary>Message ids that fail every time they run.</summary>
    public ConcurrentDictionary<long, bool> Failing { get; } = new();

    public string Name => "lease-probe";

    public bool Handles(string type) => type.StartsWith("lease.", StringComparison.Ordinal);

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        var key = System.Text.Json.JsonDocument.Parse(message.Payload).RootElement.GetProperty("bookingId").GetString()!;
        var overlapping = _running.AddOrUpdate(key, 1, (_, n) => n + 1);
        try
        {
            // Long enough for another lane or process to start something of the same key, if it were allowed to.
            await Task.Delay(3, cancellationToken);
            Runs.Enqueue((message.Id, key, overlapping));
            if (Failing.ContainsKey(message.Id))
            {
                throw new InvalidOperationException($"probe refuses message {message.Id}");
            }
        }
        finally
        {
            _running.AddOrUpdate(key, 0, (_, n) => n - 1);
        }
    }
}

public sealed class OutboxLeaseApp : RendezvousApp
{
    public LeaseProbe Probe { get; } = new();

    protected override void ConfigureSettings(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) =>
        builder.UseSetting("Rendezvous:Outbox:MaxAttempts", "3");

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IOutboxHandler>(Probe);
}

public sealed class OutboxLeaseTests(OutboxLeaseApp app) : IClassFixture<OutboxLeaseApp>
{
    private OutboxProcessor NewProcessor(int parallelism = 8, int maxAttempts = 3) =>
        new(app.Services.GetRequiredService<NpgsqlDataSource>(), [app.Probe], app.Clock, NullLogger<OutboxProcessor>.Instance,
            Options.Create(new OutboxOptions { Parallelism = parallelism, MaxAttempts = maxAttempts }));

    /// <summary>Adds one "lease.step" message per key and round, round by round, so each key's messages are in id order.</summary>
    private async Task<List<long>> EnqueueAsync(IReadOnlyList<Guid> keys, int rounds)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        var ids = new List<long>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var key in keys)
            {
                await using var insert = new NpgsqlCommand("""
                    INSERT INTO outbox_messages (type, payload, created_at, available_at, organization_id)
                    VALUES ('lease.step', jsonb_build_object('bookingId', @key::text, 'round', @round), @now, @now,
                            (SELECT id FROM organizations WHERE slug = 'acme'))
                    RETURNING id
                    """, connection);
                insert.Parameters.AddWithValue("key", key);
                insert.Parameters.AddWithValue("round", round);
                insert.Parameters.AddWithValue("now", app.Clock.GetCurrentInstant());
                ids.Add((long)(await insert.ExecuteScalarAsync())!);
            }
        }

        return ids;
    }

    private async Task DrainAsync()
    {
        _ = app.Client();
        while (await NewProcessor().ProcessBatchAsync(100, CancellationToken.None) > 0)
        {
        }

        app.Probe.Runs.Clear();
    }

    [DbFact]
    public async Task Two_processors_run_every_message_once_and_the_messages_of_one_booking_one_at_a_time_in_order()
    {
        await DrainAsync();
        var keys = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid()).ToList();
        var ids = await EnqueueAsync(keys, rounds: 6);

        async Task Drain(OutboxProcessor p)
        {
            while (await p.ProcessBatchAsync(7, CancellationToken.None) > 0)
            {
            }
        }

        await Task.WhenAll(Drain(NewProcessor(parallelism: 4)), Drain(NewProcessor(parallelism: 4)));

        var runs = app.Probe.Runs.ToList();
        runs.Select(r => r.Id).Order().ShouldBe(ids.Order());
        runs.ShouldAllBe(r => r.Overlapping == 1);
        foreach (var key in keys)
        {
            var ofKey = runs.Where(r => r.Key == key.ToString()).Select(r => r.Id).ToList();
            ofKey.ShouldBe(ofKey.Order().ToList(), $"messages of {key} ran out of order");
        }

        (await app.WithDbAsync(db => db.OutboxMessages.CountAsync(m => ids.Contains(m.Id) && (m.ProcessedAt == null || m.ClaimedBy != null)))).ShouldBe(0);
    }

    [DbFact]
    public async Task A_message_held_by_a_process_that_died_is_claimed_again_once_its_lease_runs_out()
    {
        await DrainAsync();
        var key = Guid.NewGuid();
        var ids = await EnqueueAsync([key], rounds: 2);
        // What a process leaves behind when it is killed after claiming: its name, a lease, the attempt counted.
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE outbox_messages SET claimed_by = 'killed/1/abc', lease_until = {app.Clock.GetCurrentInstant() + Duration.FromMinutes(2)},
                attempts = attempts + 1
            WHERE id = {ids[0]}
            """));

        // Neither the held message nor the next one of the same booking is claimed while the lease holds.
        (await NewProcessor().ProcessBatchAsync(10, CancellationToken.None)).ShouldBe(0);
        app.Probe.Runs.ShouldBeEmpty();

        try
        {
            app.Clock.Advance(Duration.FromMinutes(3));
            (await NewProcessor().ProcessBatchAsync(10, CancellationToken.None)).ShouldBe(2);
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        app.Probe.Runs.Select(r => r.Id).ShouldBe(ids);
        var first = await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().FirstAsync(m => m.Id == ids[0]));
        first.ProcessedAt.ShouldNotBeNull();
        first.Attempts.ShouldBe(2);
        first.ClaimedBy.ShouldBeNull();
        first.LeaseUntil.ShouldBeNull();
    }

    [DbFact]
    public async Task Claims_commit_before_the_handlers_run_so_another_process_sees_the_lease_while_they_work()
    {
        await DrainAsync();
        var key = Guid.NewGuid();
        var ids = await EnqueueAsync([key], rounds: 1);
        var blocker = new BlockingHandler();
        var processor = new OutboxProcessor(app.Services.GetRequiredService<NpgsqlDataSource>(), [blocker], app.Clock, NullLogger<OutboxProcessor>.Instance);
        var running = processor.ProcessBatchAsync(10, CancellationToken.None);
        await blocker.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var held = await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().FirstAsync(m => m.Id == ids[0]));
        held.ClaimedBy.ShouldBe(processor.Worker);
        held.LeaseUntil.ShouldNotBeNull();
        (await NewProcessor().ProcessBatchAsync(10, CancellationToken.None)).ShouldBe(0);

        blocker.Release.SetResult();
        (await running).ShouldBe(1);
        (await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().FirstAsync(m => m.Id == ids[0]))).ProcessedAt.ShouldNotBeNull();
    }

    [DbFact]
    public async Task A_message_that_fails_its_last_attempt_is_dead_listed_for_administrators_and_delivered_once_after_a_replay()
    {
        await DrainAsync();
        var admin = app.Client();
        var key = Guid.NewGuid();
        var ids = await EnqueueAsync([key], rounds: 1);
        var id = ids[0];
        app.Probe.Failing[id] = true;
        try
        {
            for (var attempt = 0; attempt < 5; attempt++)
            {
                await NewProcessor(maxAttempts: 3).ProcessBatchAsync(10, CancellationToken.None);
                app.Clock.Advance(Duration.FromHours(2));
            }
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        // Three attempts, then nothing: a dead message is not retried.
        app.Probe.Runs.Count(r => r.Id == id).ShouldBe(3);
        var dead = await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().FirstAsync(m => m.Id == id));
        dead.DeadAt.ShouldNotBeNull();
        dead.Attempts.ShouldBe(3);
        dead.ProcessedAt.ShouldBeNull();

        var listed = (await (await admin.GetAsync("/api/v1/outbox/messages?state=dead")).ExpectAsync(200)).AsArray();
        var item = listed.Single(m => m!["id"]!.GetValue<long>() == id)!;
        item["state"]!.GetValue<string>().ShouldBe("dead");
        item["attempts"]!.GetValue<int>().ShouldBe(3);
        item["lastError"]!.GetValue<string>().ShouldContain("probe refuses message");
        var shown = await (await admin.GetAsync($"/api/v1/outbox/messages/{id}")).ExpectAsync(200);
        shown["payload"]!["bookingId"]!.GetValue<string>().ShouldBe(key.ToString());

        app.Probe.Failing.Clear();
        app.Probe.Runs.Clear();
        var replayed = await (await admin.PostJsonAsync($"/api/v1/outbox/messages/{id}/replay", new { })).ExpectAsync(200);
        replayed["state"]!.GetValue<string>().ShouldBe("retrying");
        replayed["attempts"]!.GetValue<int>().ShouldBe(0);
        // A second replay of a message that is no longer dead is refused.
        (await (await admin.PostJsonAsync($"/api/v1/outbox/messages/{id}/replay", new { })).ExpectAsync(409))["code"]!.GetValue<string>()
            .ShouldBe("outbox_message_not_dead");

        while (await NewProcessor().ProcessBatchAsync(10, CancellationToken.None) > 0)
        {
        }

        app.Probe.Runs.Count(r => r.Id == id).ShouldBe(1);
        var done = await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().FirstAsync(m => m.Id == id));
        done.ProcessedAt.ShouldNotBeNull();
        done.DeadAt.ShouldBeNull();
        (await (await admin.GetAsync($"/api/v1/outbox/messages/{id}")).ExpectAsync(200))["state"]!.GetValue<string>().ShouldBe("done");
    }

    [DbFact]
    public async Task Replaying_a_type_gives_back_every_dead_message_of_that_type_and_no_other()
    {
        await DrainAsync();
        var admin = app.Client();
        var ids = await EnqueueAsync([Guid.NewGuid(), Guid.NewGuid()], rounds: 1);
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE outbox_messages SET dead_at = {app.Clock.GetCurrentInstant()}, attempts = 3, last_error = 'x'
            WHERE id = ANY({ids.ToArray()})
            """));
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE outbox_messages SET type = 'lease.other' WHERE id = {ids[1]}
            """));

        (await (await admin.PostJsonAsync("/api/v1/outbox/replay", new { })).ExpectAsync(400))["errors"]!["type"].ShouldNotBeNull();
        var result = await (await admin.PostJsonAsync("/api/v1/outbox/replay?type=lease.step", new { })).ExpectAsync(200);
        result["replayed"]!.GetValue<int>().ShouldBe(1);
        (await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().FirstAsync(m => m.Id == ids[0]))).DeadAt.ShouldBeNull();
        (await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().FirstAsync(m => m.Id == ids[1]))).DeadAt.ShouldNotBeNull();
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"UPDATE outbox_messages SET dead_at = NULL, processed_at = {app.Clock.GetCurrentInstant()} WHERE id = {ids[1]}"));
    }

    [DbFact]
    public async Task Another_organization_neither_sees_nor_replays_the_outbox_messages_of_this_one()
    {
        await DrainAsync();
        var other = app.Client(await app.CreateOrganizationAsync("globex-" + Guid.NewGuid().ToString("N")[..6]));
        var ids = await EnqueueAsync([Guid.NewGuid()], rounds: 1);
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE outbox_messages SET dead_at = {app.Clock.GetCurrentInstant()}, attempts = 3, last_error = 'x' WHERE id = {ids[0]}
            """));

        (await (await other.GetAsync("/api/v1/outbox/messages?state=dead")).ExpectAsync(200)).AsArray().ShouldBeEmpty();
        await (await other.GetAsync($"/api/v1/outbox/messages/{ids[0]}")).ExpectAsync(404);
        await (await other.PostJsonAsync($"/api/v1/outbox/messages/{ids[0]}/replay", new { })).ExpectAsync(404);
        (await (await other.PostJsonAsync("/api/v1/outbox/replay?type=lease.step", new { })).ExpectAsync(200))["replayed"]!.GetValue<int>().ShouldBe(0);
        (await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().FirstAsync(m => m.Id == ids[0]))).DeadAt.ShouldNotBeNull();
        (await (await app.Client().GetAsync($"/api/v1/outbox/messages/{ids[0]}")).ExpectAsync(200))["state"]!.GetValue<string>().ShouldBe("dead");
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"UPDATE outbox_messages SET dead_at = NULL, processed_at = {app.Clock.GetCurrentInstant()} WHERE id = {ids[0]}"));
    }

    [DbFact]
    public async Task Only_administrators_see_the_outbox_and_an_unknown_message_is_404()
    {
        var admin = app.Client();
        var member = app.Client(await Scenario.CreateKeyAsync(admin, await Scenario.CreateUserAsync(admin, "Outbox Member")));
        await (await member.GetAsync("/api/v1/outbox/messages")).ExpectAsync(403);
        await (await member.PostJsonAsync("/api/v1/outbox/replay?type=booking.created", new { })).ExpectAsync(403);
        await (await app.Anonymous().GetAsync("/api/v1/outbox/messages")).ExpectAsync(401);
        await (await admin.GetAsync("/api/v1/outbox/messages/999999999")).ExpectAsync(404);
        await (await admin.PostJsonAsync("/api/v1/outbox/messages/nope/replay", new { })).ExpectAsync(404);
        await (await admin.GetAsync("/api/v1/outbox/messages?state=sideways")).ExpectAsync(400);
    }
}

/// <summary>Holds its first run open until the test releases it.</summary>
public sealed class BlockingHandler : IOutboxHandler
{
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "blocking";

    public bool Handles(string type) => type.StartsWith("lease.", StringComparison.Ordinal);

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        Entered.TrySetResult();
        await Release.Task.WaitAsync(cancellationToken);
    }
}

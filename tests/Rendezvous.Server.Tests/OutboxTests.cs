using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Npgsql;
using Rendezvous.Data;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>Records what it saw; fails the first <see cref="FailuresLeft"/> deliveries.</summary>
public sealed class RecordingHandler : IOutboxHandler
{
    public ConcurrentBag<(long Id, string Type)> Seen { get; } = [];

    public int FailuresLeft;

    public string Name => "recording";

    public bool Handles(string type) => type.StartsWith("booking.", StringComparison.Ordinal);

    public Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        if (Interlocked.Decrement(ref FailuresLeft) >= 0)
        {
            throw new InvalidOperationException("downstream is down");
        }

        Seen.Add((message.Id, message.Type));
        return Task.CompletedTask;
    }
}

public sealed class OutboxApp : RendezvousApp
{
    public RecordingHandler Handler { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IOutboxHandler>(Handler);
}

public sealed class OutboxTests(OutboxApp app) : IClassFixture<OutboxApp>
{
    private OutboxProcessor NewProcessor() =>
        new(app.Services.GetRequiredService<NpgsqlDataSource>(), [app.Handler], app.Clock, NullLogger<OutboxProcessor>.Instance);

    [DbFact]
    public async Task Every_change_is_delivered_once_even_with_two_dispatchers_racing()
    {
        var admin = app.Client();
        while (await NewProcessor().ProcessBatchAsync(50, CancellationToken.None) > 0)
        {
        }

        app.Handler.Seen.Clear();
        var slug = await Scenario.CreatePageAsync(admin);
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            ids.Add((await Scenario.BookAsync(app.Anonymous(), slug, $"2027-03-{10 + (i / 8):00}T{9 + (i % 8):00}:00:00Z", Scenario.Customer($"C{i}")))["id"]!.GetValue<string>());
        }

        foreach (var id in ids.Take(4))
        {
            await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "r" })).ExpectAsync(200);
        }

        var pending = await app.WithDbAsync(db => db.OutboxMessages.CountAsync(m => m.ProcessedAt == null));
        pending.ShouldBe(16);

        // Two processors (as two server processes would) drain the outbox in small batches at the same time.
        async Task Drain(OutboxProcessor p)
        {
            while (await p.ProcessBatchAsync(3, CancellationToken.None) > 0)
            {
            }
        }

        await Task.WhenAll(Drain(NewProcessor()), Drain(NewProcessor()));

        app.Handler.Seen.Count.ShouldBe(16);
        app.Handler.Seen.Select(s => s.Id).Distinct().Count().ShouldBe(16);
        app.Handler.Seen.Count(s => s.Type == "booking.canceled").ShouldBe(4);
        (await app.WithDbAsync(db => db.OutboxMessages.CountAsync(m => m.ProcessedAt == null))).ShouldBe(0);
    }

    [DbFact]
    public async Task A_failed_delivery_is_retried_with_backoff_and_never_lost()
    {
        // Drain whatever other tests left behind first.
        while (await NewProcessor().ProcessBatchAsync(50, CancellationToken.None) > 0)
        {
        }

        app.Handler.Seen.Clear();
        var slug = await Scenario.CreatePageAsync(app.Client());
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-12T09:00:00Z");
        app.Handler.FailuresLeft = 2;

        (await NewProcessor().ProcessBatchAsync(10, CancellationToken.None)).ShouldBe(1);
        app.Handler.Seen.ShouldBeEmpty();
        var failed = await app.WithDbAsync(db => db.OutboxMessages.OrderByDescending(m => m.Id).FirstAsync());
        failed.ProcessedAt.ShouldBeNull();
        failed.Attempts.ShouldBe(1);
        failed.LastError!.ShouldContain("downstream is down");
        (failed.AvailableAt - app.Clock.GetCurrentInstant()).ShouldBeGreaterThanOrEqualTo(Duration.FromSeconds(2));

        // Not due yet: nothing is claimed.
        (await NewProcessor().ProcessBatchAsync(10, CancellationToken.None)).ShouldBe(0);

        try
        {
            app.Clock.Advance(Duration.FromMinutes(1));
            await NewProcessor().ProcessBatchAsync(10, CancellationToken.None);
            app.Clock.Advance(Duration.FromMinutes(1));
            await NewProcessor().ProcessBatchAsync(10, CancellationToken.None);
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        app.Handler.Seen.Count.ShouldBe(1);
        var done = await app.WithDbAsync(db => db.OutboxMessages.FirstAsync(m => m.Id == failed.Id));
        done.ProcessedAt.ShouldNotBeNull();
        done.Attempts.ShouldBe(3);
        done.HandledBy.ShouldBe(["recording"]);
    }

    [DbFact]
    public void Backoff_doubles_and_is_capped_at_an_hour()
    {
        OutboxProcessor.Backoff(1).ShouldBeInRange(Duration.FromSeconds(2), Duration.FromSeconds(2.4));
        OutboxProcessor.Backoff(5).ShouldBeInRange(Duration.FromSeconds(32), Duration.FromSeconds(38.4));
        OutboxProcessor.Backoff(40).ShouldBeInRange(Duration.FromHours(1), Duration.FromHours(1.2));
    }
}

/// <summary>A handler for the ordering tests: writes what it saw into a shared log, optionally fails its first attempt.</summary>
public sealed class StepHandler(string name, List<string> log, params string[] runsAfter) : IOutboxHandler
{
    public int FailuresLeft;

    public string Name => name;

    public IReadOnlyCollection<string> RunsAfter => runsAfter;

    public bool Handles(string type) => type.StartsWith("booking.", StringComparison.Ordinal);

    public Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        lock (log)
        {
            if (FailuresLeft-- > 0)
            {
                log.Add($"{name} failed");
                throw new InvalidOperationException($"{name} is down");
            }

            // A dependent notes what it found done before it, as an email would find (or miss) the meeting link.
            log.Add(runsAfter.Length == 0 ? name : $"{name} after {string.Join("+", runsAfter.Where(log.Contains))}");
        }

        return Task.CompletedTask;
    }
}

public sealed class OutboxOrderTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public void The_servers_handlers_run_in_one_order_whatever_order_they_were_registered_in()
    {
        var registered = app.Services.GetServices<IOutboxHandler>().ToList();
        var expected = OutboxProcessor.Order(registered).Select(h => h.Name).ToList();

        OutboxProcessor.Order(Enumerable.Reverse(registered)).Select(h => h.Name).ShouldBe(expected);
        OutboxProcessor.Order(registered.OrderBy(h => h.Name.GetHashCode(StringComparison.Ordinal))).Select(h => h.Name).ShouldBe(expected);
        expected.IndexOf("conferencing").ShouldBeLessThan(expected.IndexOf("calendar-writer"));
        expected.IndexOf("conferencing").ShouldBeLessThan(expected.IndexOf("notifications"));
    }

    [DbFact]
    public void Handlers_that_wait_for_each_other_in_a_circle_are_refused()
    {
        var log = new List<string>();
        Should.Throw<InvalidOperationException>(() => OutboxProcessor.Order([new StepHandler("a", log, "b"), new StepHandler("b", log, "a")]))
            .Message.ShouldContain("cycle");
    }

    [DbFact]
    public async Task A_message_has_the_same_outcome_with_its_handlers_registered_forwards_or_backwards()
    {
        var outcomes = new List<(List<string> Log, string[] HandledBy, int Attempts)>();
        foreach (var backwards in new[] { false, true })
        {
            var log = new List<string>();
            var flaky = new StepHandler("audit", log) { FailuresLeft = 1 };
            List<IOutboxHandler> handlers = [new StepHandler("meeting", log), new StepHandler("mail", log, "meeting"), flaky];
            if (backwards)
            {
                handlers.Reverse();
            }

            var processor = new OutboxProcessor(app.Services.GetRequiredService<NpgsqlDataSource>(), handlers, app.Clock, NullLogger<OutboxProcessor>.Instance);
            await Drain(processor);
            log.Clear();
            flaky.FailuresLeft = 1;

            var slug = await Scenario.CreatePageAsync(app.Client());
            await Scenario.BookAsync(app.Anonymous(), slug, backwards ? "2027-03-12T10:00:00Z" : "2027-03-12T09:00:00Z");
            await processor.ProcessBatchAsync(50, CancellationToken.None);
            try
            {
                // The failed handler alone is tried again once the message is due.
                app.Clock.Advance(Duration.FromMinutes(1));
                await processor.ProcessBatchAsync(50, CancellationToken.None);
            }
            finally
            {
                app.Clock.Reset(RendezvousApp.Start);
            }

            var message = await app.WithDbAsync(db => db.OutboxMessages.OrderByDescending(m => m.Id).FirstAsync());
            message.ProcessedAt.ShouldNotBeNull();
            outcomes.Add((log, [.. message.HandledBy.Order(StringComparer.Ordinal)], message.Attempts));
        }

        outcomes[0].Log.ShouldBe(["audit failed", "meeting", "mail after meeting", "audit"]);
        outcomes[1].Log.ShouldBe(outcomes[0].Log);
        outcomes[1].HandledBy.ShouldBe(outcomes[0].HandledBy);
        outcomes[0].HandledBy.ShouldBe(["audit", "mail", "meeting"]);
        outcomes[1].Attempts.ShouldBe(outcomes[0].Attempts);
    }

    private static async Task Drain(OutboxProcessor processor)
    {
        while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
        {
        }
    }
}

public sealed class QueryPlanTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    /// <summary>The availability query must use the exclusion constraint's GiST index, not scan every hold.</summary>
    [DbFact]
    public async Task Hold_lookup_uses_the_gist_index()
    {
        // The server's data source, so the range parameter is written the way the application writes it.
        await using var dataSource = DataServiceCollectionExtensions.CreateDataSource(app.ConnectionString);
        await using var conn = await dataSource.OpenConnectionAsync();
        // Realistic volume: 40 hosts with 250 meetings each, so the planner's choice is the one production would make.
        await using (var seed = new NpgsqlCommand("""
            INSERT INTO organizations VALUES ('00000000-0000-0000-0000-000000000001', 'Plan', 'plan-org', now());
            INSERT INTO users SELECT ('00000000-0000-0000-0001-' || lpad(g::text, 12, '0'))::uuid, '00000000-0000-0000-0000-000000000001',
                'U' || g, 'u' || g || '@plan.example', 'UTC', 'Member', now() FROM generate_series(1, 40) g;
            INSERT INTO customers VALUES ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000001', 'C', 'c@plan.example', NULL, 'UTC', now());
            INSERT INTO booking_pages SELECT ('00000000-0000-0000-0002-' || lpad(g::text, 12, '0'))::uuid, '00000000-0000-0000-0000-000000000001',
                ('00000000-0000-0000-0001-' || lpad(g::text, 12, '0'))::uuid, 'plan-' || g, 'P', NULL, NULL, '{}', now() FROM generate_series(1, 40) g;
            INSERT INTO bookings SELECT ('00000000-0000-0001-' || lpad(u::text, 4, '0') || '-' || lpad(n::text, 12, '0'))::uuid,
                '00000000-0000-0000-0000-000000000001', ('00000000-0000-0000-0002-' || lpad(u::text, 12, '0'))::uuid,
                ('00000000-0000-0000-0001-' || lpad(u::text, 12, '0'))::uuid, '00000000-0000-0000-0000-000000000003',
                timestamptz '2027-01-01' + n * interval '1 hour', timestamptz '2027-01-01' + n * interval '1 hour' + interval '30 minutes',
                'Scheduled', 'Scheduled', NULL, NULL, NULL, NULL, 1, 1, NULL, NULL, NULL, '{}', now(), now()
                FROM generate_series(1, 40) u, generate_series(1, 250) n;
            INSERT INTO booking_hosts (booking_id, user_id, is_primary, start_at, end_at, hold_key, active)
                SELECT id, owner_id, true, start_at, end_at, id::text, true FROM bookings;
            ANALYZE;
            """, conn))
        {
            await seed.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand("EXPLAIN " + Features.Availability.AvailabilityService.HoldsSql, conn);
        explain.Parameters.AddWithValue("hosts", new[] { Guid.Parse("00000000-0000-0000-0001-000000000007") });
        explain.Parameters.AddWithValue("range", new Interval(Instant.FromUtc(2027, 1, 5, 0, 0), Instant.FromUtc(2027, 1, 6, 0, 0)));
        var plan = new System.Text.StringBuilder();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.AppendLine(reader.GetString(0));
            }
        }

        plan.ToString().ShouldContain("ex_booking_hosts_no_overlap");
    }

    [DbFact]
    public async Task Bootstrap_is_idempotent()
    {
        _ = app.Client();
        var before = await app.WithDbAsync(db => db.Organizations.CountAsync());
        await Cli.Startup.BootstrapAsync(app.Services, new Cli.BootstrapOptions { Organization = "acme", ApiKey = "another-key-0000000000" }, CancellationToken.None);
        (await app.WithDbAsync(db => db.Organizations.CountAsync())).ShouldBe(before);
        await (await app.Client("another-key-0000000000").GetAsync("/api/v1/users")).ExpectAsync(401);
    }

    [DbFact]
    public async Task Processes_bootstrapping_the_same_new_organization_at_once_all_succeed_with_one_organization()
    {
        _ = app.Client();
        var options = new Cli.BootstrapOptions { Organization = "started-together", ApiKey = "together-key-000000000" };
        // As three cluster nodes starting at the same moment would: each must find or make the same organization.
        var ids = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => Cli.Startup.BootstrapAsync(app.Services, options, CancellationToken.None))));
        ids.Distinct().ShouldHaveSingleItem().ShouldNotBeNull();
        (await app.WithDbAsync(db => db.Organizations.CountAsync(o => o.Slug == "started-together"))).ShouldBe(1);
        (await app.WithDbAsync(db => db.ApiKeys.AcrossTenants().CountAsync(k => k.Name == "bootstrap" && k.OrganizationId == ids[0]!.Value))).ShouldBe(1);
    }
}

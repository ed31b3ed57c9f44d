using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;
using Rendezvous.Server.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>A gate of one request that lets nobody wait, so a second request at the same time is turned away.</summary>
public sealed class TinyGateApp : RendezvousApp
{
    protected override void ConfigureSettings(IWebHostBuilder builder)
    {
        builder.UseSetting("Rendezvous:Admission:MaxConcurrent", "1");
        builder.UseSetting("Rendezvous:Admission:QueueLimit", "0");
        builder.UseSetting("Rendezvous:Admission:MaxWaitMilliseconds", "0");
        builder.UseSetting("Rendezvous:Admission:RetryAfterSeconds", "2");
    }
}

/// <summary>A connection pool of one connection that gives up after a second, so a request can find it exhausted.</summary>
public sealed class TinyPoolApp : RendezvousApp
{
    protected override void ConfigureSettings(IWebHostBuilder builder) =>
        builder.UseSetting("ConnectionStrings:Rendezvous", ConnectionString + ";Maximum Pool Size=1;Timeout=1");
}

public sealed class OverloadTests(TinyGateApp app) : IClassFixture<TinyGateApp>
{
    [DbFact]
    public async Task A_request_past_the_admission_gate_gets_503_with_Retry_After_and_nothing_is_booked()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var gate = app.Services.GetRequiredService<AdmissionGate>();
        // The test takes the gate's only place, as a slow request would.
        (await gate.EnterAsync(CancellationToken.None)).ShouldBeTrue();
        HttpResponseMessage busy;
        try
        {
            busy = await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
                new { start = "2027-03-03T10:00:00Z", customer = Scenario.Customer() });
        }
        finally
        {
            gate.Release();
        }

        var problem = await busy.ExpectAsync(503);
        busy.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        problem["code"]!.GetValue<string>().ShouldBe("busy");
        busy.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(2));
        (await app.WithDbAsync(db => db.Bookings.CountAsync(b => b.Start == Instant.FromUtc(2027, 3, 3, 10, 0)))).ShouldBe(0);

        // With the place free again, the same request books.
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-03T10:00:00Z");
    }

    [DbFact]
    public async Task Health_check_does_not_wait_at_the_gate()
    {
        var gate = app.Services.GetRequiredService<AdmissionGate>();
        (await gate.EnterAsync(CancellationToken.None)).ShouldBeTrue();
        try
        {
            (await app.Anonymous().GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        finally
        {
            gate.Release();
        }
    }
}

public sealed class PoolExhaustionTests(TinyPoolApp app) : IClassFixture<TinyPoolApp>
{
    [DbFact]
    public async Task An_exhausted_connection_pool_is_answered_503_with_Retry_After_not_500()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        // Hold the pool's only connection, as requests already in flight would.
        await using (var held = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
        {
            var response = await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-03&to=2027-03-03");
            var problem = await response.ExpectAsync(503);
            problem["code"]!.GetValue<string>().ShouldBe("busy");
            response.Headers.RetryAfter.ShouldNotBeNull();
        }

        var slots = await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-03&to=2027-03-03");
        await slots.ExpectAsync(200);
    }

    [Fact]
    public void Too_many_clients_and_pool_timeouts_count_as_overload_but_lost_races_and_faults_do_not()
    {
        AdmissionGate.IsOverload(new PostgresException("sorry, too many clients already", "FATAL", "FATAL", "53300")).ShouldBeTrue();
        AdmissionGate.IsOverload(new DbUpdateException("save", new PostgresException("out of memory", "ERROR", "ERROR", "53200"))).ShouldBeTrue();
        AdmissionGate.IsOverload(new NpgsqlException("The connection pool has been exhausted", new TimeoutException())).ShouldBeTrue();
        AdmissionGate.IsOverload(new PostgresException("conflicting key value", "ERROR", "ERROR", "23P01")).ShouldBeFalse();
        AdmissionGate.IsOverload(new PostgresException("syntax error", "ERROR", "ERROR", "42601")).ShouldBeFalse();
        AdmissionGate.IsOverload(new InvalidOperationException("a bug")).ShouldBeFalse();
    }
}

public sealed class RaceForOneSlotTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    [DbFact]
    public async Task Two_hundred_concurrent_requests_for_one_slot_give_one_201_and_199_409_and_no_5xx()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var start = new TaskCompletionSource();
        var tasks = Enumerable.Range(0, 200).Select(async i =>
        {
            using var client = app.Anonymous();
            await start.Task;
            using var response = await client.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
                new { start = "2027-03-04T11:00:00Z", customer = Scenario.Customer($"Racer {i}", $"racer{i}@example.com") });
            return response.StatusCode;
        }).ToList();
        start.SetResult();
        var statuses = await Task.WhenAll(tasks);

        // Every answer is a 201 or a 409: no 5xx, no 503 from the gate (its wait is long in the test host).
        string.Join(", ", statuses.GroupBy(s => (int)s).OrderBy(g => g.Key).Select(g => $"{g.Count()} × {g.Key}")).ShouldBe("1 × 201, 199 × 409");
        (await app.WithDbAsync(db => db.Bookings.CountAsync(b => b.Start == Instant.FromUtc(2027, 3, 4, 11, 0)))).ShouldBe(1);
    }
}

/// <summary>Its own database, which the test turns read-only as a primary that was just demoted would be.</summary>
public sealed class DemotedPrimaryApp : RendezvousApp;

public sealed class DatabaseFailoverAnswerTests(DemotedPrimaryApp app) : IClassFixture<DemotedPrimaryApp>
{
    [DbFact]
    public async Task A_staff_write_on_a_primary_that_turned_read_only_is_answered_503_with_Retry_After_not_500()
    {
        var database = new NpgsqlConnectionStringBuilder(app.ConnectionString).Database!;
        async Task SetReadOnlyAsync(bool on)
        {
            await using var admin = new NpgsqlConnection(app.ConnectionString);
            await admin.OpenAsync();
            // This session starts read-only too once the setting is on: lift it for the session before changing it back.
            // (two commands: one string would run as one transaction, begun read-only).
            await using (var lift = new NpgsqlCommand("SET default_transaction_read_only = off", admin))
            {
                await lift.ExecuteNonQueryAsync();
            }

            await using var command = new NpgsqlCommand($"ALTER DATABASE \"{database}\" SET default_transaction_read_only = {(on ? "on" : "off")}", admin);
            await command.ExecuteNonQueryAsync();
            // Sessions read the setting when they start: drop the pooled ones so the next request sees it.
            app.Services.GetRequiredService<NpgsqlDataSource>().Clear();
        }

        // The server is up and migrated before its database turns read-only.
        await (await app.Client().GetAsync("/api/v1/users")).ExpectAsync(200);
        await SetReadOnlyAsync(true);
        HttpResponseMessage refused;
        try
        {
            refused = await app.Client().PostJsonAsync("/api/v1/users",
                new { name = "Late Joiner", email = "late.joiner@example.com", timeZone = "UTC", role = "member" });
        }
        finally
        {
            await SetReadOnlyAsync(false);
        }

        var problem = await refused.ExpectAsync(503);
        problem["code"]!.GetValue<string>().ShouldBe("database_unavailable");
        refused.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(2));

        // Once a writable primary is back, the same request goes through.
        await (await app.Client().PostJsonAsync("/api/v1/users",
            new { name = "Late Joiner", email = "late.joiner@example.com", timeZone = "UTC", role = "member" })).ExpectAsync(201);
    }
}

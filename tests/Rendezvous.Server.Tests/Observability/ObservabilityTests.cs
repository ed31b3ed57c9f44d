using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Npgsql;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Observability;

/// <summary>Keeps every log entry the host writes, with the trace id of the scope it was written in.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<(string Category, string Message, string? TraceId)> Entries { get; } = new();

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string? traceId = null;
            owner._scopes.ForEachScope((scope, _) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        if (key == "TraceId")
                        {
                            traceId = value?.ToString();
                        }
                    }
                }
            }, (object?)null);
            owner.Entries.Enqueue((category, formatter(state, exception), traceId));
        }
    }
}

/// <summary>The host as the observability tests need it: every log entry captured.</summary>
public sealed class ObservedApp : RendezvousApp
{
    public CapturingLoggerProvider Logs { get; } = new();

    protected override void ConfigureSettings(IWebHostBuilder builder) =>
        builder.ConfigureLogging(logging =>
        {
            logging.AddProvider(Logs);
            logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Information);
        });
}

/// <summary>Health probes, the Prometheus endpoint with our own counters, and trace ids in the logs.</summary>
public sealed class ObservabilityTests(ObservedApp app) : IClassFixture<ObservedApp>
{
    [DbFact]
    public async Task Live_and_ready_answer_200_when_the_database_is_up_to_date()
    {
        var live = await app.Anonymous().GetAsync("/health/live");
        ((int)live.StatusCode).ShouldBe(200);
        var ready = await app.Anonymous().GetAsync("/health/ready");
        ((int)ready.StatusCode).ShouldBe(200, await ready.Content.ReadAsStringAsync());
    }

    [DbFact]
    public async Task Ready_fails_while_a_migration_is_pending_and_live_does_not()
    {
        await using var fixture = new RendezvousApp();
        await ((IAsyncLifetime)fixture).InitializeAsync();
        try
        {
            _ = fixture.Anonymous();
            await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
            {
                await connection.OpenAsync();
                // EF keeps its history table's own column names (decision 0010 only renames the table).
                await using var command = new NpgsqlCommand(
                    """DELETE FROM schema_migrations WHERE "MigrationId" = (SELECT max("MigrationId") FROM schema_migrations)""", connection);
                (await command.ExecuteNonQueryAsync()).ShouldBe(1);
            }

            var ready = await fixture.Anonymous().GetAsync("/health/ready");
            ((int)ready.StatusCode).ShouldBe(503);
            (await ready.Content.ReadAsStringAsync()).ShouldContain("not applied");
            ((int)(await fixture.Anonymous().GetAsync("/health/live")).StatusCode).ShouldBe(200);
        }
        finally
        {
            await ((IAsyncLifetime)fixture).DisposeAsync();
        }
    }

    [DbFact]
    public async Task Ready_fails_when_the_database_does_not_answer()
    {
        // The process needs its database to start (the key ring is checked first, decision 0029): the database goes away
        // after the start, as it does when its server dies under a running process.
        await using var fixture = new RendezvousApp();
        await ((IAsyncLifetime)fixture).InitializeAsync();
        try
        {
            _ = fixture.Anonymous();
            await TestDatabase.DropAsync(fixture.ConnectionString);

            var ready = await fixture.Anonymous().GetAsync("/health/ready");
            ((int)ready.StatusCode).ShouldBe(503);
            (await ready.Content.ReadAsStringAsync()).ShouldContain("does not answer");
            ((int)(await fixture.Anonymous().GetAsync("/health/live")).StatusCode).ShouldBe(200);
        }
        finally
        {
            await ((IAsyncLifetime)fixture).DisposeAsync();
        }
    }

    [DbFact]
    public async Task Metrics_expose_our_own_counters_after_a_booking()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z");
        var metrics = await app.Anonymous().GetAsync("/metrics");
        ((int)metrics.StatusCode).ShouldBe(200);
        var text = await metrics.Content.ReadAsStringAsync();
        text.ShouldContain("rendezvous_bookings_created");
        text.ShouldContain("http_server_request_duration_seconds");
        var line = text.Split('\n').First(l => l.StartsWith("rendezvous_bookings_created", StringComparison.Ordinal) && !l.StartsWith('#'));
        // name{labels} value [timestamp]
        var value = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];
        double.Parse(value, System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThanOrEqualTo(1);
    }

    [DbFact]
    public async Task A_log_line_written_during_a_request_carries_the_requests_trace_id()
    {
        var response = await app.Client().GetAsync("/api/v1/bookings/00000000-0000-0000-0000-000000000000");
        var problem = await response.ExpectAsync(404);
        var traceparent = problem["traceId"]!.GetValue<string>();
        var traceId = traceparent.Split('-')[1];
        app.Logs.Entries.ShouldContain(e => e.TraceId == traceId);
    }

    [Fact]
    public void The_json_log_format_writes_one_object_per_line_with_the_trace_id()
    {
        using var services = new ServiceCollection()
            .AddLogging(logging => logging.AddJsonConsole(o => o.IncludeScopes = true))
            .BuildServiceProvider();
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Json);
        var scopes = new LoggerExternalScopeProvider();
        using var activity = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var writer = new StringWriter();
        using (scopes.Push(new Dictionary<string, object?> { ["TraceId"] = activity.TraceId.ToHexString() }))
        {
            formatter.Write(new LogEntry<string>(LogLevel.Information, "Test", new EventId(1), "Booked", null, (s, _) => s), scopes, writer);
        }

        var json = System.Text.Json.Nodes.JsonNode.Parse(writer.ToString())!;
        json["Message"]!.GetValue<string>().ShouldBe("Booked");
        writer.ToString().ShouldContain(activity.TraceId.ToHexString());
    }
}

using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Rendezvous.Data;
using Rendezvous.Data.Diagnostics;

namespace Rendezvous.Server.Infrastructure;

/// <summary>Settings of section <c>Rendezvous:Observability</c> (docs/OPERATIONS.md).</summary>
public sealed class ObservabilityOptions
{
    /// <summary><c>plain</c> (one readable line per entry, the default for developers) or <c>json</c> (one JSON object per line, with trace and span ids).</summary>
    public string LogFormat { get; set; } = "plain";

    /// <summary>Where Prometheus scrapes; empty turns the endpoint off.</summary>
    public string MetricsPath { get; set; } = "/metrics";

    /// <summary>
    /// An OTLP collector (for example <c>http://collector:4317</c>) that receives traces and metrics; unset = none. The
    /// standard <c>OTEL_EXPORTER_OTLP_*</c> variables refine it.
    /// </summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>The service name traces and metrics carry.</summary>
    public string ServiceName { get; set; } = "rendezvous";
}

/// <summary>
/// Traces, metrics, health and log format in one place: OpenTelemetry for ASP.NET Core, HttpClient, Npgsql and our own
/// <see cref="RendezvousTelemetry"/>; Prometheus text at <c>/metrics</c>; <c>/health/live</c> and <c>/health/ready</c>.
/// </summary>
public static class Observability
{
    public const string ReadyTag = "ready";

    public static WebApplicationBuilder AddRendezvousObservability(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection("Rendezvous:Observability").Get<ObservabilityOptions>() ?? new ObservabilityOptions();
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));

        // Every log entry written inside a request or a traced job carries its trace and span ids (as a scope).
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (string.Equals(options.LogFormat, "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
            });
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceName))
            .WithTracing(t =>
            {
                t.AddAspNetCoreInstrumentation(o => o.Filter = http => !IsProbe(http.Request.Path, options))
                    .AddHttpClientInstrumentation()
                    // Npgsql publishes its own ActivitySource and Meter under this name.
                    .AddSource("Npgsql")
                    .AddSource(RendezvousTelemetry.Name);
                if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
                {
                    t.AddOtlpExporter(o => o.Endpoint = new Uri(options.OtlpEndpoint));
                }
            })
            .WithMetrics(m =>
            {
                m.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter("Npgsql")
                    .AddMeter(RendezvousTelemetry.Name)
                    .AddMeter("Rendezvous.SignIn")
                    .AddMeter("Rendezvous.CalendarSync");
                if (!string.IsNullOrEmpty(options.MetricsPath))
                {
                    m.AddPrometheusExporter();
                }

                if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
                {
                    m.AddOtlpExporter(o => o.Endpoint = new Uri(options.OtlpEndpoint));
                }
            });
        _ = otel;

        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseReadyCheck>("database", failureStatus: HealthStatus.Unhealthy, tags: [ReadyTag], timeout: TimeSpan.FromSeconds(5));
        return builder;
    }

    public static WebApplication MapRendezvousObservability(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ObservabilityOptions>>().Value;
        // Live: the process answers (a restart is the cure when it does not). Ready: it can serve (the database answers
        // and has every migration), which a load balancer uses to send traffic elsewhere meanwhile. Probes and scrapes skip
        // the admission gate: a saturated gate must not look like a dead process, nor hide the metrics that show it.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .AllowAnonymous().DisableRateLimiting().WithMetadata(SkipAdmissionAttribute.Instance);
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .AllowAnonymous().DisableRateLimiting().WithMetadata(SkipAdmissionAttribute.Instance);
        if (!string.IsNullOrEmpty(options.MetricsPath))
        {
            app.MapPrometheusScrapingEndpoint(options.MetricsPath).AllowAnonymous().DisableRateLimiting().WithMetadata(SkipAdmissionAttribute.Instance);
        }

        return app;
    }

    private static bool IsProbe(PathString path, ObservabilityOptions options) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
        || (!string.IsNullOrEmpty(options.MetricsPath) && path.StartsWithSegments(options.MetricsPath, StringComparison.OrdinalIgnoreCase));

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description }),
        });
    }
}

/// <summary>Ready when the database answers and no migration is pending (a process newer than its schema must not serve).</summary>
public sealed class DatabaseReadyCheck(RendezvousDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToList();
            return pending.Count == 0
                ? HealthCheckResult.Healthy("The database answers and every migration is applied.")
                : HealthCheckResult.Unhealthy($"{pending.Count} migration(s) not applied: {string.Join(", ", pending)}.");
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer: " + ex.GetType().Name + ".");
        }
    }
}

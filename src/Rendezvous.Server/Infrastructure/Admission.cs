using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Rendezvous.Server.Infrastructure;

/// <summary>How many requests may work with the database at once, and how long the others wait (section "Rendezvous:Admission").</summary>
public sealed class AdmissionOptions
{
    /// <summary>Requests past the gate at one time. Kept below the connection pool, so the pool never has to make requests wait.</summary>
    public int MaxConcurrent { get; set; } = 48;

    /// <summary>Requests allowed to wait at the gate; the next one is answered 503 at once.</summary>
    public int QueueLimit { get; set; } = 4000;

    /// <summary>The longest a request waits at the gate before it is answered 503.</summary>
    public int MaxWaitMilliseconds { get; set; } = 10_000;

    /// <summary>What a 503 tells the client to wait before trying again.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Connections the background workers may hold besides the requests: the gate stays this far below the pool.</summary>
    public int ReservedConnections { get; set; } = 16;
}

/// <summary>
/// A bounded wait in the process before a request takes a database connection. Under more load than the database
/// can serve, requests queue here (cheaply, holding no connection) for at most <see cref="AdmissionOptions.MaxWaitMilliseconds"/>,
/// then get 503 with Retry-After, instead of piling up in the connection pool until it times out (which was a 500) or
/// opening connections past PostgreSQL's max_connections ("too many clients", a 500 too).
/// </summary>
public sealed partial class AdmissionGate : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly AdmissionOptions _options;
    private int _waiting;

    public AdmissionGate(IOptions<AdmissionOptions> options, NpgsqlDataSource dataSource, ILogger<AdmissionGate> logger)
    {
        _options = options.Value;
        // The pool's own limit (Npgsql's "Maximum Pool Size", 100 unless the connection string says otherwise).
        var poolSize = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxPoolSize;
        var size = Math.Max(1, Math.Min(_options.MaxConcurrent, poolSize - _options.ReservedConnections));
        if (size < _options.MaxConcurrent)
        {
            LogClamped(logger, _options.MaxConcurrent, size, poolSize);
        }

        Size = size;
        _slots = new SemaphoreSlim(size, size);
    }

    /// <summary>Requests let through at one time.</summary>
    public int Size { get; }

    public int RetryAfterSeconds => Math.Max(1, _options.RetryAfterSeconds);

    /// <summary>True when the caller may go on (and must call <see cref="Release"/>); false when it must be answered 503.</summary>
    public async ValueTask<bool> EnterAsync(CancellationToken ct)
    {
        if (_slots.Wait(0, CancellationToken.None))
        {
            return true;
        }

        if (Interlocked.Increment(ref _waiting) > _options.QueueLimit)
        {
            Interlocked.Decrement(ref _waiting);
            return false;
        }

        try
        {
            return await _slots.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(0, _options.MaxWaitMilliseconds)), ct).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    public void Release() => _slots.Release();

    public void Dispose() => _slots.Dispose();

    /// <summary>503, Retry-After (RFC 9110 section 10.2.3) and problem+json: the server is busy, the request did nothing.</summary>
    public static async Task WriteBusyAsync(HttpContext http, int retryAfterSeconds, CancellationToken ct)
    {
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        var problem = new ProblemDetails
        {
            Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4",
            Title = "Busy",
            Status = StatusCodes.Status503ServiceUnavailable,
            Detail = $"The server is busy; nothing was changed. Try again in {retryAfterSeconds} second{(retryAfterSeconds == 1 ? "" : "s")}.",
            Extensions = { ["code"] = "busy", ["retryAfter"] = retryAfterSeconds },
        };
        await http.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", ct).ConfigureAwait(false);
    }

    /// <summary>
    /// True for a database failure that means "too much load right now" rather than a fault: no free connection in the
    /// pool within its timeout, PostgreSQL refusing connections (53300 too_many_connections and the other class 53
    /// states), a command timeout, or any other failure Npgsql knows to be transient. Lost races (serialization,
    /// deadlock) are not among them: those are answered 409 before this is asked.
    /// </summary>
    public static bool IsOverload(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg when pg.SqlState.StartsWith("53", StringComparison.Ordinal)
                    || pg.SqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown:
                    return true;
                case PostgresException:
                    return false;
                case NpgsqlException { InnerException: TimeoutException }:
                case NpgsqlException { IsTransient: true }:
                    return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admission gate set to {Size} requests instead of {Configured}: the connection pool holds {PoolSize}, and the workers need some")]
    private static partial void LogClamped(ILogger logger, int configured, int size, int poolSize);
}

/// <summary>Marks an endpoint that does not go through the admission gate (health checks, the API description).</summary>
public sealed class SkipAdmissionAttribute : Attribute
{
    public static readonly SkipAdmissionAttribute Instance = new();
}

public static class AdmissionExtensions
{
    public static IServiceCollection AddAdmission(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<AdmissionOptions>(configuration.GetSection("Rendezvous:Admission"));
        services.AddSingleton<AdmissionGate>();
        return services;
    }

    /// <summary>
    /// Every routed request (API and pages; static files are served before routing) passes the gate before
    /// authentication, which is already a database query for API keys and cookies.
    /// </summary>
    public static IApplicationBuilder UseAdmission(this IApplicationBuilder app)
    {
        var gate = app.ApplicationServices.GetRequiredService<AdmissionGate>();
        return app.Use(async (context, next) =>
        {
            if (context.GetEndpoint() is not { } endpoint || endpoint.Metadata.GetMetadata<SkipAdmissionAttribute>() is not null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            if (!await gate.EnterAsync(context.RequestAborted).ConfigureAwait(false))
            {
                await AdmissionGate.WriteBusyAsync(context, gate.RetryAfterSeconds, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        });
    }
}

using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Rendezvous.Server.Features.Security;

/// <summary>One fixed-window limit: <see cref="PermitLimit"/> requests per <see cref="WindowSeconds"/>.</summary>
public sealed class WindowLimit
{
    public int PermitLimit { get; set; }

    public int WindowSeconds { get; set; } = 60;
}

/// <summary>Request limits of the public and sign-in routes (section "Rendezvous:RateLimits"); docs/SECURITY.md lists them.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Off lets every request through (the test suites turn it off, except the tests of the limits themselves).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Public bookings per client address.</summary>
    public WindowLimit Booking { get; set; } = new() { PermitLimit = 20, WindowSeconds = 60 };

    /// <summary>Slot look-ups per client address.</summary>
    public WindowLimit Slots { get; set; } = new() { PermitLimit = 120, WindowSeconds = 60 };

    /// <summary>Portal sign-in-link requests per client address (each may send an email).</summary>
    public WindowLimit SignInLink { get; set; } = new() { PermitLimit = 10, WindowSeconds = 600 };

    /// <summary>Portal sign-in-link requests per email address, whoever asks, so one inbox is not flooded.</summary>
    public WindowLimit SignInLinkPerEmail { get; set; } = new() { PermitLimit = 3, WindowSeconds = 900 };

    /// <summary>Password sign-ins (staff and portal) per client address, across all accounts.</summary>
    public WindowLimit SignIn { get; set; } = new() { PermitLimit = 20, WindowSeconds = 60 };

    /// <summary>
    /// API requests per API key, and per app and user for OAuth tokens (answered with RateLimit-Policy and RateLimit
    /// headers, see <see cref="ApiRequestLimits"/>).
    /// </summary>
    public WindowLimit ApiKey { get; set; } = new() { PermitLimit = 600, WindowSeconds = 60 };
}

/// <summary>
/// ASP.NET Core rate limiting on the routes anyone can call: partitioned by client address (and, for sign-in links, by
/// the email address in <see cref="EmailLimiter"/>), answered with 429, <c>Retry-After</c> and problem+json.
/// </summary>
public static class RateLimits
{
    public const string Booking = "booking";
    public const string Slots = "slots";
    public const string SignInLink = "sign-in-link";
    public const string SignIn = "sign-in";

    public static IServiceCollection AddRendezvousRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection("Rendezvous:RateLimits").Get<RateLimitOptions>() ?? new RateLimitOptions();
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<EmailLimiter>();
        services.AddSingleton<ApiRequestLimits>();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, ct) =>
                WriteTooManyAsync(context.HttpContext, context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : null, ct);
            Add(o, Booking, options, options.Booking, postOnly: false);
            Add(o, Slots, options, options.Slots, postOnly: false);
            Add(o, SignInLink, options, options.SignInLink, postOnly: true);
            Add(o, SignIn, options, options.SignIn, postOnly: true);
        });
        return services;
    }

    /// <summary>429 with the seconds to wait in <c>Retry-After</c> (RFC 9110 section 10.2.3) and a problem+json body.</summary>
    public static async ValueTask WriteTooManyAsync(HttpContext http, TimeSpan? retryAfter, CancellationToken ct)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling((retryAfter ?? TimeSpan.FromSeconds(60)).TotalSeconds));
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var problem = new ProblemDetails
        {
            Type = "https://www.rfc-editor.org/rfc/rfc6585#section-4",
            Title = "Too many requests",
            Status = StatusCodes.Status429TooManyRequests,
            Detail = $"Too many requests from here; try again in {seconds} seconds.",
            Extensions = { ["code"] = "rate_limited", ["retryAfter"] = seconds },
        };
        await http.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", ct);
    }

    private static void Add(Microsoft.AspNetCore.RateLimiting.RateLimiterOptions o, string name, RateLimitOptions options, WindowLimit limit, bool postOnly) =>
        o.AddPolicy(name, http =>
            !options.Enabled || (postOnly && !HttpMethods.IsPost(http.Request.Method))
                ? RateLimitPartition.GetNoLimiter("none")
                : RateLimitPartition.GetFixedWindowLimiter(SignInThrottle.AddressKey(http.Connection.RemoteIpAddress), _ => Window(limit)));

    internal static FixedWindowRateLimiterOptions Window(WindowLimit limit) => new()
    {
        PermitLimit = Math.Max(1, limit.PermitLimit),
        Window = TimeSpan.FromSeconds(Math.Max(1, limit.WindowSeconds)),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}

/// <summary>Limits sign-in-link emails per email address (the route's address limit cannot see the body).</summary>
public sealed class EmailLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(email =>
        options.Value.Enabled
            ? RateLimitPartition.GetFixedWindowLimiter(email, _ => RateLimits.Window(options.Value.SignInLinkPerEmail))
            : RateLimitPartition.GetNoLimiter(email));

    /// <summary>Null when a link may be sent to <paramref name="email"/>; otherwise how long to wait.</summary>
    public TimeSpan? TryAcquire(string email)
    {
        using var lease = _limiter.AttemptAcquire(email);
        return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(60);
    }

    public void Dispose() => _limiter.Dispose();
}

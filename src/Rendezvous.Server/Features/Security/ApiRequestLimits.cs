using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Security;

/// <summary>
/// A fixed-window request limit per API key (and per app and user for OAuth tokens), kept in this process like the
/// address limits of <see cref="RateLimits"/>. Every authenticated API response says where its caller stands, in the
/// fields of the IETF draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers):
/// <c>RateLimit-Policy: "api-key";q=600;w=60</c> and <c>RateLimit: "api-key";r=599;t=42</c>; past the quota the answer
/// is 429 with <c>Retry-After</c>. The window follows the injected clock, so tests move it.
/// </summary>
public sealed class ApiRequestLimits(IOptions<RateLimitOptions> options, IClock clock)
{
    public const string PolicyName = "api-key";

    /// <summary>The identity the limit counts for: set by API key and OAuth token authentication.</summary>
    public const string PartitionClaim = "rdv:limit";

    private const int PruneAbove = 10_000;

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>Counts one request of <paramref name="partition"/>; what is left and when the window ends.</summary>
    public (bool Allowed, int Remaining, int ResetSeconds, int Quota, int WindowSeconds) Take(string partition)
    {
        var limit = options.Value.ApiKey;
        var quota = Math.Max(1, limit.PermitLimit);
        var length = Duration.FromSeconds(Math.Max(1, limit.WindowSeconds));
        var now = clock.GetCurrentInstant();
        if (_windows.Count > PruneAbove)
        {
            foreach (var (key, stale) in _windows)
            {
                if (stale.Start + length <= now)
                {
                    _windows.TryRemove(key, out _);
                }
            }
        }

        var window = _windows.GetOrAdd(partition, _ => new Window(now));
        lock (window)
        {
            if (window.Start + length <= now || window.Start > now)
            {
                window.Start = now;
                window.Count = 0;
            }

            var reset = Math.Max(1, (int)Math.Ceiling((window.Start + length - now).TotalSeconds));
            if (window.Count >= quota)
            {
                return (false, 0, reset, quota, (int)length.TotalSeconds);
            }

            window.Count++;
            return (true, quota - window.Count, reset, quota, (int)length.TotalSeconds);
        }
    }

    private sealed class Window(Instant start)
    {
        public Instant Start { get; set; } = start;

        public int Count { get; set; }
    }
}

public static class ApiRequestLimitsSetup
{
    /// <summary>After authentication: counts requests of keys and tokens, writes the RateLimit fields, answers 429 past the quota.</summary>
    public static IApplicationBuilder UseApiRequestLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var partition = context.User.FindFirst(ApiRequestLimits.PartitionClaim)?.Value;
        if (partition is null || !context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.Enabled)
        {
            await next(context);
            return;
        }

        var (allowed, remaining, reset, quota, window) = context.RequestServices.GetRequiredService<ApiRequestLimits>().Take(partition);
        var headers = context.Response.Headers;
        headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture, $"\"{ApiRequestLimits.PolicyName}\";q={quota};w={window}");
        headers["RateLimit"] = string.Create(CultureInfo.InvariantCulture, $"\"{ApiRequestLimits.PolicyName}\";r={remaining};t={reset}");
        if (!allowed)
        {
            await RateLimits.WriteTooManyAsync(context, TimeSpan.FromSeconds(reset), context.RequestAborted);
            return;
        }

        await next(context);
    });
}

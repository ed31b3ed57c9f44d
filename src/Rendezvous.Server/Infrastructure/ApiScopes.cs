using System.Security.Claims;

namespace Rendezvous.Server.Infrastructure;

/// <summary>
/// The scopes of API keys and OAuth tokens: read or write per area. Every /api/v1 route names its area
/// (<see cref="ApiScopeConventions.RequireScope{TBuilder}"/>); GET and HEAD need "area:read", other methods "area:write".
/// </summary>
public static class ApiScopes
{
    public const string Bookings = "bookings";
    public const string Pages = "pages";
    public const string Users = "users";
    public const string Calendars = "calendars";
    public const string Webhooks = "webhooks";
    public const string Admin = "admin";

    /// <summary>The claim carrying each scope a key or token holds.</summary>
    public const string Claim = "rdv:scope";

    public static readonly IReadOnlyList<string> Areas = [Bookings, Pages, Users, Calendars, Webhooks, Admin];

    /// <summary>Every scope, in the documented order.</summary>
    public static readonly IReadOnlyList<string> All = [.. Areas.SelectMany(a => new[] { a + ":read", a + ":write" })];

    private static readonly HashSet<string> _known = new(All, StringComparer.Ordinal);

    public static bool IsKnown(string scope) => _known.Contains(scope);

    /// <summary>The scope a request with <paramref name="method"/> needs in <paramref name="area"/>.</summary>
    public static string Needed(string area, string method) =>
        area + (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? ":read" : ":write");

    /// <summary>What people read next to each area in the scope pickers.</summary>
    public static string Describe(string area) => area switch
    {
        Bookings => "Bookings (list, book, reschedule, cancel, reassign)",
        Pages => "Booking pages",
        Users => "Users, their API keys and time off",
        Calendars => "Calendar and conferencing connections",
        Webhooks => "Webhooks",
        Admin => "Administration (templates, automations, CRM, payments, customers, spaces, outbox)",
        _ => area,
    };

    /// <summary>Known scopes only, each once, in the documented order; null when none is known.</summary>
    public static string[]? Normalize(IEnumerable<string>? scopes)
    {
        if (scopes is null)
        {
            return null;
        }

        var wanted = new HashSet<string>(scopes.Select(s => s.Trim()), StringComparer.Ordinal);
        var normalized = All.Where(wanted.Contains).ToArray();
        return normalized.Length == 0 || wanted.Any(s => !_known.Contains(s)) ? null : normalized;
    }

    public static bool Holds(ClaimsPrincipal principal, string scope) =>
        principal.HasClaim(c => c.Type == Claim && c.Value == scope);
}

/// <summary>The API area a route belongs to; a null area marks a public route that needs no scope.</summary>
public sealed record ApiAreaMetadata(string? Area);

public static class ApiScopeConventions
{
    /// <summary>Keys and tokens need "<paramref name="area"/>:read" (GET, HEAD) or ":write" (other methods) here.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string area)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new ApiAreaMetadata(area));

    /// <summary>Routes that read no caller (public pages, signed links, the customer portal): no scope applies.</summary>
    public static TBuilder NoScope<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new ApiAreaMetadata(null));

    /// <summary>
    /// Refuses a key or token that lacks the route's scope with 403 problem+json naming it (<c>missingScope</c>).
    /// Runs after authorization, so an unauthenticated call still gets its 401 first.
    /// </summary>
    public static IApplicationBuilder UseApiScopes(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var endpoint = context.GetEndpoint();
        var area = endpoint?.Metadata.GetMetadata<ApiAreaMetadata>()?.Area;
        // A route anyone may call (public booking, signed links) asks nothing of a key sent along with the request.
        if (area is not null && endpoint!.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null
            && context.User.Identity is { IsAuthenticated: true, AuthenticationType: ApiKeys.Scheme })
        {
            var needed = ApiScopes.Needed(area, context.Request.Method);
            if (!ApiScopes.Holds(context.User, needed))
            {
                // RFC 6750 section 3.1: the error and the scope that would have been enough.
                context.Response.Headers.WWWAuthenticate = $"Bearer error=\"insufficient_scope\", scope=\"{needed}\"";
                await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Missing scope.",
                        detail: $"This key or token lacks the scope {needed}.",
                        extensions: new Dictionary<string, object?> { ["code"] = "insufficient_scope", ["missingScope"] = needed })
                    .ExecuteAsync(context);
                return;
            }
        }

        await next(context);
    });
}

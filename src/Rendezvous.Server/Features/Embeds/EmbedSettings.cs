using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Domain;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Embeds;

/// <summary><c>allowedOrigins</c>: the sites (https://example.com, http://127.0.0.1:5000) whose pages may frame the booking pages.</summary>
public sealed record EmbedSettingsResponse(string[] AllowedOrigins);

/// <summary><c>PUT /embed-settings</c>: the whole list; an empty list turns embedding off.</summary>
public sealed record EmbedSettingsRequest(string[]? AllowedOrigins);

/// <summary>
/// Which other sites may show an organization's booking pages in a frame (the inline and pop-up embeds of
/// /embed.js). One implementation for the API, the staff screen and the embedded pages' headers.
/// </summary>
public sealed class EmbedSettingsService(RendezvousDbContext db)
{
    public const int MaxOrigins = 20;

    public async Task<IReadOnlyList<string>> OriginsAsync(OrganizationId org, CancellationToken ct) =>
        await db.Database.SqlQuery<string[]>($"SELECT embed_origins AS \"Value\" FROM organizations WHERE id = {org.Value}").FirstOrDefaultAsync(ct) ?? [];

    /// <summary>Replaces the list; every entry must be an origin, each is stored in its normal form, duplicates once.</summary>
    public async Task<Result<IReadOnlyList<string>>> SetOriginsAsync(OrganizationId org, IEnumerable<string?>? origins, CancellationToken ct)
    {
        var normal = new List<string>();
        var errors = new List<FieldError>();
        var index = 0;
        foreach (var text in origins ?? [])
        {
            if (TryNormalize(text, out var origin))
            {
                if (!normal.Contains(origin))
                {
                    normal.Add(origin);
                }
            }
            else
            {
                errors.Add(new($"allowedOrigins[{index}]",
                    "must be an origin: http:// or https://, a host and an optional port, without a path (https://www.example.com)"));
            }

            index++;
        }

        if (normal.Count > MaxOrigins)
        {
            errors.Add(new("allowedOrigins", $"may hold at most {MaxOrigins} origins"));
        }

        if (errors.Count > 0)
        {
            return DomainError.Validation(errors);
        }

        var stored = normal.ToArray();
        await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE organizations SET embed_origins = {stored} WHERE id = {org.Value}", ct);
        return Result<IReadOnlyList<string>>.Success(stored);
    }

    /// <summary>
    /// "https://Example.com:443/" becomes "https://example.com". Anything with a path, query, fragment, user name, a
    /// wildcard or another scheme is refused, so an entry always fits a <c>frame-ancestors</c> source and a
    /// <c>postMessage</c> target origin exactly.
    /// </summary>
    public static bool TryNormalize(string? text, out string origin)
    {
        origin = "";
        text = text?.Trim();
        if (string.IsNullOrEmpty(text) || text.Length > 300 || text.Contains('*', StringComparison.Ordinal)
            || !Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.AbsolutePath != "/"
            || text.EndsWith('#') || text.EndsWith('?') || string.IsNullOrEmpty(uri.Host))
        {
            return false;
        }

        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost;
        origin = $"{uri.Scheme}://{host.ToLowerInvariant()}{(uri.IsDefaultPort ? "" : ":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
        return true;
    }
}

public static class EmbedSettingsEndpoints
{
    public static void MapEmbedSettings(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/embed-settings").WithTags("Embeds").RequireAuthorization(ApiKeys.AdministratorPolicy);
        group.MapGet("/", async (HttpContext http, EmbedSettingsService s, CancellationToken ct) =>
            TypedResults.Ok(new EmbedSettingsResponse([.. await s.OriginsAsync(CurrentUser.From(http.User).OrganizationId, ct)])));
        group.MapPut("/", async Task<Results<Ok<EmbedSettingsResponse>, ProblemHttpResult>> (EmbedSettingsRequest body, HttpContext http,
            EmbedSettingsService s, CancellationToken ct) =>
        {
            if (body.AllowedOrigins is null)
            {
                return Problems.Validation("allowedOrigins", "is required (an empty list turns embedding off)");
            }

            var set = await s.SetOriginsAsync(CurrentUser.From(http.User).OrganizationId, body.AllowedOrigins, ct);
            return set.IsSuccess ? TypedResults.Ok(new EmbedSettingsResponse([.. set.Value])) : Problems.From(set.Error!);
        });
    }
}

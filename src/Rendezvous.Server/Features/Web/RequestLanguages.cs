using System.Globalization;
using Microsoft.AspNetCore.Localization;
using Microsoft.Extensions.Primitives;
using Rendezvous.Integrations.Localization;

namespace Rendezvous.Server.Features.Web;

/// <summary>
/// Which language a request is answered in. The public pages follow the visitor: the language switcher's cookie
/// (<see cref="CookieName"/>) first, else the browser's Accept-Language, else English. The staff app, the API and
/// everything else stay English. Only the UI culture changes: the formatting culture stays invariant everywhere, as
/// before, so numbers in attributes, links and scripts never change form with the visitor's language.
/// </summary>
public static class RequestLanguages
{
    public const string CookieName = "rdv_lang";

    public static IServiceCollection AddRequestLanguages(this IServiceCollection services) =>
        services.Configure<RequestLocalizationOptions>(o =>
        {
            o.DefaultRequestCulture = new RequestCulture(CultureInfo.InvariantCulture, Languages.Culture(Languages.Default));
            o.SupportedCultures = [CultureInfo.InvariantCulture];
            o.SupportedUICultures = [.. Languages.Codes.Select(Languages.Culture)];
            o.ApplyCurrentCultureToResponseHeaders = true;
            o.RequestCultureProviders =
            [
                new CustomRequestCultureProvider(c => Task.FromResult(IsPublic(c.Request.Path) ? null : Result(Languages.Default))),
                new CookieRequestCultureProvider { CookieName = CookieName },
                new CustomRequestCultureProvider(c => Task.FromResult(FromAcceptLanguage(c.Request))),
            ];
        });

    private static ProviderCultureResult Result(string code) => new(new StringSegment(""), new StringSegment(code));

    /// <summary>
    /// The first language of Accept-Language, by quality, that Rendezvous speaks ("de-AT" counts as German). Matched by
    /// the tag's language part here, since invariant mode knows no parent cultures to fall back through.
    /// </summary>
    public static ProviderCultureResult? FromAcceptLanguage(HttpRequest request)
    {
        var values = request.GetTypedHeaders().AcceptLanguage;
        var best = values
            .Where(v => v.Quality is null or > 0)
            .Select((v, i) => (Code: v.Value.Value?.Split('-')[0].ToLowerInvariant(), Quality: v.Quality ?? 1, Index: i))
            .Where(v => Languages.IsSupported(v.Code))
            .OrderByDescending(v => v.Quality).ThenBy(v => v.Index)
            .FirstOrDefault();
        return best.Code is { } code ? Result(code) : null;
    }

    /// <summary>The pages visitors and customers read; the rest of the server speaks English.</summary>
    public static bool IsPublic(PathString path) =>
        !(path.StartsWithSegments("/app") || path.StartsWithSegments("/api") || path.StartsWithSegments("/openapi")
            || path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics"));

    /// <summary>
    /// <c>GET /language/{code}?return=/path</c>: the switcher's links. Remembers the choice for a year and goes back to the
    /// page (only a local path; anything else goes to the start page). A GET, so the links work on pages without
    /// antiforgery tokens; it changes nothing but how pages read.
    /// </summary>
    public static void MapLanguageSwitch(this IEndpointRouteBuilder app) =>
        app.MapGet("/language/{code}", (string code, string? @return, HttpContext context) =>
        {
            if (!Languages.IsSupported(code))
            {
                return Results.NotFound();
            }

            context.Response.Cookies.Append(CookieName, CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(CultureInfo.InvariantCulture, Languages.Culture(code))),
                new CookieOptions
                {
                    MaxAge = TimeSpan.FromDays(365),
                    HttpOnly = true,
                    SameSite = SameSiteMode.Lax,
                    IsEssential = true,
                    Secure = context.Request.IsHttps,
                });
            var target = @return is { Length: > 0 } r && r[0] == '/' && !r.StartsWith("//", StringComparison.Ordinal) && !r.StartsWith("/\\", StringComparison.Ordinal)
                ? r
                : "/";
            return Results.LocalRedirect(target);
        }).AllowAnonymous().ExcludeFromDescription();

    /// <summary>The switcher's link to <paramref name="code"/> that comes back to the current page.</summary>
    public static string SwitchHref(HttpRequest request, string code) =>
        $"/language/{code}?return={Uri.EscapeDataString(request.PathBase + request.Path + request.QueryString)}";
}

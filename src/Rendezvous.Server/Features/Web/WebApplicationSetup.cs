using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Net.Http.Headers;
using Rendezvous.Server.Features.Embeds;
using Rendezvous.Server.Features.StaffAuth;

namespace Rendezvous.Server.Features.Web;

/// <summary>
/// The web application: server-rendered Razor Pages under Pages/ with a stylesheet and one small script from wwwroot,
/// served by Rendezvous itself. Every page states who may see it: the public booking, self-service and portal pages
/// allow anyone (their own checks decide), everything under /app needs the staff cookie, /app/admin an administrator.
/// </summary>
public static class WebApplicationSetup
{
    public static IServiceCollection AddWebApplication(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
        {
            o.Conventions.AllowAnonymousToPage("/Index");
            o.Conventions.AllowAnonymousToFolder("/Book");
            o.Conventions.AllowAnonymousToFolder("/Manage");
            o.Conventions.AllowAnonymousToFolder("/Portal");
            // The public routing forms (/route/{org}/{form}) are answered by visitors, who have no account.
            o.Conventions.AllowAnonymousToFolder("/Route");
            o.Conventions.AuthorizeFolder("/App", StaffCookie.Policy);
            o.Conventions.AuthorizeFolder("/App/Admin", StaffCookie.AdministratorPolicy);
            o.Conventions.AllowAnonymousToPage("/App/SignIn");
            o.Conventions.AllowAnonymousToPage("/App/Denied");
            // The booking pages once more under /embed, for other sites to frame (Features/Embeds).
            o.Conventions.AddPageRoute("/Book/Index", "embed/{org}/{slug}");
            o.Conventions.AddPageRoute("/Book/Form", "embed/{org}/{slug}/book");
            o.Conventions.AddPageRoute("/Book/Booked", "embed/{org}/{slug}/booked/{token}");
        }).AddMvcOptions(o => o.Filters.Add(new PageHeadersFilter()));
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "rdv_af";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
        });
        // Text in any script is written as itself, not as numeric references; markup characters are still encoded.
        services.Configure<Microsoft.Extensions.WebEncoders.WebEncoderOptions>(o =>
            o.TextEncoderSettings = new System.Text.Encodings.Web.TextEncoderSettings(System.Text.Unicode.UnicodeRanges.All));
        services.AddScoped<SlotPickerBuilder>();
        services.AddScoped<BookingDetailsLoader>();
        services.AddScoped<Embeds.EmbedSettingsService>();
        return services;
    }

    public static void MapWebApplication(this WebApplication app) => app.MapRazorPages();
}

/// <summary>The stylesheet and script in wwwroot.</summary>
public static class WebAssets
{
    /// <summary>
    /// wwwroot next to the working directory when started from the project folder (scripts/run), otherwise the copy next
    /// to the binary (the build copies it there), so the server finds its assets wherever it is started from.
    /// </summary>
    public static string? LocateWebRoot()
    {
        if (Directory.Exists(Path.Combine(Directory.GetCurrentDirectory(), "wwwroot")))
        {
            return null;
        }

        var shipped = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        return Directory.Exists(shipped) ? shipped : null;
    }

    public static void UseWebAssets(this WebApplication app) =>
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = c =>
            {
                // Assets are referenced with ?v=<build>, so a new build is fetched at once; a day is plenty otherwise.
                // The embed script is loaded by other sites without a version, so it is checked again within minutes.
                c.Context.Response.Headers[HeaderNames.CacheControl] =
                    c.File.Name == "embed.js" ? "public, max-age=300" : "public, max-age=86400";
                c.Context.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
            },
        });

    /// <summary>Changes with every build, to bust caches of the stylesheet and script.</summary>
    public static string Version { get; } =
        typeof(WebAssets).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..8];
}

/// <summary>Security headers for every page the web application renders.</summary>
public sealed class PageHeadersFilter : IPageFilter
{
    public void OnPageHandlerSelected(PageHandlerSelectedContext context)
    {
    }

    public void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        var headers = context.HttpContext.Response.Headers;
        headers[HeaderNames.XContentTypeOptions] = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        if (EmbedFraming.IsEmbedded(context.HttpContext.Request))
        {
            // The embedded booking pages: X-Frame-Options cannot name origins, so only the policy speaks. It forbids
            // framing until the page, once it knows its organization, names the origins that organization allows.
            EmbedFraming.Allow(context.HttpContext.Response, []);
            return;
        }

        headers[HeaderNames.XFrameOptions] = "DENY";
        headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy("'none'");
    }

    /// <summary>The policy of every page, with the <c>frame-ancestors</c> sources given.</summary>
    public static string ContentSecurityPolicy(string frameAncestors) =>
        $"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; form-action 'self'; frame-ancestors {frameAncestors}; base-uri 'self'";

    public void OnPageHandlerExecuted(PageHandlerExecutedContext context)
    {
    }
}

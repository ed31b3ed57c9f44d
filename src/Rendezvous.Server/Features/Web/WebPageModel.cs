using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using NodaTime;
using NodaTime.Text;
using Rendezvous.Domain;

namespace Rendezvous.Server.Features.Web;

/// <summary>What every page of the web application shares: a "not found" answer that keeps the layout, field errors, flash messages.</summary>
public abstract class WebPageModel : PageModel
{
    /// <summary>
    /// A method the page has no handler for (a POST or PUT to a page that only shows) would otherwise render the page with
    /// its model never loaded; it is answered 405 instead, with the methods that do work.
    /// </summary>
    public override Task OnPageHandlerExecutionAsync(
        Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutingContext context, Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutionDelegate next)
    {
        if (context.HandlerMethod is null && !HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method))
        {
            var allowed = context.ActionDescriptor.HandlerMethods.Select(h => h.HttpMethod.ToUpperInvariant()).Append("GET").Distinct();
            Response.Headers.Allow = string.Join(", ", allowed);
            context.Result = new ObjectResult(new ProblemDetails
            {
                Status = StatusCodes.Status405MethodNotAllowed,
                Title = "Method not allowed",
                Detail = $"This page does not accept {Request.Method}.",
            })
            {
                StatusCode = StatusCodes.Status405MethodNotAllowed,
                ContentTypes = { "application/problem+json" },
            };
            return Task.CompletedTask;
        }

        return base.OnPageHandlerExecutionAsync(context, next);
    }

    /// <summary>The zone a visitor chose; remembered by the script in this cookie.</summary>
    public const string ZoneCookie = "rdv_tz";

    public string? MissingTitle { get; private set; }

    public string? MissingText { get; private set; }

    public FieldErrors Errors => ViewData.FieldErrors();

    /// <summary>Renders the page's "not found" state with status 404 (the page checks <see cref="MissingTitle"/> first).</summary>
    protected PageResult Missing(string title, string text)
    {
        MissingTitle = title;
        MissingText = text;
        ViewData["Title"] = title;
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }

    protected void Flash(string message) => TempData["Flash"] = message;

    /// <summary>The zone to show a visitor: the one asked for, else the one remembered in the cookie, else <paramref name="fallback"/>.</summary>
    protected DateTimeZone VisitorZone(string? tz, DateTimeZone fallback) =>
        TimeZones.Find(tz) ?? TimeZones.Find(Request.Cookies[ZoneCookie]) ?? fallback;

    /// <summary>A local page address to return to, or the fallback for anything else (never another site).</summary>
    protected static string LocalOr(string? url, string fallback) =>
        url is { Length: > 1 } && url[0] == '/' && url[1] != '/' && url[1] != '\\' ? url : fallback;

    protected static LocalDate? ParseDate(string? text) =>
        text is null ? null : LocalDatePattern.Iso.Parse(text) is { Success: true } r ? r.Value : null;

    protected static LocalDate? ParseMonth(string? text) =>
        text is null ? null : LocalDatePattern.CreateWithInvariantCulture("uuuu-MM").Parse(text) is { Success: true } r ? r.Value : null;

    public static string MonthParam(LocalDate month) => LocalDatePattern.CreateWithInvariantCulture("uuuu-MM").Format(month);

    /// <summary>A path with a query string made of the non-empty values.</summary>
    public static string WithQuery(string path, IEnumerable<KeyValuePair<string, string?>> query)
    {
        var parts = query.Where(kv => !string.IsNullOrEmpty(kv.Value))
            .Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value!))
            .ToList();
        return parts.Count == 0 ? path : path + "?" + string.Join('&', parts);
    }

    /// <summary>
    /// Under /embed/{organization}/{page}: the booking page as another site frames it. Lets the organization's allowed
    /// origins frame the answer, hands them to the layout (the frame's script posts its height and the booking to them
    /// only), and keeps the page's links under /embed. Elsewhere the page as it is.
    /// </summary>
    protected async Task<PublicPage> EmbeddedAsync(PublicPage target, CancellationToken ct)
    {
        if (!Embeds.EmbedFraming.IsEmbedded(Request))
        {
            return target;
        }

        var origins = await HttpContext.RequestServices.GetRequiredService<Embeds.EmbedSettingsService>().OriginsAsync(target.Organization.Id, ct);
        Embeds.EmbedFraming.Allow(Response, origins);
        ViewData["EmbedOrigins"] = string.Join(' ', origins);
        return target with { Prefix = Embeds.EmbedFraming.Prefix };
    }

    /// <summary>The result for a redirect inside the application.</summary>
    protected LocalRedirectResult Go(string url) => LocalRedirect(url);
}

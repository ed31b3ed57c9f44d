using System.Text;
using System.Text.Encodings.Web;

namespace Rendezvous.Server.Infrastructure;

/// <summary>
/// HTML built in code: encoding for emails, and small pages outside the Razor pages (the payment return pages) that share
/// the web application's stylesheet and frame.
/// </summary>
public static class Html
{
    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    /// <summary>A page with <paramref name="title"/> as its heading and <paramref name="body"/> (already HTML) below it.</summary>
    public static IResult Page(string title, string body, int status = 200)
    {
        var html = new StringBuilder()
            .Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title)).Append(" · Rendezvous</title>")
            .Append("<link rel=\"stylesheet\" href=\"/css/site.css?v=").Append(Features.Web.WebAssets.Version).Append("\">")
            .Append("</head><body><a class=\"skip\" href=\"#main\">Skip to content</a>")
            .Append("<header class=\"site-header\"><div class=\"wrap\"><a class=\"brand\" href=\"/\">Rendezvous</a></div></header>")
            .Append("<main id=\"main\" tabindex=\"-1\"><div class=\"wrap narrow\">")
            .Append("<h1>").Append(E(title)).Append("</h1>")
            .Append(body)
            .Append("</div></main></body></html>")
            .ToString();
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}

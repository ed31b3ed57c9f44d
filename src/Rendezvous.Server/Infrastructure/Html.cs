using System.Text;
using System.Text.Encodings.Web;

namespace Rendezvous.Server.Infrastructure;

/// <summary>
/// Small server-rendered pages (self-service links, portal sign-in) until the full web application arrives: plain HTML,
/// readable on a phone, every value HTML-encoded.
/// </summary>
public static class Html
{
    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    public static IResult Page(string title, string body, int status = 200)
    {
        var html = new StringBuilder()
            .Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title)).Append(" · Rendezvous</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1f2328}")
            .Append("h1{font-size:1.5rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}")
            .Append(".actions a,.actions button,button{display:inline-block;margin:.25rem .5rem .25rem 0;padding:.5rem 1rem;border-radius:.4rem;border:1px solid #0969da;background:#0969da;color:#fff;text-decoration:none;font-size:1rem;cursor:pointer}")
            .Append(".secondary{background:#fff!important;color:#0969da!important}.notice{padding:.75rem;border-radius:.4rem;background:#fff8c5;border:1px solid #d4a72c}")
            .Append(".slots{display:flex;flex-wrap:wrap;gap:.25rem}.slots form{margin:0}textarea{width:100%;min-height:5rem}</style>")
            .Append("</head><body><main>")
            .Append("<h1>").Append(E(title)).Append("</h1>")
            .Append(body)
            .Append("</main></body></html>")
            .ToString();
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    public static IResult NoLongerValid() =>
        Page("This link is no longer valid", "<p>This link is no longer valid. The appointment may have been canceled, moved past, or the link was changed.</p>" +
            "<p>If you need help, reply to your confirmation email.</p>", StatusCodes.Status404NotFound);
}

using System.Text.Encodings.Web;

namespace Rendezvous.Server.Infrastructure;

/// <summary>HTML encoding for markup built in code (emails); pages are Razor and encode on their own.</summary>
public static class Html
{
    public static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");
}

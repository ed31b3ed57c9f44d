using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Rendezvous.Server.Tests.Infrastructure;

namespace Rendezvous.Server.Tests.Web;

/// <summary>
/// A browser without a browser: keeps cookies, reads the antiforgery token from the form it was shown, and posts forms
/// the way the pages do. For checks that need no script (the browser tests drive Chromium).
/// </summary>
public sealed partial class WebSession(RendezvousApp app)
{
    public HttpClient Client { get; } = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public string LastHtml { get; private set; } = "";

    public async Task<HttpResponseMessage> GetAsync(string path)
    {
        var response = await Client.GetAsync(path);
        LastHtml = await response.Content.ReadAsStringAsync();
        return response;
    }

    /// <summary>Posts a form to <paramref name="action"/> with the antiforgery token of the page last shown (or of <paramref name="tokenFrom"/>).</summary>
    public async Task<HttpResponseMessage> PostAsync(string action, IEnumerable<KeyValuePair<string, string>> fields, string? tokenFrom = null)
    {
        if (tokenFrom is not null)
        {
            await GetAsync(tokenFrom);
        }

        var values = fields.ToList();
        if (TokenPattern().Match(LastHtml) is { Success: true } m)
        {
            values.Add(new("__RequestVerificationToken", WebUtility.HtmlDecode(m.Groups[1].Value)));
        }

        var response = await Client.PostAsync(action, new FormUrlEncodedContent(values));
        LastHtml = await response.Content.ReadAsStringAsync();
        return response;
    }

    public async Task<HttpResponseMessage> SignInAsync(string email, string password) =>
        await PostAsync("/app/sign-in", [new("Email", email), new("Password", password)], tokenFrom: "/app/sign-in");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}

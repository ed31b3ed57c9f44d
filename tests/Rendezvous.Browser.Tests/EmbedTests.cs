using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// A booking page embedded in another website, served from a second loopback port (another origin): inline and as a
/// pop-up, booked inside the frame, the frame as tall as its content, and the site told of the booking. A site the
/// organization did not allow cannot show the page at all.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class EmbedTests(RendezvousServer server)
{
    /// <summary>The shop's page: the snippet from the admin screen, and a listener that writes down what it hears.</summary>
    private string HostPage(string slug, string mode) => $$"""
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Corner Bakery</title></head>
        <body style="font-family: sans-serif; margin: 2rem; background: #fdf6ec;">
            <h1>Corner Bakery</h1>
            <p>Order a cake for your party: pick a time for a tasting below.</p>
            <div id="booking" data-rendezvous-page="{{RendezvousServer.Organization}}/{{slug}}" data-rendezvous-mode="{{mode}}" data-rendezvous-label="Book a tasting"></div>
            <p id="booked" role="status"></p>
            <script>
                document.addEventListener("rendezvous:booked", function (e) {
                    document.getElementById("booked").textContent = "Booked " + e.detail.id + " at " + e.detail.start + " (" + e.detail.status + ")";
                });
            </script>
            <script src="{{server.BaseUrl}}/embed.js" async></script>
        </body>
        </html>
        """;

    private async Task<(string Slug, HostSite Site)> ShopAsync(string title)
    {
        var bookingPage = await Arrange.PageAsync(server, title);
        var slug = bookingPage["slug"]!.GetValue<string>();
        var site = HostSite.Start(new Dictionary<string, string>
        {
            ["/inline.html"] = HostPage(slug, "inline"),
            ["/popup.html"] = HostPage(slug, "popup"),
        });
        return (slug, site);
    }

    private async Task AllowAsync(params string[] origins) =>
        await server.PostJsonAsync("/api/v1/embed-settings", new { allowedOrigins = origins }, "PUT");

    /// <summary>Picks the first free time and books it with the form, all inside the frame.</summary>
    private static async Task BookInFrameAsync(IFrameLocator frame, string email)
    {
        await frame.Locator(".slots a").First.ClickAsync();
        await Expect(frame.GetByRole(AriaRole.Heading, new() { Name = "Your time" })).ToBeVisibleAsync();
        await frame.GetByLabel("Your name").FillAsync("Bea Baker");
        await frame.GetByLabel("Email").FillAsync(email);
        await frame.GetByRole(AriaRole.Button, new() { Name = "Confirm booking" }).ClickAsync();
        // A loaded machine may take a while to book and send the confirmation; this waits as long as a page load may.
        await Expect(frame.GetByRole(AriaRole.Heading, new() { Name = "You are booked" })).ToBeVisibleAsync(new() { Timeout = 20_000 });
    }

    /// <summary>The booking the site heard of, checked against the API.</summary>
    private async Task ExpectBookedAsync(IPage page, string email)
    {
        await Expect(page.Locator("#booked")).ToContainTextAsync(new Regex("Booked [0-9a-f-]{36} at .+ \\(scheduled\\)"), new() { Timeout = 20_000 });
        var id = Regex.Match(await page.Locator("#booked").TextContentAsync() ?? "", "Booked ([0-9a-f-]{36})").Groups[1].Value;
        var booking = await server.GetJsonAsync($"/api/v1/bookings/{id}");
        booking["customer"]!["email"]!.GetValue<string>().ShouldBe(email);
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
    }

    /// <summary>
    /// Waits until the frame is as tall as its content says (it starts at 600 pixels). Both are read again on every look,
    /// since the frame may still be loading the visitor's zone when the first look is taken.
    /// </summary>
    private static async Task ExpectFrameFitsAsync(IPage page)
    {
        double content = 0, frameHeight = 0;
        for (var look = 0; look < 100; look++)
        {
            var framed = page.Frames.FirstOrDefault(f => f.Url.Contains("/embed/", StringComparison.Ordinal));
            if (framed is not null)
            {
                try
                {
                    content = await framed.EvaluateAsync<double>("() => Math.ceil(document.getElementById('main').getBoundingClientRect().height) + 2");
                    frameHeight = await page.EvaluateAsync<double>("() => document.querySelector('#booking iframe').getBoundingClientRect().height");
                    if (Math.Abs(frameHeight - Math.Max(200, content)) <= 1)
                    {
                        return;
                    }
                }
                catch (PlaywrightException)
                {
                    // The frame navigated between the two reads; look again.
                }
            }

            await Task.Delay(100);
        }

        frameHeight.ShouldBe(Math.Max(200, content), 1, "the frame's height should follow its content");
    }

    /// <summary>The frame has taken the visitor's zone (the page's script reloads it once with ?tz=).</summary>
    private static async Task WaitForZoneAsync(IPage page)
    {
        for (var look = 0; look < 100 && !page.Frames.Any(f => f.Url.Contains("/embed/", StringComparison.Ordinal) && f.Url.Contains("tz=", StringComparison.Ordinal)); look++)
        {
            await Task.Delay(100);
        }
    }

    [BrowserFact]
    public async Task A_visitor_books_through_the_inline_embed_on_another_site_and_the_site_hears_of_it()
    {
        var (_, site) = await ShopAsync("Cake tasting");
        await using var _ = site;
        await AllowAsync(site.Origin);
        var page = await server.NewPageAsync();
        await page.GotoAsync(site.Origin + "/inline.html");

        var frame = page.FrameLocator("#booking iframe");
        await Expect(frame.GetByRole(AriaRole.Heading, new() { Name = "Cake tasting", Level = 1 })).ToBeVisibleAsync();
        await Expect(frame.Locator(".site-header")).ToHaveCountAsync(0);
        await WaitForZoneAsync(page);
        await ExpectFrameFitsAsync(page);
        await Screens.SaveAsync(page, "embed-inline");

        var email = $"{Arrange.Unique("inline")}@example.com";
        await BookInFrameAsync(frame, email);
        await ExpectBookedAsync(page, email);
        // The confirmation is shorter than the times: the frame shrinks with it.
        await ExpectFrameFitsAsync(page);
        await Expect(page).ToHaveURLAsync(site.Origin + "/inline.html");
    }

    [BrowserFact]
    public async Task A_visitor_books_through_the_pop_up_embed_and_closes_it_with_escape()
    {
        var (_, site) = await ShopAsync("Wedding cake consultation");
        await using var _ = site;
        await AllowAsync(site.Origin);
        var page = await server.NewPageAsync();
        await page.GotoAsync(site.Origin + "/popup.html");

        // Nothing is loaded until the button is used.
        await Expect(page.Locator("#booking iframe")).ToHaveCountAsync(0);
        var open = page.GetByRole(AriaRole.Button, new() { Name = "Book a tasting" });
        await open.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Book a time" });
        await Expect(dialog).ToBeVisibleAsync();
        var frame = page.FrameLocator("#booking iframe");
        await Expect(frame.GetByRole(AriaRole.Heading, new() { Name = "Wedding cake consultation", Level = 1 })).ToBeVisibleAsync();
        await WaitForZoneAsync(page);
        await ExpectFrameFitsAsync(page);
        await Screens.SaveAsync(page, "embed-popup", fullPage: false);

        var email = $"{Arrange.Unique("popup")}@example.com";
        await BookInFrameAsync(frame, email);
        await ExpectBookedAsync(page, email);

        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(open).ToBeFocusedAsync();
    }

    [BrowserFact]
    public async Task A_site_the_organization_did_not_allow_cannot_show_the_booking_page()
    {
        var (slug, allowed) = await ShopAsync("Private tasting");
        await using var _ = allowed;
        await using var stranger = HostSite.Start(new Dictionary<string, string> { ["/inline.html"] = HostPage(slug, "inline") });
        await AllowAsync(allowed.Origin);
        var page = await server.NewPageAsync();

        var answer = await page.RunAndWaitForResponseAsync(() => page.GotoAsync(stranger.Origin + "/inline.html"),
            r => r.Url.Contains($"/embed/{RendezvousServer.Organization}/{slug}", StringComparison.Ordinal));
        (await answer.HeaderValueAsync("content-security-policy"))!.ShouldContain($"frame-ancestors {allowed.Origin};");
        var framed = page.Frames.Single(f => f != page.MainFrame);
        await framed.WaitForLoadStateAsync(LoadState.Load);

        // The browser shows its own error instead of the page, so the frame never reports a height or a booking.
        await Expect(page.FrameLocator("#booking iframe").GetByRole(AriaRole.Heading, new() { Name = "Private tasting" })).ToHaveCountAsync(0);
        framed.Url.ShouldNotContain("/embed/");
        (await page.Locator("#booking iframe").GetAttributeAsync("style"))!.ShouldContain("height: 600px");
    }
}

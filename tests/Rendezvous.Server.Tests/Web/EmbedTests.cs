using System.Net;
using System.Text.RegularExpressions;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Web;

/// <summary>
/// Embeds: which answers may be framed, by whom. Only the booking pages under /embed name the organization's allowed
/// origins in <c>frame-ancestors</c>; every other page keeps refusing to be framed. The allowed origins are one list per
/// organization, kept through the API and the admin screen. (One class: the tests change the same organization's list.)
/// </summary>
public sealed partial class EmbedTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private static string? FrameAncestors(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Content-Security-Policy", out var values)
            ? values.Single().Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("frame-ancestors ", StringComparison.Ordinal))["frame-ancestors ".Length..]
            : null;

    private static bool DeniesFraming(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Frame-Options", out var xfo) && xfo.Single() == "DENY" && FrameAncestors(response) == "'none'";

    private async Task SetOriginsAsync(params string[] origins) =>
        await (await app.Client().PutJsonAsync("/api/v1/embed-settings", new { allowedOrigins = origins })).ExpectAsync(200);

    [DbFact]
    public async Task Embedded_booking_pages_may_be_framed_by_the_allowed_origins_only_and_every_other_page_by_none()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var web = new WebSession(app);
        await SetOriginsAsync();

        // Nothing allowed yet: the embedded page is served, but no site may frame it.
        var embedded = await web.GetAsync($"/embed/acme/{slug}?tz=UTC&date=2027-03-15");
        embedded.StatusCode.ShouldBe(HttpStatusCode.OK);
        embedded.Headers.Contains("X-Frame-Options").ShouldBeFalse();
        FrameAncestors(embedded).ShouldBe("'none'");

        await SetOriginsAsync("https://Shop.Example.com:443/", "http://127.0.0.1:5001");
        embedded = await web.GetAsync($"/embed/acme/{slug}?tz=UTC&date=2027-03-15");
        embedded.Headers.Contains("X-Frame-Options").ShouldBeFalse();
        FrameAncestors(embedded).ShouldBe("https://shop.example.com http://127.0.0.1:5001");
        // The frame's script posts only to these origins; the page's links stay in the frame.
        web.LastHtml.ShouldContain("data-embed-origins=\"https://shop.example.com http://127.0.0.1:5001\"");
        web.LastHtml.ShouldContain($"/embed/acme/{slug}/book?tz=UTC&amp;start=2027-03-15T09%3A00%3A00Z");
        web.LastHtml.ShouldNotContain("class=\"site-header\"");

        var form = await web.GetAsync($"/embed/acme/{slug}/book?tz=UTC&start=2027-03-15T09:00:00Z");
        form.StatusCode.ShouldBe(HttpStatusCode.OK);
        FrameAncestors(form).ShouldBe("https://shop.example.com http://127.0.0.1:5001");

        // The same pages at their own address, the rest of the site, and an unknown embedded page: never framed.
        DeniesFraming(await web.GetAsync($"/acme/{slug}")).ShouldBeTrue();
        DeniesFraming(await web.GetAsync($"/acme/{slug}/book?tz=UTC&start=2027-03-15T09:00:00Z")).ShouldBeTrue();
        DeniesFraming(await web.GetAsync("/app/sign-in")).ShouldBeTrue();
        DeniesFraming(await web.GetAsync("/portal/acme")).ShouldBeTrue();
        var unknown = await web.GetAsync("/embed/acme/no-such-page");
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        FrameAncestors(unknown).ShouldBe("'none'");

        // Another organization's list says nothing about this one's pages.
        var other = "embed-other-" + Guid.NewGuid().ToString("N")[..6];
        await app.CreateOrganizationAsync(other);
        (await web.GetAsync($"/embed/{other}/{slug}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [DbFact]
    public async Task A_booking_made_in_the_frame_needs_no_cookie_and_its_confirmation_carries_the_booking_for_the_host_page()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        await SetOriginsAsync("https://shop.example.com");

        // A fresh client with no cookie at all, as a frame in another site is (its same-site cookies are not sent).
        var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var email = $"embedded-{Guid.NewGuid():N}@example.com";
        var posted = await client.PostAsync($"/embed/acme/{slug}/book", new FormUrlEncodedContent(
        [
            new("Start", "2027-03-16T10:00:00Z"), new("Tz", "Europe/Paris"), new("Key", Guid.NewGuid().ToString("N")),
            new("Name", "Emma Embedded"), new("Email", email),
        ]));
        posted.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var confirmation = posted.Headers.Location!.ToString();
        confirmation.ShouldStartWith($"/embed/acme/{slug}/booked/");

        var booked = await client.GetAsync(confirmation);
        booked.StatusCode.ShouldBe(HttpStatusCode.OK);
        FrameAncestors(booked).ShouldBe("https://shop.example.com");
        var html = await booked.Content.ReadAsStringAsync();
        html.ShouldContain("You are booked");
        var data = WebUtility.HtmlDecode(BookedPattern().Match(html).Groups[1].Value);
        var booking = System.Text.Json.Nodes.JsonNode.Parse(data)!;
        booking["page"]!.GetValue<string>().ShouldBe(slug);
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-16T10:00:00Z");
        var api = await (await app.Client().GetAsync($"/api/v1/bookings/{booking["id"]!.GetValue<string>()}")).ExpectAsync(200);
        api["customer"]!["email"]!.GetValue<string>().ShouldBe(email);
        // The self-service link is never handed to the host page, and opens outside the frame (it may not be framed).
        data.ShouldNotContain(confirmation.Split('/')[^1]);
        html.ShouldContain("target=\"_blank\"");

        // Outside the frame the confirmation carries nothing for a host page.
        var plain = await client.GetAsync(confirmation.Replace("/embed", "", StringComparison.Ordinal));
        (await plain.Content.ReadAsStringAsync()).ShouldNotContain("data-embed-booked");
    }

    [DbFact]
    public async Task The_allowed_origins_are_origins_only_and_only_administrators_change_them()
    {
        var refused = await (await app.Client().PutJsonAsync("/api/v1/embed-settings", new
        {
            allowedOrigins = new[] { "https://ok.example", "https://shop.example/path", "https://*.example.com", "javascript:alert(1)", "https://a.example; script-src *", "ftp://files.example" },
        })).ExpectAsync(400);
        var errors = refused["errors"]!.AsObject();
        errors.Select(e => e.Key).Order().ShouldBe(["allowedOrigins[1]", "allowedOrigins[2]", "allowedOrigins[3]", "allowedOrigins[4]", "allowedOrigins[5]"]);
        (await (await app.Client().PutJsonAsync("/api/v1/embed-settings", new { allowedOrigins = Enumerable.Range(1, 21).Select(i => $"https://s{i}.example").ToArray() }))
            .ExpectAsync(400))["errors"]!["allowedOrigins"].ShouldNotBeNull();
        await (await app.Client().PutJsonAsync("/api/v1/embed-settings", new { })).ExpectAsync(400);

        var memberKey = await Scenario.CreateKeyAsync(app.Client(), await Scenario.CreateUserAsync(app.Client(), "Embed Member"));
        (await app.Client(memberKey).PutJsonAsync("/api/v1/embed-settings", new { allowedOrigins = new[] { "https://evil.example" } })).StatusCode
            .ShouldBe(HttpStatusCode.Forbidden);

        var set = await (await app.Client().PutJsonAsync("/api/v1/embed-settings", new { allowedOrigins = new[] { "https://b.example", "HTTPS://B.EXAMPLE", "http://[::1]:8080" } }))
            .ExpectAsync(200);
        set["allowedOrigins"]!.AsArray().Select(o => o!.GetValue<string>()).ShouldBe(["https://b.example", "http://[::1]:8080"]);
        (await (await app.Client().GetAsync("/api/v1/embed-settings")).ExpectAsync(200))["allowedOrigins"]!.AsArray().Count.ShouldBe(2);
    }

    [DbFact]
    public async Task The_admin_screen_keeps_the_list_and_shows_each_pages_snippets()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var admin = app.Client();
        var me = await Scenario.MyIdAsync(admin);
        await admin.PutJsonAsync($"/api/v1/users/{me}/password", new { password = "embed admin password" });
        var web = new WebSession(app);
        (await web.SignInAsync("admin@acme.example", "embed admin password")).StatusCode.ShouldBe(HttpStatusCode.Redirect);

        var screen = await web.GetAsync("/app/admin/embeds");
        screen.StatusCode.ShouldBe(HttpStatusCode.OK);
        DeniesFraming(screen).ShouldBeTrue();
        web.LastHtml.ShouldContain($"data-rendezvous-page=&quot;acme/{slug}&quot;");
        web.LastHtml.ShouldContain("/embed.js&quot; async");
        web.LastHtml.ShouldContain("data-rendezvous-mode=&quot;popup&quot;");

        (await web.PostAsync("/app/admin/embeds", [new("AllowedOrigins", "https://www.shop.example\nnot an origin")])).StatusCode.ShouldBe(HttpStatusCode.OK);
        web.LastHtml.ShouldContain("&quot;not&quot; must be an origin");
        (await web.PostAsync("/app/admin/embeds", [new("AllowedOrigins", "https://www.shop.example/\r\nhttp://localhost:3000")], tokenFrom: "/app/admin/embeds"))
            .StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await (await admin.GetAsync("/api/v1/embed-settings")).ExpectAsync(200))["allowedOrigins"]!.AsArray().Select(o => o!.GetValue<string>())
            .ShouldBe(["https://www.shop.example", "http://localhost:3000"]);
    }

    [DbFact]
    public async Task The_embed_script_is_served_to_other_sites_and_checked_again_within_minutes()
    {
        var script = await app.Anonymous().GetAsync("/embed.js");
        script.StatusCode.ShouldBe(HttpStatusCode.OK);
        script.Content.Headers.ContentType!.MediaType.ShouldBeOneOf("text/javascript", "application/javascript");
        script.Headers.CacheControl!.MaxAge.ShouldBe(TimeSpan.FromMinutes(5));
        (await script.Content.ReadAsStringAsync()).ShouldContain("rendezvous:booked");
    }

    [GeneratedRegex("data-embed-booked=\"([^\"]*)\"")]
    private static partial Regex BookedPattern();
}

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Domain.Organizations;
using Rendezvous.Server.Features.Portal;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

public sealed class RecordingPortalMailer : IPortalMailer
{
    public ConcurrentQueue<(string Email, string Url)> Sent { get; } = new();

    public Task SendSignInLinkAsync(Customer customer, Organization organization, string url, CancellationToken cancellationToken)
    {
        Sent.Enqueue((customer.Email, url));
        return Task.CompletedTask;
    }
}

public sealed class PortalApp : RendezvousApp
{
    public RecordingPortalMailer Mailer { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IPortalMailer>(Mailer);
}

/// <summary>Customers sign in to the portal (one-time link or password), see their appointments and act on them (seed 003).</summary>
public sealed class PortalTests(PortalApp app) : IClassFixture<PortalApp>
{
    private HttpClient Browser() => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private async Task<HttpClient> SignedInAsync(string email)
    {
        var browser = Browser();
        await (await browser.PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email })).ExpectAsync(202);
        var url = app.Mailer.Sent.Last(s => s.Email == email).Url;
        var path = new Uri(url).AbsolutePath;
        var signIn = await browser.GetAsync(path);
        ((int)signIn.StatusCode).ShouldBe(302);
        signIn.Headers.Location!.ToString().ShouldBe("/portal/acme");
        return browser;
    }

    [DbFact]
    public async Task Customer_signs_in_with_an_emailed_link_and_manages_appointments()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var email = $"portal-{Guid.NewGuid():N}@example.com";
        var first = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-16T10:00:00Z", new { name = "Pat", email, timeZone = "Europe/Paris" }))["id"]!.GetValue<string>();
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-17T10:00:00Z", new { name = "Pat", email, timeZone = "Europe/Paris" });
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-18T10:00:00Z", new { name = "Someone Else", email = "else@example.com" });

        var browser = await SignedInAsync(email);
        var list = await (await browser.GetAsync("/api/v1/portal/acme/appointments")).ExpectAsync(200);
        list.AsArray().Count.ShouldBe(2);
        list.AsArray()[0]!["view"]!["booking"]!["start"]!.GetValue<string>().ShouldBe("2027-03-16T11:00:00+01:00");
        var cancelToken = list.AsArray()[0]!["view"]!["cancelToken"]!.GetValue<string>();

        // Cancelling goes through the same path as the emailed link, so the same notifications and automations follow.
        await (await browser.PostJsonAsync($"/api/v1/self-service/{cancelToken}/cancel", new { reason = "Ill" })).ExpectAsync(200);
        (await (await app.Client().GetAsync($"/api/v1/bookings/{first}")).ExpectAsync(200))["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by Customer");
        var after = await (await browser.GetAsync("/api/v1/portal/acme/appointments")).ExpectAsync(200);
        after.AsArray().Single(a => a!["bookingId"]!.GetValue<string>() == first)!["upcoming"]!.GetValue<bool>().ShouldBeFalse();

        var page = await (await browser.GetAsync("/portal/acme")).Content.ReadAsStringAsync();
        page.ShouldContain("Your appointments");
        page.ShouldContain("Intro call");
    }

    [DbFact]
    public async Task Sign_in_links_work_once_and_unknown_addresses_learn_nothing()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var email = $"once-{Guid.NewGuid():N}@example.com";
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-19T10:00:00Z", new { name = "Lee", email });
        var browser = Browser();
        await (await browser.PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email })).ExpectAsync(202);
        var path = new Uri(app.Mailer.Sent.Last(s => s.Email == email).Url).AbsolutePath;
        ((int)(await browser.GetAsync(path)).StatusCode).ShouldBe(302);
        var again = await Browser().GetAsync(path);
        ((int)again.StatusCode).ShouldBe(404);

        var before = app.Mailer.Sent.Count;
        await (await Browser().PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email = "nobody@example.com" })).ExpectAsync(202);
        await (await Browser().PostJsonAsync("/api/v1/portal/no-such-org/sign-in-link", new { email })).ExpectAsync(202);
        app.Mailer.Sent.Count.ShouldBe(before);
        await (await Browser().PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email = "not an email" })).ExpectAsync(400);
        await (await Browser().GetAsync("/api/v1/portal/acme/appointments")).ExpectAsync(401);
    }

    [DbFact]
    public async Task Customer_sets_a_password_and_signs_in_with_it_only_in_their_organization()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var email = $"pw-{Guid.NewGuid():N}@example.com";
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-22T10:00:00Z", new { name = "Kim", email });
        var browser = await SignedInAsync(email);
        await (await browser.PostJsonAsync("/api/v1/portal/acme/password", new { password = "short" })).ExpectAsync(400);
        (await browser.PostJsonAsync("/api/v1/portal/acme/password", new { password = "correct horse battery" })).StatusCode.ShouldBe(System.Net.HttpStatusCode.NoContent);
        (await (await browser.GetAsync("/api/v1/portal/acme/me")).ExpectAsync(200))["hasPassword"]!.GetValue<bool>().ShouldBeTrue();

        var fresh = Browser();
        await (await fresh.PostJsonAsync("/api/v1/portal/acme/sign-in", new { email, password = "wrong horse battery" })).ExpectAsync(403);
        await (await fresh.PostJsonAsync("/api/v1/portal/acme/sign-in", new { email, password = "correct horse battery" })).ExpectAsync(200);
        (await (await fresh.GetAsync("/api/v1/portal/acme/appointments")).ExpectAsync(200)).AsArray().Count.ShouldBe(1);

        // The cookie is good for this organization's portal only.
        await app.CreateOrganizationAsync("other-" + Guid.NewGuid().ToString("N")[..6]);
        await (await fresh.GetAsync("/api/v1/portal/globex/appointments")).ExpectAsync(401);
        (await fresh.PostAsync("/api/v1/portal/acme/sign-out", null)).StatusCode.ShouldBe(System.Net.HttpStatusCode.NoContent);
        await (await fresh.GetAsync("/api/v1/portal/acme/appointments")).ExpectAsync(401);
    }
}

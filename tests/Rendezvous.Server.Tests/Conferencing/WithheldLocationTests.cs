using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Domain;
using Rendezvous.Server.Features.Portal;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Conferencing;

public sealed class WithheldLocationApp : IntegrationApp
{
    public RecordingPortalMailer Mailer { get; } = new();

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.AddSingleton<IPortalMailer>(Mailer);
    }
}

/// <summary>
/// Seed 001: after a reassignment that does not carry the location over, "subsequent Customer notifications will not include
/// location details". One rule decides what a viewer may see of the location; these tests look at every place a customer
/// (or the CRM) can read it: the self-service API, the /manage page, the .ics download, the confirmation page, the portal,
/// and the Salesforce Event's Location. The emails are covered in <see cref="ReassignmentEmailTests"/>.
/// </summary>
public sealed class WithheldLocationTests(WithheldLocationApp app) : IClassFixture<WithheldLocationApp>
{
    private const string Before = "Harbour Room, 1 Quay Street";
    private const string After = "Garden Room, 9 Park Lane";

    private async Task<(string Id, string Slug)> PageAsync(string name, string location)
    {
        var admin = app.Client();
        var owner = await Scenario.CreateUserAsync(admin, name);
        var (slug, id) = await ConferencingScenario.PageAsync(admin, owner, location: location);
        var connected = await app.ConnectAsync(admin, "salesforce", id, app.Salesforce.IssueCode("005000000000077AAA"));
        connected["status"]!.GetValue<string>().ShouldBe("connected");
        return (id, slug);
    }

    private string Token(string bookingId) =>
        app.Services.GetRequiredService<SelfServiceLinks>().CreateToken(new BookingId(Guid.Parse(bookingId)), LinkPurpose.View);

    private async Task<string> TextAsync(string path)
    {
        var response = await app.Anonymous().GetAsync(path);
        ((int)response.StatusCode).ShouldBe(200, path);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<HttpClient> PortalAsync(string email)
    {
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await (await browser.PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email })).ExpectAsync(202);
        var url = app.Mailer.Sent.Last(s => s.Email == email).Url;
        ((int)(await browser.GetAsync(new Uri(url).AbsolutePath)).StatusCode).ShouldBe(302);
        return browser;
    }

    [DbFact]
    public async Task A_location_withheld_by_a_reassignment_is_shown_on_no_customer_surface_nor_in_salesforce()
    {
        var (adaPage, adaSlug) = await PageAsync("Ada", Before);
        var (bobPage, bobSlug) = await PageAsync("Bob", After);
        var email = $"withheld.{Guid.NewGuid():N}@example.com";
        var id = (await Scenario.BookAsync(app.Anonymous(), adaSlug, "2027-04-05T10:00:00Z", Scenario.Customer("Kay Lee", email)))["id"]!
            .GetValue<string>();
        await app.RunOutboxAsync();
        var token = Token(id);

        // Before: every surface shows the page's location, so the checks below can see it when it is there.
        (await (await app.Anonymous().GetAsync($"/api/v1/self-service/{token}")).ExpectAsync(200))["booking"]!["location"]!.GetValue<string>()
            .ShouldBe(Before);
        (await TextAsync($"/manage/{token}")).ShouldContain(Before);
        (await TextAsync($"/manage/{token}/event.ics")).ShouldContain("LOCATION:Harbour Room");
        (await TextAsync($"/acme/{adaSlug}/booked/{token}")).ShouldContain(Before);
        app.Salesforce.EventFor(id)!["Location"]!.GetValue<string>().ShouldBe(Before);

        var moved = await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reassign", new { bookingPageId = bobPage })).ExpectAsync(200);
        moved["location"]!["locationWithheld"]!.GetValue<bool>().ShouldBeTrue();
        await app.RunOutboxAsync();

        var view = await (await app.Anonymous().GetAsync($"/api/v1/self-service/{token}")).ExpectAsync(200);
        view["booking"]!["location"].ShouldBeNull();
        var manage = await TextAsync($"/manage/{token}");
        manage.ShouldNotContain(After);
        manage.ShouldNotContain(Before);
        manage.ShouldNotContain("<dt>Where</dt>");
        var ics = await TextAsync($"/manage/{token}/event.ics");
        ics.ShouldNotContain("LOCATION");
        ics.ShouldContain("SUMMARY:Intro call with Bob");
        var confirmation = await TextAsync($"/acme/{bobSlug}/booked/{token}");
        confirmation.ShouldNotContain(After);
        confirmation.ShouldNotContain(Before);

        var portal = await PortalAsync(email);
        var appointments = await (await portal.GetAsync("/api/v1/portal/acme/appointments")).ExpectAsync(200);
        var listed = appointments.AsArray().Single(a => a!["bookingId"]!.GetValue<string>() == id)!;
        listed["view"]!["booking"]!["location"].ShouldBeNull();

        // The Event moved with the booking (same org) and its Location no longer names either place.
        var e = app.Salesforce.EventFor(id)!;
        e["Rendezvous_Event_Status__c"]!.GetValue<string>().ShouldBe("Scheduled (Reassigned by User)");
        e["Location"].ShouldBeNull();
    }
}

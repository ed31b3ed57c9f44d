using System.Net;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Web;
using Shouldly;

namespace Rendezvous.Server.Tests.Google;

/// <summary>The web app's calendar connection screen offers Google: consent at Google, back to the screen, pick calendars.</summary>
public sealed class GoogleConnectionPageTests(GoogleSyncApp app) : IClassFixture<GoogleSyncApp>
{
    [DbFact]
    public async Task A_member_connects_google_from_the_connection_screen_and_picks_calendars()
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, "Web Google Member", timeZone: "UTC");
        var email = (await (await admin.GetAsync($"/api/v1/users/{id}")).ExpectAsync(200))["email"]!.GetValue<string>();
        await admin.PutJsonAsync($"/api/v1/users/{id}/password", new { password = "member password 1" });
        var web = new WebSession(app);
        (await web.SignInAsync(email, "member password 1")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var account = $"web.{Guid.NewGuid():N}@gmail.example";
        app.Google.AddAccount(account);
        var work = app.Google.AddCalendar(account, "Work");

        await web.GetAsync("/app/calendar-connection");
        web.LastHtml.ShouldContain("Connect Google Calendar");
        var toGoogle = await web.PostAsync("/app/calendar-connection?handler=Google", [new("CancelBookingOnDelete", "true")]);
        toGoogle.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        toGoogle.Headers.Location!.ToString().ShouldStartWith(app.Google.AuthorizationUrl.ToString());

        // At Google: the user consents, and the browser comes back to the callback, then to the screen.
        app.Google.ConsentingAccount = account;
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var callback = (await browser.GetAsync(toGoogle.Headers.Location)).Headers.Location!;
        var back = await web.GetAsync(callback.PathAndQuery);
        back.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        back.Headers.Location!.ToString().ShouldBe("/app/calendar-connection?google=connected");

        await web.GetAsync("/app/calendar-connection");
        web.LastHtml.ShouldContain("Reconnect Google Calendar");
        web.LastHtml.ShouldContain(account);
        web.LastHtml.ShouldContain("Healthy");
        var connectionId = (await (await admin.GetAsync("/api/v1/calendar-connections")).ExpectAsync(200)).AsArray()
            .Single(c => c!["userId"]!.GetValue<string>() == id)!["id"]!.GetValue<string>();

        // "Choose calendars" lists the account's calendars; saving makes "Work" the booking calendar.
        await web.PostAsync("/app/calendar-connection?handler=Discover", [new("connection", connectionId)]);
        web.LastHtml.ShouldContain("Work");
        var saved = await web.PostAsync("/app/calendar-connection?handler=Save",
            [new("connection", connectionId), new("Provider", "google"), new("BookingCalendarUrl", work), new("AdditionalCalendarUrls", account),
                new("CancelBookingOnDelete", "true")]);
        saved.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var connections = await (await admin.GetAsync("/api/v1/calendar-connections")).ExpectAsync(200);
        var mine = connections.AsArray().Single(c => c!["userId"]!.GetValue<string>() == id)!;
        (mine["provider"]!.GetValue<string>(), mine["bookingCalendarUrl"]!.GetValue<string>(), mine["cancelBookingOnDelete"]!.GetValue<bool>())
            .ShouldBe(("google", work, true));
        mine["additionalCalendarUrls"]!.AsArray().Select(a => a!.GetValue<string>()).ShouldBe([account]);
    }
}

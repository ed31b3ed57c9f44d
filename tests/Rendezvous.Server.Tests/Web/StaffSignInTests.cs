using System.Net;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Web;

/// <summary>Team members sign in to the web application with a password an administrator set; repeated failures lock the account.</summary>
public sealed class StaffSignInTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private async Task<(string Id, string Email)> MemberWithPasswordAsync(string password)
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, "Web Member");
        var email = (await (await admin.GetAsync($"/api/v1/users/{id}")).ExpectAsync(200))["email"]!.GetValue<string>();
        (await admin.PutJsonAsync($"/api/v1/users/{id}/password", new { password })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        return (id, email);
    }

    [DbFact]
    public async Task Administrators_set_passwords_through_the_api_and_short_ones_are_refused()
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, "Short Password");
        var problem = await (await admin.PutJsonAsync($"/api/v1/users/{id}/password", new { password = "short" })).ExpectAsync(400);
        problem["field"]!.GetValue<string>().ShouldBe("password");
        await (await admin.PutJsonAsync($"/api/v1/users/{Guid.NewGuid()}/password", new { password = "long enough password" })).ExpectAsync(404);

        var memberKey = await Scenario.CreateKeyAsync(admin, id);
        await (await app.Client(memberKey).PutJsonAsync($"/api/v1/users/{id}/password", new { password = "long enough password" })).ExpectAsync(403);
    }

    [DbFact]
    public async Task A_user_signs_in_with_the_password_and_reaches_the_activity_stream()
    {
        var (_, email) = await MemberWithPasswordAsync("first password 123");
        var web = new WebSession(app);
        var signIn = await web.SignInAsync(email, "first password 123");
        signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        signIn.Headers.Location!.ToString().ShouldBe("/app/activity");
        var activity = await web.GetAsync("/app/activity");
        activity.StatusCode.ShouldBe(HttpStatusCode.OK);
        web.LastHtml.ShouldContain("<h1>Activity</h1>");
        web.LastHtml.ShouldNotContain("/app/admin/users", Case.Sensitive, "members see no administration");
    }

    [DbFact]
    public async Task Five_failures_lock_the_account_for_fifteen_minutes_and_a_new_password_lifts_the_lock()
    {
        var (id, email) = await MemberWithPasswordAsync("right password 123");
        var web = new WebSession(app);
        for (var i = 0; i < 4; i++)
        {
            (await web.SignInAsync(email, "wrong password " + i)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            web.LastHtml.ShouldContain("The email or password is not right.");
        }

        (await web.SignInAsync(email, "wrong password 5")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        web.LastHtml.ShouldContain("locked");

        // Even the right password is refused while the lock lasts.
        (await web.SignInAsync(email, "right password 123")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        web.LastHtml.ShouldContain("try again in 15 minutes");

        (await app.Client().PutJsonAsync($"/api/v1/users/{id}/password", new { password = "brand new password" })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await web.SignInAsync(email, "brand new password")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
    }

    [DbFact]
    public async Task Staff_pages_need_a_sign_in_administration_needs_the_role_and_forms_need_their_token()
    {
        var anonymous = new WebSession(app);
        var redirect = await anonymous.GetAsync("/app/activity");
        redirect.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        redirect.Headers.Location!.ToString().ShouldStartWith("http://localhost/app/sign-in?returnUrl=");
        // The API never accepts the staff cookie: it stays bearer-only.
        (await anonymous.GetAsync("/api/v1/bookings")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        var (_, email) = await MemberWithPasswordAsync("member password 1");
        var member = new WebSession(app);
        await member.SignInAsync(email, "member password 1");
        var denied = await member.GetAsync("/app/admin/users");
        denied.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        denied.Headers.Location!.ToString().ShouldContain("/app/denied");
        (await member.Client.GetAsync("/api/v1/bookings")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        // A form posted without the token it was shown with (a forged cross-site request) is refused.
        var forged = await member.Client.PostAsync("/app/profile?handler=Profile",
            new FormUrlEncodedContent([new("name", "Forged"), new("timeZone", "UTC")]));
        forged.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [DbFact]
    public async Task Changing_the_password_ends_other_sessions()
    {
        var (_, email) = await MemberWithPasswordAsync("session password 1");
        var first = new WebSession(app);
        var second = new WebSession(app);
        await first.SignInAsync(email, "session password 1");
        await second.SignInAsync(email, "session password 1");
        var changed = await first.PostAsync("/app/profile?handler=Password",
            [new("current", "session password 1"), new("password", "session password 2"), new("confirm", "session password 2")], tokenFrom: "/app/profile");
        changed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await first.GetAsync("/app/activity")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await second.GetAsync("/app/activity")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
    }
}

using System.Net;
using System.Text.RegularExpressions;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Web;

/// <summary>
/// Writes made on a page go through the API's own service: what one refuses the other refuses, and what one makes the
/// other can use.
/// </summary>
public sealed partial class SharedWritesTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    /// <summary>A new organization whose only user is its administrator, signed in to the web application.</summary>
    private async Task<(HttpClient Api, string AdminId, WebSession Web)> FreshOrganizationAsync()
    {
        var api = app.Client(await app.CreateOrganizationAsync("shared-" + Guid.NewGuid().ToString("N")[..6]));
        var admin = (await (await api.GetAsync("/api/v1/users")).ExpectAsync(200)).AsArray().Single()!;
        var adminId = admin["id"]!.GetValue<string>();
        await (await api.PutJsonAsync($"/api/v1/users/{adminId}/password", new { password = "shared admin password" })).ExpectAsync(204);
        var web = new WebSession(app);
        (await web.SignInAsync(admin["email"]!.GetValue<string>(), "shared admin password")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        return (api, adminId, web);
    }

    [DbFact]
    public async Task The_only_administrator_cannot_be_demoted_and_the_profile_changes_name_and_zone_but_not_the_role()
    {
        var (api, adminId, web) = await FreshOrganizationAsync();

        await web.PostAsync($"/app/admin/users/{adminId}?handler=Profile",
            [new("name", "Ada"), new("timeZone", "Europe/London"), new("role", "member")], tokenFrom: $"/app/admin/users/{adminId}");
        web.LastHtml.ShouldContain("This is the only administrator; make someone else an administrator first.");
        (await (await api.GetAsync($"/api/v1/users/{adminId}")).ExpectAsync(200))["role"]!.GetValue<string>().ShouldBe("administrator");

        await web.PostAsync("/app/profile?handler=Profile", [new("name", "Ada"), new("timeZone", "Mars/Olympus")], tokenFrom: "/app/profile");
        web.LastHtml.ShouldContain("Choose a time zone.");

        var saved = await web.PostAsync("/app/profile?handler=Profile", [new("name", "Ada Lovelace"), new("timeZone", "Europe/Paris")],
            tokenFrom: "/app/profile");
        saved.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var me = await (await api.GetAsync($"/api/v1/users/{adminId}")).ExpectAsync(200);
        me["name"]!.GetValue<string>().ShouldBe("Ada Lovelace");
        me["timeZone"]!.GetValue<string>().ShouldBe("Europe/Paris");
        me["role"]!.GetValue<string>().ShouldBe("administrator");
    }

    [DbFact]
    public async Task A_key_created_on_the_user_page_signs_api_requests_in()
    {
        var (_, adminId, web) = await FreshOrganizationAsync();

        await web.PostAsync($"/app/admin/users/{adminId}?handler=CreateKey", [new("keyName", "Reporting"), new("scopes", "bookings:read"), new("scopes", "users:read")], tokenFrom: $"/app/admin/users/{adminId}");
        var key = KeyPattern().Match(web.LastHtml).Value;
        key.ShouldNotBeEmpty();

        var users = await (await app.Client(key).GetAsync("/api/v1/users")).ExpectAsync(200);
        users.AsArray().Single()!["id"]!.GetValue<string>().ShouldBe(adminId);
    }

    [DbFact]
    public async Task The_template_page_refuses_unknown_placeholders_as_the_api_does_and_stores_nothing()
    {
        var (api, _, web) = await FreshOrganizationAsync();

        await web.PostAsync("/app/admin/templates/canceled/customer",
            [new("Subject", "Sorry"), new("Text", "Hello {{customer.shoeSize}}"), new("Html", "")], tokenFrom: "/app/admin/templates/canceled/customer");
        web.LastHtml.ShouldContain("unknown placeholders");
        (await (await api.GetAsync("/api/v1/email-templates/canceled?audience=customer")).ExpectAsync(200))["customised"]!.GetValue<bool>()
            .ShouldBeFalse();

        var saved = await web.PostAsync("/app/admin/templates/canceled/customer",
            [new("Subject", "Sorry, {{customer.name}}"), new("Text", "Your appointment is canceled."), new("Html", "")],
            tokenFrom: "/app/admin/templates/canceled/customer");
        saved.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var stored = await (await api.GetAsync("/api/v1/email-templates/canceled?audience=customer")).ExpectAsync(200);
        stored["customised"]!.GetValue<bool>().ShouldBeTrue();
        stored["subject"]!.GetValue<string>().ShouldBe("Sorry, {{customer.name}}");
    }

    [GeneratedRegex("rdv_[A-Za-z0-9_-]{43}")]
    private static partial Regex KeyPattern();
}

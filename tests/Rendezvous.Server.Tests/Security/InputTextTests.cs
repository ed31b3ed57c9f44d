using System.Text.Json.Nodes;
using Rendezvous.Server.Infrastructure;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Web;
using Shouldly;

namespace Rendezvous.Server.Tests.Security;

/// <summary>A NUL character anywhere in the input is a 400 naming the field, never a 500 from PostgreSQL.</summary>
public sealed class InputTextTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private static async Task ExpectNulRefusedAsync(HttpResponseMessage response, string field)
    {
        var problem = await response.ExpectAsync(400);
        problem["code"]!.GetValue<string>().ShouldBe(InputTextFilter.Code);
        problem["field"]!.GetValue<string>().ShouldBe(field);
    }

    [DbFact]
    public async Task Nul_in_a_busy_block_note_is_refused_naming_the_note()
    {
        var admin = app.Client();
        var me = await Scenario.MyIdAsync(admin);
        await ExpectNulRefusedAsync(await admin.PostJsonAsync($"/api/v1/users/{me}/busy-blocks",
            new { start = "2027-03-17T13:00:00Z", end = "2027-03-17T14:00:00Z", note = "Dentist\0" }), "note");
    }

    [DbFact]
    public async Task Nul_in_an_email_template_is_refused_naming_the_field()
    {
        await ExpectNulRefusedAsync(await app.Client().PutJsonAsync("/api/v1/email-templates/confirmation",
            new { subject = "Booked", text = "Hello\0{{customer.name}}" }), "text");
    }

    [DbFact]
    public async Task Nul_in_a_nested_field_or_array_element_is_named_by_its_path()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        await ExpectNulRefusedAsync(await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-08T10:00:00Z", customer = new { name = "Gr\0ce", email = "grace@example.com" } }), "customer.name");
        await ExpectNulRefusedAsync(await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { starts = new[] { "2027-03-08T10:00:00Z", "2027-03-09T10:00:00Z\0" }, customer = new { name = "Grace", email = "grace@example.com" } }), "starts[1]");
        await ExpectNulRefusedAsync(await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new JsonObject { ["start"] = "2027-03-08T10:00:00Z", ["answers"] = new JsonObject { ["to\0pic"] = "x" } }), "answers.to\\u0000pic");
    }

    [DbFact]
    public async Task Nul_in_a_query_string_value_or_name_is_refused_naming_it()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        await ExpectNulRefusedAsync(await app.Anonymous().GetAsync(
            $"/api/v1/booking-pages/{slug}/slots?from=2027-03-08&to=2027-03-08&timeZone=Europe/London%00"), "timeZone");
        await ExpectNulRefusedAsync(await app.Client().GetAsync("/api/v1/bookings?status=%00"), "status");
        await ExpectNulRefusedAsync(await app.Client().GetAsync("/api/v1/bookings?li%00mit=1"), "li\\u0000mit");
    }

    [DbFact]
    public async Task Nul_in_an_api_key_is_refused_before_it_is_looked_up()
    {
        var client = app.Anonymous();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer abc\0def");
        await ExpectNulRefusedAsync(await client.GetAsync("/api/v1/bookings"), "Authorization");
    }

    [DbFact]
    public async Task Nul_in_a_posted_form_field_is_refused_naming_the_field()
    {
        var web = new WebSession(app);
        var response = await web.PostAsync("/app/sign-in", [new("Email", "admin@acme.example\0"), new("Password", "whatever-it-is")], tokenFrom: "/app/sign-in");
        await ExpectNulRefusedAsync(response, "Email");
        var portal = await web.PostAsync("/app/sign-in", [new("Email", "admin@acme.example"), new("Pass\0word", "x")], tokenFrom: "/app/sign-in");
        await ExpectNulRefusedAsync(portal, "Pass\\u0000word");
    }

    [Fact]
    public void The_json_scanner_names_the_path_and_ignores_escaped_backslashes()
    {
        InputTextFilter.FindNulInJson("""{"a":[1,{"b":"x"},"y\u0000"]}"""u8).ShouldBe("a[2]");
        InputTextFilter.FindNulInJson("""{"a":{"b":[[],["\u0000"]]}}"""u8).ShouldBe("a.b[1][0]");
        InputTextFilter.FindNulInJson("""{"a":"\\u0000"}"""u8).ShouldBeNull();
        InputTextFilter.FindNulInJson("""["ok","\u0000"]"""u8).ShouldBe("[1]");
    }
}

using System.Net;
using Microsoft.EntityFrameworkCore;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Web;

/// <summary>
/// The public booking pages without a script: the month and day of free times in the visitor's zone, the booking form
/// with the page's own questions, the confirmation with its calendar file, and a time taken in the meantime.
/// </summary>
public sealed partial class PublicPagesTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private static readonly object[] Questions =
    [
        new { id = "company", label = "Company", required = true },
        new { id = "topic", label = "What would you like to talk about?", required = false },
    ];

    private async Task<string> PageWithQuestionsAsync() =>
        await Scenario.CreatePageAsync(app.Client(), p => p["questions"] = System.Text.Json.JsonSerializer.SerializeToNode(Questions));

    [DbFact]
    public async Task The_booking_page_shows_the_month_and_the_days_free_times_in_the_chosen_zone()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var web = new WebSession(app);
        var page = await web.GetAsync($"/acme/{slug}?tz=America/New_York&date=2027-03-15");
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = web.LastHtml!;
        html.ShouldContain("<h1>Intro call</h1>");
        html.ShouldContain("March 2027");
        html.ShouldContain("Monday 15 March 2027");
        // 09:00-17:00 in London is 05:00-13:00 in New York on 15 March (New York is already on summer time).
        html.ShouldContain("Book 05:00 on Monday 15 March 2027");
        html.ShouldContain("data-current=\"America/New_York\"");
        html.ShouldContain($"/acme/{slug}/book?tz=America%2FNew_York&amp;start=2027-03-15T09%3A00%3A00Z");

        // The zone remembered in the cookie applies when the address names none.
        var remembered = app.Anonymous();
        remembered.DefaultRequestHeaders.Add("Cookie", "rdv_tz=Asia/Kathmandu");
        var kathmandu = await (await remembered.GetAsync($"/acme/{slug}?date=2027-03-15")).Content.ReadAsStringAsync();
        kathmandu.ShouldContain("data-current=\"Asia/Kathmandu\"");
        kathmandu.ShouldContain("Book 14:45 on Monday 15 March 2027");
    }

    [DbFact]
    public async Task Unknown_pages_and_pages_under_another_organizations_address_are_not_found()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var web = new WebSession(app);
        (await web.GetAsync("/acme/no-such-page")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        web.LastHtml.ShouldContain("Booking page not found");
        (await web.GetAsync($"/someone-else/{slug}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await web.GetAsync($"/someone-else/{slug}/book?start=2027-03-15T09:00:00Z")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [DbFact]
    public async Task The_booking_form_asks_the_pages_questions_and_books_with_the_answers()
    {
        var slug = await PageWithQuestionsAsync();
        var web = new WebSession(app);
        var form = await web.GetAsync($"/acme/{slug}/book?tz=Europe/Paris&start=2027-03-16T10:00:00Z");
        form.StatusCode.ShouldBe(HttpStatusCode.OK);
        web.LastHtml.ShouldContain("Tuesday 16 March 2027, 11:00–11:30");
        web.LastHtml.ShouldContain("What would you like to talk about?");
        var key = KeyPattern().Match(web.LastHtml!).Groups[1].Value;

        // Missing answers are named next to their fields; the guests must be addresses.
        List<KeyValuePair<string, string>> fields =
        [
            new("Start", "2027-03-16T10:00:00Z"), new("Tz", "Europe/Paris"), new("Key", key), new("Name", ""), new("Email", "nobody"),
            new("Guests", "friend@example.com, not-an-address"),
        ];
        var invalid = await web.PostAsync($"/acme/{slug}/book", fields);
        invalid.StatusCode.ShouldBe(HttpStatusCode.OK);
        web.LastHtml.ShouldContain("Your name is required");
        web.LastHtml.ShouldContain("Email must be a valid email address");
        web.LastHtml.ShouldContain("Company is required");
        web.LastHtml.ShouldContain("&quot;not-an-address&quot; is not an email address");
        web.LastHtml.ShouldContain("aria-invalid=\"true\"");

        var email = $"form-{Guid.NewGuid():N}@example.com";
        fields =
        [
            new("Start", "2027-03-16T10:00:00Z"), new("Tz", "Europe/Paris"), new("Key", key), new("Name", "Fran Form"), new("Email", email),
            new("Phone", "+33 1 23 45 67 89"), new("Answers[company]", "Initech"), new("Notes", "Please call first."),
            new("Guests", "friend@example.com"),
        ];
        var booked = await web.PostAsync($"/acme/{slug}/book", fields);
        booked.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var confirmation = booked.Headers.Location!.ToString();
        confirmation.ShouldStartWith($"/acme/{slug}/booked/");

        // The same form sent twice (a double click) books once.
        var again = await web.PostAsync($"/acme/{slug}/book", fields, tokenFrom: "/app/sign-in");
        again.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        again.Headers.Location!.ToString().ShouldStartWith($"/acme/{slug}/booked/");

        await web.GetAsync(confirmation);
        web.LastHtml.ShouldContain("You are booked");
        web.LastHtml.ShouldContain("Tuesday 16 March 2027, 11:00–11:30");
        var token = confirmation.Split('/')[^1];
        web.LastHtml.ShouldContain($"/manage/{token}/event.ics");
        web.LastHtml.ShouldContain($"href=\"/manage/{token}\"");

        var ics = await web.Client.GetAsync($"/manage/{token}/event.ics");
        ics.Content.Headers.ContentType!.MediaType.ShouldBe("text/calendar");
        var calendar = await ics.Content.ReadAsStringAsync();
        calendar.ShouldContain("BEGIN:VEVENT");
        calendar.ShouldContain("DTSTART:20270316T100000Z");
        calendar.ShouldContain("@rendezvous");

        var bookings = (await (await app.Client().GetAsync("/api/v1/bookings?from=2027-03-16&to=2027-03-16&limit=500")).ExpectAsync(200)).AsArray()
            .Where(b => b!["customer"]!["email"]!.GetValue<string>() == email).ToList();
        bookings.Count.ShouldBe(1);
        var answers = bookings[0]!["answers"]!.AsObject();
        answers["company"]!.GetValue<string>().ShouldBe("Initech");
        answers["notes"]!.GetValue<string>().ShouldBe("Please call first.");
        answers["guests"]!.GetValue<string>().ShouldBe("friend@example.com");
        answers.ContainsKey("topic").ShouldBeFalse();
        bookings[0]!["customer"]!["timeZone"]!.GetValue<string>().ShouldBe("Europe/Paris");
    }

    [DbFact]
    public async Task The_api_refuses_a_booking_without_a_required_answer_and_the_settings_check_questions()
    {
        var slug = await PageWithQuestionsAsync();
        var problem = await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-17T10:00:00Z", customer = Scenario.Customer() })).ExpectAsync(400);
        problem["errors"]!["answers.company"].ShouldNotBeNull();

        var bad = await (await app.Client().PostJsonAsync("/api/v1/booking-pages", new
        {
            slug = "q-" + Guid.NewGuid().ToString("N")[..8], title = "Questions", durationMinutes = 30, timeZone = "UTC",
            questions = new object[] { new { id = "notes", label = "Notes" }, new { id = "Bad Id", label = "x" }, new { id = "a", label = "" }, new { id = "a", label = "Again" } },
        })).ExpectAsync(400);
        var errors = bad["errors"]!.AsObject().Select(kv => kv.Key).ToList();
        errors.ShouldContain("questions[0].id");
        errors.ShouldContain("questions[1].id");
        errors.ShouldContain("questions[2].label");
        errors.ShouldContain("questions[3].id");

        var pages = (await (await app.Client().GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray();
        var saved = pages.First(p => p!["slug"]!.GetValue<string>() == slug)!;
        saved["questions"]!.AsArray().Select(q => q!["id"]!.GetValue<string>()).ShouldBe(["company", "topic"]);
        saved["questions"]![0]!["required"]!.GetValue<bool>().ShouldBeTrue();
    }

    [DbFact]
    public async Task A_time_taken_while_the_visitor_filled_the_form_sends_them_back_to_pick_another()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var web = new WebSession(app);
        await web.GetAsync($"/acme/{slug}/book?tz=UTC&start=2027-03-18T09:00:00Z");
        var key = KeyPattern().Match(web.LastHtml!).Groups[1].Value;
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-18T09:00:00Z");

        var late = await web.PostAsync($"/acme/{slug}/book",
            [new("Start", "2027-03-18T09:00:00Z"), new("Tz", "UTC"), new("Key", key), new("Name", "Late Lou"), new("Email", "lou@example.com")]);
        late.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var back = late.Headers.Location!.ToString();
        back.ShouldBe($"/acme/{slug}?tz=UTC&date=2027-03-18&taken=1");
        await web.GetAsync(back);
        web.LastHtml.ShouldContain("that time was just taken");
        web.LastHtml.ShouldNotContain("start=2027-03-18T09%3A00%3A00Z");

        // Opening the form for a time that is gone goes straight back too.
        (await web.GetAsync($"/acme/{slug}/book?tz=UTC&start=2027-03-18T09:00:00Z")).Headers.Location!.ToString().ShouldContain("taken=1");
    }

    [DbFact]
    public async Task A_page_whose_host_calendar_is_in_error_says_it_cannot_accept_bookings()
    {
        var admin = app.Client();
        var host = await Scenario.CreateUserAsync(admin, "Broken Calendar Host");
        var slug = await Scenario.CreatePageAsync(admin, p => p["ownerId"] = host);
        var connection = await (await admin.PostJsonAsync("/api/v1/calendar-connections",
            new { userId = host, url = "http://127.0.0.1:9/", username = "u", password = "p", bookingCalendarUrl = "/u/" })).ExpectAsync(201);
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "UPDATE calendar_connections SET health = 'Error', consecutive_failures = 5 WHERE id = {0}", Guid.Parse(connection["id"]!.GetValue<string>())));
        var web = new WebSession(app);
        await web.GetAsync($"/acme/{slug}");
        web.LastHtml.ShouldContain("cannot accept bookings right now");
        web.LastHtml.ShouldNotContain("class=\"slots\"");
    }

    [GeneratedRegex("name=\"Key\" value=\"([0-9a-f]+)\"")]
    private static partial Regex KeyPattern();
}

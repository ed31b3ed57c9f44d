using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Web;
using Shouldly;

namespace Rendezvous.Server.Tests.Languages;

/// <summary>
/// The public pages in the visitor's language: Accept-Language by default, the switcher's cookie over it, English for
/// anything else and on the staff pages; dates written the way each language writes them.
/// </summary>
public sealed partial class PublicPageLanguageTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private async Task<string> PageHtmlAsync(string slug, string? acceptLanguage, string? cookie = null)
    {
        var client = app.Anonymous();
        if (acceptLanguage is not null)
        {
            client.DefaultRequestHeaders.Add("Accept-Language", acceptLanguage);
        }

        if (cookie is not null)
        {
            client.DefaultRequestHeaders.Add("Cookie", cookie);
        }

        var response = await client.GetAsync($"/acme/{slug}?tz=Europe/Berlin&date=2027-03-15");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    [DbFact]
    public async Task Accept_language_picks_german_french_or_spanish_with_dates_in_that_language()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());

        var german = await PageHtmlAsync(slug, "de-DE,de;q=0.9,en;q=0.5");
        german.ShouldContain("<html lang=\"de\">");
        german.ShouldContain("<label for=\"tz\">Zeitzone</label>");
        german.ShouldContain("März 2027");
        german.ShouldContain("Montag, 15. März 2027");
        // 09:00 in London is 10:00 in Berlin.
        german.ShouldContain("Buchen: 10:00 am Montag, 15. März 2027");
        german.ShouldContain("30 Minuten");

        var french = await PageHtmlAsync(slug, "fr-CA,fr;q=0.8");
        french.ShouldContain("<html lang=\"fr\">");
        french.ShouldContain("Lundi 15 mars 2027");
        french.ShouldContain("Fuseau horaire");

        var spanish = await PageHtmlAsync(slug, "es");
        spanish.ShouldContain("<html lang=\"es\">");
        spanish.ShouldContain("Lunes, 15 de marzo de 2027");
        spanish.ShouldContain("Zona horaria");
    }

    [DbFact]
    public async Task English_is_the_default_and_the_answer_to_languages_rendezvous_does_not_speak()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());

        foreach (var header in new string?[] { null, "ja-JP,ja;q=0.9", "en-GB,de;q=0.5", "de;q=0, en" })
        {
            var html = await PageHtmlAsync(slug, header);
            html.ShouldContain("<html lang=\"en\">", customMessage: header);
            html.ShouldContain("Monday 15 March 2027", customMessage: header);
            html.ShouldContain("<label for=\"tz\">Time zone</label>", customMessage: header);
        }

        // A lower-quality language Rendezvous speaks is used when the preferred one is not.
        (await PageHtmlAsync(slug, "ja, fr;q=0.7, de;q=0.3")).ShouldContain("<html lang=\"fr\">");
    }

    [DbFact]
    public async Task The_switcher_sets_a_cookie_that_wins_over_accept_language_and_returns_to_the_page()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var web = new WebSession(app);
        web.Client.DefaultRequestHeaders.Add("Accept-Language", "de");
        await web.GetAsync($"/acme/{slug}");
        web.LastHtml.ShouldContain($"href=\"/language/es?return=%2Facme%2F{slug}\"");
        web.LastHtml.ShouldMatch("hreflang=\"de\"\\s+aria-current=\"true\">Deutsch</a>");
        web.LastHtml.ShouldMatch("hreflang=\"fr\"\\s*>Français</a>");

        var switched = await web.GetAsync($"/language/es?return=%2Facme%2F{slug}%3Fdate%3D2027-03-15");
        switched.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        switched.Headers.Location!.ToString().ShouldBe($"/acme/{slug}?date=2027-03-15");
        var cookie = switched.Headers.GetValues("Set-Cookie").ShouldHaveSingleItem();
        cookie.ShouldStartWith("rdv_lang=");
        cookie.ShouldContain("httponly");

        await web.GetAsync($"/acme/{slug}?tz=Europe/Berlin&date=2027-03-15");
        web.LastHtml.ShouldContain("<html lang=\"es\">");
        web.LastHtml.ShouldContain("Lunes, 15 de marzo de 2027");

        // Only a path on this server is a place to return to; an unknown language is not found.
        (await web.GetAsync("/language/fr?return=//evil.example/x")).Headers.Location!.ToString().ShouldBe("/");
        (await web.GetAsync("/language/fr?return=https://evil.example/")).Headers.Location!.ToString().ShouldBe("/");
        (await web.GetAsync("/language/xx?return=/")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [DbFact]
    public async Task The_staff_pages_and_the_api_stay_english_whatever_the_browser_asks_for()
    {
        var client = app.Anonymous();
        client.DefaultRequestHeaders.Add("Accept-Language", "de");
        client.DefaultRequestHeaders.Add("Cookie", "rdv_lang=c%3D%7Cuic%3Dde");
        var signIn = await (await client.GetAsync("/app/sign-in")).Content.ReadAsStringAsync();
        signIn.ShouldContain("Sign in");
        signIn.ShouldNotContain("Anmelden");

        var problem = await client.PostJsonAsync("/api/v1/booking-pages/nope/bookings", new { start = "2027-03-15T09:00:00Z" });
        (await problem.Content.ReadAsStringAsync()).ShouldNotContain("erforderlich");
    }

    [DbFact]
    public async Task A_booking_made_on_the_german_form_keeps_the_customers_language_and_its_ics_file_speaks_german()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var web = new WebSession(app);
        web.Client.DefaultRequestHeaders.Add("Accept-Language", "de-DE");
        await web.GetAsync($"/acme/{slug}/book?tz=Europe/Berlin&start=2027-03-16T10:00:00Z");
        web.LastHtml.ShouldContain("Dienstag, 16. März 2027, 11:00–11:30");
        web.LastHtml.ShouldContain("Buchung bestätigen");
        var key = KeyPattern().Match(web.LastHtml).Groups[1].Value;

        // A mistake is named in German.
        await web.PostAsync($"/acme/{slug}/book",
            [new("Start", "2027-03-16T10:00:00Z"), new("Tz", "Europe/Berlin"), new("Key", key), new("Name", ""), new("Email", "nobody")]);
        web.LastHtml.ShouldContain("Bitte prüfen Sie das Formular");
        web.LastHtml.ShouldContain("Ihr Name ist erforderlich (1–200 Zeichen).");
        web.LastHtml.ShouldContain("E-Mail muss eine gültige E-Mail-Adresse sein.");

        var email = $"de-{Guid.NewGuid():N}@example.com";
        var booked = await web.PostAsync($"/acme/{slug}/book",
            [new("Start", "2027-03-16T10:00:00Z"), new("Tz", "Europe/Berlin"), new("Key", key), new("Name", "Greta Gast"), new("Email", email)]);
        booked.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var confirmation = booked.Headers.Location!.ToString();
        await web.GetAsync(confirmation);
        web.LastHtml.ShouldContain("Ihr Termin ist gebucht");
        web.LastHtml.ShouldContain("Vielen Dank, Greta Gast.");

        var language = await app.WithDbAsync(db => db.Customers.AcrossTenants().Where(c => c.Email == email).Select(c => c.Language).SingleAsync());
        language.ShouldBe("de");

        var token = confirmation.Split('/')[^1];
        var ics = await web.Client.GetStringAsync($"/manage/{token}/event.ics");
        ics.ShouldContain("SUMMARY:Intro call mit ");
        await web.GetAsync($"/manage/{token}");
        web.LastHtml.ShouldContain("<dt>Wann</dt>");
        web.LastHtml.ShouldContain("Termin absagen");
    }

    [DbFact]
    public async Task The_api_refuses_a_language_rendezvous_does_not_speak_and_stores_one_it_does()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var refused = await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-15T09:00:00Z", customer = new { name = "Kai", email = "kai@example.com", language = "xx" } });
        var problem = await refused.ExpectAsync(400);
        problem["errors"]!["customer.language"].ShouldNotBeNull();

        var email = $"fr-{Guid.NewGuid():N}@example.com";
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T09:00:00Z", new { name = "Fanny", email, language = "fr" });
        // A later booking without a language keeps the one given before.
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T10:00:00Z", new { name = "Fanny", email });
        (await app.WithDbAsync(db => db.Customers.AcrossTenants().Where(c => c.Email == email).Select(c => c.Language).SingleAsync())).ShouldBe("fr");
    }

    [GeneratedRegex("name=\"Key\" value=\"([^\"]+)\"")]
    private static partial Regex KeyPattern();
}

using Microsoft.Playwright;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// The public pages in the browser's language and the visitor's own time zone, and the language switcher
/// (docs/LANGUAGES.md).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class LanguageTests(RendezvousServer server)
{
    [BrowserFact]
    public async Task A_german_browser_gets_the_german_page_in_its_own_zone_and_the_switcher_changes_the_language()
    {
        var bookingPage = await Arrange.PageAsync(server, "Kennenlernen");
        var page = await server.NewPageAsync(timeZone: "Europe/Berlin", locale: "de-DE");
        await page.GotoAsync(Arrange.PathOf(bookingPage));

        // The zone comes from the browser (Intl.DateTimeFormat), the language from its Accept-Language.
        await Expect(page.Locator("#tz")).ToHaveValueAsync("Europe/Berlin");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "de");
        await Expect(page.GetByLabel("Zeitzone")).ToBeVisibleAsync();
        await Expect(page.Locator("#day-title")).ToContainTextAsync(". ");
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Sprache" })).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "booking-page-german");
        await page.Locator(".slots a").First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Buchung bestätigen" })).ToBeVisibleAsync();
        await Screens.SaveAsync(page, "booking-form-german");

        // The switcher: a link per language; the choice stays for the next pages.
        await page.GetByRole(AriaRole.Link, new() { Name = "Français" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Confirmer la réservation" })).ToBeVisibleAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "fr");
        await page.GotoAsync(Arrange.PathOf(bookingPage));
        await Expect(page.GetByLabel("Fuseau horaire")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "English" }).ClickAsync();
        await Expect(page.GetByLabel("Time zone")).ToBeVisibleAsync();
        (await page.Context.CookiesAsync()).ShouldContain(c => c.Name == "rdv_lang");
    }
}

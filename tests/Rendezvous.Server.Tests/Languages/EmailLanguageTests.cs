using Microsoft.EntityFrameworkCore;
using Rendezvous.Data;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Notifications;
using Shouldly;

namespace Rendezvous.Server.Tests.Languages;

/// <summary>
/// Emails in each recipient's language, read back from the real SMTP server: the customer's in the language they booked
/// in, each host's in their own setting (English unless changed), with dates written the way that language writes them
/// and the invitation's summary in the same language.
/// </summary>
public sealed class EmailLanguageTests(EmailApp app) : IClassFixture<EmailApp>
{
    private async Task<(string Slug, string HostId, string HostEmail)> PageAsync()
    {
        var admin = app.Client();
        var hostId = await Scenario.CreateUserAsync(admin, "Ada Lovelace", timeZone: "Europe/London");
        var host = await (await admin.GetAsync($"/api/v1/users/{hostId}")).ExpectAsync(200);
        var slug = await Scenario.CreatePageAsync(app.Client(await Scenario.CreateKeyAsync(admin, hostId)), p => p["location"] = "Room 4");
        return (slug, hostId, host["email"]!.GetValue<string>());
    }

    private async Task<MimePart> ConfirmationAsync(string language)
    {
        var (slug, _, _) = await PageAsync();
        var email = $"lang.{Guid.NewGuid():N}@example.com";
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T14:00:00Z",
            new { name = "Grace", email, timeZone = "America/New_York", language });
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        return SmtpServer.MessagesTo(email).ShouldHaveSingleItem();
    }

    [SmtpFact]
    public async Task A_german_customer_gets_a_german_confirmation_with_a_german_date_and_invitation()
    {
        var message = await ConfirmationAsync("de");

        message.Header("Subject").ShouldBe("Bestätigt: Intro call mit Ada Lovelace, Montag, 15. März 2027, 10:00 (America/New_York)");
        var text = message.Single("text/plain").Text;
        text.ShouldContain("Hallo Grace,");
        text.ShouldContain("Ihr Termin „Intro call“ mit Ada Lovelace ist gebucht.");
        text.ShouldContain("Wann: Montag, 15. März 2027, 10:00 bis 10:30 (America/New_York)");
        text.ShouldContain("Wo: Room 4");
        text.ShouldContain("Die Kalendereinladung ist angehängt.");
        text.ShouldContain("Möchten Sie etwas ändern? Hier können Sie verschieben oder absagen:");
        var html = message.Single("text/html").Text;
        html.ShouldContain(">Verschieben oder absagen</a>");
        html.ShouldContain(">Wann</td>");
        message.Single("text/calendar").Text.ShouldContain("SUMMARY:Intro call mit Ada Lovelace");
    }

    [SmtpFact]
    public async Task A_french_customer_gets_a_french_confirmation_with_a_french_date_and_invitation()
    {
        var message = await ConfirmationAsync("fr");

        message.Header("Subject").ShouldBe("Confirmé : Intro call avec Ada Lovelace, lundi 15 mars 2027, 10:00 (America/New_York)");
        var text = message.Single("text/plain").Text;
        text.ShouldContain("Bonjour Grace,");
        text.ShouldContain("Quand: lundi 15 mars 2027, 10:00 à 10:30 (America/New_York)");
        text.ShouldContain("L’invitation d’agenda est jointe.");
        message.Single("text/html").Text.ShouldContain(">Déplacer ou annuler</a>");
        message.Single("text/calendar").Text.ShouldContain("SUMMARY:Intro call avec Ada Lovelace");
    }

    [SmtpFact]
    public async Task A_spanish_customer_gets_a_spanish_confirmation_with_a_spanish_date_and_invitation()
    {
        var message = await ConfirmationAsync("es");

        message.Header("Subject").ShouldBe("Confirmada: Intro call con Ada Lovelace, lunes, 15 de marzo de 2027, 10:00 (America/New_York)");
        var text = message.Single("text/plain").Text;
        text.ShouldContain("Hola, Grace:");
        text.ShouldContain("Cuándo: lunes, 15 de marzo de 2027, 10:00 a 10:30 (America/New_York)");
        text.ShouldContain("Su cita «Intro call» con Ada Lovelace está reservada.");
        message.Single("text/html").Text.ShouldContain(">Cambiar o cancelar</a>");
        message.Single("text/calendar").Text.ShouldContain("SUMMARY:Intro call con Ada Lovelace");
    }

    [SmtpFact]
    public async Task The_host_gets_their_email_in_their_own_language_and_the_customer_in_theirs()
    {
        var (slug, hostId, hostEmail) = await PageAsync();
        await app.WithDbAsync(async db =>
        {
            var host = await db.Users.AcrossTenants().SingleAsync(u => u.Id == new Domain.UserId(Guid.Parse(hostId)));
            host.SetLanguage("de");
            return await db.SaveChangesAsync();
        });
        var email = $"lang.{Guid.NewGuid():N}@example.com";
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T14:00:00Z", new { name = "Grace", email, timeZone = "America/New_York", language = "es" });
        (await app.DrainOutboxAsync()).ShouldBeEmpty();

        // The host (Europe/London) reads German, with the time in their own zone.
        var toHost = SmtpServer.MessagesTo(hostEmail, "confirmation").ShouldHaveSingleItem();
        toHost.Header("Subject").ShouldBe("Neue Buchung: Intro call mit Grace, Montag, 15. März 2027, 14:00 (Europe/London)");
        toHost.Single("text/plain").Text.ShouldContain("Hallo Ada Lovelace,");
        toHost.Single("text/plain").Text.ShouldContain("Kunde: Grace (" + email + ")");
        SmtpServer.MessagesTo(email).ShouldHaveSingleItem().Header("Subject")!.ShouldStartWith("Confirmada: ");
    }

    [SmtpFact]
    public async Task A_customer_who_gave_no_language_and_a_host_who_chose_none_get_english()
    {
        var (slug, _, hostEmail) = await PageAsync();
        var email = $"lang.{Guid.NewGuid():N}@example.com";
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T14:00:00Z", new { name = "Grace", email, timeZone = "America/New_York" });
        (await app.DrainOutboxAsync()).ShouldBeEmpty();

        SmtpServer.MessagesTo(email).ShouldHaveSingleItem().Header("Subject")
            .ShouldBe("Confirmed: Intro call with Ada Lovelace, Monday, 15 March 2027, 10:00 (America/New_York)");
        SmtpServer.MessagesTo(hostEmail, "confirmation").ShouldHaveSingleItem().Header("Subject")!.ShouldStartWith("New booking: Intro call with Grace");
    }
}

using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Crm.Salesforce;
using Rendezvous.Server.Features.SelfService;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Notifications;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>
/// Seed 003 on the real SMTP server: a reason may go with a reschedule from every place one is made; staff reschedule or
/// cancel from their own confirmation email through signed links; and seed 000's calendar deletion never shows the
/// customer an internal reason.
/// </summary>
public sealed class StaffLinksAndReasonsTests(EmailApp app) : IClassFixture<EmailApp>
{
    private SelfServiceLinks Links => app.Services.GetRequiredService<SelfServiceLinks>();

    private static string NewEmail() => $"cust.{Guid.NewGuid():N}@example.com";

    private async Task DrainAsync() => (await app.DrainOutboxAsync()).ShouldBeEmpty();

    private static MimePart Email(string to, string bookingId, string kind) =>
        SmtpServer.MessagesTo(to).Single(m => m.Header("X-Rendezvous-Booking") == bookingId && m.Header("X-Rendezvous-Kind") == kind);

    /// <summary>The signed /manage token in an email's text part.</summary>
    private static string TokenIn(MimePart message) =>
        Regex.Match(message.Single("text/plain").Text, Regex.Escape(EmailApp.PublicBaseUrl) + "/manage/([A-Za-z0-9_-]+)").Groups[1].Value;

    private async Task<(HttpClient Client, string Id, string Email, string Slug)> HostAsync(Action<JsonObject>? page = null)
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, "Hedy Lamarr", timeZone: "UTC");
        var email = (await (await admin.GetAsync($"/api/v1/users/{id}")).ExpectAsync(200))["email"]!.GetValue<string>();
        var client = app.Client(await Scenario.CreateKeyAsync(admin, id));
        return (client, id, email, await Scenario.CreatePageAsync(client, page));
    }

    [SmtpFact]
    public async Task A_customer_reason_for_rescheduling_reaches_the_emails_the_webhook_event_the_crm_field_and_the_history()
    {
        var host = await HostAsync();
        var email = NewEmail();
        var id = (await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-10T10:00:00Z", new { name = "Ada", email, timeZone = "UTC" }))["id"]!.GetValue<string>();
        await DrainAsync();
        var bookingId = new BookingId(Guid.Parse(id));

        // From the emailed link's API.
        var token = Links.CreateToken(bookingId, LinkPurpose.Reschedule);
        await (await app.Anonymous().PostJsonAsync($"/api/v1/self-service/{token}/reschedule", new { start = "2027-03-10T14:00:00Z", reason = "Train strike" }))
            .ExpectAsync(200);
        var booking = await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        booking["reason"]!.GetValue<string>().ShouldBe("Train strike");
        booking["history"]!.AsArray().Last()!["reason"]!.GetValue<string>().ShouldBe("Train strike");
        await DrainAsync();
        Email(email, id, "rescheduled").Single("text/plain").Text.ShouldContain("Reason: Train strike");
        Email(host.Email, id, "rescheduled").Single("text/plain").Text.ShouldContain("Reason: Train strike");
        // Webhooks are built from the event the outbox carries; Salesforce's Cancel/reschedule reason from the history.
        var events = await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type == "booking.rescheduled").Select(m => m.Payload).ToListAsync());
        JsonNode.Parse(events.Single(p => p.Contains(id, StringComparison.Ordinal)))!["reason"]!.GetValue<string>().ShouldBe("Train strike");
        var entity = await app.WithDbAsync(db => db.Bookings.SingleAsync(b => b.Id == bookingId));
        SalesforceOutboxHandler.ReasonOf(entity).ShouldBe("Train strike");

        // From the pages behind the link (the portal opens the same pages): the confirmation step asks for a reason.
        var visitor = app.Anonymous();
        var confirm = await (await visitor.GetAsync($"/manage/{token}/reschedule?tz=UTC&start=2027-03-10T15:00:00Z")).Content.ReadAsStringAsync();
        confirm.ShouldContain("name=\"reason\"");
        var posted = await visitor.PostAsync($"/manage/{token}/reschedule", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["start"] = "2027-03-10T15:00:00Z",
            ["tz"] = "UTC",
            ["reason"] = "  A clash at work  ",
        }));
        ((int)posted.StatusCode).ShouldBe(200);
        (await posted.Content.ReadAsStringAsync()).ShouldContain("Your appointment is moved");
        (await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["reason"]!.GetValue<string>().ShouldBe("A clash at work");

        // Without a reason, nothing is made up.
        await (await app.Anonymous().PostJsonAsync($"/api/v1/self-service/{token}/reschedule", new { start = "2027-03-10T16:00:00Z" })).ExpectAsync(200);
        var last = (await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["history"]!.AsArray().Last()!;
        last["reason"].ShouldBeNull();
        (await (await app.Anonymous().PostJsonAsync($"/api/v1/self-service/{token}/reschedule", new { start = "2027-03-10T13:00:00Z", reason = new string('x', 2001) }))
            .ExpectAsync(400))["field"]!.GetValue<string>().ShouldBe("reason");
    }

    [SmtpFact]
    public async Task The_hosts_confirmation_email_links_to_rescheduling_and_canceling_as_that_host_without_signing_in()
    {
        // The customer's policies (24 hours) do not bind the host: the meeting is tomorrow morning.
        var host = await HostAsync(p =>
        {
            p["cancellationPolicy"] = new JsonObject { ["kind"] = "upTo", ["minutesBefore"] = 1440 };
            p["reschedulePolicy"] = new JsonObject { ["kind"] = "upTo", ["minutesBefore"] = 1440 };
        });
        var email = NewEmail();
        var id = (await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-02T10:00:00Z", new { name = "Grace", email, timeZone = "UTC" }))["id"]!.GetValue<string>();
        await DrainAsync();

        var hostToken = TokenIn(Email(host.Email, id, "confirmation"));
        Links.ReadStaff(hostToken).ShouldBe((new BookingId(Guid.Parse(id)), LinkPurpose.View, new UserId(Guid.Parse(host.Id))));
        // The customer's link is the customer's: it cannot be read as a host's.
        Links.ReadStaff(TokenIn(Email(email, id, "confirmation"))).ShouldBeNull();
        Links.Read(hostToken).ShouldBeNull();

        var visitor = app.Anonymous();
        var page = await (await visitor.GetAsync($"/manage/{hostToken}")).Content.ReadAsStringAsync();
        page.ShouldContain("Intro call with Grace");
        page.ShouldContain(email);
        var view = await (await visitor.GetAsync($"/api/v1/self-service/{hostToken}")).ExpectAsync(200);
        view["staff"]!.GetValue<bool>().ShouldBeTrue();
        view["canReschedule"]!.GetValue<bool>().ShouldBeTrue();
        view["canCancel"]!.GetValue<bool>().ShouldBeTrue();

        var moved = await (await visitor.PostJsonAsync($"/api/v1/self-service/{view["rescheduleToken"]!.GetValue<string>()}/reschedule",
            new { start = "2027-03-02T11:00:00Z", reason = "I am delayed" })).ExpectAsync(200);
        moved["booking"]!["status"]!.GetValue<string>().ShouldBe("rescheduled");
        var booking = await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Rescheduled by User");
        booking["history"]!.AsArray().Last()!["actorId"]!.GetValue<string>().ShouldBe(host.Id);

        // Canceling asks first, with a warning, then cancels as the host.
        var cancelToken = view["cancelToken"]!.GetValue<string>();
        var ask = await (await visitor.GetAsync($"/manage/{cancelToken}/cancel")).Content.ReadAsStringAsync();
        ask.ShouldContain("data-cancel-warning");
        ask.ShouldContain("It cannot be undone.");
        (await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("rescheduled");
        var done = await visitor.PostAsync($"/manage/{cancelToken}/cancel",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["reason"] = "The host is ill" }));
        ((int)done.StatusCode).ShouldBe(200);
        (await done.Content.ReadAsStringAsync()).ShouldContain("the customer is told by email");
        booking = await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        booking["detailedStatus"]!.GetValue<string>().ShouldBe("Canceled by User");

        await DrainAsync();
        var rescheduled = Email(email, id, "rescheduled").Single("text/plain").Text;
        rescheduled.ShouldContain("Reason: I am delayed");
        var canceled = Email(email, id, "canceled").Single("text/plain").Text;
        canceled.ShouldContain("Reason: The host is ill");
        // The host who canceled is not told about their own cancellation.
        SmtpServer.MessagesTo(host.Email).ShouldNotContain(m => m.Header("X-Rendezvous-Booking") == id && m.Header("X-Rendezvous-Kind") == "canceled");
        // Every link to the booking is dead now.
        await (await visitor.GetAsync($"/api/v1/self-service/{hostToken}")).ExpectAsync(404);
    }

    [SmtpFact]
    public async Task A_hosts_link_is_refused_when_tampered_with_when_the_meeting_is_over_and_for_someone_not_on_the_booking()
    {
        var host = await HostAsync();
        var id = (await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-03T10:00:00Z"))["id"]!.GetValue<string>();
        var bookingId = new BookingId(Guid.Parse(id));
        var token = Links.CreateStaffToken(bookingId, new UserId(Guid.Parse(host.Id)), LinkPurpose.Cancel);
        var visitor = app.Anonymous();

        var tampered = token[..^4] + (token[^4] == 'A' ? "BBBB" : "AAAA");
        (await (await visitor.PostJsonAsync($"/api/v1/self-service/{tampered}/cancel", new { })).ExpectAsync(404))["code"]!.GetValue<string>().ShouldBe("link_invalid");
        var tamperedPage = await visitor.GetAsync($"/manage/{tampered}/cancel");
        ((int)tamperedPage.StatusCode).ShouldBe(404);

        // A cancel link cannot reschedule: one purpose per link, as for customers.
        await (await visitor.PostJsonAsync($"/api/v1/self-service/{token}/reschedule", new { start = "2027-03-03T11:00:00Z" })).ExpectAsync(404);

        // A member who is not a host of the booking holds a dead link, even one signed by the server.
        var other = await Scenario.CreateUserAsync(app.Client(), "Not The Host");
        var stranger = Links.CreateStaffToken(bookingId, new UserId(Guid.Parse(other)), LinkPurpose.Cancel);
        await (await visitor.PostJsonAsync($"/api/v1/self-service/{stranger}/cancel", new { })).ExpectAsync(404);

        // Once the meeting is over, the host's link is dead like the customer's.
        app.Clock.Reset(Instant.FromUtc(2027, 3, 3, 11, 0));
        try
        {
            await (await visitor.PostJsonAsync($"/api/v1/self-service/{token}/cancel", new { })).ExpectAsync(404);
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        (await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["status"]!.GetValue<string>().ShouldBe("scheduled");
        await (await visitor.PostJsonAsync($"/api/v1/self-service/{token}/cancel", new { reason = "Still mine" })).ExpectAsync(200);
    }

    [SmtpFact]
    public async Task A_cancellation_from_deleting_the_event_in_the_hosts_calendar_shows_the_customer_no_internal_reason()
    {
        var host = await HostAsync();
        var email = NewEmail();
        var id = (await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-04T10:00:00Z", new { name = "Kay", email, timeZone = "UTC" }))["id"]!.GetValue<string>();
        await DrainAsync();

        // What the calendar sync engine does when the host deletes the event with "deleting cancels" on.
        var bookingId = new BookingId(Guid.Parse(id));
        await app.WithDbAsync(async db =>
        {
            var booking = await db.Bookings.SingleAsync(b => b.Id == bookingId);
            booking.Cancel(Actor.FromCalendar(new UserId(Guid.Parse(host.Id))), "Deleted in the host's calendar", app.Clock.GetCurrentInstant()).IsSuccess.ShouldBeTrue();
            return await db.SaveChangesAsync();
        });
        await DrainAsync();

        var canceled = Email(email, id, "canceled");
        foreach (var part in new[] { canceled.Single("text/plain").Text, canceled.Single("text/html").Text })
        {
            part.ShouldNotContain("Deleted in the host");
            part.ShouldNotContain("Reason");
        }

        // Staff still see why, in the booking's history.
        (await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200))["reason"]!.GetValue<string>().ShouldBe("Deleted in the host's calendar");
        Actor.ReasonForCustomer(ActorKind.CalendarSync, "Deleted in the host's calendar").ShouldBeNull();
        Actor.ReasonForCustomer(ActorKind.System, "payment not received").ShouldBeNull();
        Actor.ReasonForCustomer(ActorKind.User, "The host is ill").ShouldBe("The host is ill");
        Actor.ReasonForCustomer(ActorKind.Customer, "Train strike").ShouldBe("Train strike");
    }
}

using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;
using Rendezvous.Calendars.Sync;
using Rendezvous.Data.Outbox;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Notifications;

/// <summary>The application sending through the real SMTP server (aiosmtpd) into the shared Maildir.</summary>
public class EmailApp : RendezvousApp
{
    public const string PublicBaseUrl = "https://book.example.com";

    protected virtual int SmtpPort => SmtpServer.Port;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rendezvous:Smtp:Host", SmtpServer.Host ?? "127.0.0.1");
        builder.UseSetting("Rendezvous:Smtp:Port", SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Rendezvous:Smtp:From", "no-reply@rendezvous.test");
        builder.UseSetting("Rendezvous:Smtp:CommandTimeout", "00:00:05");
        // The tests move a fake clock, not real time: retry the server at once after a failure.
        builder.UseSetting("Rendezvous:Smtp:ReconnectDelay", "00:00:00");
        builder.UseSetting("Rendezvous:PublicBaseUrl", PublicBaseUrl + "/");
    }

    /// <summary>Runs the outbox until nothing is due; returns the errors of messages left pending.</summary>
    public async Task<IReadOnlyList<string>> DrainOutboxAsync()
    {
        await WithScopeAsync(async sp =>
        {
            var processor = sp.GetRequiredService<OutboxProcessor>();
            while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
            {
            }

            return 0;
        });
        return await WithDbAsync(db => db.OutboxMessages.Where(m => m.ProcessedAt == null && m.LastError != null).Select(m => m.LastError!).ToListAsync());
    }
}

/// <summary>Emails for every booking change, read back from the Maildir the real SMTP server wrote.</summary>
public sealed class EmailNotificationTests(EmailApp app) : IClassFixture<EmailApp>
{
    private sealed record Setup(HttpClient Admin, HttpClient HostClient, string HostId, string HostEmail, string Slug);

    /// <summary>The booking id behind the signed manage link in an email body (null when there is none or it does not verify).</summary>
    private string? ManageLinkIn(string body, bool inHref = false)
    {
        var match = System.Text.RegularExpressions.Regex.Match(body,
            (inHref ? "href=\"" : "") + System.Text.RegularExpressions.Regex.Escape(EmailApp.PublicBaseUrl) + "/manage/([A-Za-z0-9_-]+)");
        if (!match.Success)
        {
            return null;
        }

        var read = app.Services.GetRequiredService<Features.SelfService.SelfServiceLinks>().Read(match.Groups[1].Value);
        return read is { Purpose: Features.SelfService.LinkPurpose.View } ? read.Value.Booking.ToString() : null;
    }

    private async Task<Setup> HostWithPageAsync(Action<JsonObject>? page = null, HttpClient? admin = null)
    {
        admin ??= app.Client();
        var hostId = await Scenario.CreateUserAsync(admin, "Ada Lovelace", timeZone: "Europe/London");
        var host = await (await admin.GetAsync($"/api/v1/users/{hostId}")).ExpectAsync(200);
        var client = app.Client(await Scenario.CreateKeyAsync(admin, hostId));
        var slug = await Scenario.CreatePageAsync(client, p =>
        {
            p["location"] = "Room 4 & the café";
            page?.Invoke(p);
        });
        return new Setup(admin, client, hostId, host["email"]!.GetValue<string>(), slug);
    }

    private static string NewCustomerEmail() => $"cust.{Guid.NewGuid():N}@example.com";

    private async Task<(string Id, string Email)> BookAsync(Setup s, string start = "2027-03-15T14:00:00Z", string name = "Grace & <Hopper>")
    {
        var email = NewCustomerEmail();
        var booking = await Scenario.BookAsync(app.Anonymous(), s.Slug, start, new { name, email, timeZone = "America/New_York" });
        return (booking["id"]!.GetValue<string>(), email);
    }

    private async Task DrainAsync() => (await app.DrainOutboxAsync()).ShouldBeEmpty();

    private static string Calendar(MimePart message) => message.Single("text/calendar").Text;

    [SmtpFact]
    public async Task A_booking_confirms_to_the_customer_and_tells_the_host_with_both_parts_and_the_invitation()
    {
        var s = await HostWithPageAsync();
        var (id, email) = await BookAsync(s);
        await DrainAsync();

        var message = SmtpServer.MessagesTo(email).ShouldHaveSingleItem();
        message.Header("X-Rendezvous-Kind").ShouldBe("confirmation");
        message.Header("From").ShouldBe("Acme <no-reply@rendezvous.test>");
        message.Header("To").ShouldBe($"\"Grace & <Hopper>\" <{email}>");
        message.Header("Reply-To")!.ShouldContain(s.HostEmail);
        message.Header("Subject").ShouldBe("Confirmed: Intro call with Ada Lovelace, Monday, 15 March 2027, 10:00 (America/New_York)");
        message.Header("Message-ID")!.ShouldMatch("^<[0-9a-f]{32}@rendezvous.test>$");
        message.Header("Date").ShouldBe("Mon, 01 Mar 2027 08:00:00 +0000");
        message.MediaType.ShouldBe("multipart/mixed");

        var text = message.Single("text/plain").Text;
        text.ShouldContain("Hello Grace & <Hopper>,");
        text.ShouldContain("When: Monday, 15 March 2027, 10:00 to 10:30 (America/New_York)");
        text.ShouldContain("Where: Room 4 & the café");
        ManageLinkIn(text).ShouldBe(id);

        var html = message.Single("text/html").Text;
        html.ShouldContain("Hello Grace &amp; &lt;Hopper&gt;,");
        html.ShouldContain("Room 4 &amp; the café");
        ManageLinkIn(html, inHref: true).ShouldBe(id);
        html.ShouldNotContain("<Hopper>");

        var calendar = Calendar(message);
        message.Single("text/calendar").ContentTypeParameters["method"].ShouldBe("REQUEST");
        calendar.ShouldContain("METHOD:REQUEST");
        calendar.ShouldContain("UID:" + BookingCalendarEvent.UidOf(new BookingId(Guid.Parse(id))));
        calendar.ShouldContain("SEQUENCE:0");
        calendar.ShouldContain("DTSTART:20270315T140000Z");
        message.Single("application/ics").Text.ShouldBe(calendar);

        // The host hears in their own zone, with their own staff link rather than the customer's manage link (seed 003).
        var note = SmtpServer.MessagesTo(s.HostEmail).ShouldHaveSingleItem();
        note.Header("Subject").ShouldBe("New booking: Intro call with Grace & <Hopper>, Monday, 15 March 2027, 14:00 (Europe/London)");
        note.Single("text/plain").Text.ShouldContain($"Customer: Grace & <Hopper> ({email})");
        ManageLinkIn(note.Single("text/plain").Text).ShouldBeNull();
        var hostToken = System.Text.RegularExpressions.Regex.Match(note.Single("text/plain").Text, "/manage/([A-Za-z0-9_-]+)").Groups[1].Value;
        app.Services.GetRequiredService<Features.SelfService.SelfServiceLinks>().ReadStaff(hostToken)!.Value.User.ToString().ShouldBe(s.HostId);
        note.Header("Reply-To")!.ShouldContain(email);
    }

    [SmtpFact]
    public async Task Create_reschedule_and_cancel_send_one_UID_with_a_rising_SEQUENCE()
    {
        var s = await HostWithPageAsync();
        var (id, email) = await BookAsync(s);
        await DrainAsync();
        await (await s.Admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-16T15:00:00Z", reason = "Clash with a board meeting" })).ExpectAsync(200);
        await DrainAsync();
        await (await s.Admin.PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "Project stopped" })).ExpectAsync(200);
        await DrainAsync();

        var messages = SmtpServer.MessagesTo(email);
        messages.Select(m => m.Header("X-Rendezvous-Kind")).ShouldBe(["confirmation", "rescheduled", "canceled"]);
        var uid = "UID:" + BookingCalendarEvent.UidOf(new BookingId(Guid.Parse(id)));
        messages.ShouldAllBe(m => Calendar(m).Contains(uid));
        Calendar(messages[0]).ShouldContain("SEQUENCE:0");
        Calendar(messages[1]).ShouldContain("SEQUENCE:1");
        Calendar(messages[1]).ShouldContain("METHOD:REQUEST");
        Calendar(messages[1]).ShouldContain("DTSTART:20270316T150000Z");
        Calendar(messages[2]).ShouldContain("SEQUENCE:2");
        Calendar(messages[2]).ShouldContain("METHOD:CANCEL");
        Calendar(messages[2]).ShouldContain("STATUS:CANCELLED");
        messages[2].Single("text/calendar").ContentTypeParameters["method"].ShouldBe("CANCEL");

        var moved = messages[1].Single("text/plain").Text;
        moved.ShouldContain("When: Tuesday, 16 March 2027, 11:00 to 11:30 (America/New_York)");
        moved.ShouldContain("Previously: Monday, 15 March 2027, 10:00 (America/New_York)");
        moved.ShouldContain("Reason: Clash with a board meeting");
        messages[2].Single("text/plain").Text.ShouldContain("Reason: Project stopped");
        messages[2].Header("Subject")!.ShouldStartWith("Canceled: Intro call with Ada Lovelace");

        // The administrator is not a host, so the host hears of both changes.
        SmtpServer.MessagesTo(s.HostEmail).Select(m => m.Header("X-Rendezvous-Kind")).ShouldBe(["confirmation", "rescheduled", "canceled"]);
    }

    [SmtpFact]
    public async Task A_host_who_cancels_is_not_told_but_the_customer_is()
    {
        var s = await HostWithPageAsync();
        var (id, email) = await BookAsync(s);
        await (await s.HostClient.PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "I am ill" })).ExpectAsync(200);
        await DrainAsync();

        SmtpServer.MessagesTo(email, "canceled").ShouldHaveSingleItem().Single("text/plain").Text.ShouldContain("Reason: I am ill");
        SmtpServer.MessagesTo(s.HostEmail, "canceled").ShouldBeEmpty();
    }

    [SmtpFact]
    public async Task A_customer_who_cancels_gets_a_confirmation_and_the_host_is_told()
    {
        var s = await HostWithPageAsync();
        var (id, email) = await BookAsync(s);
        var bookingId = new BookingId(Guid.Parse(id));
        await app.WithDbAsync(async db =>
        {
            var b = await db.Bookings.FirstAsync(x => x.Id == bookingId);
            b.Cancel(Actor.ForCustomer(b.CustomerId), "Changed my plans", app.Clock.GetCurrentInstant()).IsSuccess.ShouldBeTrue();
            return await db.SaveChangesAsync();
        });
        await DrainAsync();
        SmtpServer.MessagesTo(email, "canceled").ShouldHaveSingleItem();
        SmtpServer.MessagesTo(s.HostEmail, "canceled").ShouldHaveSingleItem().Single("text/plain").Text.ShouldContain("Reason: Changed my plans");
    }

    [SmtpFact]
    public async Task A_move_in_the_hosts_calendar_sends_nothing_and_a_delete_there_cancels_as_if_the_user_did()
    {
        var s = await HostWithPageAsync();
        var (id, email) = await BookAsync(s);
        await DrainAsync();
        var bookingId = new BookingId(Guid.Parse(id));
        var host = new UserId(Guid.Parse(s.HostId));

        // What the calendar sync does when the host moves the event (toggle on): a reschedule by CalendarSync.
        await app.WithDbAsync(async db =>
        {
            var b = await db.Bookings.FirstAsync(x => x.Id == bookingId);
            b.Reschedule(Instant.FromUtc(2027, 3, 17, 10, 0), Actor.FromCalendar(host), null, app.Clock.GetCurrentInstant()).IsSuccess.ShouldBeTrue();
            return await db.SaveChangesAsync();
        });
        await DrainAsync();
        SmtpServer.MessagesTo(email).Select(m => m.Header("X-Rendezvous-Kind")).ShouldBe(["confirmation"]);
        SmtpServer.MessagesTo(s.HostEmail).Select(m => m.Header("X-Rendezvous-Kind")).ShouldBe(["confirmation"]);

        // And when the host deletes it: canceled "as if the user canceled", so the customer hears (the host does not).
        await app.WithDbAsync(async db =>
        {
            var b = await db.Bookings.FirstAsync(x => x.Id == bookingId);
            b.Cancel(Actor.FromCalendar(host), null, app.Clock.GetCurrentInstant()).IsSuccess.ShouldBeTrue();
            return await db.SaveChangesAsync();
        });
        await DrainAsync();
        var canceled = SmtpServer.MessagesTo(email, "canceled").ShouldHaveSingleItem();
        // The cancellation names the time the booking had after the move, and outranks every earlier invitation.
        canceled.Single("text/plain").Text.ShouldContain("Wednesday, 17 March 2027, 06:00 to 06:30 (America/New_York)");
        Calendar(canceled).ShouldContain("SEQUENCE:2");
        SmtpServer.MessagesTo(s.HostEmail, "canceled").ShouldBeEmpty();
    }

    [SmtpFact]
    public async Task Requests_tell_customer_and_host_then_approval_and_decline_tell_the_customer()
    {
        var s = await HostWithPageAsync(p => p["requiresApproval"] = true);
        var (approvedId, approvedEmail) = await BookAsync(s, "2027-03-15T10:00:00Z", "Alan Turing");
        var (declinedId, declinedEmail) = await BookAsync(s, "2027-03-15T11:00:00Z", "Katherine Johnson");
        await DrainAsync();

        var request = SmtpServer.MessagesTo(approvedEmail).ShouldHaveSingleItem();
        request.Header("X-Rendezvous-Kind").ShouldBe("requestReceived");
        Calendar(request).ShouldContain("STATUS:TENTATIVE");
        // One email per request; the outbox sends them side by side, so they may arrive in either order.
        var hostRequests = SmtpServer.MessagesTo(s.HostEmail, "requestReceived").Select(m => m.Header("Subject")!).Order().ToList();
        hostRequests.Count.ShouldBe(2);
        hostRequests[0].ShouldStartWith("Approval needed: Intro call with Alan Turing");
        hostRequests[1].ShouldStartWith("Approval needed: Intro call with Katherine Johnson");

        await (await s.HostClient.PostJsonAsync($"/api/v1/bookings/{approvedId}/approve", new { })).ExpectAsync(200);
        await (await s.HostClient.PostJsonAsync($"/api/v1/bookings/{declinedId}/decline", new { reason = "Fully booked that day" })).ExpectAsync(200);
        await DrainAsync();

        var approved = SmtpServer.MessagesTo(approvedEmail, "requestApproved").ShouldHaveSingleItem();
        Calendar(approved).ShouldContain("METHOD:REQUEST");
        Calendar(approved).ShouldContain("STATUS:CONFIRMED");
        Calendar(approved).ShouldContain("SEQUENCE:1");
        var declined = SmtpServer.MessagesTo(declinedEmail, "requestDeclined").ShouldHaveSingleItem();
        Calendar(declined).ShouldContain("METHOD:CANCEL");
        declined.Single("text/plain").Text.ShouldContain("Reason: Fully booked that day");
        SmtpServer.MessagesTo(s.HostEmail).ShouldNotContain(m => m.Header("X-Rendezvous-Kind") == "requestApproved" || m.Header("X-Rendezvous-Kind") == "requestDeclined");
    }

    [SmtpFact]
    public async Task Staff_can_add_public_notes_and_word_the_customers_reschedule_email()
    {
        var s = await HostWithPageAsync();
        var (id, email) = await BookAsync(s, name: "Grace Hopper");
        var response = await (await s.HostClient.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new
        {
            start = "2027-03-18T09:30:00Z",
            reason = "Host travelling",
            publicNotes = "Please bring your laptop.",
            email = new { subject = "New time for you, {{customer.name}}", message = "Dear {{customer.name}},\n\nI have to move our call; sorry for the trouble." },
        })).ExpectAsync(200);
        response["publicNotes"]!.GetValue<string>().ShouldBe("Please bring your laptop.");
        await DrainAsync();

        var moved = SmtpServer.MessagesTo(email, "rescheduled").ShouldHaveSingleItem();
        moved.Header("Subject").ShouldBe("New time for you, Grace Hopper");
        var text = moved.Single("text/plain").Text;
        text.ShouldStartWith("Dear Grace Hopper,\r\n\r\nI have to move our call; sorry for the trouble.");
        text.ShouldContain("When: Thursday, 18 March 2027, 05:30 to 06:00 (America/New_York)");
        text.ShouldContain("Notes: Please bring your laptop.");
        ManageLinkIn(text).ShouldBe(id);
        moved.Single("text/html").Text.ShouldContain("I have to move our call; sorry for the trouble.");
        Calendar(moved).ShouldContain("SEQUENCE:1");

        // The wording was for that one email: the host's uses the template, and the next change the default again.
        SmtpServer.MessagesTo(s.HostEmail, "rescheduled").ShouldHaveSingleItem().Header("Subject")!.ShouldStartWith("Rescheduled: Intro call with Grace Hopper");
        await (await s.HostClient.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-18T10:30:00Z" })).ExpectAsync(200);
        await DrainAsync();
        var again = SmtpServer.MessagesTo(email, "rescheduled");
        again.Count.ShouldBe(2);
        again[1].Header("Subject")!.ShouldStartWith("Rescheduled: Intro call with Ada Lovelace, now Thursday, 18 March 2027, 06:30");
        // Public notes stay on the booking and appear in later emails.
        again[1].Single("text/plain").Text.ShouldContain("Notes: Please bring your laptop.");
    }

    [SmtpFact]
    public async Task Staff_can_hold_back_the_customers_reschedule_email()
    {
        var s = await HostWithPageAsync();
        var (id, email) = await BookAsync(s);
        await (await s.HostClient.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-18T09:30:00Z", email = new { send = false } }))
            .ExpectAsync(200);
        await DrainAsync();
        SmtpServer.MessagesTo(email, "rescheduled").ShouldBeEmpty();
        SmtpServer.MessagesTo(s.HostEmail, "rescheduled").ShouldHaveSingleItem();
    }

    [SmtpFact]
    public async Task An_unknown_placeholder_in_the_reschedule_email_is_refused_and_nothing_changes()
    {
        var s = await HostWithPageAsync();
        var (id, _) = await BookAsync(s);
        var problem = await (await s.HostClient.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new
        {
            start = "2027-03-18T09:30:00Z",
            email = new { message = "Hi {{customer.firstName}}" },
        })).ExpectAsync(400);
        problem["errors"]!["email.message"]![0]!.GetValue<string>().ShouldContain("{{customer.firstName}}");
        var booking = await (await s.HostClient.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-15T14:00:00Z");
    }

    [SmtpFact]
    public async Task Templates_are_customised_per_organization_and_reset_to_the_default()
    {
        var keyA = await app.CreateOrganizationAsync("tpl-a-" + Guid.NewGuid().ToString("N")[..8]);
        var keyB = await app.CreateOrganizationAsync("tpl-b-" + Guid.NewGuid().ToString("N")[..8]);
        var adminA = app.Client(keyA);
        var adminB = app.Client(keyB);

        var bad = await (await adminA.PutJsonAsync("/api/v1/email-templates/confirmation", new
        {
            subject = "Hi {{customer.nickname}}",
            text = "{{booking.title}} {{nope}}",
        })).ExpectAsync(400);
        bad["detail"]!.GetValue<string>().ShouldContain("{{customer.nickname}}");
        bad["errors"]!["text"]![0]!.GetValue<string>().ShouldBe("unknown placeholders: {{nope}}");
        await (await adminA.PutJsonAsync("/api/v1/email-templates/noSuchKind", new { subject = "x", text = "y" })).ExpectAsync(404);
        await (await adminA.PutJsonAsync("/api/v1/email-templates/confirmation?audience=robot", new { subject = "x", text = "y" })).ExpectAsync(400);

        var saved = await (await adminA.PutJsonAsync("/api/v1/email-templates/confirmation", new
        {
            subject = "See you {{booking.start}}, {{customer.name}}!",
            text = "{{organization.name}} looks forward to it.\n\n{{manageUrl}}\n",
        })).ExpectAsync(200);
        saved["customised"]!.GetValue<bool>().ShouldBeTrue();
        saved["htmlFromText"]!.GetValue<bool>().ShouldBeTrue();

        var listA = await (await adminA.GetAsync("/api/v1/email-templates")).ExpectAsync(200);
        var templatesA = listA["templates"]!.AsArray();
        templatesA.Count.ShouldBe(Enum.GetValues<NotificationKind>().Length * 2);
        templatesA.Single(t => t!["kind"]!.GetValue<string>() == "confirmation" && t["audience"]!.GetValue<string>() == "customer")!["customised"]!.GetValue<bool>().ShouldBeTrue();
        templatesA.Count(t => t!["customised"]!.GetValue<bool>()).ShouldBe(1);
        listA["placeholders"]!["booking.start"].ShouldNotBeNull();
        var listB = await (await adminB.GetAsync("/api/v1/email-templates")).ExpectAsync(200);
        listB["templates"]!.AsArray().ShouldAllBe(t => !t!["customised"]!.GetValue<bool>());

        var a = await HostWithPageAsync(admin: adminA);
        var b = await HostWithPageAsync(admin: adminB);
        var (idA, emailA) = await BookAsync(a, name: "Grace Hopper");
        var (_, emailB) = await BookAsync(b, name: "Grace Hopper");
        await DrainAsync();

        var custom = SmtpServer.MessagesTo(emailA).ShouldHaveSingleItem();
        custom.Header("Subject").ShouldBe("See you Monday, 15 March 2027, 10:00 (America/New_York), Grace Hopper!");
        custom.Single("text/plain").Text.ShouldContain("looks forward to it.");
        ManageLinkIn(custom.Single("text/html").Text, inHref: true).ShouldBe(idA);
        SmtpServer.MessagesTo(emailB).ShouldHaveSingleItem().Header("Subject")!.ShouldStartWith("Confirmed: Intro call");

        var reset = await (await adminA.DeleteAsync("/api/v1/email-templates/confirmation")).ExpectAsync(200);
        reset["customised"]!.GetValue<bool>().ShouldBeFalse();
        var after = await (await adminA.GetAsync("/api/v1/email-templates/confirmation")).ExpectAsync(200);
        after["subject"]!.GetValue<string>().ShouldBe("Confirmed: {{booking.title}} with {{host.name}}, {{booking.start}}");

        // Members may not edit templates.
        var member = app.Client(await Scenario.CreateKeyAsync(adminA, await Scenario.CreateUserAsync(adminA, "Mia Member")));
        await (await member.GetAsync("/api/v1/email-templates")).ExpectAsync(403);
    }

    [SmtpFact]
    public async Task An_invalid_customer_email_is_refused_at_booking_and_never_reaches_SMTP()
    {
        var s = await HostWithPageAsync();
        var before = await app.WithDbAsync(db => db.OutboxMessages.CountAsync());
        var problem = await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{s.Slug}/bookings", new
        {
            start = "2027-03-15T14:00:00Z",
            customer = new { name = "Eve", email = "eve@@example.com\r\nBcc: victim@example.com" },
        })).ExpectAsync(400);
        problem["field"]!.GetValue<string>().ShouldBe("customer.email");
        (await app.WithDbAsync(db => db.OutboxMessages.CountAsync())).ShouldBe(before);

        // An address that became invalid later (imported, edited in the database) is recorded as failed, not sent.
        var (id, email) = await BookAsync(s);
        var broken = "broken" + email.Replace("@", "@@", StringComparison.Ordinal);
        await using (var conn = new NpgsqlConnection(app.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("UPDATE customers SET email = @broken WHERE email = @email", conn);
            cmd.Parameters.AddWithValue("broken", broken);
            cmd.Parameters.AddWithValue("email", email);
            (await cmd.ExecuteNonQueryAsync()).ShouldBe(1);
        }

        await DrainAsync();
        SmtpServer.MessagesTo(email).ShouldBeEmpty();
        var (status, error) = await EmailLogOfAsync(id, "customer");
        status.ShouldBe("failed");
        error.ShouldContain("not a valid email address");
        SmtpServer.MessagesTo(s.HostEmail).ShouldHaveSingleItem();
    }

    [SmtpFact]
    public async Task The_same_deduplication_key_never_sends_twice()
    {
        var s = await HostWithPageAsync();
        var (id, email) = await BookAsync(s);
        await DrainAsync();
        var notifier = app.Services.GetRequiredService<IBookingNotifier>();
        var bookingId = new BookingId(Guid.Parse(id));
        await notifier.SendAsync(bookingId, NotificationKind.Reminder, NotificationRecipients.Both, "reminder:test:" + id, CancellationToken.None);
        await notifier.SendAsync(bookingId, NotificationKind.Reminder, NotificationRecipients.Both, "reminder:test:" + id, CancellationToken.None);

        var reminder = SmtpServer.MessagesTo(email, "reminder").ShouldHaveSingleItem();
        reminder.Header("Subject").ShouldBe("Reminder: Intro call with Ada Lovelace, Monday, 15 March 2027, 10:00 (America/New_York)");
        Calendar(reminder).ShouldContain("METHOD:REQUEST");
        SmtpServer.MessagesTo(s.HostEmail, "reminder").ShouldHaveSingleItem();
    }

    private async Task<(string Status, string Error)> EmailLogOfAsync(string bookingId, string recipientSuffix)
    {
        await using var conn = new NpgsqlConnection(app.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT status, coalesce(last_error, '') FROM email_log WHERE booking_id = @id AND dedup_key LIKE '%:' || @suffix", conn);
        cmd.Parameters.AddWithValue("id", Guid.Parse(bookingId));
        cmd.Parameters.AddWithValue("suffix", recipientSuffix);
        await using var reader = await cmd.ExecuteReaderAsync();
        (await reader.ReadAsync()).ShouldBeTrue();
        return (reader.GetString(0), reader.GetString(1));
    }

    [SmtpFact]
    public async Task Reminders_and_portal_sign_in_links_arrive_by_email()
    {
        var s = await HostWithPageAsync();
        var email = $"remind.{Guid.NewGuid():N}@example.com";
        var id = (await Scenario.BookAsync(app.Anonymous(), s.Slug, "2027-03-19T10:00:00Z", new { name = "Grace Hopper", email, timeZone = "UTC" }))["id"]!.GetValue<string>();
        await DrainAsync();

        app.Clock.Reset(NodaTime.Instant.FromUtc(2027, 3, 18, 10, 0));
        try
        {
            (await app.Services.GetRequiredService<Features.Reminders.ReminderSender>().SendDueAsync(CancellationToken.None)).Sent.ShouldBeGreaterThanOrEqualTo(1);
            (await app.Services.GetRequiredService<Features.Reminders.ReminderSender>().SendDueAsync(CancellationToken.None)).Sent.ShouldBe(0);
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        var reminder = SmtpServer.MessagesTo(email, "reminder").ShouldHaveSingleItem();
        reminder.Header("Subject")!.ShouldStartWith("Reminder: Intro call");
        ManageLinkIn(reminder.Single("text/plain").Text).ShouldBe(id);

        await (await app.Anonymous().PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email })).ExpectAsync(202);
        var signIn = SmtpServer.MessagesTo(email).Single(m => m.Header("Subject")!.StartsWith("Sign in to", StringComparison.Ordinal));
        signIn.Single("text/plain").Text.ShouldContain(EmailApp.PublicBaseUrl + "/portal/acme/sign-in/");
    }
}

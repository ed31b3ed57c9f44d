using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Conferencing;

/// <summary>
/// Reassignment emails through the real SMTP server (aiosmtpd), read back from its Maildir: the customer and the new owner
/// are told; when the location is not carried over (different conferencing services, or a physical location) every later
/// customer email leaves location details out (seed 001); within one service the later emails carry the new meeting's link.
/// </summary>
public sealed class ReassignmentEmailTests(ConferencingEmailApp app) : IClassFixture<ConferencingEmailApp>
{
    private sealed record Host(string Id, string Email, string Name, string FakeUser, string Slug, string PageId);

    private async Task<Host> HostAsync(string name, string? conferencing = null, string? location = null)
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, name);
        var email = (await (await admin.GetAsync($"/api/v1/users/{id}")).ExpectAsync(200))["email"]!.GetValue<string>();
        var fakeUser = ConferencingScenario.FakeUser(name);
        if (conferencing is not null)
        {
            await ConferencingScenario.ConnectAsync(admin, app.Fake, id, conferencing, fakeUser);
        }

        var (slug, pageId) = await ConferencingScenario.PageAsync(admin, id, conferencing, location);
        return new Host(id, email, name, fakeUser, slug, pageId);
    }

    private async Task<(string Id, string Email)> BookAsync(Host host)
    {
        var email = $"cust.{Guid.NewGuid():N}@example.com";
        var booking = await Scenario.BookAsync(app.Anonymous(), host.Slug, "2027-03-15T14:00:00Z", new { name = "Grace Hopper", email, timeZone = "America/New_York" });
        return (booking["id"]!.GetValue<string>(), email);
    }

    /// <summary>Runs the outbox until nothing is due and asserts nothing about this booking is left failing.</summary>
    private async Task DrainAsync(string bookingId)
    {
        await app.WithScopeAsync(async sp =>
        {
            var processor = sp.GetRequiredService<OutboxProcessor>();
            while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
            {
            }

            return 0;
        });
        var pending = await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.ProcessedAt == null && m.LastError != null).ToListAsync());
        pending.Where(m => m.Payload.Contains(bookingId, StringComparison.Ordinal)).Select(m => m.LastError).ShouldBeEmpty();
    }

    private async Task ReassignAsync(string bookingId, Host to) =>
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{bookingId}/reassign", new { bookingPageId = to.PageId, reason = "Holiday" })).ExpectAsync(200);

    private static string Text(MimePart message) => message.Single("text/plain").Text;

    /// <summary>The calendar part with folded lines unfolded (RFC 5545 3.1).</summary>
    private static string Calendar(MimePart message) => message.Single("text/calendar").Text.Replace("\r\n ", "", StringComparison.Ordinal);

    [SmtpFact]
    public async Task The_customer_and_the_new_owner_are_told_and_a_physical_location_is_left_out_of_later_customer_emails()
    {
        var ada = await HostAsync("Ada Lovelace", location: "Room 4, Analytical Engine Lane");
        var bob = await HostAsync("Bob Babbage", location: "Room 9");
        var (id, customer) = await BookAsync(ada);
        await DrainAsync(id);
        Text(SmtpServer.MessagesTo(customer, "confirmation").ShouldHaveSingleItem()).ShouldContain("Where: Room 4, Analytical Engine Lane");

        await ReassignAsync(id, bob);
        await DrainAsync(id);

        var toCustomer = SmtpServer.MessagesTo(customer, "reassigned").ShouldHaveSingleItem();
        toCustomer.Header("Subject").ShouldBe("Update: your Intro call is now with Bob Babbage");
        Text(toCustomer).ShouldContain("Your Intro call will now be with Bob Babbage. The time stays the same.");
        Text(toCustomer).ShouldContain("When: Monday, 15 March 2027, 10:00 to 10:30 (America/New_York)");
        Text(toCustomer).ShouldNotContain("Where:");
        Text(toCustomer).ShouldNotContain("Room");
        toCustomer.Single("text/html").Text.ShouldNotContain("Room");
        Calendar(toCustomer).ShouldNotContain("LOCATION");
        Calendar(toCustomer).ShouldContain(bob.Email);
        toCustomer.Header("Reply-To")!.ShouldContain(bob.Email);

        var toBob = SmtpServer.MessagesTo(bob.Email, "reassigned").ShouldHaveSingleItem();
        toBob.Header("Subject").ShouldBe("Assigned to you: Intro call with Grace Hopper, Monday, 15 March 2027, 14:00 (Europe/London)");
        Text(toBob).ShouldContain("Where: Not updated when this booking was reassigned: please tell the customer where you will meet.");
        SmtpServer.MessagesTo(ada.Email, "reassigned").ShouldBeEmpty();

        // Every later customer email leaves the location out too.
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-16T14:00:00Z" })).ExpectAsync(200);
        await DrainAsync(id);
        var moved = SmtpServer.MessagesTo(customer, "rescheduled").ShouldHaveSingleItem();
        Text(moved).ShouldContain("When: Tuesday, 16 March 2027");
        Text(moved).ShouldNotContain("Where:");
        Calendar(moved).ShouldNotContain("LOCATION");

        // So does the reminder a day before.
        app.Clock.Reset(NodaTime.Instant.FromUtc(2027, 3, 15, 14, 1));
        try
        {
            await app.Services.GetRequiredService<Server.Features.Reminders.ReminderSender>().SendDueAsync(CancellationToken.None);
        }
        finally
        {
            app.Clock.Reset(Infrastructure.RendezvousApp.Start);
        }

        var reminder = SmtpServer.MessagesTo(customer, "reminder").ShouldHaveSingleItem();
        Text(reminder).ShouldContain("This is a reminder of your Intro call with Bob Babbage.");
        Text(reminder).ShouldNotContain("Where:");
        Calendar(reminder).ShouldNotContain("LOCATION");
    }

    [SmtpFact]
    public async Task Between_different_conferencing_services_the_meeting_link_is_left_out_of_later_customer_emails()
    {
        var ada = await HostAsync("Ada Zoom", conferencing: "zoom");
        var bob = await HostAsync("Bob GoTo", conferencing: "gotomeeting");
        var (id, customer) = await BookAsync(ada);
        await DrainAsync(id);
        var zoomLink = app.Fake.MeetingsOf("zoom", ada.FakeUser).ShouldHaveSingleItem().JoinUrl;
        var confirmation = SmtpServer.MessagesTo(customer, "confirmation").ShouldHaveSingleItem();
        Text(confirmation).ShouldContain($"Where: Zoom meeting: {zoomLink}");
        Calendar(confirmation).ShouldContain("LOCATION:Zoom meeting: " + zoomLink);

        await ReassignAsync(id, bob);
        await DrainAsync(id);

        var toCustomer = SmtpServer.MessagesTo(customer, "reassigned").ShouldHaveSingleItem();
        Text(toCustomer).ShouldNotContain("Where:");
        Text(toCustomer).ShouldNotContain(zoomLink);
        Calendar(toCustomer).ShouldNotContain("LOCATION");
        app.Fake.MeetingsOf("goto", bob.FakeUser).ShouldBeEmpty();
        SmtpServer.MessagesTo(bob.Email, "reassigned").ShouldHaveSingleItem();
    }

    [SmtpFact]
    public async Task Within_goto_meeting_the_reassigned_email_carries_the_new_meetings_link()
    {
        var ada = await HostAsync("Ada GoTo", conferencing: "gotomeeting");
        var bob = await HostAsync("Bob GoTo", conferencing: "gotomeeting");
        var (id, customer) = await BookAsync(ada);
        await DrainAsync(id);
        var oldLink = app.Fake.MeetingsOf("goto", ada.FakeUser).ShouldHaveSingleItem().JoinUrl;
        Text(SmtpServer.MessagesTo(customer, "confirmation").ShouldHaveSingleItem()).ShouldContain($"Where: GoTo Meeting meeting: {oldLink}");

        await ReassignAsync(id, bob);
        await DrainAsync(id);

        var newLink = app.Fake.MeetingsOf("goto", bob.FakeUser).ShouldHaveSingleItem().JoinUrl;
        newLink.ShouldNotBe(oldLink);
        var toCustomer = SmtpServer.MessagesTo(customer, "reassigned").ShouldHaveSingleItem();
        Text(toCustomer).ShouldContain($"Where: GoTo Meeting meeting: {newLink}");
        Text(toCustomer).ShouldNotContain(oldLink);
        Calendar(toCustomer).ShouldContain(newLink);
        Text(SmtpServer.MessagesTo(bob.Email, "reassigned").ShouldHaveSingleItem()).ShouldContain(newLink);
    }
}

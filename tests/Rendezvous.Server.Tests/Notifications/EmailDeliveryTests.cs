using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Notifications;

/// <summary>The application sending through a relay in front of the real SMTP server that the test can take down.</summary>
public sealed class GatedEmailApp : EmailApp
{
    public SmtpGate Gate { get; } = new(SmtpServer.Host ?? "127.0.0.1", SmtpServer.Port);

    protected override int SmtpPort => Gate.Port;
}

public sealed class EmailDeliveryTests(GatedEmailApp app) : IClassFixture<GatedEmailApp>
{
    [SmtpFact]
    public async Task A_mail_server_that_is_down_leaves_the_message_pending_and_it_is_sent_exactly_once_when_it_is_back()
    {
        await app.Gate.CloseAsync();
        var admin = app.Client();
        var hostId = await Scenario.CreateUserAsync(admin, "Ada Lovelace", timeZone: "Europe/London");
        var hostEmail = (await (await admin.GetAsync($"/api/v1/users/{hostId}")).ExpectAsync(200))["email"]!.GetValue<string>();
        var host = app.Client(await Scenario.CreateKeyAsync(admin, hostId));
        var slug = await Scenario.CreatePageAsync(host);
        var email = $"down.{Guid.NewGuid():N}@example.com";
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T14:00:00Z", new { name = "Grace Hopper", email, timeZone = "UTC" });
        var bookingId = booking["id"]!.GetValue<string>();

        try
        {
            // Nothing listens: the outbox keeps the message with the error, the email log says why, nothing is delivered.
            var errors = await app.DrainOutboxAsync();
            errors.ShouldHaveSingleItem().ShouldContain("notifications:");
            errors[0].ShouldContain("Cannot connect");
            var pending = await app.WithDbAsync(db => db.OutboxMessages.SingleAsync(m => m.ProcessedAt == null));
            pending.Attempts.ShouldBe(1);
            pending.HandledBy.ShouldNotContain("notifications");
            pending.HandledBy.ShouldContain("calendar-writer");
            (await StatusesAsync(bookingId)).ShouldBe(["pending", "pending"]);
            SmtpServer.MessagesTo(email).ShouldBeEmpty();

            // Still down at the next attempt.
            app.Clock.Advance(Duration.FromMinutes(1));
            (await app.DrainOutboxAsync()).ShouldHaveSingleItem();
            (await app.WithDbAsync(db => db.OutboxMessages.SingleAsync(m => m.Id == pending.Id))).Attempts.ShouldBe(2);

            // Back: the retry sends each email once, and later runs send nothing more.
            app.Gate.Open();
            app.Clock.Advance(Duration.FromMinutes(5));
            (await app.DrainOutboxAsync()).ShouldBeEmpty();
            app.Clock.Advance(Duration.FromHours(2));
            (await app.DrainOutboxAsync()).ShouldBeEmpty();

            SmtpServer.MessagesTo(email).ShouldHaveSingleItem().Header("X-Rendezvous-Kind").ShouldBe("confirmation");
            SmtpServer.MessagesTo(hostEmail).ShouldHaveSingleItem();
            (await app.WithDbAsync(db => db.OutboxMessages.SingleAsync(m => m.Id == pending.Id))).ProcessedAt.ShouldNotBeNull();
            (await StatusesAsync(bookingId)).ShouldBe(["sent", "sent"]);
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
            app.Gate.Open();
        }
    }

    [SmtpFact]
    public async Task An_outbox_retry_after_a_partial_failure_sends_only_what_was_missing()
    {
        app.Gate.Open();
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var email = $"partial.{Guid.NewGuid():N}@example.com";
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-16T14:00:00Z", new { name = "Grace Hopper", email, timeZone = "UTC" });
        var bookingId = booking["id"]!.GetValue<string>();

        // The customer's email went out in an earlier attempt; the host's did not (as if the server failed in between).
        var message = await app.WithDbAsync(db => db.OutboxMessages.OrderByDescending(m => m.Id).FirstAsync(m => m.ProcessedAt == null));
        await using (var conn = new NpgsqlConnection(app.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO email_log (dedup_key, organization_id, booking_id, kind, recipient, message_id, status, created_at, sent_at)
                SELECT @key, organization_id, id, 'confirmation', @email, 'earlier@rendezvous.test', 'sent', now(), now() FROM bookings WHERE id = @id
                """, conn);
            cmd.Parameters.AddWithValue("key", $"outbox:{message.Id}:confirmation:customer");
            cmd.Parameters.AddWithValue("email", email);
            cmd.Parameters.AddWithValue("id", Guid.Parse(bookingId));
            (await cmd.ExecuteNonQueryAsync()).ShouldBe(1);
        }

        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        SmtpServer.MessagesTo(email).ShouldBeEmpty();
        (await StatusesAsync(bookingId)).ShouldBe(["sent", "sent"]);
    }

    [Fact]
    public void Each_event_calls_for_the_right_notification()
    {
        var host = UserId.New();
        BookingEvent Event(string type, Actor actor) => new(type, BookingId.New(), OrganizationId.New(), BookingPageId.New(), BookingStatus.Scheduled,
            "", actor, null, Instant.FromUtc(2027, 3, 15, 14, 0), Instant.FromUtc(2027, 3, 15, 14, 30), null, null, Instant.FromUtc(2027, 3, 1, 8, 0));
        var customer = Actor.ForCustomer(CustomerId.New());

        NotificationsHandler.Plan(Event(BookingEvent.Created, customer)).ShouldBe((NotificationKind.Confirmation, NotificationRecipients.Both, null));
        NotificationsHandler.Plan(Event(BookingEvent.Requested, customer)).ShouldBe((NotificationKind.RequestReceived, NotificationRecipients.Both, null));
        NotificationsHandler.Plan(Event(BookingEvent.Approved, Actor.ForUser(host))).ShouldBe((NotificationKind.RequestApproved, NotificationRecipients.Customer, null));
        NotificationsHandler.Plan(Event(BookingEvent.Declined, Actor.ForUser(host))).ShouldBe((NotificationKind.RequestDeclined, NotificationRecipients.Customer, null));
        NotificationsHandler.Plan(Event(BookingEvent.Rescheduled, Actor.ForUser(host))).ShouldBe((NotificationKind.Rescheduled, NotificationRecipients.Both, null));
        NotificationsHandler.Plan(Event(BookingEvent.Rescheduled, Actor.FromCalendar(host))).ShouldBeNull();
        NotificationsHandler.Plan(Event(BookingEvent.Canceled, customer)).ShouldBe((NotificationKind.Canceled, NotificationRecipients.Both, null));
        NotificationsHandler.Plan(Event(BookingEvent.Canceled, Actor.ForUser(host))).ShouldBe((NotificationKind.Canceled, NotificationRecipients.Both, host));
        NotificationsHandler.Plan(Event(BookingEvent.Canceled, Actor.FromCalendar(host))).ShouldBe((NotificationKind.Canceled, NotificationRecipients.Both, host));
        NotificationsHandler.Plan(Event(BookingEvent.Canceled, Actor.System)).ShouldBe((NotificationKind.Canceled, NotificationRecipients.Both, null));
        NotificationsHandler.Plan(Event(BookingEvent.Completed, Actor.System)).ShouldBeNull();
        NotificationsHandler.Plan(Event(BookingEvent.NoShow, Actor.ForUser(host))).ShouldBeNull();
    }

    private async Task<List<string>> StatusesAsync(string bookingId)
    {
        await using var conn = new NpgsqlConnection(app.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT status FROM email_log WHERE booking_id = @id ORDER BY dedup_key", conn);
        cmd.Parameters.AddWithValue("id", Guid.Parse(bookingId));
        var statuses = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            statuses.Add(reader.GetString(0));
        }

        return statuses;
    }
}

using Microsoft.EntityFrameworkCore;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Notifications;

/// <summary>
/// What a process killed in the middle of a booking's emails leaves behind, replayed against the real SMTP server: the
/// claim on the outbox message and on the email both run out, and the next process finishes the work.
/// </summary>
public sealed class OutboxCrashEmailTests(EmailApp app) : IClassFixture<EmailApp>
{
    private async Task<(string BookingId, string Email, long MessageId)> BookAsync()
    {
        var admin = app.Client();
        var hostId = await Scenario.CreateUserAsync(admin, "Ada Lovelace", timeZone: "Europe/London");
        var slug = await Scenario.CreatePageAsync(app.Client(await Scenario.CreateKeyAsync(admin, hostId)));
        var email = $"crash.{Guid.NewGuid():N}@example.com";
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T14:00:00Z", new { name = "Grace Hopper", email, timeZone = "America/New_York" });
        var id = booking["id"]!.GetValue<string>();
        var messageId = await app.WithDbAsync(db => db.OutboxMessages.Where(m => m.Type == "booking.created" && m.OrderingKey == id).Select(m => m.Id).SingleAsync());
        return (id, email, messageId);
    }

    [SmtpFact]
    public async Task A_process_killed_after_the_server_took_an_email_but_before_recording_it_sends_it_again_with_the_same_Message_ID()
    {
        var (_, email, messageId) = await BookAsync();
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        var first = SmtpServer.MessagesTo(email).ShouldHaveSingleItem();

        // The server accepted the email, then the process was killed: neither "sent" nor the outbox outcome was written,
        // and both claims ran out.
        var past = app.Clock.GetCurrentInstant() - NodaTime.Duration.FromMinutes(10);
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE email_log SET status = 'sending', lease_until = {past} WHERE dedup_key LIKE {"outbox:" + messageId + ":%"}
            """));
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE outbox_messages SET processed_at = NULL, handled_by = array_remove(handled_by, 'notifications'),
                claimed_by = 'killed/1/crash', lease_until = {past}
            WHERE id = {messageId}
            """));

        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        var both = SmtpServer.MessagesTo(email);
        both.Count.ShouldBe(2);
        both.Select(m => m.Header("Message-ID")).Distinct().ShouldHaveSingleItem().ShouldBe(first.Header("Message-ID"));
        var message = await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == messageId));
        message.ProcessedAt.ShouldNotBeNull();
        message.ClaimedBy.ShouldBeNull();
    }

    [SmtpFact]
    public async Task A_process_killed_after_recording_the_email_but_before_the_outbox_outcome_sends_nothing_twice()
    {
        var (_, email, messageId) = await BookAsync();
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        SmtpServer.MessagesTo(email).ShouldHaveSingleItem();

        // Killed after the email log said "sent" and before the outbox message was marked done: its lease runs out.
        var past = app.Clock.GetCurrentInstant() - NodaTime.Duration.FromMinutes(10);
        await app.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE outbox_messages SET processed_at = NULL, handled_by = ARRAY[]::text[], claimed_by = 'killed/1/crash', lease_until = {past}
            WHERE id = {messageId}
            """));

        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        SmtpServer.MessagesTo(email).ShouldHaveSingleItem();
        (await app.WithDbAsync(db => db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == messageId))).ProcessedAt.ShouldNotBeNull();
    }
}

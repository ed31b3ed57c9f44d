using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data.Outbox;
using Rendezvous.Domain;
using Rendezvous.Integrations.Notifications;
using Rendezvous.Server.Features.Reminders;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>Records notifications instead of sending them; the SMTP path has its own tests.</summary>
public sealed class RecordingNotifier : IBookingNotifier
{
    public ConcurrentBag<(BookingId Booking, NotificationKind Kind, string Key)> Sent { get; } = [];

    public Task SendAsync(BookingId bookingId, NotificationKind kind, NotificationRecipients recipients, string deduplicationKey, CancellationToken cancellationToken)
    {
        Sent.Add((bookingId, kind, deduplicationKey));
        return Task.CompletedTask;
    }
}

public sealed class ReminderApp : RendezvousApp
{
    public RecordingNotifier Notifier { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IBookingNotifier>(Notifier);
}

public sealed class ReminderTests(ReminderApp app) : IClassFixture<ReminderApp>
{
    private async Task DrainOutboxAsync() => await app.WithScopeAsync(async sp =>
    {
        var processor = sp.GetRequiredService<OutboxProcessor>();
        while (await processor.ProcessBatchAsync(100, CancellationToken.None) > 0)
        {
        }

        return 0;
    });

    private Task<ReminderRound> SendDueAsync() => app.Services.GetRequiredService<ReminderSender>().SendDueAsync(CancellationToken.None);

    private async Task<List<(string Kind, Instant Due, string Status)>> RemindersAsync(string bookingId) =>
        [.. (await app.WithDbAsync(db => db.Database.SqlQuery<Row>($"""
            SELECT kind AS "Kind", due_at AS "Due", status AS "Status" FROM reminders WHERE booking_id = {Guid.Parse(bookingId)} ORDER BY due_at
            """).ToListAsync()))
            .Select(r => (r.Kind, r.Due, r.Status))];

    private sealed record Row(string Kind, Instant Due, string Status);

    private async Task<T> At<T>(Instant when, Func<Task<T>> work)
    {
        app.Clock.Reset(when);
        try
        {
            return await work();
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }
    }

    [DbFact]
    public async Task A_booking_gets_a_reminder_a_day_before_and_its_follow_up_and_each_is_sent_once()
    {
        var slug = await Scenario.CreatePageAsync(app.Client(), p =>
        {
            p["reminders"] = new JsonArray(new JsonObject { ["offsetMinutes"] = 1440 }, new JsonObject { ["offsetMinutes"] = 60, ["channel"] = "email" });
            p["followUp"] = new JsonObject { ["offsetMinutes"] = 120 };
        });
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-10T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainOutboxAsync();

        var planned = await RemindersAsync(id);
        planned.Select(r => (r.Kind, r.Due)).ShouldBe(
        [
            ("Reminder", Instant.FromUtc(2027, 3, 9, 10, 0)),
            ("Reminder", Instant.FromUtc(2027, 3, 10, 9, 0)),
            ("FollowUp", Instant.FromUtc(2027, 3, 10, 12, 30)),
        ]);

        // Not due yet: nothing goes out.
        (await SendDueAsync()).Claimed.ShouldBe(0);

        // Two senders racing (as two server processes would) send the day-before reminder exactly once.
        var rounds = await At(Instant.FromUtc(2027, 3, 9, 10, 0), () => Task.WhenAll(SendDueAsync(), SendDueAsync(), SendDueAsync()));
        rounds.Sum(r => r.Sent).ShouldBe(1);
        app.Notifier.Sent.Count(s => s.Booking.ToString() == id && s.Kind == NotificationKind.Reminder).ShouldBe(1);
        (await At(Instant.FromUtc(2027, 3, 9, 10, 5), SendDueAsync)).Sent.ShouldBe(0);

        await At(Instant.FromUtc(2027, 3, 10, 13, 0), SendDueAsync);
        app.Notifier.Sent.Count(s => s.Booking.ToString() == id).ShouldBe(3);
        app.Notifier.Sent.Count(s => s.Booking.ToString() == id && s.Kind == NotificationKind.FollowUp).ShouldBe(1);
        (await RemindersAsync(id)).ShouldAllBe(r => r.Status == "Sent");
    }

    [DbFact]
    public async Task Rescheduling_replans_reminders_and_canceling_drops_them()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-11T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainOutboxAsync();
        (await RemindersAsync(id)).Single(r => r.Status == "Pending").Due.ShouldBe(Instant.FromUtc(2027, 3, 10, 10, 0));

        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new { start = "2027-03-12T14:00:00Z" })).ExpectAsync(200);
        await DrainOutboxAsync();
        var pending = (await RemindersAsync(id)).Where(r => r.Status == "Pending").ToList();
        pending.ShouldHaveSingleItem().Due.ShouldBe(Instant.FromUtc(2027, 3, 11, 14, 0));

        // Staff give this booking its own reminders while rescheduling (seed 003).
        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new
        {
            start = "2027-03-12T15:00:00Z",
            reminders = new[] { new { offsetMinutes = 30 }, new { offsetMinutes = 2880 } },
        })).ExpectAsync(200);
        await DrainOutboxAsync();
        (await RemindersAsync(id)).Where(r => r.Status == "Pending").Select(r => r.Due).ShouldBe(
            [Instant.FromUtc(2027, 3, 10, 15, 0), Instant.FromUtc(2027, 3, 12, 14, 30)]);
        var bad = await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/reschedule", new
        {
            start = "2027-03-12T16:00:00Z",
            reminders = new[] { new { offsetMinutes = 1 }, new { offsetMinutes = 60 }, new { offsetMinutes = 120 }, new { offsetMinutes = 180 } },
        })).ExpectAsync(400);
        bad["errors"]!.AsObject().Select(kv => kv.Key).ShouldContain("reminders");

        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/cancel", new { reason = "no longer needed" })).ExpectAsync(200);
        await DrainOutboxAsync();
        (await RemindersAsync(id)).ShouldNotContain(r => r.Status == "Pending");
        (await At(Instant.FromUtc(2027, 3, 12, 15, 0), SendDueAsync)).Sent.ShouldBe(0);
    }

    [DbFact]
    public async Task Requests_get_reminders_only_once_approved()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin, p => p["requiresApproval"] = true);
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-15T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainOutboxAsync();
        (await RemindersAsync(id)).ShouldBeEmpty();
        await (await admin.PostJsonAsync($"/api/v1/bookings/{id}/approve", new { })).ExpectAsync(200);
        await DrainOutboxAsync();
        (await RemindersAsync(id)).ShouldHaveSingleItem().Status.ShouldBe("Pending");
    }

    [DbFact]
    public async Task A_reminder_already_past_is_not_planned_and_page_reminders_are_validated()
    {
        var admin = app.Client();
        var slug = await Scenario.CreatePageAsync(admin);
        // Booked two hours ahead: the day-before reminder is already past.
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-01T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainOutboxAsync();
        (await RemindersAsync(id)).ShouldBeEmpty();

        async Task<List<string>> Invalid(object reminders)
        {
            var problem = await (await admin.PostJsonAsync("/api/v1/booking-pages", new
            {
                slug = "r-" + Guid.NewGuid().ToString("N")[..8], title = "x", durationMinutes = 30, timeZone = "UTC", reminders,
            })).ExpectAsync(400);
            return [.. problem["errors"]!.AsObject().Select(kv => kv.Key)];
        }

        (await Invalid(new object[] { new { offsetMinutes = 60, channel = "sms" } })).ShouldContain("reminders[0].channel");
        (await Invalid(new object[] { new { offsetMinutes = 60 }, new { channel = "email" } })).ShouldContain("reminders[1].offsetMinutes");
        (await Invalid(new object[] { new { offsetMinutes = 60 }, new { offsetMinutes = 60 } })).ShouldContain("reminders");
    }
}

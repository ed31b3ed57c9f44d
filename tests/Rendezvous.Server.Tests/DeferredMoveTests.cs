using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Domain;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Features.Reminders;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Notifications;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>A fact that needs PostgreSQL, Radicale and the SMTP server: skipped locally without them, failed under CI=true.</summary>
public sealed class SyncAndSmtpFactAttribute : FactAttribute
{
    public SyncAndSmtpFactAttribute()
    {
        if ((Radicale.SkipReason ?? SmtpServer.SkipReason) is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>
/// Seed 000 with "Changing the time in my calendar updates the booking" off, against Radicale and the real SMTP server:
/// the booking time is only updated when the next reminder is due. Until then the new time is the host's (nobody else
/// can book it); if the move still cannot be applied then, it is undone in the calendar, and the host is told.
/// </summary>
public sealed class DeferredMoveTests(EmailApp app) : IClassFixture<EmailApp>
{
    private static readonly NodaTime.Text.InstantPattern IcsTime = NodaTime.Text.InstantPattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss'Z'");

    private async Task DrainAsync() => (await app.DrainOutboxAsync()).ShouldBeEmpty();

    private Task<SyncReport> SyncAsync(string connectionId) =>
        app.WithScopeAsync(sp => sp.GetRequiredService<CalendarSyncEngine>().SyncAsync(Guid.Parse(connectionId), CancellationToken.None));

    private static async Task<IReadOnlyList<CalendarObject>> ObjectsAsync(string calendarUrl)
    {
        using var client = Radicale.Client();
        var href = new Uri(calendarUrl).AbsolutePath;
        var listing = await client.ListObjectsAsync(href);
        return listing.Count == 0 ? [] : (await client.MultigetAsync(href, listing.Select(o => o.Href))).Objects;
    }

    private static Instant StartOf(CalendarObject o) =>
        ICalendarReader.Parse(o.CalendarData).Events.Single().Start!.Value.ToInstant(DateTimeZone.Utc);

    [SyncAndSmtpFact]
    public async Task A_move_waiting_for_its_reminder_holds_the_new_time_and_is_undone_and_reported_when_it_cannot_be_applied()
    {
        var admin = app.Client();
        var hostId = await Scenario.CreateUserAsync(admin, "Deferred Host", timeZone: "UTC");
        var hostEmail = (await (await admin.GetAsync($"/api/v1/users/{hostId}")).ExpectAsync(200))["email"]!.GetValue<string>();
        var host = app.Client(await Scenario.CreateKeyAsync(admin, hostId));
        var slug = await Scenario.CreatePageAsync(host, p => p["timeZone"] = "UTC");
        var calendar = await Radicale.NewCalendarAsync("deferred");
        var connection = (await (await host.PostJsonAsync("/api/v1/calendar-connections", new
        {
            url = Radicale.Url,
            username = Radicale.User,
            password = Radicale.Password,
            bookingCalendarUrl = calendar,
            cancelBookingOnDelete = true,
            updateBookingOnMove = false,
        })).ExpectAsync(201))["id"]!.GetValue<string>();

        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainAsync();
        (await SyncAsync(connection)).Deferred.ShouldBe(0);
        var ours = (await ObjectsAsync(calendar)).ShouldHaveSingleItem();

        // The host drags the event to 15:00 in their calendar; with the toggle off the booking waits for its reminder.
        var from = Instant.FromUtc(2027, 3, 8, 10, 0);
        var to = Instant.FromUtc(2027, 3, 8, 15, 0);
        using (var client = Radicale.Client())
        {
            var moved = ours.CalendarData.Replace(IcsTime.Format(from), IcsTime.Format(to), StringComparison.Ordinal)
                .Replace(IcsTime.Format(from + Duration.FromMinutes(30)), IcsTime.Format(to + Duration.FromMinutes(30)), StringComparison.Ordinal);
            await client.UpdateObjectAsync(ours.Href, moved, ours.ETag!);
        }

        (await SyncAsync(connection)).Deferred.ShouldBe(1);

        // 15:00 is the host's now: not offered, and a new booking cannot take it.
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-08&to=2027-03-08&timeZone=UTC")).ExpectAsync(200);
        var starts = slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ToList();
        starts.ShouldNotContain("2027-03-08T15:00:00Z");
        starts.ShouldContain("2027-03-08T14:00:00Z");
        starts.ShouldContain("2027-03-08T11:00:00Z");
        (await (await app.Anonymous().PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings",
            new { start = "2027-03-08T15:00:00Z", customer = Scenario.Customer() })).ExpectAsync(409))["code"]!.GetValue<string>().ShouldBe("slot_unavailable");

        // The host themselves (a staff reschedule speaks for them) puts another meeting at 15:00 meanwhile.
        var other = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T16:00:00Z"))["id"]!.GetValue<string>();
        await (await host.PostJsonAsync($"/api/v1/bookings/{other}/reschedule", new { start = "2027-03-08T15:00:00Z" })).ExpectAsync(200);
        await DrainAsync();
        (await SyncAsync(connection)).Failed.ShouldBeFalse();

        // The reminder comes due: the move cannot be applied. The booking keeps its time, the reminder goes out for it.
        app.Clock.Reset(Instant.FromUtc(2027, 3, 7, 10, 0));
        try
        {
            var round = await app.Services.GetRequiredService<ReminderSender>().SendDueAsync(CancellationToken.None);
            round.MovesApplied.ShouldBe(0);
            round.Sent.ShouldBeGreaterThanOrEqualTo(1);
            // The calendar writer runs then, not before: its work is due from the reminder's time on.
            await DrainAsync();
        }
        finally
        {
            app.Clock.Reset(RendezvousApp.Start);
        }

        var booking = await (await host.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        booking["start"]!.GetValue<string>().ShouldBe("2027-03-08T10:00:00Z");
        booking["status"]!.GetValue<string>().ShouldBe("scheduled");
        // The activity stream (the booking's history) says what happened.
        booking["history"]!.AsArray().Last()!["detailedStatus"]!.GetValue<string>().ShouldBe(ReminderSender.CalendarMoveNotApplied);
        (await app.WithDbAsync(db => db.BookingEventLinks.SingleAsync(l => l.BookingId == new BookingId(Guid.Parse(id))))).PendingStart.ShouldBeNull();

        // The event goes back to the booking's time in the host's calendar, and nothing is held at 15:00 for it any more.
        var restored = (await ObjectsAsync(calendar)).Single(o => o.CalendarData.Contains(id, StringComparison.OrdinalIgnoreCase));
        StartOf(restored).ShouldBe(from);
        (await SyncAsync(connection)).Rescheduled.ShouldBe(0);

        // The host is told by email; the customer's meeting did not change, so they are not.
        var alert = SmtpServer.MessagesTo(hostEmail).Single(m => m.Header("X-Rendezvous-Kind") == "calendarMoveNotApplied");
        alert.Header("X-Rendezvous-Booking").ShouldBe(id);
        alert.Single("text/plain").Text.ShouldContain("Monday, 8 March 2027, 15:00 (UTC)");
        alert.Single("text/plain").Text.ShouldContain("put back");
    }

    [SyncAndSmtpFact]
    public async Task A_move_the_host_puts_back_before_the_reminder_stops_holding_the_other_time()
    {
        var admin = app.Client();
        var hostId = await Scenario.CreateUserAsync(admin, "Undo Host", timeZone: "UTC");
        var host = app.Client(await Scenario.CreateKeyAsync(admin, hostId));
        var slug = await Scenario.CreatePageAsync(host, p => p["timeZone"] = "UTC");
        var calendar = await Radicale.NewCalendarAsync("undo");
        var connection = (await (await host.PostJsonAsync("/api/v1/calendar-connections", new
        {
            url = Radicale.Url,
            username = Radicale.User,
            password = Radicale.Password,
            bookingCalendarUrl = calendar,
            cancelBookingOnDelete = true,
            updateBookingOnMove = false,
        })).ExpectAsync(201))["id"]!.GetValue<string>();
        var id = (await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-09T10:00:00Z"))["id"]!.GetValue<string>();
        await DrainAsync();
        await SyncAsync(connection);
        var ours = (await ObjectsAsync(calendar)).ShouldHaveSingleItem();
        var from = Instant.FromUtc(2027, 3, 9, 10, 0);
        var to = Instant.FromUtc(2027, 3, 9, 15, 0);
        string Shift(string ics, Instant a, Instant b) => ics.Replace(IcsTime.Format(a), IcsTime.Format(b), StringComparison.Ordinal)
            .Replace(IcsTime.Format(a + Duration.FromMinutes(30)), IcsTime.Format(b + Duration.FromMinutes(30)), StringComparison.Ordinal);
        using (var client = Radicale.Client())
        {
            await client.UpdateObjectAsync(ours.Href, Shift(ours.CalendarData, from, to), ours.ETag!);
        }

        (await SyncAsync(connection)).Deferred.ShouldBe(1);
        var moved = (await ObjectsAsync(calendar)).Single();
        using (var client = Radicale.Client())
        {
            await client.UpdateObjectAsync(moved.Href, Shift(moved.CalendarData, to, from), moved.ETag!);
        }

        await SyncAsync(connection);
        (await app.WithDbAsync(db => db.BookingEventLinks.SingleAsync(l => l.BookingId == new BookingId(Guid.Parse(id))))).PendingStart.ShouldBeNull();
        var slots = await (await app.Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from=2027-03-09&to=2027-03-09&timeZone=UTC")).ExpectAsync(200);
        slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()).ShouldContain("2027-03-09T15:00:00Z");
    }
}

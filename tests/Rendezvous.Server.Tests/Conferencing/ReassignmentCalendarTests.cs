using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Calendars.Sync;
using Rendezvous.Data.Outbox;
using Rendezvous.Domain;
using Rendezvous.Domain.Bookings;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Conferencing;

/// <summary>
/// A reassigned booking's event leaves the previous owner's calendar and appears in the new owner's, against a real Radicale.
/// Seed 001 refuses reassignment for pages connected to a CalDAV calendar (only none or Google), and Google is not synced yet,
/// so the API never reaches this today; the test reassigns through the domain to prove the calendar writer's move, which is
/// what a Google connector will rely on.
/// </summary>
public sealed class ReassignmentCalendarTests(CalendarSyncApp app) : IClassFixture<CalendarSyncApp>
{
    private sealed record Host(string UserId, string Email, string Slug, string PageId, string ConnectionId, string Calendar);

    private async Task<Host> HostAsync(string name)
    {
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, name, timeZone: "UTC");
        var email = (await (await admin.GetAsync($"/api/v1/users/{userId}")).ExpectAsync(200))["email"]!.GetValue<string>();
        var (slug, pageId) = await ConferencingScenario.PageAsync(admin, userId);
        var calendar = await Radicale.NewCalendarAsync("bookings");
        var connection = await (await admin.PostJsonAsync("/api/v1/calendar-connections", new
        {
            userId,
            url = Radicale.Url,
            username = Radicale.User,
            password = Radicale.Password,
            bookingCalendarUrl = calendar,
            cancelBookingOnDelete = true,
            updateBookingOnMove = true,
        })).ExpectAsync(201);
        return new Host(userId, email, slug, pageId, connection["id"]!.GetValue<string>(), calendar);
    }

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

    private static async Task<IReadOnlyList<CalendarObject>> ObjectsAsync(string calendarUrl)
    {
        using var client = Radicale.Client();
        var href = new Uri(calendarUrl).AbsolutePath;
        var listing = await client.ListObjectsAsync(href);
        return listing.Count == 0 ? [] : (await client.MultigetAsync(href, listing.Select(o => o.Href))).Objects;
    }

    private Task<SyncReport> SyncAsync(string connectionId) =>
        app.WithScopeAsync(sp => sp.GetRequiredService<CalendarSyncEngine>().SyncAsync(Guid.Parse(connectionId), CancellationToken.None));

    [SyncFact]
    public async Task The_event_moves_from_the_previous_owners_calendar_to_the_new_owners()
    {
        var ada = await HostAsync("Ada Synced");
        var bob = await HostAsync("Bob Synced");
        var booking = await Scenario.BookAsync(app.Anonymous(), ada.Slug, "2027-03-02T10:00:00Z");
        var id = booking["id"]!.GetValue<string>();
        await DrainAsync(id);
        var before = (await ObjectsAsync(ada.Calendar)).ShouldHaveSingleItem();
        (await SyncAsync(ada.ConnectionId)).Failed.ShouldBeFalse();

        // The API keeps to seed 001: a page connected to a CalDAV calendar is not reassigned.
        var refused = await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/reassign", new { bookingPageId = bob.PageId })).ExpectAsync(409);
        refused["code"]!.GetValue<string>().ShouldBe("calendar_not_supported");
        refused["refusals"]!.AsArray().Select(r => r!["code"]!.GetValue<string>()).ShouldBe(["calendar_not_supported"]);

        var bookingId = new BookingId(Guid.Parse(id));
        var adminId = await Scenario.MyIdAsync(app.Client());
        await app.WithDbAsync(async db =>
        {
            var b = await db.Bookings.FirstAsync(x => x.Id == bookingId);
            b.Reassign(new BookingPageId(Guid.Parse(bob.PageId)), new UserId(Guid.Parse(bob.UserId)), false,
                Actor.ForUser(new UserId(Guid.Parse(adminId))), "holiday", app.Clock.GetCurrentInstant()).IsSuccess.ShouldBeTrue();
            return await db.SaveChangesAsync();
        });
        await DrainAsync(id);

        (await ObjectsAsync(ada.Calendar)).ShouldBeEmpty();
        var moved = (await ObjectsAsync(bob.Calendar)).ShouldHaveSingleItem();
        var ev = ICalendarReader.Parse(moved.CalendarData).Events.ShouldHaveSingleItem();
        ev.Uid.ShouldBe(BookingCalendarEvent.UidOf(bookingId));
        ev.Uid.ShouldBe(ICalendarReader.Parse(before.CalendarData).Events.Single().Uid);
        ev.Start!.Value.ToInstant(NodaTime.DateTimeZone.Utc).ShouldBe(NodaTime.Instant.FromUtc(2027, 3, 2, 10, 0));
        ev.Organizer!.Address.ToString().ShouldContain(bob.Email);

        // Neither calendar's next sync acts on the move: the deletion in Ada's was ours, the event in Bob's is our own write.
        var adaSync = await SyncAsync(ada.ConnectionId);
        (adaSync.Failed, adaSync.Canceled, adaSync.Rescheduled).ShouldBe((false, 0, 0));
        var bobSync = await SyncAsync(bob.ConnectionId);
        (bobSync.Failed, bobSync.Canceled, bobSync.Rescheduled).ShouldBe((false, 0, 0));
        var after = await (await app.Client().GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);
        (after["status"]!.GetValue<string>(), after["detailedStatus"]!.GetValue<string>(), after["ownerId"]!.GetValue<string>())
            .ShouldBe(("scheduled", "Scheduled (Reassigned by User)", bob.UserId));

        // Canceling now removes it from the new owner's calendar.
        await (await app.Client().PostJsonAsync($"/api/v1/bookings/{id}/cancel", new JsonObject())).ExpectAsync(200);
        await DrainAsync(id);
        (await ObjectsAsync(bob.Calendar)).ShouldBeEmpty();
    }
}

using Microsoft.EntityFrameworkCore;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Notifications;
using Shouldly;

namespace Rendezvous.Server.Tests.Spaces;

/// <summary>
/// Seed 004: on confirmation the event is placed on the organizer's calendar as well as the resource calendar, or falls
/// back to a configured calendar, or the resource calendar alone. Against Radicale.
/// </summary>
public sealed class SpaceCalendarTests(EmailApp app) : IClassFixture<EmailApp>
{
    private async Task<(string UserId, HttpClient Client, string Calendar)> UserWithCalendarAsync(string name)
    {
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, name, timeZone: "UTC");
        var client = app.Client(await Scenario.CreateKeyAsync(admin, userId));
        var calendar = await Radicale.NewCalendarAsync("bookings");
        await (await client.PostJsonAsync("/api/v1/calendar-connections", new
        {
            url = Radicale.Url,
            username = Radicale.User,
            password = Radicale.Password,
            bookingCalendarUrl = calendar,
            additionalCalendarUrls = Array.Empty<string>(),
            cancelBookingOnDelete = false,
            updateBookingOnMove = false,
        })).ExpectAsync(201);
        return (userId, client, calendar);
    }

    private async Task<string> ManagedSpaceAsync(string? fallbackUserId = null) =>
        (await (await app.Client().PostJsonAsync("/api/v1/spaces", new
        {
            name = "Hall " + Guid.NewGuid().ToString("N")[..8],
            timeZone = "Europe/London",
            administration = "rendezvousManaged",
            fallbackCalendarUserId = fallbackUserId,
        })).ExpectAsync(201))["id"]!.GetValue<string>();

    private async Task<string?> WrittenHrefAsync(string requestId) =>
        await app.WithDbAsync(db => db.SpaceRequests.Where(r => r.Id == Guid.Parse(requestId)).Select(r => r.OrganizerCalendarHref).SingleAsync());

    [SyncFact]
    public async Task A_confirmed_event_is_placed_on_the_organizers_calendar_and_removed_when_canceled()
    {
        var (_, organizer, _) = await UserWithCalendarAsync("Olive Organizer");
        var space = await ManagedSpaceAsync();
        var made = await (await organizer.PostJsonAsync("/api/v1/spaces/requests", new
        {
            spaceIds = new[] { space }, summary = "Spring gala", start = "2027-03-05T18:00:00Z", end = "2027-03-05T22:00:00Z",
        })).ExpectAsync(201);
        var id = made[0]!["id"]!.GetValue<string>();
        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{id}/hold", new { })).ExpectAsync(200);
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        (await WrittenHrefAsync(id)).ShouldBeNull();

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{id}/confirm", new { })).ExpectAsync(200);
        (await app.DrainOutboxAsync()).ShouldBeEmpty();

        var href = (await WrittenHrefAsync(id)).ShouldNotBeNull();
        using var caldav = Radicale.Client();
        var written = (await caldav.GetObjectAsync(href)).ShouldNotBeNull();
        written.CalendarData.ShouldContain("SUMMARY:Spring gala");
        written.CalendarData.ShouldContain("20270305T180000Z");

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{id}/cancel", new { })).ExpectAsync(200);
        (await app.DrainOutboxAsync()).ShouldBeEmpty();
        (await caldav.GetObjectAsync(href)).ShouldBeNull();
    }

    [SyncFact]
    public async Task Without_an_organizer_calendar_the_event_falls_back_to_the_configured_calendar_or_the_resource_calendar_alone()
    {
        var (fallbackId, _, _) = await UserWithCalendarAsync("Fiona Fallback");
        var withFallback = await ManagedSpaceAsync(fallbackId);
        var withoutFallback = await ManagedSpaceAsync();
        var outsider = $"outsider.{Guid.NewGuid():N}@outside.example";
        var first = (await (await app.Client().PostJsonAsync("/api/v1/spaces/requests", new
        {
            spaceIds = new[] { withFallback }, summary = "Board dinner", start = "2027-03-06T18:00:00Z", end = "2027-03-06T21:00:00Z", organizerEmail = outsider,
        })).ExpectAsync(201))[0]!["id"]!.GetValue<string>();
        var second = (await (await app.Client().PostJsonAsync("/api/v1/spaces/requests", new
        {
            spaceIds = new[] { withoutFallback }, summary = "Quiz night", start = "2027-03-06T18:00:00Z", end = "2027-03-06T21:00:00Z", organizerEmail = outsider,
        })).ExpectAsync(201))[0]!["id"]!.GetValue<string>();

        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{first}/confirm", new { })).ExpectAsync(200);
        await (await app.Client().PostJsonAsync($"/api/v1/spaces/requests/{second}/confirm", new { })).ExpectAsync(200);
        (await app.DrainOutboxAsync()).ShouldBeEmpty();

        using var caldav = Radicale.Client();
        (await caldav.GetObjectAsync((await WrittenHrefAsync(first)).ShouldNotBeNull())).ShouldNotBeNull().CalendarData.ShouldContain("SUMMARY:Board dinner");
        (await WrittenHrefAsync(second)).ShouldBeNull();
    }
}

using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Npgsql;
using Rendezvous.Browser.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>
/// Seed 001: "you won't be able to see the Reassign booking action in the Details pane" for the scenarios it lists. The
/// details pane offers the action only where reassignment is possible.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ReassignmentActionTests(RendezvousServer server)
{
    private static string Today(int days = 0) => Arrange.Today(days);

    private async Task<JsonNode> PageAsync(string title, string ownerId, object? extra = null)
    {
        var body = JsonSerializerNode(new
        {
            slug = Arrange.Unique("pg"),
            title,
            ownerId,
            durationMinutes = 30,
            timeZone = "UTC",
            weeklyHours = Arrange.AlwaysOpen(),
        });
        if (extra is not null)
        {
            foreach (var (name, value) in JsonSerializerNode(extra))
            {
                body[name] = value?.DeepClone();
            }
        }

        return await server.PostJsonAsync("/api/v1/booking-pages", body);
    }

    private static JsonObject JsonSerializerNode(object value) => System.Text.Json.JsonSerializer.SerializeToNode(value)!.AsObject();

    private async Task<string> BookAsync(JsonNode page, int slot = 0)
    {
        var slug = page["slug"]!.GetValue<string>();
        var slots = await server.GetJsonAsync($"/api/v1/booking-pages/{slug}/slots?from={Today(1)}&to={Today(3)}&timeZone=UTC");
        var booking = await server.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new
        {
            start = slots["slots"]![slot]!["start"]!.GetValue<string>(),
            customer = new { name = "Ines Ineligible", email = $"{Arrange.Unique("noreassign")}@example.com" },
        });
        return booking["id"]!.GetValue<string>();
    }

    private async Task ExpectActionAsync(IPage page, string bookingId, bool shown)
    {
        await page.GotoAsync($"/app/bookings/{bookingId}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Booking details" })).ToBeAttachedAsync();
        var action = page.GetByRole(AriaRole.Link, new() { Name = "Reassign booking…" });
        if (shown)
        {
            await Expect(action).ToBeVisibleAsync();
        }
        else
        {
            await Expect(action).ToHaveCountAsync(0);
        }
    }

    [BrowserFact]
    public async Task The_reassign_action_is_not_shown_where_reassignment_is_unavailable()
    {
        var (hostId, _) = await Arrange.UserAsync(server, "Paula Plain");
        var (outlookHostId, _) = await Arrange.UserAsync(server, "Otto Office");
        await server.PostJsonAsync("/api/v1/calendar-connections", new { userId = outlookHostId, provider = "office365" });

        var plain = await PageAsync("Plain call", hostId);
        var office = await PageAsync("Office call", outlookHostId);
        var approval = await PageAsync("Approved call", hostId, new { requiresApproval = true });
        var group = await PageAsync("Group class", hostId, new { schedulingOption = "groupSession", seatsPerSlot = 5 });
        var package = await PageAsync("Three sessions", hostId, new { schedulingOption = "sessionPackage", sessionCount = 3 });

        var eligible = await BookAsync(plain);
        var canceled = await BookAsync(plain, slot: 2);
        await server.PostJsonAsync($"/api/v1/bookings/{canceled}/cancel", new { reason = "No longer needed" });
        var onOffice = await BookAsync(office);
        var requested = await BookAsync(approval);
        var inGroup = await BookAsync(group);
        var packageSlug = package["slug"]!.GetValue<string>();
        var packageSlots = await server.GetJsonAsync($"/api/v1/booking-pages/{packageSlug}/slots?from={Today(1)}&to={Today(3)}&timeZone=UTC");
        var packageBooking = await server.PostJsonAsync($"/api/v1/booking-pages/{packageSlug}/bookings", new
        {
            starts = new[] { 0, 2, 4 }.Select(i => packageSlots["slots"]![i]!["start"]!.GetValue<string>()).ToArray(),
            customer = new { name = "Ines Ineligible", email = $"{Arrange.Unique("noreassign")}@example.com" },
        });
        var session = packageBooking["id"]!.GetValue<string>();

        var page = await server.SignedInAsync();
        // The one that can be reassigned shows the action, so its absence elsewhere is not a page that failed to load.
        await ExpectActionAsync(page, eligible, shown: true);
        await ExpectActionAsync(page, canceled, shown: false);
        await ExpectActionAsync(page, onOffice, shown: false);
        await ExpectActionAsync(page, requested, shown: false);
        await ExpectActionAsync(page, inGroup, shown: false);
        await Expect(page.Locator(".pane")).ToContainTextAsync("Group class");
        await ExpectActionAsync(page, session, shown: false);
        await Expect(page.Locator(".pane")).ToContainTextAsync("Three sessions");
    }
}

using Microsoft.Playwright;
using Rendezvous.Browser.Tests.Infrastructure;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Rendezvous.Browser.Tests;

/// <summary>The administrators' outbox screen: a dead message with its error, replayed with one button.</summary>
[Collection(BrowserCollection.Name)]
public sealed class OutboxTests(RendezvousServer server)
{
    [BrowserFact]
    public async Task An_administrator_sees_a_dead_message_with_its_error_and_replays_it_until_it_is_done()
    {
        // What a message leaves after its last attempt failed; its booking is gone since, so the replay has nothing to send.
        var error = "notifications: NotificationDeliveryException: 1 email(s) not sent yet: confirmation to customer: 451 4.3.0 mailbox busy";
        await server.ExecuteAsync("""
            INSERT INTO outbox_messages (organization_id, type, payload, created_at, available_at, attempts, dead_at, last_error)
            SELECT o.id, 'booking.created', jsonb_build_object(
                    'type', 'booking.created', 'bookingId', @booking, 'organizationId', o.id, 'bookingPageId', @page,
                    'status', 'scheduled', 'detailedStatus', 'Scheduled by Customer', 'actor', jsonb_build_object('kind', 'customer'),
                    'reason', NULL, 'start', '2027-03-15T14:00:00Z', 'end', '2027-03-15T14:30:00Z', 'previousStart', NULL,
                    'previousEnd', NULL, 'occurredAt', '2027-03-01T08:00:00Z', 'quiet', false),
                now() - interval '11 hours', now(), 20, now(), @error
            FROM organizations o WHERE o.slug = @org
            """, ("booking", Guid.NewGuid().ToString()), ("page", Guid.NewGuid().ToString()), ("error", error), ("org", RendezvousServer.Organization));

        var page = await server.SignedInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Outbox" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Outbox", Exact = true })).ToBeVisibleAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "451 4.3.0 mailbox busy" });
        await Expect(row).ToContainTextAsync("dead");
        await Expect(row).ToContainTextAsync("20 attempts");
        await Screens.SaveAsync(page, "admin-outbox");

        var listed = (await server.GetJsonAsync("/api/v1/outbox/messages?state=dead")).AsArray();
        var id = listed.Single(m => m!["lastError"]!.GetValue<string>() == error)!["id"]!.GetValue<long>();
        await row.GetByRole(AriaRole.Button, new() { Name = $"Replay message {id}" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Message {id} will be tried again now.");

        // The server's own outbox worker picks it up.
        string state = "";
        for (var i = 0; i < 100 && state != "done"; i++)
        {
            state = (await server.GetJsonAsync($"/api/v1/outbox/messages/{id}"))["state"]!.GetValue<string>();
            if (state != "done")
            {
                await Task.Delay(100);
            }
        }

        state.ShouldBe("done");
    }
}

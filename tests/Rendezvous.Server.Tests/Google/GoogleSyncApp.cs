using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Data.Outbox;
using Rendezvous.Emulators.Google;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Google;

/// <summary>
/// The application with its Google settings pointed at a <see cref="GoogleCalendarEmulator"/> that shares the test's
/// clock, push notifications delivered into the in-memory server, and short retry pauses.
/// </summary>
public sealed class GoogleSyncApp : RendezvousApp
{
    public GoogleCalendarEmulator Google { get; private set; } = null!;

    protected override async Task StartServicesAsync() => Google = await GoogleCalendarEmulator.StartAsync(Clock);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rendezvous:Google:ClientId", GoogleCalendarEmulator.ClientId);
        builder.UseSetting("Rendezvous:Google:ClientSecret", GoogleCalendarEmulator.ClientSecret);
        builder.UseSetting("Rendezvous:Google:ApiBaseUrl", Google.ApiBaseUrl.ToString());
        builder.UseSetting("Rendezvous:Google:AuthorizationUrl", Google.AuthorizationUrl.ToString());
        builder.UseSetting("Rendezvous:Google:TokenUrl", Google.TokenUrl.ToString());
        builder.UseSetting("Rendezvous:Google:RevokeUrl", Google.RevokeUrl.ToString());
        builder.UseSetting("Rendezvous:Google:BaseDelay", "00:00:00.010");
        builder.UseSetting("Rendezvous:Google:MaxDelay", "00:00:02");
        builder.UseSetting("Rendezvous:Google:RequestTimeout", "00:00:02");
        builder.UseSetting("Rendezvous:CalendarSync:PushBaseUrl", "http://localhost/");
    }

    /// <summary>A host with a booking page and a Google connection made through the whole OAuth dance.</summary>
    public async Task<GoogleHost> HostAsync(bool cancelOnDelete, bool updateOnMove, Action<JsonObject>? page = null, string? name = null)
    {
        Google.NotificationHandler ??= Server.CreateHandler();
        var admin = Client();
        var userId = await Scenario.CreateUserAsync(admin, name ?? "Google Host", timeZone: "UTC");
        var client = Client(await Scenario.CreateKeyAsync(admin, userId));
        var slug = await Scenario.CreatePageAsync(client, page);
        var account = $"host.{Guid.NewGuid():N}@gmail.example";
        Google.AddAccount(account);
        var connection = await ConnectAsync(client, account, cancelOnDelete, updateOnMove);
        return new GoogleHost(userId, client, slug, connection["id"]!.GetValue<string>(), account);
    }

    /// <summary>
    /// Asks the server for the consent URL, plays the browser at the emulator's consent screen (which says yes for
    /// <paramref name="account"/>) and follows Google's redirect back to the server's callback.
    /// </summary>
    public async Task<JsonNode> ConnectAsync(HttpClient client, string account, bool cancelOnDelete, bool updateOnMove)
    {
        var authorize = await (await client.GetAsync(
            $"/api/v1/calendar-connections/google/authorize?cancelBookingOnDelete={cancelOnDelete}&updateBookingOnMove={updateOnMove}")).ExpectAsync(200);
        Google.ConsentingAccount = account;
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var consent = await browser.GetAsync(authorize["authorizationUrl"]!.GetValue<string>());
        ((int)consent.StatusCode).ShouldBe(302);
        var back = consent.Headers.Location!;
        back.AbsolutePath.ShouldBe("/api/v1/calendar-connections/google/callback");
        return await (await Anonymous().GetAsync(back.PathAndQuery)).ExpectAsync(200);
    }

    public Task<SyncReport> SyncAsync(string connectionId) =>
        WithScopeAsync(sp => sp.GetRequiredService<CalendarSyncEngine>().SyncAsync(Guid.Parse(connectionId), CancellationToken.None));

    public async Task DrainOutboxAsync()
    {
        await WithScopeAsync(async sp =>
        {
            var processor = sp.GetRequiredService<OutboxProcessor>();
            while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
            {
            }

            return 0;
        });
        var stuck = await WithDbAsync(db => db.OutboxMessages.Where(m => m.ProcessedAt == null && m.LastError != null).Select(m => m.LastError).ToListAsync());
        stuck.ShouldBeEmpty();
    }

    public async Task<JsonNode> BookingAsync(GoogleHost host, string id) => await (await host.Client.GetAsync($"/api/v1/bookings/{id}")).ExpectAsync(200);

    public async Task<JsonNode> ConnectionAsync(GoogleHost host) =>
        await (await host.Client.GetAsync($"/api/v1/calendar-connections/{host.ConnectionId}")).ExpectAsync(200);

    public async Task<string[]> OutboxTypesAsync(string bookingId) =>
        [.. (await WithDbAsync(db => db.OutboxMessages.OrderBy(m => m.Id).ToListAsync()))
            .Where(m => m.Payload.Contains(bookingId, StringComparison.Ordinal)).Select(m => m.Type)];

    public async Task<List<string>> SlotStartsAsync(string slug, string day)
    {
        var slots = await (await Anonymous().GetAsync($"/api/v1/booking-pages/{slug}/slots?from={day}&to={day}&timeZone=UTC")).ExpectAsync(200);
        return [.. slots["slots"]!.AsArray().Select(s => s!["start"]!.GetValue<string>())];
    }

    /// <summary>Books, writes the event out, and runs a first sync (which must see only our own write).</summary>
    public async Task<(string BookingId, string EventId)> BookAndSyncAsync(GoogleHost host, string start)
    {
        var booking = await Scenario.BookAsync(Anonymous(), host.Slug, start);
        var id = booking["id"]!.GetValue<string>();
        await DrainOutboxAsync();
        var eventId = "rdv" + Guid.Parse(id).ToString("N");
        Google.Event(host.Account, eventId).ShouldNotBeNull();
        var report = await SyncAsync(host.ConnectionId);
        report.Failed.ShouldBeFalse(report.Error);
        (report.Canceled + report.Rescheduled + report.Deferred).ShouldBe(0);
        return (id, eventId);
    }
}

/// <summary>A host whose Google account's primary calendar (id <see cref="Account"/>) is the booking calendar.</summary>
public sealed record GoogleHost(string UserId, HttpClient Client, string Slug, string ConnectionId, string Account);

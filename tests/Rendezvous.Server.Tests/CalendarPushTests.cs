using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests;

/// <summary>
/// The push receiver of a test service: <c>?validationToken=</c> is a handshake echoed back (as Graph does), otherwise
/// <c>?channel=&amp;token=</c> names one notified subscription.
/// </summary>
public sealed class QueryPushReceiver : ICalendarPushReceiver
{
    public string Name => "test";

    public Task<PushReceipt> ReceiveAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.Query["validationToken"].FirstOrDefault() is { } validation)
        {
            return Task.FromResult(new PushReceipt(Results.Text(validation, "text/plain"), []));
        }

        return Task.FromResult(new PushReceipt(Results.Accepted(),
            [new PushPing(request.Query["channel"].FirstOrDefault() ?? "", request.Query["token"].FirstOrDefault())]));
    }
}

public sealed class CalendarPushApp : RendezvousApp
{
    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<ICalendarPushReceiver, QueryPushReceiver>();
}

public sealed class CalendarPushTests(CalendarPushApp app) : IClassFixture<CalendarPushApp>
{
    private async Task<Guid> ConnectionWithSubscriptionAsync(string channel, string token)
    {
        var admin = app.Client();
        var userId = await Scenario.CreateUserAsync(admin, "Pushed Host");
        var created = await (await admin.PostJsonAsync("/api/v1/calendar-connections", new
        {
            userId, url = "http://127.0.0.1:5232/", username = "push", password = "pw", bookingCalendarUrl = "/push/work/",
        })).ExpectAsync(201);
        var id = Guid.Parse(created["id"]!.GetValue<string>());
        var later = app.Clock.GetCurrentInstant() + Duration.FromHours(1);
        await app.WithDbAsync(async db =>
        {
            await db.Database.ExecuteSqlAsync($"UPDATE calendar_connections SET next_sync_at = {later} WHERE id = {id}");
            return await db.Database.ExecuteSqlAsync($"""
                INSERT INTO calendar_sync_states (connection_id, calendar_url, push_channel_id, push_token)
                VALUES ({id}, 'http://127.0.0.1:5232/push/work/', {channel}, {token})
                """);
        });
        return id;
    }

    private Task<Instant> NextSyncAsync(Guid id) =>
        app.WithDbAsync(db => db.CalendarConnections.IgnoreQueryFilters().Where(c => c.Id == id).Select(c => c.NextSyncAt).SingleAsync());

    [DbFact]
    public async Task A_notification_with_the_subscriptions_secret_makes_its_connection_due_at_once()
    {
        var id = await ConnectionWithSubscriptionAsync("channel-1", "secret-1");
        var before = await NextSyncAsync(id);

        (await app.Anonymous().PostAsync("/api/v1/calendar-push/test?channel=channel-1&token=wrong", null)).StatusCode
            .ShouldBe(System.Net.HttpStatusCode.Accepted);
        (await NextSyncAsync(id)).ShouldBe(before);

        (await app.Anonymous().PostAsync("/api/v1/calendar-push/test?channel=channel-1&token=secret-1", null)).StatusCode
            .ShouldBe(System.Net.HttpStatusCode.Accepted);
        (await NextSyncAsync(id)).ShouldBe(app.Clock.GetCurrentInstant());
        var woken = await app.WithDbAsync(db => db.Database.SqlQuery<DateTime?>($"SELECT woken_at AS \"Value\" FROM calendar_connections WHERE id = {id}").SingleAsync());
        woken.ShouldNotBeNull();
    }

    [DbFact]
    public async Task The_services_handshake_is_answered_and_unknown_services_are_not_found()
    {
        var handshake = await app.Anonymous().PostAsync("/api/v1/calendar-push/test?validationToken=abc%20123", null);
        handshake.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        (await handshake.Content.ReadAsStringAsync()).ShouldBe("abc 123");

        (await app.Anonymous().PostAsync("/api/v1/calendar-push/nobody?channel=x&token=y", null)).StatusCode
            .ShouldBe(System.Net.HttpStatusCode.NotFound);
    }
}

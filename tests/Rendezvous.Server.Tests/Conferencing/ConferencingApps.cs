using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Notifications;

namespace Rendezvous.Server.Tests.Conferencing;

/// <summary>The application with its conferencing services pointed at the shared local fake.</summary>
public sealed class ConferencingApp : RendezvousApp
{
    public FakeConferencingServer Fake => FakeConferencingServer.Shared;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        Fake.Configure(builder);
    }

    /// <summary>
    /// Runs the outbox until nothing is due; returns the errors of messages left waiting for a retry (only those about
    /// <paramref name="bookingId"/> when given: other tests of the class share the outbox).
    /// </summary>
    public async Task<IReadOnlyList<string>> DrainOutboxAsync(string? bookingId = null)
    {
        await WithScopeAsync(async sp =>
        {
            var processor = sp.GetRequiredService<OutboxProcessor>();
            while (await processor.ProcessBatchAsync(50, CancellationToken.None) > 0)
            {
            }

            return 0;
        });
        var pending = await WithDbAsync(db => db.OutboxMessages.Where(m => m.ProcessedAt == null && m.LastError != null).ToListAsync());
        return [.. pending.Where(m => bookingId is null || m.Payload.Contains(bookingId, StringComparison.Ordinal)).Select(m => m.LastError!)];
    }
}

/// <summary>The application sending email through the real SMTP server, with conferencing pointed at the shared local fake.</summary>
public sealed class ConferencingEmailApp : EmailApp
{
    public FakeConferencingServer Fake => FakeConferencingServer.Shared;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        Fake.Configure(builder);
    }
}

/// <summary>Conferencing set-up through the public API.</summary>
public static class ConferencingScenario
{
    /// <summary>A unique account name in the fake for one user of one test.</summary>
    public static string FakeUser(string name) => $"{name.ToLowerInvariant()}.{Guid.NewGuid():N}@acme.example";

    /// <summary>Connects <paramref name="userId"/>'s account with tokens the fake issued; returns the access token.</summary>
    public static async Task<string> ConnectAsync(HttpClient admin, FakeConferencingServer fake, string userId, string provider, string fakeUser)
    {
        var fakeProvider = provider switch { "gotomeeting" => "goto", _ => provider };
        var (access, refresh) = fake.Issue(fakeProvider, fakeUser);
        await (await admin.PostJsonAsync("/api/v1/conferencing-accounts", new
        {
            userId,
            provider,
            accessToken = access,
            refreshToken = refresh,
            expiresInSeconds = 3600,
            externalUserId = provider == "zoom" ? FakeConferencingServer.ZoomUserId(fakeUser) : fakeUser,
        })).ExpectAsync(201);
        return access;
    }

    /// <summary>A page of <paramref name="owner"/>'s with a conferencing service (or a location); returns slug and id.</summary>
    public static async Task<(string Slug, string Id)> PageAsync(HttpClient admin, string owner, string? conferencing = null, string? location = null,
        Action<JsonObject>? customize = null)
    {
        var slug = await Scenario.CreatePageAsync(admin, p =>
        {
            p["ownerId"] = owner;
            if (conferencing is not null)
            {
                p["conferencing"] = new JsonObject { ["provider"] = conferencing };
            }

            if (location is not null)
            {
                p["location"] = location;
            }

            customize?.Invoke(p);
        });
        var pages = await (await admin.GetAsync("/api/v1/booking-pages")).ExpectAsync(200);
        return (slug, pages.AsArray().First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>());
    }
}

using System.Text.Json.Nodes;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>Builds users, pages and bookings through the public API, the way a client would.</summary>
public static class Scenario
{
    public static readonly object[] WeekdaysNineToFive =
    [
        new { day = "monday", start = "09:00", end = "17:00" },
        new { day = "tuesday", start = "09:00", end = "17:00" },
        new { day = "wednesday", start = "09:00", end = "17:00" },
        new { day = "thursday", start = "09:00", end = "17:00" },
        new { day = "friday", start = "09:00", end = "17:00" },
    ];

    public static async Task<string> CreateUserAsync(HttpClient admin, string name, string role = "member", string timeZone = "Europe/London")
    {
        var email = $"{name.ToLowerInvariant().Replace(' ', '.')}.{Guid.NewGuid():N}@acme.example";
        var body = await (await admin.PostJsonAsync("/api/v1/users", new { name, email, timeZone, role })).ExpectAsync(201);
        return body["id"]!.GetValue<string>();
    }

    public static async Task<string> CreateKeyAsync(HttpClient admin, string userId)
    {
        var body = await (await admin.PostJsonAsync($"/api/v1/users/{userId}/api-keys", new { name = "test" })).ExpectAsync(201);
        return body["key"]!.GetValue<string>();
    }

    public static async Task<string> MyIdAsync(HttpClient client, string email = "admin@acme.example")
    {
        var users = await (await client.GetAsync("/api/v1/users")).ExpectAsync(200);
        return users.AsArray().First(u => u!["email"]!.GetValue<string>() == email)!["id"]!.GetValue<string>();
    }

    /// <summary>Creates a page (Europe/London, weekdays 09-17, 30 minutes unless overridden) and returns its slug.</summary>
    public static async Task<string> CreatePageAsync(HttpClient client, Action<JsonObject>? customize = null)
    {
        var slug = "p-" + Guid.NewGuid().ToString("N")[..12];
        var body = new JsonObject
        {
            ["slug"] = slug,
            ["title"] = "Intro call",
            ["durationMinutes"] = 30,
            ["timeZone"] = "Europe/London",
            ["weeklyHours"] = System.Text.Json.JsonSerializer.SerializeToNode(WeekdaysNineToFive),
        };
        customize?.Invoke(body);
        await (await client.PostJsonAsync("/api/v1/booking-pages", body)).ExpectAsync(201);
        return slug;
    }

    public static object Customer(string name = "Grace Hopper", string? email = null) =>
        new { name, email = email ?? $"grace.{Guid.NewGuid():N}@example.com", timeZone = "America/New_York" };

    public static async Task<JsonNode> BookAsync(HttpClient client, string slug, string start, object? customer = null)
    {
        var response = await client.PostJsonAsync($"/api/v1/booking-pages/{slug}/bookings", new { start, customer = customer ?? Customer() });
        return await response.ExpectAsync(201);
    }
}

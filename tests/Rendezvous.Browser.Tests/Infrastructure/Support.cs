using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Npgsql;
using Rendezvous.Server.Tests.Infrastructure;

namespace Rendezvous.Browser.Tests.Infrastructure;

/// <summary>Reads the Maildir the test SMTP server writes, finding a test's messages by its own unique recipient.</summary>
public static class Mail
{
    /// <summary>Waits (up to 60 seconds) for a message to <paramref name="address"/> of our kind header <paramref name="kind"/>.</summary>
    public static async Task<MimePart> WaitForAsync(string address, string kind)
    {
        var dir = TestEnvironment.Maildir ?? throw new InvalidOperationException("RENDEZVOUS_TEST_MAILDIR is not set.");
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            foreach (var file in new[] { "new", "cur" }.Select(s => Path.Combine(dir, s)).Where(Directory.Exists).SelectMany(Directory.GetFiles))
            {
                string text;
                try
                {
                    text = await File.ReadAllTextAsync(file);
                }
                catch (IOException)
                {
                    continue;
                }

                if (!text.Contains(address, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var message = MimePart.Parse(text);
                var to = message.RawHeader("X-RcptTo") ?? "";
                if (to.Split(',').Any(r => string.Equals(r.Trim(), address, StringComparison.OrdinalIgnoreCase))
                    && message.Header("X-Rendezvous-Kind") == kind)
                {
                    return message;
                }
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"No {kind} email to {address} arrived within 60 seconds.");
    }

    /// <summary>The self-service link in an email's text.</summary>
    public static string ManageLink(MimePart message, string baseUrl) =>
        Regex.Match(message.Single("text/plain").Text, Regex.Escape(baseUrl) + "/manage/[A-Za-z0-9_-]+") is { Success: true } m
            ? m.Value
            : throw new InvalidOperationException("The email holds no /manage/ link.");
}

/// <summary>
/// Screenshots of the main screens. Always written next to the test results; written into docs/screenshots as well when
/// RENDEZVOUS_UPDATE_SCREENSHOTS=1 (scripts/screenshots), so an ordinary test run leaves the repository unchanged.
/// </summary>
public static class Screens
{
    public static async Task SaveAsync(IPage page, string name, bool fullPage = true)
    {
        var local = Path.Combine(AppContext.BaseDirectory, "screenshots", name + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(local)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = local, FullPage = fullPage });
        if (Environment.GetEnvironmentVariable("RENDEZVOUS_UPDATE_SCREENSHOTS") == "1")
        {
            var docs = Path.Combine(TestEnvironment.RepositoryRoot, "docs", "screenshots", name + ".png");
            Directory.CreateDirectory(Path.GetDirectoryName(docs)!);
            File.Copy(local, docs, overwrite: true);
        }
    }
}

/// <summary>Builds users, pages and bookings through the API, the way a client would.</summary>
public static class Arrange
{
    /// <summary>
    /// A slot picker's <paramref name="url"/> opened on <paramref name="day"/> (and the type <paramref name="typeId"/>): a whole
    /// free day, since the picker opens on the first day with times, which late in the evening is today's last hour.
    /// </summary>
    public static string OnDay(string url, string day, string? typeId = null)
    {
        var uri = new Uri(url);
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        query["date"] = day;
        if (typeId is not null)
        {
            query["type"] = typeId;
            query["tz"] = "UTC";
        }

        return uri.GetLeftPart(UriPartial.Path) + "?" + query;
    }

    /// <summary>
    /// The date <paramref name="days"/> from today, as the database (and so the server) sees it in UTC: tests do not read
    /// the system clock.
    /// </summary>
    public static string Today(int days = 0) =>
        DatabaseToday.Value.PlusDays(days).ToString("uuuu-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static readonly Lazy<NodaTime.LocalDate> DatabaseToday = new(() =>
    {
        var builder = new NpgsqlDataSourceBuilder(TestEnvironment.Database);
        builder.UseNodaTime();
        using var dataSource = builder.Build();
        using var command = dataSource.CreateCommand("SELECT (now() AT TIME ZONE 'UTC')::date");
        using var reader = command.ExecuteReader();
        reader.Read();
        return reader.GetFieldValue<NodaTime.LocalDate>(0);
    });

    /// <summary>Open every day, all day, in UTC, so a test finds free times whenever it runs.</summary>
    public static object[] AlwaysOpen() =>
        [.. new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" }.Select(d => new { day = d, start = "00:00", end = "24:00" })];

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public static async Task<(string Id, string Email)> UserAsync(RendezvousServer server, string name, string role = "member", string? password = null)
    {
        var email = $"{Unique(name.ToLowerInvariant().Replace(' ', '-'))}@browser.example";
        var user = await server.PostJsonAsync("/api/v1/users", new { name, email, timeZone = "Europe/London", role });
        var id = user["id"]!.GetValue<string>();
        if (password is not null)
        {
            await server.PostJsonAsync($"/api/v1/users/{id}/password", new { password }, "PUT");
        }

        return (id, email);
    }

    /// <summary>Creates a page (30 minutes, always open) and returns it.</summary>
    public static async Task<JsonNode> PageAsync(RendezvousServer server, string title, string? ownerId = null, object? questions = null,
        int durationMinutes = 30)
    {
        var slug = Unique("pg");
        return await server.PostJsonAsync("/api/v1/booking-pages", new
        {
            slug,
            title,
            description = "A short call to get to know each other.",
            location = "Video call (the link follows by email)",
            ownerId,
            durationMinutes,
            timeZone = "UTC",
            weeklyHours = AlwaysOpen(),
            questions,
        });
    }

    public static string PathOf(JsonNode page) => $"/{RendezvousServer.Organization}/{page["slug"]!.GetValue<string>()}";
}

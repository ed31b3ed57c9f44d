using Rendezvous.Calendars.CalDav;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>The Radicale CalDAV server that ./scripts/test starts (RENDEZVOUS_TEST_CALDAV_URL, _USER, _PASSWORD).</summary>
public static class Radicale
{
    public static string? Url => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_CALDAV_URL");

    public static string User => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_CALDAV_USER") ?? "";

    public static string Password => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_CALDAV_PASSWORD") ?? "";

    public static string? SkipReason =>
        TestDatabase.SkipReason ?? (Url is null && !TestDatabase.IsCi ? "RENDEZVOUS_TEST_CALDAV_URL is not set; ./scripts/test starts Radicale." : null);

    public static CalDavClient Client() => new(new CalDavClientOptions
    {
        ServerUri = new Uri(Url ?? throw new InvalidOperationException("RENDEZVOUS_TEST_CALDAV_URL is not set: Radicale is required (CI=true makes that a failure).")),
        UserName = User,
        Password = Password,
    });

    /// <summary>Creates a fresh calendar and returns its absolute URL.</summary>
    public static async Task<string> NewCalendarAsync(string name)
    {
        using var client = Client();
        var href = $"/{User}/{name}-{Guid.NewGuid():N}/";
        await client.CreateCalendarAsync(href, name, ["VEVENT"]);
        return new Uri(new Uri(Url!), href).ToString();
    }
}

/// <summary>A fact that needs PostgreSQL and Radicale: skipped locally without them, failed under CI=true.</summary>
public sealed class SyncFactAttribute : FactAttribute
{
    public SyncFactAttribute()
    {
        if (Radicale.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that needs PostgreSQL and Radicale: skipped locally without them, failed under CI=true.</summary>
public sealed class SyncTheoryAttribute : TheoryAttribute
{
    public SyncTheoryAttribute()
    {
        if (Radicale.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

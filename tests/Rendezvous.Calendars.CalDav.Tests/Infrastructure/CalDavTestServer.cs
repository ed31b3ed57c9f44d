namespace Rendezvous.Calendars.CalDav.Tests.Infrastructure;

/// <summary>
/// A real CalDAV server for tests. ./scripts/test starts a private Radicale (scripts/lib.sh ensure_radicale) and sets
/// RENDEZVOUS_TEST_CALDAV_URL, _USER and _PASSWORD. Without them the tests are skipped locally and fail under CI=true.
/// </summary>
public static class CalDavTestServer
{
    public const string UrlVariable = "RENDEZVOUS_TEST_CALDAV_URL";
    public const string UserVariable = "RENDEZVOUS_TEST_CALDAV_USER";
    public const string PasswordVariable = "RENDEZVOUS_TEST_CALDAV_PASSWORD";

    public static string? Url => Environment.GetEnvironmentVariable(UrlVariable);

    /// <summary>True under CI, where a missing service is a failure rather than a skip.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why CalDAV tests cannot run here, or null when they can.</summary>
    public static string? SkipReason => string.IsNullOrEmpty(Url) && !IsCi
        ? $"{UrlVariable} is not set; ./scripts/test sets it after starting Radicale (source scripts/lib.sh; ensure_radicale)."
        : null;

    public static Uri ServerUri => new(Required(UrlVariable));

    public static string UserName => Required(UserVariable);

    public static string Password => Required(PasswordVariable);

    public static CalDavClientOptions Options(string? password = null) => new()
    {
        ServerUri = ServerUri,
        UserName = UserName,
        Password = password ?? Password,
        RequestTimeout = TimeSpan.FromSeconds(20),
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
    };

    public static CalDavClient CreateClient(string? password = null) => new(Options(password));

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{variable} is not set: a CalDAV server is required for this test (CI=true turns a missing service into a failure).");
}

/// <summary>A fact that needs the CalDAV test server: skipped locally without it, failed under CI=true.</summary>
public sealed class CalDavFactAttribute : FactAttribute
{
    public CalDavFactAttribute()
    {
        if (CalDavTestServer.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>
/// Base for tests on the real server: each test gets its own new calendar (MKCALENDAR under the test user, unique
/// name), deleted again afterwards.
/// </summary>
public abstract class CalDavServerTest : IAsyncLifetime
{
    private CalDavClient? _client;
    private string? _calendarHref;

    protected CalDavClient Client => _client ?? throw new InvalidOperationException("InitializeAsync has not run.");

    /// <summary>The href of this test's calendar, ending in '/'.</summary>
    protected string CalendarHref => _calendarHref ?? throw new InvalidOperationException("InitializeAsync has not run.");

    protected string CalendarName { get; } = "t-" + Guid.NewGuid().ToString("N")[..12];

    public async Task InitializeAsync()
    {
        _client = CalDavTestServer.CreateClient();
        var principal = await _client.GetCurrentUserPrincipalAsync("/")
            ?? throw new InvalidOperationException("The test server names no current-user-principal.");
        var homes = await _client.GetCalendarHomeSetAsync(principal);
        homes.ShouldNotBeEmpty();
        _calendarHref = CalDavHref.Combine(homes[0], CalendarName) + "/";
        var outcome = await _client.CreateCalendarAsync(_calendarHref, "Test " + CalendarName, ["VEVENT"]);
        outcome.ShouldBe(CreateCalendarOutcome.Created);
    }

    public async Task DisposeAsync()
    {
        if (_client is null)
        {
            return;
        }

        if (_calendarHref is not null)
        {
            try
            {
                await _client.DeleteAsync(_calendarHref);
            }
            catch (CalDavException)
            {
                // Cleanup only; a leftover calendar does not affect other tests, which all use fresh names.
            }
        }

        _client.Dispose();
    }

    protected string ObjectHref(string name) => CalDavHref.Combine(CalendarHref, name);
}

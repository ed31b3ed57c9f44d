using System.Reflection;
using Rendezvous.Calendars.CalDav;
using Xunit.Sdk;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>A real CalDAV server started by ./scripts/test, with the test user's credentials.</summary>
public sealed record CalDavServer(string Name, string Url, string User, string Password)
{
    public CalDavClient Client() => new(new CalDavClientOptions { ServerUri = new Uri(Url), UserName = User, Password = Password });

    /// <summary>Creates a fresh calendar in the test user's calendar home (found the way a client finds it) and returns its absolute URL.</summary>
    public async Task<string> NewCalendarAsync(string name)
    {
        using var client = Client();
        var principal = await client.GetCurrentUserPrincipalAsync("/")
            ?? throw new InvalidOperationException($"{Name} names no current-user-principal.");
        var home = (await client.GetCalendarHomeSetAsync(principal)).FirstOrDefault()
            ?? throw new InvalidOperationException($"{Name} names no calendar-home-set for {principal}.");
        var href = (home.EndsWith('/') ? home : home + "/") + $"{name}-{Guid.NewGuid():N}/";
        await client.CreateCalendarAsync(href, name, ["VEVENT"]);
        return new Uri(new Uri(Url), href).ToString();
    }

    public override string ToString() => Name;
}

/// <summary>
/// The CalDAV servers the end-to-end sync tests run against, each started by scripts/lib.sh: Radicale
/// (RENDEZVOUS_TEST_CALDAV_URL, _USER, _PASSWORD), Xandikos (RENDEZVOUS_TEST_XANDIKOS_*) and Cyrus (RENDEZVOUS_TEST_CYRUS_*).
/// </summary>
public static class CalDavServers
{
    public const string Radicale = "radicale";
    public const string Xandikos = "xandikos";
    public const string Cyrus = "cyrus";

    private static string Prefix(string name) => name == Radicale ? "RENDEZVOUS_TEST_CALDAV" : "RENDEZVOUS_TEST_" + name.ToUpperInvariant();

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>Why tests on <paramref name="name"/> cannot run here (skipped locally; under CI=true they run and fail).</summary>
    public static string? SkipReason(string name) =>
        TestDatabase.SkipReason ?? (Variable(Prefix(name) + "_URL") is null && !TestDatabase.IsCi
            ? $"{Prefix(name)}_URL is not set; ./scripts/test starts {name}."
            : null);

    /// <summary>
    /// The server, as its test user; with <paramref name="secondAccount"/>, as a second user where the server has one
    /// (Cyrus keeps a UID unique across one user's calendars, so two panel members need two accounts there).
    /// </summary>
    public static CalDavServer Get(string name, bool secondAccount = false)
    {
        var prefix = Prefix(name);
        var url = Variable(prefix + "_URL")
            ?? throw new InvalidOperationException($"{prefix}_URL is not set: the {name} CalDAV server is required (CI=true makes that a failure).");
        return secondAccount && Variable(prefix + "_USER2") is { } second
            ? new CalDavServer(name, url, second, Variable(prefix + "_PASSWORD2") ?? "")
            : new CalDavServer(name, url, Variable(prefix + "_USER") ?? "", Variable(prefix + "_PASSWORD") ?? "");
    }
}

/// <summary>
/// One row of a theory for one CalDAV server: the test gets the server's name. The row is skipped locally when that server
/// is not set up, and runs (and fails) under CI=true.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class CalDavServerDataAttribute : DataAttribute
{
    private readonly string _server;

    public CalDavServerDataAttribute(string server)
    {
        _server = server;
        if (CalDavServers.SkipReason(server) is { } reason)
        {
            Skip = reason;
        }
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[_server]];
}

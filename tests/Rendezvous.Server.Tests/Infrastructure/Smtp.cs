using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>
/// The real SMTP server that ./scripts/test starts (aiosmtpd, RENDEZVOUS_TEST_SMTP_HOST/_PORT) and the Maildir it
/// delivers into (RENDEZVOUS_TEST_MAILDIR). The Maildir is shared by every test, so tests find their messages by their
/// own unique recipient addresses.
/// </summary>
public static class SmtpServer
{
    private static readonly ConcurrentDictionary<string, MimePart> Parsed = new();

    public static string? Host => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_SMTP_HOST");

    public static int Port => int.TryParse(Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_SMTP_PORT"), out var p) ? p : 2525;

    public static string? Maildir => Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_MAILDIR");

    public static string? SkipReason =>
        TestDatabase.SkipReason ?? ((Host is null || Maildir is null) && !TestDatabase.IsCi
            ? "RENDEZVOUS_TEST_SMTP_HOST and RENDEZVOUS_TEST_MAILDIR are not set; ./scripts/test starts the SMTP server."
            : null);

    public static string RequireHost() =>
        Host ?? throw new InvalidOperationException("RENDEZVOUS_TEST_SMTP_HOST is not set: the SMTP server is required (CI=true makes that a failure).");

    /// <summary>Every delivered message whose envelope recipients include <paramref name="address"/>, oldest first.</summary>
    public static IReadOnlyList<MimePart> MessagesTo(string address)
    {
        var dir = Maildir ?? throw new InvalidOperationException("RENDEZVOUS_TEST_MAILDIR is not set.");
        var files = new[] { "new", "cur" }
            .Select(sub => Path.Combine(dir, sub))
            .Where(Directory.Exists)
            .SelectMany(d => new DirectoryInfo(d).GetFiles())
            .OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal);
        var result = new List<MimePart>();
        foreach (var file in files)
        {
            // Maildir file names are unique and their content never changes, so each file is parsed once.
            var key = file.Name.Split(':')[0];
            if (!Parsed.TryGetValue(key, out var message))
            {
                string text;
                try
                {
                    text = File.ReadAllText(file.FullName);
                }
                catch (IOException)
                {
                    continue;
                }
                catch (UnauthorizedAccessException)
                {
                    continue;
                }

                message = MimePart.Parse(text);
                Parsed[key] = message;
            }

            var to = message.RawHeader("X-RcptTo") ?? "";
            if (to.Split(',').Any(r => string.Equals(r.Trim(), address, StringComparison.OrdinalIgnoreCase)))
            {
                result.Add(message);
            }
        }

        return result;
    }

    /// <summary>Messages to <paramref name="address"/> of one kind (our X-Rendezvous-Kind header).</summary>
    public static IReadOnlyList<MimePart> MessagesTo(string address, string kind) =>
        [.. MessagesTo(address).Where(m => m.Header("X-Rendezvous-Kind") == kind)];

    /// <summary>A port on loopback where nothing listens (bound and released at once).</summary>
    public static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>A fact that needs PostgreSQL and the SMTP server: skipped locally without them, failed under CI=true.</summary>
public sealed class SmtpFactAttribute : FactAttribute
{
    public SmtpFactAttribute()
    {
        if (SmtpServer.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

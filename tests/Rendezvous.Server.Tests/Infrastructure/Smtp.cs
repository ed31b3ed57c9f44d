using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

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

    /// <summary>The listener that requires STARTTLS (./scripts/lib.sh ensure_smtp_tls), delivering into the same Maildir.</summary>
    public static int StartTlsPort => int.TryParse(Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_SMTP_STARTTLS_PORT"), out var p) ? p
        : throw new InvalidOperationException("RENDEZVOUS_TEST_SMTP_STARTTLS_PORT is not set: ./scripts/test starts the TLS listeners.");

    /// <summary>The listener that speaks TLS from the first byte, as port 465 does.</summary>
    public static int SmtpsPort => int.TryParse(Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_SMTPS_PORT"), out var p) ? p
        : throw new InvalidOperationException("RENDEZVOUS_TEST_SMTPS_PORT is not set: ./scripts/test starts the TLS listeners.");

    /// <summary>The self-signed certificate both TLS listeners present.</summary>
    public static X509Certificate2 Certificate() =>
        X509Certificate2.CreateFromPem(File.ReadAllText(Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_SMTP_CERT")
            ?? throw new InvalidOperationException("RENDEZVOUS_TEST_SMTP_CERT is not set: ./scripts/test makes the certificate.")));

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

    /// <summary>The Maildir file of the one message delivered to <paramref name="address"/>, exactly as the server stored it.</summary>
    public static string FileOf(string address)
    {
        var dir = Maildir ?? throw new InvalidOperationException("RENDEZVOUS_TEST_MAILDIR is not set.");
        return new[] { "new", "cur" }.Select(sub => Path.Combine(dir, sub)).Where(Directory.Exists).SelectMany(Directory.GetFiles)
            .Single(f => File.ReadLines(f).TakeWhile(l => l.Length > 0)
                .Any(l => l.StartsWith("X-RcptTo:", StringComparison.OrdinalIgnoreCase) && l.Contains(address, StringComparison.OrdinalIgnoreCase)));
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

/// <summary>A fact that needs the TLS listeners of the SMTP server (ensure_smtp_tls) as well.</summary>
public sealed class SmtpTlsFactAttribute : FactAttribute
{
    public SmtpTlsFactAttribute()
    {
        if (SmtpServer.SkipReason is { } reason)
        {
            Skip = reason;
        }
        else if (Environment.GetEnvironmentVariable("RENDEZVOUS_TEST_SMTP_CERT") is null && !TestDatabase.IsCi)
        {
            Skip = "RENDEZVOUS_TEST_SMTP_CERT is not set; ./scripts/test starts the TLS listeners of the SMTP server.";
        }
    }
}

using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NodaTime;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Data.Outbox;
using Rendezvous.Server.Features.Spaces.Channels;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Spaces.Channels;

/// <summary>
/// The servers the space channel tests talk to, started by ./scripts/test: the scheduling Cyrus (ensure_cyrus_scheduling:
/// RENDEZVOUS_TEST_CYRUS_SCHED_URL, _PASSWORD, _ORGANIZER), Dovecot (ensure_dovecot: RENDEZVOUS_TEST_IMAP_HOST, _PORT,
/// _PASSWORD) and the SMTP server. Every test uses its own room user or mailbox, so tests can run side by side.
/// </summary>
public static class SpaceChannelServers
{
    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    public static string? CyrusSkipReason => TestDatabase.SkipReason
        ?? (Variable("RENDEZVOUS_TEST_CYRUS_SCHED_URL") is null && !TestDatabase.IsCi
            ? "RENDEZVOUS_TEST_CYRUS_SCHED_URL is not set; ./scripts/test starts the scheduling Cyrus (ensure_cyrus_scheduling)."
            : null);

    public static string? ImapSkipReason => SmtpServer.SkipReason
        ?? (Variable("RENDEZVOUS_TEST_IMAP_HOST") is null && !TestDatabase.IsCi
            ? "RENDEZVOUS_TEST_IMAP_HOST is not set; ./scripts/test starts Dovecot (ensure_dovecot)."
            : null);

    public static string CyrusUrl => Variable("RENDEZVOUS_TEST_CYRUS_SCHED_URL")
        ?? throw new InvalidOperationException("RENDEZVOUS_TEST_CYRUS_SCHED_URL is not set: the scheduling Cyrus is required (CI=true makes that a failure).");

    public static string CyrusPassword => Variable("RENDEZVOUS_TEST_CYRUS_SCHED_PASSWORD") ?? "";

    public static string Organizer => Variable("RENDEZVOUS_TEST_CYRUS_SCHED_ORGANIZER") ?? "rdv-organizer";

    public static CalDavClient CyrusClient(string user) =>
        new(new CalDavClientOptions { ServerUri = new Uri(CyrusUrl), UserName = user, Password = CyrusPassword });

    public static string ImapHost => Variable("RENDEZVOUS_TEST_IMAP_HOST")
        ?? throw new InvalidOperationException("RENDEZVOUS_TEST_IMAP_HOST is not set: Dovecot is required (CI=true makes that a failure).");

    public static int ImapPort => int.TryParse(Variable("RENDEZVOUS_TEST_IMAP_PORT"), out var p) ? p : 1143;

    public static string ImapPassword => Variable("RENDEZVOUS_TEST_IMAP_PASSWORD") ?? "";

    /// <summary>Delivers <paramref name="message"/> into the INBOX of <paramref name="user"/>, as the mail server's delivery would.</summary>
    public static async Task DeliverAsync(string user, MimeMessage message)
    {
        using var imap = new ImapClient();
        await imap.ConnectAsync(ImapHost, ImapPort, SecureSocketOptions.None);
        await imap.AuthenticateAsync(user, ImapPassword);
        await imap.Inbox.AppendAsync(new MailKit.AppendRequest(message));
        await imap.DisconnectAsync(true);
    }

    /// <summary>A random hour on a random day of 2027-2028 after the tests' "now", so runs never meet each other's events.</summary>
    public static Instant SomeFutureHour() =>
        RendezvousApp.Start + Duration.FromDays(30 + Random.Shared.Next(600)) + Duration.FromHours(Random.Shared.Next(10));

    public static string Utc(Instant i) => i.ToString("uuuuMMdd'T'HHmmss'Z'", null);
}

/// <summary>A fact that needs PostgreSQL and the scheduling Cyrus: skipped locally without them, failed under CI=true.</summary>
public sealed class CyrusSchedulingFactAttribute : FactAttribute
{
    public CyrusSchedulingFactAttribute()
    {
        if (SpaceChannelServers.CyrusSkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A fact that needs PostgreSQL, Dovecot and the SMTP server: skipped locally without them, failed under CI=true.</summary>
public sealed class ImapFactAttribute : FactAttribute
{
    public ImapFactAttribute()
    {
        if (SpaceChannelServers.ImapSkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>The application sending mail through the real SMTP server, with the space channel poller driven by the tests.</summary>
public sealed class SpaceChannelApp : RendezvousApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rendezvous:SpaceChannels:Enabled", "false");
        builder.UseSetting("Rendezvous:Smtp:Host", SmtpServer.Host ?? "127.0.0.1");
        builder.UseSetting("Rendezvous:Smtp:Port", SmtpServer.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Rendezvous:Smtp:From", "no-reply@rendezvous.test");
        builder.UseSetting("Rendezvous:Smtp:ReconnectDelay", "00:00:00");
    }

    public Task<int> PollAsync(string spaceId) =>
        WithScopeAsync(sp => sp.GetRequiredService<SpaceChannelPoller>().PollAsync(Guid.Parse(spaceId), null, CancellationToken.None));

    /// <summary>Runs the outbox until nothing is due and asserts nothing failed.</summary>
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
        var stuck = await WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            db.OutboxMessages.Where(m => m.ProcessedAt == null && m.LastError != null).Select(m => m.LastError)));
        stuck.ShouldBeEmpty();
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Data;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>
/// Looks at one space's channel: reads what arrived, hands it to the intake, records the polling state, and on
/// failure records the error and backs off (capped) so one broken mailbox never slows the others.
/// </summary>
public sealed partial class SpaceChannelPoller(RendezvousDbContext db, SpaceInvitationIntake intake, SpaceChannelSecrets secrets,
    GraphSpaceChannel graph, IClock clock, IOptions<SpaceChannelOptions> options, ILogger<SpaceChannelPoller> logger, IHttpClientFactory http)
{
    /// <summary>
    /// Polls the channel of <paramref name="spaceId"/> once. With <paramref name="idle"/> (the background worker), an IMAP
    /// channel then waits in IDLE up to that long and reads again as soon as mail arrives.
    /// </summary>
    /// <returns>How many invitations or cancels were handed on; 0 when the space has no channel.</returns>
    public async Task<int> PollAsync(Guid spaceId, TimeSpan? idle, CancellationToken ct)
    {
        var channel = await db.SpaceChannels.AcrossTenants().SingleOrDefaultAsync(c => c.SpaceId == spaceId, ct);
        if (channel is null)
        {
            return 0;
        }

        // Everything this poll reads and writes belongs to the channel's organization.
        db.TenantId = channel.OrganizationId;

        var o = options.Value;
        var handed = 0;
        try
        {
            var password = secrets.Unprotect(channel.ProtectedSecret);
            switch (channel.Kind)
            {
                case SpaceChannel.CalDav:
                    handed = await CalDavSpaceChannel.PollAsync(http, channel, password, intake, o.RequestTimeout, ct);
                    break;
                case SpaceChannel.Imip:
                    handed = await PollImapAsync(channel, password, idle, ct);
                    break;
                case SpaceChannel.Graph:
                    handed = await graph.PollAsync(channel, password, intake, o.RequestTimeout, ct);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown space channel kind '{channel.Kind}'.");
            }

            var now = clock.GetCurrentInstant();
            channel.LastError = null;
            channel.ConsecutiveFailures = 0;
            channel.LastPolledAt = now;
            channel.NextPollAt = now + Duration.FromTimeSpan(o.Interval);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var now = clock.GetCurrentInstant();
            channel.ConsecutiveFailures++;
            channel.LastError = $"{ex.GetType().Name}: {ex.Message}";
            channel.LastPolledAt = now;
            var wait = Math.Min(o.Interval.TotalSeconds * Math.Pow(2, Math.Min(channel.ConsecutiveFailures, 20)), o.MaxBackoff.TotalSeconds);
            channel.NextPollAt = now + Duration.FromSeconds(wait);
            LogPollFailed(logger, ex, spaceId, channel.Kind, channel.ConsecutiveFailures);
        }

        channel.UpdatedAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
        return handed;
    }

    private async Task<int> PollImapAsync(SpaceChannel channel, string password, TimeSpan? idle, CancellationToken ct)
    {
        await using var mailbox = await ImapSpaceMailbox.OpenAsync(channel, password, options.Value.RequestTimeout, ct);
        var handed = await HandOnAsync(channel, await mailbox.ReadNewAsync(ct), ct);
        if (idle is { } window && window > TimeSpan.Zero && mailbox.SupportsIdle)
        {
            // The session stays open: mail that arrives now is read within milliseconds, not at the next poll.
            var deadline = clock.GetCurrentInstant() + Duration.FromTimeSpan(window);
            while (clock.GetCurrentInstant() < deadline && !ct.IsCancellationRequested)
            {
                var left = (deadline - clock.GetCurrentInstant()).ToTimeSpan();
                if (!await mailbox.WaitForMailAsync(left, ct))
                {
                    break;
                }

                handed += await HandOnAsync(channel, await mailbox.ReadNewAsync(ct), ct);
                // What was read is saved at once, so a crash later in the session does not hand it on twice.
                await db.SaveChangesAsync(ct);
            }
        }

        return handed;
    }

    private async Task<int> HandOnAsync(SpaceChannel channel, IReadOnlyList<MailedInvitation> mail, CancellationToken ct)
    {
        var handed = 0;
        foreach (var m in mail)
        {
            if (await intake.AcceptAsync(channel, m.Invitation, m.MessageId, ct) is IntakeOutcome.Received or IntakeOutcome.Canceled)
            {
                handed++;
            }
        }

        return handed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling the channel of space {SpaceId} ({Kind}) failed, {Failures} time(s) in a row")]
    private static partial void LogPollFailed(ILogger logger, Exception exception, Guid spaceId, string kind, int failures);
}

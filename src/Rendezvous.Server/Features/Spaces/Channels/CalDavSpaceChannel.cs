using Rendezvous.Calendars.CalDav;
using Rendezvous.Calendars.CalDav.Scheduling;
using Rendezvous.Data;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>
/// A space that is a calendar user on an RFC 6638 server: each poll reads what changed in its calendar
/// (sync-collection) and hands invitations and cancels to the intake; answers are PARTSTAT changes on its copies.
/// </summary>
public static class CalDavSpaceChannel
{
    /// <summary>
    /// A client for the space's server, through the calendar connections' IHttpClientFactory client (one pool of
    /// connections, and the outbound address check every user-given URL gets).
    /// </summary>
    public static CalDavClient ClientFor(IHttpClientFactory http, SpaceChannel channel, string password, TimeSpan timeout) =>
        new(http.CreateClient(Rendezvous.Server.Features.CalendarSync.CalendarProviders.CalDavClientName), new CalDavClientOptions
        {
            ServerUri = new Uri(channel.ServerUrl ?? throw new InvalidOperationException("A CalDAV space channel needs a server URL.")),
            UserName = channel.UserName,
            Password = password,
            RequestTimeout = timeout,
        });

    public static CalDavSchedulingAgent AgentFor(CalDavClient client, SpaceChannel channel) => new(client, channel.Address);

    /// <summary>One look at the space's calendar; returns how many invitations or cancels were handed on.</summary>
    public static async Task<int> PollAsync(IHttpClientFactory http, SpaceChannel channel, string password, SpaceInvitationIntake intake, TimeSpan timeout, CancellationToken ct)
    {
        using var client = ClientFor(http, channel, password, timeout);
        var agent = AgentFor(client, channel);
        channel.CalendarHref ??= await agent.FindCalendarAsync(ct);
        var changes = await agent.ChangesAsync(channel.CalendarHref, channel.SyncToken, ct);
        var handed = 0;
        foreach (var item in changes.Items.OrderBy(i => i.Invitation.Sequence))
        {
            if (await intake.AcceptAsync(channel, item.Invitation, item.Href, ct) is IntakeOutcome.Received or IntakeOutcome.Canceled)
            {
                handed++;
            }
        }

        foreach (var href in changes.Removed)
        {
            if (await intake.RemovedAsync(channel, href, ct) == IntakeOutcome.Canceled)
            {
                handed++;
            }
        }

        channel.SyncToken = changes.SyncToken;
        return handed;
    }
}

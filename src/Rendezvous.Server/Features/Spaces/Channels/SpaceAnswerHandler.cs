using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using NodaTime;
using Rendezvous.Calendars.Scheduling;
using Rendezvous.Data;
using Rendezvous.Data.Spaces;
using Rendezvous.Data.Outbox;
using Rendezvous.Integrations.Notifications.Email;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>
/// Sends a space's answer back through the channel its request came from, each time the spaces core writes
/// <c>space.request.answered</c>: a PARTSTAT change on the space's copy (CalDAV; the server sends the iTIP REPLY), or
/// an iMIP REPLY by SMTP from the space's address, or accept / decline / tentativelyAccept on a room mailbox's copy
/// through Microsoft Graph. For requests made in Rendezvous on a space whose calendar Rendezvous
/// reaches (CalDAV), it writes the event into the space's calendar or removes it. At-least-once safe: an answer
/// already sent for this SEQUENCE is not sent again.
/// </summary>
public sealed partial class SpaceAnswerHandler(IServiceScopeFactory scopes, IClock clock, ILogger<SpaceAnswerHandler> logger) : IOutboxHandler
{
    private static readonly JsonSerializerOptions Json = Rendezvous.Data.Serialization.JsonDefaults.Options;

    public string Name => "space-channels";

    public bool Handles(string type) => type == SpaceRequestAnswered.Type;

    public async Task HandleAsync(OutboxEnvelope message, CancellationToken cancellationToken)
    {
        var answer = JsonSerializer.Deserialize<SpaceRequestAnswered>(message.Payload, Json)
            ?? throw new JsonException("Empty space.request.answered payload.");
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<RendezvousDbContext>();
        var channel = await db.SpaceChannels.AcrossTenants().AsNoTracking().SingleOrDefaultAsync(c => c.SpaceId == answer.SpaceId, cancellationToken);
        if (channel is null)
        {
            // The space has no channel Rendezvous can answer through (no resource calendar, or one managed elsewhere).
            LogNoChannel(logger, answer.SpaceId, answer.RequestId);
            return;
        }

        if (answer.Channel == SpaceChannels.Api)
        {
            await UpdateResourceCalendarAsync(services, db, channel, answer, cancellationToken);
            return;
        }

        var item = await db.SpaceChannelItems.AcrossTenants()
            .SingleOrDefaultAsync(i => i.SpaceId == answer.SpaceId && i.Uid == answer.Uid, cancellationToken);
        if (item is null)
        {
            LogUnknownInvitation(logger, answer.Uid, answer.SpaceId);
            return;
        }

        if (item.AnsweredPartstat == answer.Partstat && item.AnsweredSequence >= answer.Sequence)
        {
            return;
        }

        if (item.Cancelled)
        {
            // The organizer canceled; there is nobody waiting for an answer.
            return;
        }

        var secret = services.GetRequiredService<SpaceChannelSecrets>().Unprotect(channel.ProtectedSecret);
        var timeout = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SpaceChannelOptions>>().Value.RequestTimeout;
        switch (item.Channel)
        {
            case SpaceChannel.CalDav:
                using (var client = CalDavSpaceChannel.ClientFor(services.GetRequiredService<IHttpClientFactory>(), channel, secret, timeout))
                {
                    var href = item.Reference ?? answer.ChannelReference
                        ?? throw new InvalidOperationException($"The invitation {answer.Uid} has no href to answer on.");
                    await CalDavSpaceChannel.AgentFor(client, channel).AnswerAsync(href, answer.Partstat, cancellationToken);
                }

                break;
            case SpaceChannel.Imip:
                await SendImipReplyAsync(services, db, channel, item, answer, cancellationToken);
                break;
            case SpaceChannel.Graph:
            {
                var eventId = item.Reference ?? answer.ChannelReference
                    ?? throw new InvalidOperationException($"The invitation {answer.Uid} has no Graph event id to answer on.");
                var reason = await db.Set<SpaceRequest>().AcrossTenants().Where(r => r.Id == answer.RequestId).Select(r => r.LastReason)
                    .SingleOrDefaultAsync(cancellationToken);
                // False: the organizer deleted the meeting meanwhile, and its cancel reaches the intake on the next poll.
                await services.GetRequiredService<GraphSpaceChannel>().AnswerAsync(channel, secret, eventId, answer.Partstat, reason, timeout, cancellationToken);
                break;
            }

            default:
                // No transport for this channel kind here: retrying would not help.
                LogNoTransport(logger, item.Channel, answer.SpaceId);
                return;
        }

        item.AnsweredPartstat = answer.Partstat;
        item.AnsweredSequence = answer.Sequence;
        item.AnsweredAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task SendImipReplyAsync(IServiceProvider services, RendezvousDbContext db, SpaceChannel channel, SpaceChannelItem item,
        SpaceRequestAnswered answer, CancellationToken ct)
    {
        var spaceName = await db.Set<Space>().AcrossTenants().Where(s => s.Id == channel.SpaceId).Select(s => s.Name).SingleOrDefaultAsync(ct);
        var invitation = new ITipInvitation("REQUEST", item.Uid, item.Sequence, item.OrganizerEmail, item.OrganizerName, item.Summary,
            item.StartAt, item.EndAt, answer.Partstat);
        var now = clock.GetCurrentInstant();
        var reply = ITipMessages.BuildReply(invitation, channel.Address, spaceName, answer.Partstat, now);
        var verb = answer.Partstat switch
        {
            ITipMessages.Accepted => "Accepted",
            ITipMessages.Declined => "Declined",
            _ => "Tentative",
        };
        var domain = EmailAddresses.DomainOf(channel.Address);
        var message = new EmailMessage
        {
            From = new MailboxAddress(spaceName, channel.Address),
            To = [new MailboxAddress(item.OrganizerName, item.OrganizerEmail)],
            Subject = $"{verb}: {item.Summary}",
            Date = now,
            // One id per answer version: a retry of the same answer is recognisable as such by the receiving side.
            MessageId = $"space-reply-{answer.RequestId:N}-{answer.Sequence}-{answer.Partstat.ToLowerInvariant()}@{domain}",
            TextBody = $"{spaceName ?? channel.Address} has {verb.ToLowerInvariant()} \"{item.Summary}\".",
            Calendar = new CalendarPart(reply, "REPLY"),
        };
        await services.GetRequiredService<IMailTransport>().SendAsync(message, ct);
    }

    private static async Task UpdateResourceCalendarAsync(IServiceProvider services, RendezvousDbContext db, SpaceChannel channel,
        SpaceRequestAnswered answer, CancellationToken ct)
    {
        if (channel.Kind != SpaceChannel.CalDav || (!answer.WriteToResourceCalendar && !answer.RemoveFromResourceCalendar))
        {
            return;
        }

        var request = await db.Set<SpaceRequest>().AcrossTenants().AsNoTracking().SingleOrDefaultAsync(r => r.Id == answer.RequestId, ct);
        var secret = services.GetRequiredService<SpaceChannelSecrets>().Unprotect(channel.ProtectedSecret);
        var timeout = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SpaceChannelOptions>>().Value.RequestTimeout;
        using var client = CalDavSpaceChannel.ClientFor(services.GetRequiredService<IHttpClientFactory>(), channel, secret, timeout);
        var agent = CalDavSpaceChannel.AgentFor(client, channel);
        var calendar = channel.CalendarHref ?? await agent.FindCalendarAsync(ct);
        if (answer.RemoveFromResourceCalendar || request is null)
        {
            await agent.RemoveOwnEventAsync(calendar, answer.Uid, ct);
        }
        else
        {
            await agent.WriteOwnEventAsync(calendar, request.Uid, request.Summary, request.Start, request.End,
                services.GetRequiredService<IClock>().GetCurrentInstant(), ct);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Space {SpaceId} has no channel; the answer to request {RequestId} stays in Rendezvous")]
    private static partial void LogNoChannel(ILogger logger, Guid spaceId, Guid requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answers through {Channel} cannot be sent from here; space {SpaceId} keeps its answer in Rendezvous")]
    private static partial void LogNoTransport(ILogger logger, string channel, Guid spaceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No invitation {Uid} was read for space {SpaceId}; nothing to answer")]
    private static partial void LogUnknownInvitation(ILogger logger, string uid, Guid spaceId);
}

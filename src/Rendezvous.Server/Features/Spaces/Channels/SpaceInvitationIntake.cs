using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Calendars.Scheduling;
using Rendezvous.Data;
using Rendezvous.Domain;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>What became of one invitation a channel read.</summary>
public enum IntakeOutcome
{
    /// <summary>A new invitation, or a new version of one (higher SEQUENCE, other time): handed to the spaces core.</summary>
    Received,

    /// <summary>The organizer canceled: the request was canceled.</summary>
    Canceled,

    /// <summary>Seen before as it is (our own answer changes the space's copy, and sync reports it again).</summary>
    Unchanged,

    /// <summary>Over before now, or a cancel for something never seen.</summary>
    Ignored,
}

/// <summary>
/// Where every channel hands what it read: remembers the invitation as the channel needs it to answer (organizer, UID,
/// SEQUENCE, reference) and passes it to <see cref="ISpaceInvitations"/>, once per version.
/// </summary>
public sealed partial class SpaceInvitationIntake(RendezvousDbContext db, ISpaceInvitations invitations, IClock clock,
    ILogger<SpaceInvitationIntake> logger)
{
    public async Task<IntakeOutcome> AcceptAsync(SpaceChannel channel, ITipInvitation invitation, string? reference, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var item = await db.SpaceChannelItems.AcrossTenants()
            .SingleOrDefaultAsync(i => i.SpaceId == channel.SpaceId && i.Uid == invitation.Uid, ct);
        if (invitation.IsCancel)
        {
            if (item is null || item.Cancelled)
            {
                return IntakeOutcome.Ignored;
            }

            item.Cancelled = true;
            await db.SaveChangesAsync(ct);
            await invitations.CancelFromCalendarAsync(channel.SpaceId, invitation.Uid, ct);
            return IntakeOutcome.Canceled;
        }

        if (item is null && invitation.End <= now)
        {
            // A first look at a calendar or mailbox finds old invitations: nothing to book or answer any more.
            return IntakeOutcome.Ignored;
        }

        if (item is not null && !item.Cancelled && item.Sequence >= invitation.Sequence
            && item.StartAt == invitation.Start && item.EndAt == invitation.End && item.Reference == reference)
        {
            return IntakeOutcome.Unchanged;
        }

        if (item is not null && !item.Cancelled && (item.Sequence > invitation.Sequence
            || (item.Sequence == invitation.Sequence && item.Stamp is { } taken && invitation.Stamp is { } stamp && stamp < taken)))
        {
            // An older version arriving late (mail can overtake mail): the newer one stands. Within one SEQUENCE the
            // DTSTAMP tells which is newer, since some organizers' clients move an event without raising SEQUENCE.
            return IntakeOutcome.Unchanged;
        }

        if (item is null)
        {
            item = new SpaceChannelItem
            {
                SpaceId = channel.SpaceId,
                Uid = invitation.Uid,
                OrganizationId = channel.OrganizationId,
                Channel = channel.Kind,
                OrganizerEmail = invitation.OrganizerEmail,
                Sequence = invitation.Sequence,
                Stamp = invitation.Stamp,
                Summary = invitation.Summary,
                StartAt = invitation.Start,
                EndAt = invitation.End,
                ReceivedAt = now,
            };
            db.SpaceChannelItems.Add(item);
        }

        item.Channel = channel.Kind;
        item.Reference = reference;
        item.OrganizerEmail = invitation.OrganizerEmail;
        item.OrganizerName = invitation.OrganizerName;
        item.Sequence = invitation.Sequence;
        item.Stamp = invitation.Stamp ?? item.Stamp;
        item.Summary = invitation.Summary;
        item.StartAt = invitation.Start;
        item.EndAt = invitation.End;
        item.Cancelled = false;
        item.ReceivedAt = now;
        await db.SaveChangesAsync(ct);

        try
        {
            await invitations.ReceiveAsync(new SpaceInvitation(
                channel.OrganizationId.Value, channel.SpaceId, invitation.Uid, invitation.Sequence,
                invitation.OrganizerEmail, invitation.OrganizerName, invitation.Summary,
                invitation.Start, invitation.End, channel.Kind, reference, invitation.Stamp), ct);
        }
        catch (DomainException ex)
        {
            // The spaces core refuses this invitation for good (invalid times, a deleted space): logged and skipped, so
            // it never blocks the invitations behind it. It stays remembered, and a new version is looked at again.
            LogRefused(logger, ex, invitation.Uid, channel.SpaceId, ex.Message);
            return IntakeOutcome.Ignored;
        }

        return IntakeOutcome.Received;
    }

    /// <summary>
    /// The space's copy at <paramref name="reference"/> disappeared (DAViCal deletes cancelled copies itself), unless
    /// the space had declined it (Exchange takes declined meetings out of the room's calendar).
    /// </summary>
    public async Task<IntakeOutcome> RemovedAsync(SpaceChannel channel, string reference, CancellationToken ct)
    {
        var item = await db.SpaceChannelItems.AcrossTenants()
            .FirstOrDefaultAsync(i => i.SpaceId == channel.SpaceId && i.Reference == reference && !i.Cancelled, ct);
        if (item is null)
        {
            return IntakeOutcome.Ignored;
        }

        if (item.AnsweredPartstat == ITipMessages.Declined)
        {
            // Our own decline took it out of the calendar (Exchange moves declined meetings out of a room's calendar).
            return IntakeOutcome.Ignored;
        }

        item.Cancelled = true;
        await db.SaveChangesAsync(ct);
        await invitations.CancelFromCalendarAsync(channel.SpaceId, item.Uid, ct);
        return IntakeOutcome.Canceled;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Invitation {Uid} for space {SpaceId} was refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, Exception exception, string uid, Guid spaceId, string reason);
}

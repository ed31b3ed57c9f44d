using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Graph.Models;
using NodaTime;
using Rendezvous.Calendars.Graph;
using Rendezvous.Calendars.Scheduling;
using Rendezvous.Data;
using Rendezvous.Server.Features.CalendarSync.Microsoft;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>
/// A space that is a Microsoft 365 room mailbox, reached through Microsoft Graph with the application's own credentials
/// (client credentials: <c>userName</c> is the app's client id, the secret its client secret, <c>tenant</c> the
/// directory). Each poll reads what changed in the room's calendar with calendarView delta; every meeting the room is
/// invited to (a copy the room did not organize) is handed to the intake, a canceled copy as a cancel. Answers are
/// accept, decline or tentativelyAccept on the room's copy, so the organizer gets the usual Outlook answer.
/// </summary>
public sealed class GraphSpaceChannel(MicrosoftHttpHandlerFactory handlers, GraphOptions options, IClock clock)
{
    /// <summary>How far ahead the room's calendar is read; meetings further out are seen when the window is read anew.</summary>
    public static readonly Duration Horizon = Duration.FromDays(400);

    private readonly Lazy<HttpMessageHandler> _handler = new(handlers.Create);
    private readonly ConcurrentDictionary<string, GraphAppTokenSource> _tokens = new(StringComparer.Ordinal);

    /// <summary>A Graph client for the channel's application; its tokens are shared by every client of the same app.</summary>
    public GraphCalendarClient ClientFor(SpaceChannel channel, string secret, TimeSpan timeout)
    {
        var graphBase = channel.ServerUrl is { Length: > 0 } url ? new Uri(url) : options.GraphBaseUrl;
        var tenant = channel.Tenant ?? throw new InvalidOperationException("A Graph space channel needs a tenant.");
        var key = string.Join('\n', options.AuthorityHost, tenant, channel.UserName, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(secret))));
        var tokens = _tokens.GetOrAdd(key, _ => new GraphAppTokenSource(options.AuthorityHost, tenant, channel.UserName, secret,
            new GraphCalendarProvider.MsalHttp(_handler.Value, timeout)));
        var channelOptions = new GraphOptions
        {
            AuthorityHost = options.AuthorityHost,
            GraphBaseUrl = graphBase,
            RequestTimeout = timeout < options.RequestTimeout ? timeout : options.RequestTimeout,
            MaxRetries = options.MaxRetries,
            RetryBaseDelay = options.RetryBaseDelay,
            MaxRetryDelay = options.MaxRetryDelay,
            PageSize = options.PageSize,
        };
        return new GraphCalendarClient(_handler.Value, channelOptions, tokens);
    }

    /// <summary>One look at the room's calendar; returns how many invitations or cancels were handed on.</summary>
    public async Task<int> PollAsync(SpaceChannel channel, string secret, SpaceInvitationIntake intake, TimeSpan timeout, CancellationToken ct)
    {
        using var client = ClientFor(channel, secret, timeout);
        var now = clock.GetCurrentInstant();
        var from = (now - Duration.FromDays(1)).ToDateTimeOffset();
        var to = (now + Horizon).ToDateTimeOffset();
        var delta = await client.UserCalendarViewDeltaAsync(channel.Address, channel.SyncToken, from, to, ct);
        if (delta.CursorInvalid)
        {
            // The service forgot the link (410): read the window again; versions already seen are recognised and skipped.
            delta = await client.UserCalendarViewDeltaAsync(channel.Address, null, from, to, ct);
        }

        var handed = 0;
        var invitations = delta.Changed
            .Select(e => (Event: e, Invitation: Read(e, channel.Address)))
            .Where(x => x.Invitation is not null)
            // calendarView lists a series occurrence by occurrence: the series is one invitation, answered on its master.
            .GroupBy(x => ReferenceOf(x.Event))
            .Select(g => (Reference: g.Key, g.OrderBy(x => x.Invitation!.Start).First().Invitation!))
            .OrderBy(x => x.Item2.Stamp);
        foreach (var (reference, invitation) in invitations)
        {
            if (await intake.AcceptAsync(channel, invitation, reference, ct) is IntakeOutcome.Received or IntakeOutcome.Canceled)
            {
                handed++;
            }
        }

        foreach (var id in delta.Removed)
        {
            if (await intake.RemovedAsync(channel, id, ct) == IntakeOutcome.Canceled)
            {
                handed++;
            }
        }

        channel.SyncToken = delta.DeltaLink;
        return handed;
    }

    /// <summary>Sends the room's answer on its copy; false when the copy is gone.</summary>
    public async Task<bool> AnswerAsync(SpaceChannel channel, string secret, string eventId, string partstat, string? comment, TimeSpan timeout,
        CancellationToken ct)
    {
        using var client = ClientFor(channel, secret, timeout);
        return await client.RespondAsync(channel.Address, eventId, partstat, comment, ct);
    }

    private static string ReferenceOf(Event e) =>
        e.Type is EventType.Occurrence or EventType.Exception && e.SeriesMasterId is { Length: > 0 } master ? master : e.Id!;

    /// <summary>
    /// The invitation a room's calendar item stands for, or null for the room's own items (not an invitation) and items
    /// without an organizer or times. Times come in UTC (the client asks with <c>Prefer: outlook.timezone="UTC"</c>); the
    /// event's lastModifiedDateTime plays the part of DTSTAMP, since Graph shows no SEQUENCE.
    /// </summary>
    public static ITipInvitation? Read(Event e, string roomAddress)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.IsOrganizer == true || e.Organizer?.EmailAddress?.Address is not { Length: > 0 } organizer
            || ITipMessages.SameAddress(organizer, roomAddress) || Utc(e.Start) is not { } start || Utc(e.End) is not { } end)
        {
            return null;
        }

        var uid = e.Type is EventType.Occurrence or EventType.Exception && e.SeriesMasterId is { Length: > 0 } master
            ? "graph-series-" + master
            : e.ICalUId ?? e.Id!;
        var partstat = e.ResponseStatus?.Response switch
        {
            ResponseType.Accepted => ITipMessages.Accepted,
            ResponseType.Declined => ITipMessages.Declined,
            ResponseType.TentativelyAccepted => ITipMessages.Tentative,
            _ => "NEEDS-ACTION",
        };
        return new ITipInvitation(
            e.IsCancelled == true ? "CANCEL" : "REQUEST",
            uid,
            0,
            organizer,
            e.Organizer.EmailAddress.Name is { Length: > 0 } name && name != organizer ? name : null,
            string.IsNullOrWhiteSpace(e.Subject) ? "(no title)" : e.Subject,
            start,
            end,
            partstat,
            e.LastModifiedDateTime is { } modified ? Instant.FromDateTimeOffset(modified) : null);
    }

    private static Instant? Utc(DateTimeTimeZone? value)
    {
        if (value?.DateTime is not { } text
            || !DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
        {
            return null;
        }

        return Instant.FromDateTimeUtc(DateTime.SpecifyKind(at, DateTimeKind.Utc));
    }
}

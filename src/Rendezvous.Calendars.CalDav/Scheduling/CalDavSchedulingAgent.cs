using System.Xml.Linq;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Calendars.Scheduling;

namespace Rendezvous.Calendars.CalDav.Scheduling;

/// <summary>One scheduled event found in the attendee's calendar: where it is, and what it says to the attendee.</summary>
public sealed record ScheduledItem(string Href, ITipInvitation Invitation);

/// <summary>What changed in the attendee's calendar since the last look.</summary>
/// <param name="Items">Invitations new or changed since <c>syncToken</c> (or all of them on a first look).</param>
/// <param name="Removed">Hrefs that are gone (the attendee's copy was deleted).</param>
/// <param name="Skipped">Objects that are no invitation to this attendee or could not be read.</param>
/// <param name="SyncToken">Where to start next time.</param>
public sealed record SchedulingChanges(IReadOnlyList<ScheduledItem> Items, IReadOnlyList<string> Removed, int Skipped, string? SyncToken);

/// <summary>
/// Acts for a calendar user that is a space on an RFC 6638 server (Cyrus, DAViCal): the server delivers each organizer's
/// iTIP REQUEST and CANCEL into the space's schedule inbox and its default calendar, and turns a change of the space's
/// PARTSTAT on its copy into an iTIP REPLY to the organizer. Neither server has auto-accept, so Rendezvous is the
/// space's calendar client. It watches the calendar rather than the inbox: an organizer's update that keeps SEQUENCE
/// adds no inbox item (Cyrus), and the calendar copy is also the one to answer on.
/// </summary>
public sealed class CalDavSchedulingAgent(CalDavClient client, string spaceEmail)
{
    private static readonly XName ScheduleDefaultCalendar = DavNames.CalDav + "schedule-default-calendar-URL";
    private static readonly XName ScheduleInbox = DavNames.CalDav + "schedule-inbox-URL";
    private static readonly XName ScheduleOutbox = DavNames.CalDav + "schedule-outbox-URL";
    private static readonly XName CalendarUserAddressSet = DavNames.CalDav + "calendar-user-address-set";

    public string SpaceEmail { get; } = spaceEmail;

    /// <summary>
    /// The calendar the server files invitations into: the inbox's <c>schedule-default-calendar-URL</c>, else the first
    /// VEVENT calendar of the space's calendar home that is neither its inbox nor its outbox.
    /// </summary>
    /// <exception cref="CalDavProtocolException">The server names no principal, home or calendar for this user.</exception>
    public async Task<string> FindCalendarAsync(CancellationToken cancellationToken)
    {
        var principal = await client.GetCurrentUserPrincipalAsync("/", cancellationToken)
            ?? throw new CalDavProtocolException("The server names no current-user-principal for the space's account.");
        var props = await client.PropfindAsync(principal, PropfindDepth.Zero, [ScheduleInbox, ScheduleOutbox, CalendarUserAddressSet], cancellationToken);
        var principalProps = props.Responses.FirstOrDefault();
        var inbox = principalProps?.FindHrefs(ScheduleInbox).FirstOrDefault();
        var outbox = principalProps?.FindHrefs(ScheduleOutbox).FirstOrDefault();
        if (inbox is not null)
        {
            var inboxProps = await client.PropfindAsync(inbox, PropfindDepth.Zero, [ScheduleDefaultCalendar], cancellationToken);
            if (inboxProps.Responses.FirstOrDefault()?.FindHrefs(ScheduleDefaultCalendar).FirstOrDefault() is { } defaultCalendar)
            {
                return defaultCalendar;
            }
        }

        var home = (await client.GetCalendarHomeSetAsync(principal, cancellationToken)).FirstOrDefault()
            ?? throw new CalDavProtocolException("The server names no calendar-home-set for the space's account.");
        var calendars = await client.ListCalendarsAsync(home, cancellationToken);
        return calendars.FirstOrDefault(c => c.Supports("VEVENT")
                && !CalDavHref.Comparer.Equals(c.Href, inbox ?? "") && !CalDavHref.Comparer.Equals(c.Href, outbox ?? ""))?.Href
            ?? throw new CalDavProtocolException("The space's account has no calendar for events.");
    }

    /// <summary>
    /// Reads what changed in <paramref name="calendarHref"/> since <paramref name="syncToken"/> (RFC 6578). A token the
    /// server no longer knows starts over from scratch; the caller sees every invitation again and must treat them
    /// idempotently (the spaces core keys requests by UID and SEQUENCE).
    /// </summary>
    public async Task<SchedulingChanges> ChangesAsync(string calendarHref, string? syncToken, CancellationToken cancellationToken)
    {
        var sync = await client.SyncCollectionAsync(calendarHref, syncToken, cancellationToken);
        if (sync.Outcome == SyncOutcome.InvalidToken)
        {
            sync = await client.SyncCollectionAsync(calendarHref, null, cancellationToken);
        }

        if (sync.Outcome != SyncOutcome.Completed)
        {
            throw new CalDavProtocolException($"The space's calendar {calendarHref} does not support sync-collection ({sync.Outcome}).");
        }

        var items = new List<ScheduledItem>();
        var skipped = 0;
        if (sync.Changed.Count > 0)
        {
            var fetched = await client.MultigetAsync(calendarHref, sync.Changed.Select(c => c.Href), cancellationToken);
            foreach (var o in fetched.Objects)
            {
                ITipInvitation? invitation = null;
                try
                {
                    invitation = ITipMessages.Read(o.CalendarData, SpaceEmail);
                }
                catch (ICalendarParseException)
                {
                    // Counted, not fatal: one unreadable object must not stop the space's other invitations.
                }

                if (invitation is null)
                {
                    skipped++;
                }
                else
                {
                    items.Add(new ScheduledItem(o.Href, invitation));
                }
            }
        }

        return new SchedulingChanges(items, sync.Deleted, skipped, sync.SyncToken);
    }

    /// <summary>
    /// Answers the invitation at <paramref name="href"/> as the space: sets the space's PARTSTAT on its copy with a
    /// conditional PUT, which the server turns into an iTIP REPLY to the organizer. When the organizer changed the
    /// event in between (412), it reads the new copy and answers that one.
    /// </summary>
    /// <returns>False when the copy is gone (the organizer deleted the event) or no longer lists the space.</returns>
    public async Task<bool> AnswerAsync(string href, string partstat, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var current = await client.GetObjectAsync(href, cancellationToken);
            if (current is null)
            {
                return false;
            }

            var answered = ITipMessages.WithPartstat(current.CalendarData, SpaceEmail, partstat);
            if (answered is null)
            {
                return false;
            }

            var etag = current.ETag ?? await client.GetETagAsync(href, cancellationToken);
            if (etag is null)
            {
                return false;
            }

            var result = await client.UpdateObjectAsync(href, answered, etag, cancellationToken);
            switch (result.Outcome)
            {
                case WriteOutcome.Updated or WriteOutcome.Created:
                    return true;
                case WriteOutcome.NotFound:
                    return false;
            }
        }

        throw new CalDavTransientException($"The space's copy at {href} kept changing while it was being answered.", TransientReason.ServerError, "PUT", null, 412, null, null);
    }

    /// <summary>
    /// Puts an event the space itself holds (a request made in Rendezvous and confirmed) into its calendar. The space is
    /// the organizer and the only attendee is none, so the server schedules nothing; it only shows the space as busy.
    /// </summary>
    public async Task WriteOwnEventAsync(string calendarHref, string uid, string summary, NodaTime.Instant start, NodaTime.Instant end,
        NodaTime.Instant now, CancellationToken cancellationToken)
    {
        var vevent = new CalendarComponent("VEVENT")
            .AddText("UID", uid)
            .AddProperty(new CalendarProperty("DTSTAMP", Utc(now)))
            .AddProperty(new CalendarProperty("DTSTART", Utc(start)))
            .AddProperty(new CalendarProperty("DTEND", Utc(end)))
            .AddText("SUMMARY", summary);
        var calendar = new CalendarComponent("VCALENDAR")
            .AddProperty(new CalendarProperty("PRODID", CalendarDocument.DefaultProductId))
            .AddProperty(new CalendarProperty("VERSION", "2.0"))
            .AddComponent(vevent);
        var href = OwnEventHref(calendarHref, uid);
        var text = ICalendarWriter.Write(calendar);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var created = await client.CreateObjectAsync(href, text, cancellationToken);
            if (created.Succeeded)
            {
                return;
            }

            // Written before (a retried outbox message): replace it with what the request says now.
            if (await client.GetETagAsync(href, cancellationToken) is { } etag
                && (await client.UpdateObjectAsync(href, text, etag, cancellationToken)).Succeeded)
            {
                return;
            }
        }

        throw new CalDavTransientException($"The space's event at {href} kept changing while it was being written.", TransientReason.ServerError, "PUT", null, 412, null, null);
    }

    /// <summary>Removes an event <see cref="WriteOwnEventAsync"/> wrote; nothing happens when it is already gone.</summary>
    public async Task RemoveOwnEventAsync(string calendarHref, string uid, CancellationToken cancellationToken) =>
        await client.DeleteAsync(OwnEventHref(calendarHref, uid), null, cancellationToken);

    private static string OwnEventHref(string calendarHref, string uid) =>
        (calendarHref.EndsWith('/') ? calendarHref : calendarHref + "/")
        + "rendezvous-space-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(uid)))[..32].ToLowerInvariant() + ".ics";

    private static string Utc(NodaTime.Instant instant) =>
        NodaTime.Text.InstantPattern.CreateWithInvariantCulture("uuuuMMdd'T'HHmmss'Z'").Format(instant);
}

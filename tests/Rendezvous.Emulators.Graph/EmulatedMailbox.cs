namespace Rendezvous.Emulators.Graph;

/// <summary>
/// One user's mailbox: calendars and events. The methods that change events stand for what the user does in Outlook;
/// each change bumps the mailbox's change number (so delta queries see it) and notifies subscriptions.
/// </summary>
public sealed class EmulatedMailbox
{
    private readonly GraphEmulator _emulator;
    private readonly List<EmulatedCalendar> _calendars = [];

    internal EmulatedMailbox(GraphEmulator emulator, string email, string userId)
    {
        _emulator = emulator;
        Email = email;
        UserId = userId;
        DefaultCalendarId = AddCalendar("Calendar", isDefault: true);
    }

    public string Email { get; }

    /// <summary>The user's object id (oid); also the uid of the account in OAuth client_info.</summary>
    public string UserId { get; }

    public string DefaultCalendarId { get; }

    internal object Gate => _emulator.Gate;

    internal Dictionary<string, EmulatedEvent> Events { get; } = new(StringComparer.Ordinal);

    /// <summary>Raised with every change; delta tokens hold the value they were issued at.</summary>
    internal long ChangeNumber { get; set; }

    /// <summary>Bumped to make every delta token issued so far invalid (410).</summary>
    internal int TokenEpoch { get; set; }

    internal string InvalidTokenCode { get; set; } = "syncStateNotFound";

    public IReadOnlyList<EmulatedCalendar> Calendars
    {
        get
        {
            lock (Gate)
            {
                return [.. _calendars];
            }
        }
    }

    public string AddCalendar(string name, bool isDefault = false, bool canEdit = true)
    {
        lock (Gate)
        {
            var id = "AAMk" + GraphEmulator.NewId();
            _calendars.Add(new EmulatedCalendar(id, name, canEdit, isDefault));
            return id;
        }
    }

    internal EmulatedCalendar? FindCalendar(string id) => _calendars.FirstOrDefault(c => c.Id == id);

    /// <summary>The events of a calendar as stored (series masters, not occurrences), deleted ones left out.</summary>
    public IReadOnlyList<EmulatedEvent> EventsIn(string calendarId)
    {
        lock (Gate)
        {
            return [.. Events.Values.Where(e => !e.Deleted && e.CalendarId == calendarId).Select(e => e.Copy())];
        }
    }

    public EmulatedEvent? Find(string eventId)
    {
        lock (Gate)
        {
            return Events.TryGetValue(eventId, out var e) && !e.Deleted ? e.Copy() : null;
        }
    }

    /// <summary>The user creates an event in Outlook.</summary>
    public async Task<string> CreateAsync(string calendarId, string subject, DateTimeOffset start, DateTimeOffset end, string showAs = "busy",
        EmulatedRecurrence? recurrence = null, bool isAllDay = false)
    {
        EmulatedEvent created;
        lock (Gate)
        {
            created = new EmulatedEvent
            {
                Id = "AAMkEv" + GraphEmulator.NewId(),
                CalendarId = calendarId,
                Subject = subject,
                Start = start,
                End = end,
                ShowAs = showAs,
                Recurrence = recurrence,
                IsAllDay = isAllDay,
            };
            Touch(created);
            Events[created.Id] = created;
        }

        await _emulator.NotifyAsync(this, created, "created");
        return created.Id;
    }

    /// <summary>The user drags an event to another time in Outlook.</summary>
    public Task MoveAsync(string eventId, DateTimeOffset start, DateTimeOffset end) => ChangeAsync(eventId, e =>
    {
        e.Start = start;
        e.End = end;
    });

    /// <summary>The user edits an event in Outlook (title, notes, free/busy...).</summary>
    public async Task ChangeAsync(string eventId, Action<EmulatedEvent> change)
    {
        EmulatedEvent changed;
        lock (Gate)
        {
            changed = Events[eventId];
            change(changed);
            Touch(changed);
        }

        await _emulator.NotifyAsync(this, changed, "updated");
        await _emulator.DeliverToAttendeesAsync(this, changed);
    }

    /// <summary>The user deletes an event in Outlook (an organizer's meeting: the attendees get its cancellation).</summary>
    public async Task DeleteAsync(string eventId)
    {
        EmulatedEvent deleted;
        lock (Gate)
        {
            deleted = Events[eventId];
            deleted.Deleted = true;
            Touch(deleted);
        }

        await _emulator.NotifyAsync(this, deleted, "deleted");
        await _emulator.DeliverToAttendeesAsync(this, deleted);
    }

    /// <summary>
    /// The user sends a meeting from Outlook with <paramref name="rooms"/> as resource attendees: the event is saved in
    /// this mailbox's calendar and a copy (not yet answered) appears in each room's calendar, as Exchange delivers it.
    /// </summary>
    public async Task<string> InviteAsync(string subject, DateTimeOffset start, DateTimeOffset end, params string[] rooms)
    {
        EmulatedEvent created;
        lock (Gate)
        {
            created = new EmulatedEvent
            {
                Id = "AAMkEv" + GraphEmulator.NewId(),
                CalendarId = DefaultCalendarId,
                Subject = subject,
                Start = start,
                End = end,
                ICalUId = "040000008200E00074C5B7101A82E00800000000" + GraphEmulator.NewId(),
            };
            created.Attendees.AddRange(rooms.Select(r => new EmulatedAttendee(r, r, "resource")));
            Touch(created);
            Events[created.Id] = created;
        }

        await _emulator.NotifyAsync(this, created, "created");
        await _emulator.DeliverToAttendeesAsync(this, created);
        return created.Id;
    }

    /// <summary>
    /// The organizer cancels a meeting (https://learn.microsoft.com/en-us/graph/api/event-cancel): it leaves their
    /// calendar and each attendee's copy is marked canceled.
    /// </summary>
    public Task CancelMeetingAsync(string eventId) => DeleteAsync(eventId);

    /// <summary>The copy of the organizer's meeting <paramref name="iCalUId"/> in this mailbox, deleted ones included.</summary>
    public EmulatedEvent? CopyOf(string iCalUId)
    {
        lock (Gate)
        {
            return Events.Values.FirstOrDefault(e => !e.IsOrganizer && e.ICalUId == iCalUId)?.Copy();
        }
    }

    /// <summary>How this mailbox's meeting shows <paramref name="attendee"/>'s answer (none, accepted, declined...).</summary>
    public string AttendeeResponse(string eventId, string attendee)
    {
        lock (Gate)
        {
            return Events[eventId].Attendees.First(a => string.Equals(a.Address, attendee, StringComparison.OrdinalIgnoreCase)).Response;
        }
    }

    /// <summary>Makes every delta link issued so far invalid: the next use answers 410 with <paramref name="code"/>.</summary>
    public void InvalidateDeltaTokens(string code = "syncStateNotFound")
    {
        lock (Gate)
        {
            TokenEpoch++;
            InvalidTokenCode = code;
        }
    }

    /// <summary>Records a change: a new change key and change number.</summary>
    internal void Touch(EmulatedEvent e)
    {
        ChangeNumber++;
        e.LastModified = _emulator.Now();
        e.Sequence = ChangeNumber;
        e.ChangeKey = Convert.ToBase64String(Guid.NewGuid().ToByteArray())[..22];
    }
}

using System.Security.Cryptography;

namespace Rendezvous.Emulators.Ews;

/// <summary>A calendar item as the emulated mailbox keeps it.</summary>
public sealed class EmulatedItem
{
    public required string Id { get; init; }

    public required string FolderId { get; set; }

    public string ChangeKey { get; set; } = EwsEmulator.NewChangeKey();

    public string Uid { get; set; } = Guid.NewGuid().ToString("N");

    public string Subject { get; set; } = "";

    public string? Body { get; set; }

    public string? Location { get; set; }

    public DateTimeOffset Start { get; set; }

    public DateTimeOffset End { get; set; }

    public bool IsAllDay { get; set; }

    /// <summary>LegacyFreeBusyStatus: Free, Tentative, Busy, OOF, WorkingElsewhere, NoData.</summary>
    public string FreeBusy { get; set; } = "Busy";

    public bool IsCancelled { get; set; }

    /// <summary>A daily series of this many occurrences (0: a single item). Enough to test server-side expansion.</summary>
    public int DailyOccurrences { get; set; }

    /// <summary>Named string extended properties (PublicStrings), by name.</summary>
    public Dictionary<string, string> ExtendedProperties { get; } = new(StringComparer.Ordinal);

    public List<(string Name, string Email)> RequiredAttendees { get; } = [];

    /// <summary>The change-log sequence at which the item was created, and last changed.</summary>
    internal long CreatedSeq { get; set; }

    internal long LastSeq { get; set; }

    public bool Deleted { get; internal set; }
}

/// <summary>A folder of a mailbox.</summary>
public sealed record EmulatedFolder(string Id, string Name, bool IsDefaultCalendar);

/// <summary>
/// One mailbox: its calendar folders and items, and the operations a test performs "in Outlook" (every change gets a
/// new ChangeKey and enters the change log that SyncFolderItems reads).
/// </summary>
public sealed class EmulatedMailbox
{
    private readonly EwsEmulator _emulator;

    internal EmulatedMailbox(EwsEmulator emulator, string email, string password)
    {
        _emulator = emulator;
        Email = email;
        Password = password;
        var calendar = new EmulatedFolder("AAMk" + EwsEmulator.NewId(), "Calendar", true);
        Folders.Add(calendar);
    }

    public string Email { get; }

    public string Password { get; set; }

    /// <summary>Set: this account may impersonate other mailboxes (the ApplicationImpersonation role).</summary>
    public bool MayImpersonate { get; set; }

    public List<EmulatedFolder> Folders { get; } = [];

    public EmulatedFolder DefaultCalendar => Folders[0];

    internal Dictionary<string, EmulatedItem> Items { get; } = new(StringComparer.Ordinal);

    public EmulatedFolder AddCalendar(string name)
    {
        var folder = new EmulatedFolder("AAMk" + EwsEmulator.NewId(), name, false);
        lock (_emulator.Gate)
        {
            Folders.Add(folder);
        }

        return folder;
    }

    /// <summary>The live items of a folder (a snapshot).</summary>
    public IReadOnlyList<EmulatedItem> ItemsIn(string folderId)
    {
        lock (_emulator.Gate)
        {
            return [.. Items.Values.Where(i => !i.Deleted && i.FolderId == folderId)];
        }
    }

    public EmulatedItem? Find(string id)
    {
        lock (_emulator.Gate)
        {
            return Items.TryGetValue(id, out var item) && !item.Deleted ? item : null;
        }
    }

    /// <summary>Adds an item as the user would in Outlook.</summary>
    public EmulatedItem AddItem(string folderId, string subject, DateTimeOffset start, DateTimeOffset end, string freeBusy = "Busy", int dailyOccurrences = 0)
    {
        lock (_emulator.Gate)
        {
            var item = new EmulatedItem
            {
                Id = "AAMkItem" + EwsEmulator.NewId(), FolderId = folderId, Subject = subject, Start = start, End = end, FreeBusy = freeBusy,
                DailyOccurrences = dailyOccurrences,
            };
            Insert(item);
            return item;
        }
    }

    internal void Insert(EmulatedItem item)
    {
        Items[item.Id] = item;
        item.CreatedSeq = item.LastSeq = _emulator.NextSeq();
        _emulator.Notify(this, "CreatedEvent", item);
    }

    /// <summary>Changes an item (new ChangeKey, logged); the change is any edit the user or an attendee's answer makes.</summary>
    public void Change(string id, Action<EmulatedItem> edit)
    {
        lock (_emulator.Gate)
        {
            var item = Items[id];
            edit(item);
            Touch(item);
        }
    }

    /// <summary>The user drags the item to another time.</summary>
    public void Move(string id, DateTimeOffset start) => Change(id, item =>
    {
        var length = item.End - item.Start;
        item.Start = start;
        item.End = start + length;
    });

    /// <summary>The user deletes the item.</summary>
    public void Delete(string id)
    {
        lock (_emulator.Gate)
        {
            var item = Items[id];
            item.Deleted = true;
            item.LastSeq = _emulator.NextSeq();
            _emulator.Notify(this, "DeletedEvent", item);
        }
    }

    internal void Touch(EmulatedItem item)
    {
        item.ChangeKey = EwsEmulator.NewChangeKey();
        item.LastSeq = _emulator.NextSeq();
        _emulator.Notify(this, "ModifiedEvent", item);
    }
}

/// <summary>A fault answered instead of the next matching operations.</summary>
/// <param name="operation">The EWS operation (FindItem, SyncFolderItems, ...); null: any.</param>
/// <param name="responseCode">The ResponseCode to answer with (ErrorServerBusy, ErrorAccessDenied...).</param>
public sealed class EmulatedFault(string? operation, string responseCode)
{
    public string? Operation { get; } = operation;

    public string ResponseCode { get; } = responseCode;

    /// <summary>For ErrorServerBusy: the BackOffMilliseconds given in MessageXml.</summary>
    public int? BackOffMilliseconds { get; init; }

    /// <summary>Answer as a SOAP fault (HTTP 500) instead of an error response message.</summary>
    public bool AsSoapFault { get; init; }

    /// <summary>Answer with this HTTP status and no SOAP at all (401, 503...).</summary>
    public int? HttpStatus { get; init; }

    public int Times { get; set; } = 1;

    public int Hits { get; set; }
}

internal static class Ids
{
    public static string Random(int bytes) => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).Replace('/', '_').Replace('+', '-');
}

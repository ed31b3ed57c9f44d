using System.Globalization;
using System.Text;
using System.Xml.Linq;

namespace Rendezvous.Emulators.Ews;

/// <summary>The EWS operations, each from its page of Microsoft's EWS reference.</summary>
public sealed partial class EwsEmulator
{
    private EmulatedFolder? FolderOf(EmulatedMailbox mailbox, XElement? parent)
    {
        if (parent?.Element(T + "DistinguishedFolderId")?.Attribute("Id")?.Value is { } name)
        {
            return name == "calendar" ? mailbox.DefaultCalendar : null;
        }

        var id = parent?.Element(T + "FolderId")?.Attribute("Id")?.Value;
        return mailbox.Folders.FirstOrDefault(f => f.Id == id);
    }

    private static XElement FolderXml(EmulatedFolder f) => new(T + "CalendarFolder",
        new XElement(T + "FolderId", new XAttribute("Id", f.Id), new XAttribute("ChangeKey", "AgAAABYA" + f.Id[^6..])),
        new XElement(T + "FolderClass", "IPF.Appointment"),
        new XElement(T + "DisplayName", f.Name));

    /// <summary>GetFolder (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getfolder-operation).</summary>
    private IEnumerable<XElement> GetFolder(EmulatedMailbox mailbox, XElement body)
    {
        foreach (var requested in body.Element(M + "FolderIds")?.Elements() ?? [])
        {
            var folder = FolderOf(mailbox, new XElement("x", requested));
            yield return folder is null
                ? Error("GetFolder", "ErrorFolderNotFound", "The specified folder could not be found in the store.")
                : Success("GetFolder", new XElement(M + "Folders", FolderXml(folder)));
        }
    }

    /// <summary>
    /// FindFolder (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findfolder-operation):
    /// the calendar folders below the default calendar.
    /// </summary>
    private IEnumerable<XElement> FindFolder(EmulatedMailbox mailbox, XElement body)
    {
        var parent = FolderOf(mailbox, body.Element(M + "ParentFolderIds"));
        if (parent is null)
        {
            yield return Error("FindFolder", "ErrorFolderNotFound", "The specified folder could not be found in the store.");
            yield break;
        }

        var children = parent.IsDefaultCalendar ? mailbox.Folders.Where(f => !f.IsDefaultCalendar).ToList() : [];
        yield return Success("FindFolder", new XElement(M + "RootFolder",
            new XAttribute("TotalItemsInView", children.Count), new XAttribute("IncludesLastItemInRange", "true"),
            new XElement(T + "Folders", children.Select(FolderXml))));
    }

    /// <summary>
    /// FindItem (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem-operation) with
    /// a CalendarView (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarview):
    /// single items and the occurrences of series overlapping the range, never the masters; or with a Restriction
    /// IsEqualTo on a named extended property
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isequalto).
    /// </summary>
    private IEnumerable<XElement> FindItem(EmulatedMailbox mailbox, XElement body)
    {
        var folder = FolderOf(mailbox, body.Element(M + "ParentFolderIds"));
        if (folder is null)
        {
            yield return Error("FindItem", "ErrorFolderNotFound", "The specified folder could not be found in the store.");
            yield break;
        }

        var wanted = RequestedProperties(body);
        var items = mailbox.Items.Values.Where(i => !i.Deleted && i.FolderId == folder.Id).ToList();
        List<XElement> found;
        if (body.Element(M + "CalendarView") is { } view)
        {
            var from = DateTimeOffset.Parse(view.Attribute("StartDate")!.Value, CultureInfo.InvariantCulture);
            var to = DateTimeOffset.Parse(view.Attribute("EndDate")!.Value, CultureInfo.InvariantCulture);
            if (to <= from)
            {
                yield return Error("FindItem", "ErrorCalendarViewRangeTooBig", "The end of the calendar view is before its start.");
                yield break;
            }

            found = [];
            foreach (var item in items.OrderBy(i => i.Start))
            {
                if (item.DailyOccurrences == 0)
                {
                    if (item.Start < to && item.End > from)
                    {
                        found.Add(ItemXml(item, wanted, item.Start, item.End, item.Id, "Single"));
                    }

                    continue;
                }

                for (var n = 0; n < item.DailyOccurrences; n++)
                {
                    var start = item.Start.AddDays(n);
                    var end = item.End.AddDays(n);
                    if (start < to && end > from)
                    {
                        found.Add(ItemXml(item, wanted, start, end, item.Id + "_occ" + n.ToString(CultureInfo.InvariantCulture), "Occurrence"));
                    }
                }
            }
        }
        else if (body.Element(M + "Restriction")?.Element(T + "IsEqualTo") is { } equal)
        {
            var property = equal.Element(T + "ExtendedFieldURI")?.Attribute("PropertyName")?.Value;
            var value = equal.Descendants(T + "Constant").FirstOrDefault()?.Attribute("Value")?.Value;
            found = [.. items.Where(i => property is not null && i.ExtendedProperties.TryGetValue(property, out var v) && v == value)
                .Select(i => ItemXml(i, wanted, i.Start, i.End, i.Id, i.DailyOccurrences > 0 ? "RecurringMaster" : "Single"))];
        }
        else
        {
            found = [.. items.Select(i => ItemXml(i, wanted, i.Start, i.End, i.Id, i.DailyOccurrences > 0 ? "RecurringMaster" : "Single"))];
        }

        yield return Success("FindItem", new XElement(M + "RootFolder",
            new XAttribute("TotalItemsInView", found.Count), new XAttribute("IncludesLastItemInRange", "true"),
            new XElement(T + "Items", found)));
    }

    /// <summary>GetItem (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getitem-operation).</summary>
    private IEnumerable<XElement> GetItem(EmulatedMailbox mailbox, XElement body)
    {
        var wanted = RequestedProperties(body);
        foreach (var id in body.Element(M + "ItemIds")?.Elements(T + "ItemId") ?? [])
        {
            yield return mailbox.Items.TryGetValue(id.Attribute("Id")?.Value ?? "", out var item) && !item.Deleted
                ? Success("GetItem", new XElement(M + "Items",
                    ItemXml(item, wanted, item.Start, item.End, item.Id, item.DailyOccurrences > 0 ? "RecurringMaster" : "Single")))
                : Error("GetItem", "ErrorItemNotFound", "The specified object was not found in the store.");
        }
    }

    /// <summary>
    /// CreateItem of calendar items
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation-calendar-item):
    /// SendMeetingInvitations is required for calendar items.
    /// </summary>
    private IEnumerable<XElement> CreateItem(EmulatedMailbox mailbox, XElement body)
    {
        if (body.Attribute("SendMeetingInvitations") is null)
        {
            yield return Error("CreateItem", "ErrorSendMeetingInvitationsRequired", "SendMeetingInvitations is required for calendar items.");
            yield break;
        }

        var folder = body.Element(M + "SavedItemFolderId") is { } saved ? FolderOf(mailbox, saved) : mailbox.DefaultCalendar;
        if (folder is null)
        {
            yield return Error("CreateItem", "ErrorFolderNotFound", "The specified folder could not be found in the store.");
            yield break;
        }

        foreach (var element in body.Element(M + "Items")?.Elements(T + "CalendarItem") ?? [])
        {
            var item = new EmulatedItem { Id = "AAMkItem" + NewId(), FolderId = folder.Id };
            Apply(item, element);
            if (item.End < item.Start)
            {
                yield return Error("CreateItem", "ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate.");
                continue;
            }

            mailbox.Insert(item);
            yield return Success("CreateItem", new XElement(M + "Items", new XElement(T + "CalendarItem", IdXml(item))));
        }
    }

    /// <summary>
    /// UpdateItem of calendar items
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem-operation-calendar-item,
    /// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/itemchange): with NeverOverwrite a
    /// ChangeKey that is not the item's current one fails with ErrorIrresolvableConflict; AutoResolve and AlwaysOverwrite
    /// write over it. Every update gives the item a new ChangeKey.
    /// </summary>
    private IEnumerable<XElement> UpdateItem(EmulatedMailbox mailbox, XElement body)
    {
        var resolution = body.Attribute("ConflictResolution")?.Value;
        if (resolution is null || body.Attribute("SendMeetingInvitationsOrCancellations") is null)
        {
            yield return Error("UpdateItem", "ErrorInvalidRequest", "ConflictResolution and SendMeetingInvitationsOrCancellations are required for calendar items.");
            yield break;
        }

        foreach (var change in body.Element(M + "ItemChanges")?.Elements(T + "ItemChange") ?? [])
        {
            var id = change.Element(T + "ItemId");
            if (!mailbox.Items.TryGetValue(id?.Attribute("Id")?.Value ?? "", out var item) || item.Deleted)
            {
                yield return Error("UpdateItem", "ErrorItemNotFound", "The specified object was not found in the store.");
                continue;
            }

            if (id!.Attribute("ChangeKey")?.Value is { } changeKey && changeKey != item.ChangeKey && resolution == "NeverOverwrite")
            {
                yield return Error("UpdateItem", "ErrorIrresolvableConflict", "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.");
                continue;
            }

            foreach (var update in change.Element(T + "Updates")?.Elements() ?? [])
            {
                var field = update.Element(T + "FieldURI")?.Attribute("FieldURI")?.Value;
                if (update.Name == T + "SetItemField" && update.Element(T + "CalendarItem") is { } value)
                {
                    Apply(item, value);
                }
                else if (update.Name == T + "DeleteItemField" && field == "calendar:Location")
                {
                    item.Location = null;
                }
            }

            mailbox.Touch(item);
            yield return Success("UpdateItem", new XElement(M + "Items", new XElement(T + "CalendarItem", IdXml(item))),
                new XElement(M + "ConflictResults", new XElement(T + "Count", "0")));
        }
    }

    /// <summary>
    /// DeleteItem (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteitem-operation):
    /// DeleteType is required, and SendMeetingCancellations for calendar items.
    /// </summary>
    private IEnumerable<XElement> DeleteItem(EmulatedMailbox mailbox, XElement body)
    {
        if (body.Attribute("DeleteType") is null || body.Attribute("SendMeetingCancellations") is null)
        {
            yield return Error("DeleteItem", "ErrorInvalidRequest", "DeleteType and SendMeetingCancellations are required for calendar items.");
            yield break;
        }

        foreach (var id in body.Element(M + "ItemIds")?.Elements(T + "ItemId") ?? [])
        {
            if (mailbox.Items.TryGetValue(id.Attribute("Id")?.Value ?? "", out var item) && !item.Deleted)
            {
                item.Deleted = true;
                item.LastSeq = NextSeq();
                Notify(mailbox, "DeletedEvent", item);
                yield return Success("DeleteItem");
            }
            else
            {
                yield return Error("DeleteItem", "ErrorItemNotFound", "The specified object was not found in the store.");
            }
        }
    }

    /// <summary>
    /// SyncFolderItems (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation):
    /// at most MaxChangesReturned (1-512) changes per answer, IncludesLastItemInRange false while more remain. A state that
    /// expired, was invalidated or belongs to another folder gets ErrorInvalidSyncStateData.
    /// </summary>
    private IEnumerable<XElement> SyncFolderItems(EmulatedMailbox mailbox, XElement body)
    {
        var folder = FolderOf(mailbox, body.Element(M + "SyncFolderId"));
        if (folder is null)
        {
            yield return Error("SyncFolderItems", "ErrorFolderNotFound", "The specified folder could not be found in the store.");
            yield break;
        }

        if (!int.TryParse(body.Element(M + "MaxChangesReturned")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max is < 1 or > 512)
        {
            yield return Error("SyncFolderItems", "ErrorInvalidArgument", "MaxChangesReturned must be between 1 and 512.");
            yield break;
        }

        long since = 0;
        if (body.Element(M + "SyncState")?.Value is { Length: > 0 } state && !TryReadState(state, folder.Id, out since))
        {
            yield return Error("SyncFolderItems", "ErrorInvalidSyncStateData", "Synchronization state data is corrupt or otherwise invalid.");
            yield break;
        }

        var candidates = mailbox.Items.Values.Where(i => i.FolderId == folder.Id && i.LastSeq > since).OrderBy(i => i.LastSeq).ToList();
        var changes = new List<XElement>();
        var reached = since;
        var consumed = 0;
        foreach (var item in candidates)
        {
            if (changes.Count == max)
            {
                break;
            }

            consumed++;
            reached = item.LastSeq;
            var existed = item.CreatedSeq <= since;
            if (item.Deleted)
            {
                if (existed)
                {
                    changes.Add(new XElement(T + "Delete", new XElement(T + "ItemId", new XAttribute("Id", item.Id))));
                }

                continue;
            }

            changes.Add(new XElement(T + (existed ? "Update" : "Create"), new XElement(T + "CalendarItem", IdXml(item))));
        }

        var last = consumed == candidates.Count;
        if (last)
        {
            reached = Math.Max(reached, Interlocked.Read(ref _seq));
        }

        yield return Success("SyncFolderItems",
            new XElement(M + "SyncState", WriteState(folder.Id, reached)),
            new XElement(M + "IncludesLastItemInRange", last ? "true" : "false"),
            new XElement(M + "Changes", changes));
    }

    private string WriteState(string folderId, long seq) => Convert.ToBase64String(Encoding.UTF8.GetBytes(
        string.Join('|', "v1", folderId, seq.ToString(CultureInfo.InvariantCulture), Now().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture))));

    private bool TryReadState(string state, string folderId, out long seq)
    {
        seq = 0;
        string[] parts;
        try
        {
            parts = Encoding.UTF8.GetString(Convert.FromBase64String(state)).Split('|');
        }
        catch (FormatException)
        {
            return false;
        }

        return parts.Length == 4 && parts[0] == "v1" && parts[1] == folderId
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out seq) && seq >= Interlocked.Read(ref _stateEpoch)
            && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var issued)
            && Now() - DateTimeOffset.FromUnixTimeMilliseconds(issued) <= SyncStateLifetime;
    }

    // ---- items to and from XML ----

    private static HashSet<string> RequestedProperties(XElement body) =>
        [.. (body.Element(M + "ItemShape")?.Element(T + "AdditionalProperties")?.Elements() ?? [])
            .Select(p => p.Attribute("FieldURI")?.Value ?? "ext:" + p.Attribute("PropertyName")?.Value)];

    private static XElement IdXml(EmulatedItem item) => new(T + "ItemId", new XAttribute("Id", item.Id), new XAttribute("ChangeKey", item.ChangeKey));

    /// <summary>A CalendarItem with the properties asked for, in the schema's order.</summary>
    private static XElement ItemXml(EmulatedItem item, HashSet<string> wanted, DateTimeOffset start, DateTimeOffset end, string id, string type) =>
        new(T + "CalendarItem",
            new XElement(T + "ItemId", new XAttribute("Id", id), new XAttribute("ChangeKey", item.ChangeKey)),
            wanted.Contains("item:Subject") ? new XElement(T + "Subject", item.Subject) : null,
            item.ExtendedProperties.Where(p => wanted.Contains("ext:" + p.Key)).Select(p => new XElement(T + "ExtendedProperty",
                new XElement(T + "ExtendedFieldURI", new XAttribute("DistinguishedPropertySetId", "PublicStrings"),
                    new XAttribute("PropertyName", p.Key), new XAttribute("PropertyType", "String")),
                new XElement(T + "Value", p.Value))),
            wanted.Contains("calendar:UID") ? new XElement(T + "UID", item.Uid) : null,
            wanted.Contains("calendar:Start") ? new XElement(T + "Start", Time(start)) : null,
            wanted.Contains("calendar:End") ? new XElement(T + "End", Time(end)) : null,
            wanted.Contains("calendar:IsAllDayEvent") ? new XElement(T + "IsAllDayEvent", item.IsAllDay ? "true" : "false") : null,
            wanted.Contains("calendar:LegacyFreeBusyStatus") ? new XElement(T + "LegacyFreeBusyStatus", item.FreeBusy) : null,
            wanted.Contains("calendar:Location") && item.Location is not null ? new XElement(T + "Location", item.Location) : null,
            wanted.Contains("calendar:IsCancelled") ? new XElement(T + "IsCancelled", item.IsCancelled ? "true" : "false") : null,
            wanted.Contains("calendar:CalendarItemType") ? new XElement(T + "CalendarItemType", type) : null);

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Applies the fields of a CalendarItem element (a create, or one SetItemField).</summary>
    private static void Apply(EmulatedItem item, XElement e)
    {
        if (e.Element(T + "Subject") is { } subject)
        {
            item.Subject = subject.Value;
        }

        if (e.Element(T + "Body") is { } body)
        {
            item.Body = body.Value;
        }

        foreach (var property in e.Elements(T + "ExtendedProperty"))
        {
            if (property.Element(T + "ExtendedFieldURI")?.Attribute("PropertyName")?.Value is { } name)
            {
                item.ExtendedProperties[name] = property.Element(T + "Value")?.Value ?? "";
            }
        }

        if (e.Element(T + "UID") is { } uid)
        {
            item.Uid = uid.Value;
        }

        if (e.Element(T + "Start") is { } start)
        {
            item.Start = DateTimeOffset.Parse(start.Value, CultureInfo.InvariantCulture);
        }

        if (e.Element(T + "End") is { } end)
        {
            item.End = DateTimeOffset.Parse(end.Value, CultureInfo.InvariantCulture);
        }

        if (e.Element(T + "LegacyFreeBusyStatus") is { } status)
        {
            item.FreeBusy = status.Value;
        }

        if (e.Element(T + "Location") is { } location)
        {
            item.Location = location.Value;
        }

        if (e.Element(T + "RequiredAttendees") is { } attendees)
        {
            item.RequiredAttendees.Clear();
            item.RequiredAttendees.AddRange(attendees.Elements(T + "Attendee").Select(a => (
                a.Descendants(T + "Name").FirstOrDefault()?.Value ?? "",
                a.Descendants(T + "EmailAddress").FirstOrDefault()?.Value ?? "")));
        }
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Rendezvous.Emulators.Graph;

public sealed partial class GraphEmulator
{
    private void MapGraph(WebApplication app)
    {
        var graph = app.MapGroup("/v1.0");

        // https://learn.microsoft.com/en-us/graph/api/user-get
        graph.MapGet("/me", async context =>
        {
            if (await AuthenticateAsync(context) is not { } mailbox)
            {
                return;
            }

            await WriteJson(context, 200, new JsonObject
            {
                ["id"] = mailbox.UserId,
                ["userPrincipalName"] = mailbox.Email,
                ["mail"] = mailbox.Email,
                ["displayName"] = mailbox.Email,
            });
        });

        // https://learn.microsoft.com/en-us/graph/api/user-list-calendars
        graph.MapGet("/me/calendars", async context =>
        {
            if (await AuthenticateAsync(context) is not { } mailbox)
            {
                return;
            }

            var value = new JsonArray([.. mailbox.Calendars.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["name"] = c.Name,
                ["canEdit"] = c.CanEdit,
                ["isDefaultCalendar"] = c.IsDefault,
                ["changeKey"] = c.Id[..8],
                ["owner"] = new JsonObject { ["name"] = mailbox.Email, ["address"] = mailbox.Email },
            })]);
            await WriteJson(context, 200, new JsonObject { ["@odata.context"] = $"{GraphBaseUrl}/$metadata#users('{mailbox.UserId}')/calendars", ["value"] = value });
        });

        graph.MapGet("/me/calendars/{calendarId}/calendarView/delta", DeltaAsync);
        // The SDK writes the function call with parentheses (OData), as Graph accepts both.
        graph.MapGet("/me/calendars/{calendarId}/calendarView/delta()", DeltaAsync);
        graph.MapPost("/me/calendars/{calendarId}/events", CreateEventAsync);
        graph.MapGet("/me/events/{eventId}", GetEventAsync);
        graph.MapGet("/me/calendars/{calendarId}/events/{eventId}", GetEventAsync);
        graph.MapMethods("/me/events/{eventId}", ["PATCH"], UpdateEventAsync);
        graph.MapMethods("/me/calendars/{calendarId}/events/{eventId}", ["PATCH"], UpdateEventAsync);
        graph.MapDelete("/me/events/{eventId}", DeleteEventAsync);
        graph.MapDelete("/me/calendars/{calendarId}/events/{eventId}", DeleteEventAsync);
        MapSubscriptions(graph);
        MapRooms(graph);
    }

    /// <summary>
    /// calendarView delta (https://learn.microsoft.com/en-us/graph/api/event-delta and
    /// https://learn.microsoft.com/en-us/graph/delta-query-events): the first request names the window; the answer pages
    /// with <c>@odata.nextLink</c> ($skiptoken) and ends with <c>@odata.deltaLink</c> ($deltatoken) that encodes the window.
    /// Occurrences of series are returned one by one; removed items come as <c>{"@removed":{"reason":"deleted"},"id"}</c>. A
    /// token from before <see cref="EmulatedMailbox.InvalidateDeltaTokens"/> gets 410 Gone
    /// (https://learn.microsoft.com/en-us/graph/delta-query-overview, "syncStateNotFound" / "resyncRequired").
    /// </summary>
    private async Task DeltaAsync(HttpContext context, string calendarId)
    {
        if (await AuthenticateAsync(context) is not { } mailbox)
        {
            return;
        }

        await DeltaForAsync(context, mailbox, calendarId, $"{GraphBaseUrl}/me/calendars/{calendarId}/calendarView/delta");
    }

    /// <summary>One calendarView delta request on <paramref name="calendarId"/>; links continue at <paramref name="linkBase"/>.</summary>
    private async Task DeltaForAsync(HttpContext context, EmulatedMailbox mailbox, string calendarId, string linkBase)
    {
        var q = context.Request.Query;
        if (q.TryGetValue("$skiptoken", out var skip))
        {
            if (!_pages.TryRemove(skip.ToString(), out var pending) || !string.Equals(pending.Email, mailbox.Email, StringComparison.OrdinalIgnoreCase))
            {
                await WriteError(context, 410, "syncStateNotFound", "The sync state generation is not found.");
                return;
            }

            await WritePageAsync(context, linkBase, pending);
            return;
        }

        if (mailbox.FindCalendar(calendarId) is null)
        {
            await WriteError(context, 404, "ErrorItemNotFound", "The specified object was not found in the store.");
            return;
        }

        DateTimeOffset from, to;
        long since;
        if (q.TryGetValue("$deltatoken", out var delta))
        {
            DeltaToken? token;
            try
            {
                token = JsonSerializer.Deserialize<DeltaToken>(FromBase64Url(delta.ToString()), JsonOptions);
            }
            catch (Exception ex) when (ex is JsonException or FormatException)
            {
                token = null;
            }

            int epoch;
            string code;
            lock (Gate)
            {
                epoch = mailbox.TokenEpoch;
                code = mailbox.InvalidTokenCode;
            }

            if (token is null || token.Epoch != epoch || token.Calendar != calendarId)
            {
                await WriteError(context, 410, code, "The delta token is no longer valid; a full synchronization is required.");
                return;
            }

            (from, to, since) = (token.From, token.To, token.Since);
        }
        else
        {
            if (!DateTimeOffset.TryParse(q["startDateTime"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out from)
                || !DateTimeOffset.TryParse(q["endDateTime"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out to))
            {
                await WriteError(context, 400, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.");
                return;
            }

            since = -1;
        }

        var items = new List<JsonObject>();
        string deltaLink;
        lock (Gate)
        {
            foreach (var e in mailbox.Events.Values.Where(e => e.CalendarId == calendarId && e.Sequence > since).OrderBy(e => e.Sequence))
            {
                if (e.Deleted)
                {
                    if (since >= 0)
                    {
                        items.AddRange(e.Shown.Select(Removed));
                        e.Shown.Clear();
                    }

                    continue;
                }

                var instances = Expand(e, from, to);
                var current = instances.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
                if (since >= 0)
                {
                    // Occurrences that left the window (moved out, or the series changed) are removed from the view.
                    items.AddRange(e.Shown.Where(id => !current.Contains(id)).Select(Removed));
                }

                e.Shown.Clear();
                foreach (var instance in instances)
                {
                    e.Shown.Add(instance.Id);
                    items.Add(ToJson(instance));
                }
            }

            var next = new DeltaToken(calendarId, from, to, mailbox.ChangeNumber, mailbox.TokenEpoch);
            deltaLink = $"{linkBase}?$deltatoken={Base64Url(JsonSerializer.Serialize(next, JsonOptions))}";
        }

        var pageSize = MaxPageSize;
        var prefer = context.Request.Headers["Prefer"].ToString();
        var marker = prefer.IndexOf("odata.maxpagesize=", StringComparison.Ordinal);
        if (marker >= 0 && int.TryParse(new string([.. prefer[(marker + 18)..].TakeWhile(char.IsDigit)]), out var preferred) && preferred > 0)
        {
            pageSize = Math.Min(pageSize, preferred);
        }

        await WritePageAsync(context, linkBase, new PendingPages(mailbox.Email, items, deltaLink, pageSize));
    }

    private async Task WritePageAsync(HttpContext context, string linkBase, PendingPages pending)
    {
        var page = pending.Items.Take(pending.PageSize).ToList();
        var rest = pending.Items.Skip(pending.PageSize).ToList();
        var body = new JsonObject
        {
            ["@odata.context"] = $"{GraphBaseUrl}/$metadata#Collection(event)",
            ["value"] = new JsonArray([.. page.Select(JsonNode (i) => i.DeepClone())]),
        };
        if (rest.Count > 0)
        {
            var skip = NewId();
            _pages[skip] = pending with { Items = rest };
            body["@odata.nextLink"] = $"{linkBase}?$skiptoken={skip}";
        }
        else
        {
            body["@odata.deltaLink"] = pending.DeltaLink;
        }

        if (context.Request.Headers["Prefer"].ToString().Contains("odata.maxpagesize", StringComparison.Ordinal))
        {
            context.Response.Headers["Preference-Applied"] = $"odata.maxpagesize={pending.PageSize}";
        }

        await WriteJson(context, 200, body);
    }

    private static JsonObject Removed(string id) => new() { ["@odata.type"] = "#microsoft.graph.event", ["id"] = id, ["@removed"] = new JsonObject { ["reason"] = "deleted" } };

    /// <summary>The instances of an event in [from, to): the event itself, or the occurrences of a series.</summary>
    private static List<Instance> Expand(EmulatedEvent e, DateTimeOffset from, DateTimeOffset to)
    {
        var result = new List<Instance>();
        if (e.Recurrence is not { } r)
        {
            if (e.Start < to && e.End > from)
            {
                result.Add(new Instance(e, e.Id, e.Start, e.End, "singleInstance"));
            }

            return result;
        }

        var length = e.End - e.Start;
        var step = TimeSpan.FromDays(r.Pattern == "weekly" ? 7 * r.Interval : r.Interval);
        for (var (start, n) = (e.Start, 0); n < 5000 && start < to; start += step, n++)
        {
            if ((r.Count is { } count && n >= count) || (r.Until is { } until && start.Date > until.Date))
            {
                break;
            }

            if (start + length > from)
            {
                result.Add(new Instance(e, $"{e.Id}_{start.UtcDateTime:yyyyMMddHHmm}", start, start + length, "occurrence"));
            }
        }

        return result;
    }

    /// <summary>
    /// The event resource (https://learn.microsoft.com/en-us/graph/api/resources/event), times in UTC as asked for with
    /// <c>Prefer: outlook.timezone="UTC"</c>; the etag is <c>W/"changeKey"</c>.
    /// </summary>
    private JsonObject ToJson(Instance i)
    {
        var e = i.Source;
        var json = new JsonObject
        {
            ["@odata.type"] = "#microsoft.graph.event",
            ["@odata.etag"] = $"W/\"{e.ChangeKey}\"",
            ["id"] = i.Id,
            ["changeKey"] = e.ChangeKey,
            ["transactionId"] = e.TransactionId,
            ["iCalUId"] = e.UidForGraph,
            ["lastModifiedDateTime"] = e.LastModified.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            ["subject"] = e.Subject,
            ["bodyPreview"] = e.Body is null ? "" : e.Body[..Math.Min(e.Body.Length, 255)],
            ["body"] = new JsonObject { ["contentType"] = e.BodyContentType ?? "text", ["content"] = e.Body ?? "" },
            ["start"] = Time(i.Start, e.IsAllDay),
            ["end"] = Time(i.End, e.IsAllDay),
            ["isAllDay"] = e.IsAllDay,
            ["isCancelled"] = e.IsCancelled,
            ["isOrganizer"] = e.IsOrganizer,
            ["organizer"] = e.OrganizerAddress is null ? null : new JsonObject
            {
                ["emailAddress"] = new JsonObject { ["name"] = e.OrganizerName ?? e.OrganizerAddress, ["address"] = e.OrganizerAddress },
            },
            ["responseStatus"] = new JsonObject
            {
                ["response"] = e.ResponseStatus,
                ["time"] = (e.ResponseTime ?? DateTimeOffset.MinValue).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            },
            ["showAs"] = e.ShowAs,
            ["type"] = i.Type,
            ["seriesMasterId"] = i.Type == "occurrence" ? e.Id : null,
            ["location"] = new JsonObject { ["displayName"] = e.Location ?? "", ["locationType"] = "default" },
            ["isOnlineMeeting"] = e.IsOnlineMeeting,
            ["onlineMeetingUrl"] = e.OnlineMeetingUrl,
            ["attendees"] = new JsonArray([.. e.Attendees.Select(a => (JsonNode)new JsonObject
            {
                ["type"] = a.Type,
                ["status"] = new JsonObject { ["response"] = a.Response, ["time"] = "0001-01-01T00:00:00Z" },
                ["emailAddress"] = new JsonObject { ["name"] = a.Name ?? a.Address, ["address"] = a.Address },
            })]),
        };
        return json;
    }

    private static JsonObject Time(DateTimeOffset at, bool allDay) => new()
    {
        ["dateTime"] = (allDay ? at.Date : at.UtcDateTime).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture),
        ["timeZone"] = "UTC",
    };

    private async Task<(EmulatedMailbox Mailbox, EmulatedEvent Event)?> FindEventAsync(HttpContext context, string eventId)
    {
        if (await AuthenticateAsync(context) is not { } mailbox)
        {
            return null;
        }

        lock (Gate)
        {
            if (mailbox.Events.TryGetValue(eventId, out var found) && !found.Deleted)
            {
                return (mailbox, found);
            }
        }

        await WriteError(context, 404, "ErrorItemNotFound", "The specified object was not found in the store.");
        return null;
    }

    /// <summary>https://learn.microsoft.com/en-us/graph/api/event-get</summary>
    private async Task GetEventAsync(HttpContext context, string eventId)
    {
        if (await FindEventAsync(context, eventId) is not { } found)
        {
            return;
        }

        JsonObject json;
        lock (Gate)
        {
            json = ToJson(new Instance(found.Event, found.Event.Id, found.Event.Start, found.Event.End, found.Event.Recurrence is null ? "singleInstance" : "seriesMaster"));
        }

        await WriteJson(context, 200, json);
    }

    /// <summary>
    /// https://learn.microsoft.com/en-us/graph/api/calendar-post-events. A create that repeats the transactionId of an
    /// event still in the mailbox returns that event instead of making a second one (the point of transactionId,
    /// https://learn.microsoft.com/en-us/graph/api/resources/event#properties).
    /// </summary>
    private async Task CreateEventAsync(HttpContext context, string calendarId)
    {
        if (await AuthenticateAsync(context) is not { } mailbox)
        {
            return;
        }

        JsonObject body;
        try
        {
            body = (JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync()) as JsonObject) ?? throw new JsonException("not an object");
        }
        catch (JsonException ex)
        {
            await WriteError(context, 400, "BadRequest", "Unable to read JSON request payload: " + ex.Message);
            return;
        }

        EmulatedEvent created;
        lock (Gate)
        {
            if (mailbox.FindCalendar(calendarId) is not { } calendar)
            {
                created = null!;
            }
            else
            {
                var transactionId = body["transactionId"]?.GetValue<string>();
                var existing = transactionId is null ? null : mailbox.Events.Values.FirstOrDefault(e => !e.Deleted && e.TransactionId == transactionId);
                if (existing is not null)
                {
                    created = existing;
                }
                else
                {
                    created = new EmulatedEvent { Id = "AAMkEv" + NewId(), CalendarId = calendar.Id, TransactionId = transactionId };
                    if (Apply(created, body) is { } error)
                    {
                        created = null!;
                        _ = error;
                    }
                    else
                    {
                        mailbox.Touch(created);
                        mailbox.Events[created.Id] = created;
                    }
                }
            }
        }

        if (created is null)
        {
            await WriteError(context, 400, "ErrorInvalidRequest", "The calendar was not found, or the event's start or end could not be read.");
            return;
        }

        JsonObject json;
        lock (Gate)
        {
            json = ToJson(new Instance(created, created.Id, created.Start, created.End, "singleInstance"));
        }

        _ = NotifyAsync(mailbox, created, "created");
        await WriteJson(context, 201, json);
    }

    /// <summary>
    /// https://learn.microsoft.com/en-us/graph/api/event-update. With <c>If-Match</c>, a change key that is no longer the
    /// event's gets 412 Precondition Failed.
    /// </summary>
    private async Task UpdateEventAsync(HttpContext context, string eventId)
    {
        if (await FindEventAsync(context, eventId) is not { } found)
        {
            return;
        }

        var text = await new StreamReader(context.Request.Body).ReadToEndAsync();
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        Writes.Enqueue($"PATCH {eventId} If-Match={ifMatch} {text}");
        var body = JsonNode.Parse(text) as JsonObject ?? [];
        JsonObject json;
        lock (Gate)
        {
            var e = found.Event;
            if (ifMatch.Length > 0 && ifMatch != "*" && ifMatch != $"W/\"{e.ChangeKey}\"" && ifMatch != e.ChangeKey)
            {
                json = null!;
            }
            else
            {
                Apply(e, body);
                found.Mailbox.Touch(e);
                json = ToJson(new Instance(e, e.Id, e.Start, e.End, e.Recurrence is null ? "singleInstance" : "seriesMaster"));
            }
        }

        if (json is null)
        {
            await WriteError(context, 412, "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.");
            return;
        }

        _ = NotifyAsync(found.Mailbox, found.Event, "updated");
        await WriteJson(context, 200, json);
    }

    /// <summary>https://learn.microsoft.com/en-us/graph/api/event-delete: 204 No Content.</summary>
    private async Task DeleteEventAsync(HttpContext context, string eventId)
    {
        if (await FindEventAsync(context, eventId) is not { } found)
        {
            return;
        }

        lock (Gate)
        {
            found.Event.Deleted = true;
            found.Mailbox.Touch(found.Event);
        }

        _ = NotifyAsync(found.Mailbox, found.Event, "deleted");
        context.Response.StatusCode = 204;
    }

    /// <summary>Applies the writable properties present in a request body; returns an error text for unreadable times.</summary>
    private static string? Apply(EmulatedEvent e, JsonObject body)
    {
        if (body["subject"] is { } subject)
        {
            e.Subject = subject.GetValue<string>();
        }

        if (body["body"] is JsonObject b)
        {
            e.BodyContentType = b["contentType"]?.GetValue<string>();
            e.Body = b["content"]?.GetValue<string>();
        }

        if (body["location"] is JsonObject l)
        {
            e.Location = l["displayName"]?.GetValue<string>();
        }

        if (body["showAs"] is { } showAs)
        {
            e.ShowAs = showAs.GetValue<string>();
        }

        if (body["isAllDay"] is { } allDay)
        {
            e.IsAllDay = allDay.GetValue<bool>();
        }

        if (body["isOnlineMeeting"] is { } online)
        {
            e.IsOnlineMeeting = online.GetValue<bool>();
        }

        if (body["attendees"] is JsonArray attendees)
        {
            e.Attendees.Clear();
            foreach (var a in attendees.OfType<JsonObject>())
            {
                var address = a["emailAddress"]?["address"]?.GetValue<string>();
                if (address is not null)
                {
                    e.Attendees.Add(new EmulatedAttendee(address, a["emailAddress"]?["name"]?.GetValue<string>(), a["type"]?.GetValue<string>() ?? "required"));
                }
            }
        }

        if (body["start"] is JsonObject start)
        {
            if (ReadTime(start) is not { } at)
            {
                return "start";
            }

            e.Start = at;
        }

        if (body["end"] is JsonObject end)
        {
            if (ReadTime(end) is not { } at)
            {
                return "end";
            }

            e.End = at;
        }

        return e.End < e.Start ? "end before start" : null;
    }

    /// <summary>A dateTimeTimeZone (https://learn.microsoft.com/en-us/graph/api/resources/datetimetimezone): UTC or an IANA zone.</summary>
    private static DateTimeOffset? ReadTime(JsonObject value)
    {
        if (!DateTime.TryParse(value["dateTime"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return null;
        }

        var zoneId = value["timeZone"]?.GetValue<string>() ?? "UTC";
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zoneId is "UTC" or "Etc/UTC" or "Coordinated Universal Time")
        {
            return new DateTimeOffset(local, TimeSpan.Zero);
        }

        try
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
            return new DateTimeOffset(local, zone.GetUtcOffset(local));
        }
        catch (TimeZoneNotFoundException)
        {
            return null;
        }
    }

    private sealed record DeltaToken(string Calendar, DateTimeOffset From, DateTimeOffset To, long Since, int Epoch);
}

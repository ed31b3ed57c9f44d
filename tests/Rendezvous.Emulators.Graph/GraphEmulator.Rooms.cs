using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Rendezvous.Emulators.Graph;

/// <summary>
/// Room mailboxes (Exchange resource mailboxes) as an application with application permissions sees them: the
/// client-credentials token, the room's calendar under <c>/users/{room}</c>, meeting copies delivered to rooms that are
/// attendees, and the room's answers.
/// </summary>
public sealed partial class GraphEmulator
{
    private readonly ConcurrentDictionary<string, bool> _appTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<EmulatedResponse> _responses = new();

    /// <summary>Every accept, decline and tentativelyAccept received, oldest first.</summary>
    public IReadOnlyList<EmulatedResponse> Responses => [.. _responses];

    /// <summary>
    /// The client credentials grant
    /// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#get-a-token): an
    /// application token for <c>https://graph.microsoft.com/.default</c>, no refresh token and no id token.
    /// </summary>
    private IResult ClientCredentialsToken(IFormCollection form)
    {
        var scope = form["scope"].ToString();
        if (!scope.EndsWith("/.default", StringComparison.Ordinal))
        {
            return TokenError("invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.");
        }

        var access = "app-" + NewId();
        _appTokens[access] = true;
        return Results.Json(new JsonObject
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = 3599,
            ["ext_expires_in"] = 3599,
            ["access_token"] = access,
        });
    }

    private void MapRooms(RouteGroupBuilder graph)
    {
        // calendarView delta on a user's (room's) default calendar:
        // https://learn.microsoft.com/en-us/graph/api/event-delta (GET /users/{id}/calendarView/delta).
        graph.MapGet("/users/{user}/calendarView/delta", UserDeltaAsync);
        graph.MapGet("/users/{user}/calendarView/delta()", UserDeltaAsync);
        // https://learn.microsoft.com/en-us/graph/api/event-get (GET /users/{id}/events/{id}).
        graph.MapGet("/users/{user}/events/{eventId}", async (HttpContext context, string user, string eventId) =>
        {
            if (await UserMailboxAsync(context, user) is not { } mailbox)
            {
                return;
            }

            JsonObject? json = null;
            lock (Gate)
            {
                if (mailbox.Events.TryGetValue(eventId, out var e) && !e.Deleted)
                {
                    json = ToJson(new Instance(e, e.Id, e.Start, e.End, e.Recurrence is null ? "singleInstance" : "seriesMaster"));
                }
            }

            await (json is null
                ? WriteError(context, 404, "ErrorItemNotFound", "The specified object was not found in the store.")
                : WriteJson(context, 200, json));
        });
        // https://learn.microsoft.com/en-us/graph/api/event-accept, event-decline and event-tentativelyaccept:
        // POST /users/{id}/events/{id}/accept | decline | tentativelyAccept with { comment, sendResponse }, 202 Accepted.
        graph.MapPost("/users/{user}/events/{eventId}/accept", (HttpContext c, string user, string eventId) => RespondAsync(c, user, eventId, "accepted"));
        graph.MapPost("/users/{user}/events/{eventId}/decline", (HttpContext c, string user, string eventId) => RespondAsync(c, user, eventId, "declined"));
        graph.MapPost("/users/{user}/events/{eventId}/tentativelyAccept",
            (HttpContext c, string user, string eventId) => RespondAsync(c, user, eventId, "tentativelyAccepted"));
    }

    /// <summary>
    /// The mailbox <paramref name="user"/> (an address or object id) when the token may read it: an application token
    /// (application permission Calendars.ReadWrite reaches every mailbox) or the user's own delegated token.
    /// </summary>
    private async Task<EmulatedMailbox?> UserMailboxAsync(HttpContext context, string user)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : "";
        var mailbox = _mailboxes.TryGetValue(user, out var byAddress) ? byAddress : _mailboxes.Values.FirstOrDefault(m => m.UserId == user);
        if (_appTokens.ContainsKey(token))
        {
            if (mailbox is null)
            {
                await WriteError(context, 404, "ErrorInvalidUser", $"The requested user '{user}' is invalid.");
            }

            return mailbox;
        }

        if (await AuthenticateAsync(context) is not { } own)
        {
            return null;
        }

        if (mailbox is null || own != mailbox)
        {
            await WriteError(context, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
            return null;
        }

        return mailbox;
    }

    private async Task UserDeltaAsync(HttpContext context, string user)
    {
        if (await UserMailboxAsync(context, user) is not { } mailbox)
        {
            return;
        }

        await DeltaForAsync(context, mailbox, mailbox.DefaultCalendarId, $"{GraphBaseUrl}/users/{user}/calendarView/delta");
    }

    private async Task RespondAsync(HttpContext context, string user, string eventId, string response)
    {
        if (await UserMailboxAsync(context, user) is not { } room)
        {
            return;
        }

        JsonObject body;
        try
        {
            // Graph accepts request bodies sent with Content-Encoding: gzip, as the SDK's compression handler may send them.
            Stream stream = context.Request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase)
                ? new System.IO.Compression.GZipStream(context.Request.Body, System.IO.Compression.CompressionMode.Decompress)
                : context.Request.Body;
            var text = await new StreamReader(stream).ReadToEndAsync();
            Writes.Enqueue($"POST {eventId} {response} {text}");
            body = text.Length == 0 ? [] : JsonNode.Parse(text) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            await WriteError(context, 400, "BadRequest", "Unable to read JSON request payload.");
            return;
        }

        // The reference pages write comment and sendResponse; the service's metadata (and the .NET SDK) spell the action's
        // parameters Comment and SendResponse, and Graph takes either.
        var comment = Parameter(body, "comment")?.GetValue<string?>();
        var sendResponse = Parameter(body, "sendResponse")?.GetValue<bool>() ?? true;
        EmulatedEvent? copy;
        EmulatedMailbox? organizer = null;
        EmulatedEvent? original = null;
        string? error = null;
        lock (Gate)
        {
            copy = room.Events.TryGetValue(eventId, out var found) && !found.Deleted ? found : null;
            if (copy is null)
            {
                error = "notFound";
            }
            else if (copy.IsOrganizer)
            {
                // Graph refuses to let the organizer answer their own meeting.
                error = "organizer";
            }
            else if (copy.IsCancelled)
            {
                error = "cancelled";
            }
            else
            {
                copy.ResponseStatus = response;
                copy.ResponseTime = Now();
                copy.ShowAs = response switch { "accepted" => "busy", "declined" => "free", _ => "tentative" };
                // Exchange moves a declined meeting out of the calendar (to Deleted Items): it leaves the calendar view.
                copy.Deleted = response == "declined";
                room.Touch(copy);
                if (sendResponse && copy.OrganizerAddress is { } address && _mailboxes.TryGetValue(address, out var o))
                {
                    organizer = o;
                    original = o.Events.Values.FirstOrDefault(e => e.IsOrganizer && e.ICalUId == copy.ICalUId && !e.Deleted);
                    if (original is not null)
                    {
                        var index = original.Attendees.FindIndex(a => string.Equals(a.Address, room.Email, StringComparison.OrdinalIgnoreCase));
                        if (index >= 0)
                        {
                            original.Attendees[index] = original.Attendees[index] with { Response = response };
                            o.Touch(original);
                        }
                    }
                }

                _responses.Enqueue(new EmulatedResponse(room.Email, eventId, copy.ICalUId ?? "", response, comment, sendResponse));
            }
        }

        switch (error)
        {
            case "notFound":
                await WriteError(context, 404, "ErrorItemNotFound", "The specified object was not found in the store.");
                return;
            case "organizer":
                await WriteError(context, 400, "ErrorInvalidRequest", "Your request can't be completed. You can't respond to a meeting you organized.");
                return;
            case "cancelled":
                await WriteError(context, 400, "ErrorInvalidRequest", "Your request can't be completed. The meeting has been canceled.");
                return;
        }

        await NotifyAsync(room, copy!, copy!.Deleted ? "deleted" : "updated");
        if (organizer is not null && original is not null)
        {
            await NotifyAsync(organizer, original, "updated");
        }

        context.Response.StatusCode = 202;
    }

    private static JsonNode? Parameter(JsonObject body, string name) =>
        body.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>
    /// What Exchange does for an organizer's meeting: each attendee that is a mailbox here gets a copy (same iCalUId, not
    /// yet answered); a change of time gives them the updated request (unanswered again); a canceled or deleted meeting
    /// marks their copy canceled (https://learn.microsoft.com/en-us/graph/api/event-cancel,
    /// https://learn.microsoft.com/en-us/graph/api/event-delete).
    /// </summary>
    internal async Task DeliverToAttendeesAsync(EmulatedMailbox organizer, EmulatedEvent meeting)
    {
        var changed = new List<(EmulatedMailbox Mailbox, EmulatedEvent Copy, string Kind)>();
        lock (Gate)
        {
            if (!meeting.IsOrganizer || meeting.ICalUId is null)
            {
                return;
            }

            foreach (var attendee in meeting.Attendees.ToList())
            {
                if (!_mailboxes.TryGetValue(attendee.Address, out var mailbox) || mailbox == organizer)
                {
                    continue;
                }

                var copy = mailbox.Events.Values.FirstOrDefault(e => !e.IsOrganizer && e.ICalUId == meeting.ICalUId);
                if (meeting.Deleted || meeting.IsCancelled)
                {
                    if (copy is null || copy.Deleted || copy.IsCancelled)
                    {
                        continue;
                    }

                    copy.IsCancelled = true;
                    copy.Subject = "Canceled: " + meeting.Subject;
                    mailbox.Touch(copy);
                    changed.Add((mailbox, copy, "updated"));
                    continue;
                }

                var kind = "updated";
                if (copy is null)
                {
                    copy = new EmulatedEvent
                    {
                        Id = "AAMkEv" + NewId(),
                        CalendarId = mailbox.DefaultCalendarId,
                        ICalUId = meeting.ICalUId,
                        IsOrganizer = false,
                        OrganizerAddress = organizer.Email,
                        OrganizerName = organizer.Email,
                        ResponseStatus = "notResponded",
                        ShowAs = "tentative",
                    };
                    mailbox.Events[copy.Id] = copy;
                    kind = "created";
                }

                var moved = copy.Start != meeting.Start || copy.End != meeting.End;
                if (moved || copy.Deleted)
                {
                    // A new time is a new question: the attendee's earlier answer no longer holds.
                    copy.ResponseStatus = "notResponded";
                    copy.ShowAs = "tentative";
                    copy.Deleted = false;
                    var index = meeting.Attendees.FindIndex(a => a == attendee);
                    meeting.Attendees[index] = attendee with { Response = "none" };
                }

                copy.Subject = meeting.Subject;
                copy.Start = meeting.Start;
                copy.End = meeting.End;
                copy.IsAllDay = meeting.IsAllDay;
                copy.Recurrence = meeting.Recurrence;
                copy.Location = meeting.Location;
                copy.Attendees.Clear();
                copy.Attendees.AddRange(meeting.Attendees);
                mailbox.Touch(copy);
                changed.Add((mailbox, copy, kind));
            }
        }

        foreach (var (mailbox, copy, kind) in changed)
        {
            await NotifyAsync(mailbox, copy, kind);
        }
    }
}

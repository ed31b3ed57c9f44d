using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using NodaTime;
using NodaTime.Text;

namespace Rendezvous.Emulators.Google;

public sealed partial class GoogleCalendarEmulator
{
    private string? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return null;
        }

        lock (_gate)
        {
            return _accessTokens.TryGetValue(header[7..], out var grant) && grant.ExpiresAt > _clock.GetCurrentInstant()
                && _refreshTokens.ContainsKey(grant.RefreshToken)
                    ? grant.Email
                    : null;
        }
    }

    private async Task<IResult?> TakeFaultAsync(HttpContext context)
    {
        GoogleFault? fault;
        lock (_gate)
        {
            var path = context.Request.Path.ToString();
            fault = _faults.FirstOrDefault(f => f.Remaining > 0 && path.Contains(f.PathContains, StringComparison.Ordinal)
                && (f.Method is null || string.Equals(f.Method, context.Request.Method, StringComparison.OrdinalIgnoreCase)));
            if (fault is not null)
            {
                fault.Remaining--;
                if (fault.Remaining == 0)
                {
                    _faults.Remove(fault);
                }
            }
        }

        if (fault is null)
        {
            return null;
        }

        if (fault.Delay is { } delay)
        {
            await Task.Delay(delay, context.RequestAborted);
        }

        if (fault.Status == 0)
        {
            return null;
        }

        if (fault.RetryAfter is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        // The bodies follow https://developers.google.com/calendar/api/guides/errors for each status.
        return fault.Status switch
        {
            401 => Error(401, fault.Reason ?? "authError", "Invalid Credentials", "global"),
            403 => Error(403, fault.Reason ?? "rateLimitExceeded", fault.Reason == "userRateLimitExceeded" ? "User Rate Limit Exceeded" : "Rate Limit Exceeded", "usageLimits"),
            429 => Error(429, fault.Reason ?? "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits"),
            _ => Error(fault.Status, fault.Reason ?? "backendError", "Backend Error", "global"),
        };
    }

    private static IResult Error(int status, string reason, string message, string domain = "global") => Results.Json(new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject { ["domain"] = domain, ["reason"] = reason, ["message"] = message }),
            ["code"] = status,
            ["message"] = message,
        },
    }, statusCode: status);

    private static IResult NotFound() => Error(404, "notFound", "Not Found");

    private static IResult InvalidGrant(string description) =>
        Results.Json(new JsonObject { ["error"] = "invalid_grant", ["error_description"] = description }, statusCode: 400);

    private string NewAccessToken(string email, string refreshToken, Instant now)
    {
        var token = "ya29." + RandomId(60);
        _accessTokens[token] = new AccessGrant(email, now + AccessTokenLifetime, refreshToken);
        return token;
    }

    private Calendar? FindCalendar(string email, string calendarId)
    {
        var id = calendarId == "primary" ? email : calendarId;
        return _accounts.TryGetValue(email, out var account) && account.Calendars.Contains(id, StringComparer.Ordinal) ? _calendars[id] : null;
    }

    private static JsonObject CalendarListEntry(Calendar calendar, string email) => new()
    {
        ["kind"] = "calendar#calendarListEntry",
        ["id"] = calendar.Id,
        ["summary"] = calendar.Summary,
        ["timeZone"] = calendar.TimeZone,
        ["accessRole"] = calendar.AccessRole,
        ["primary"] = calendar.Id.Equals(email, StringComparison.OrdinalIgnoreCase) ? true : null,
    };

    private IResult Page(PagedResult result, int size)
    {
        var page = result.Remaining.Take(size).ToList();
        var body = new JsonObject
        {
            ["kind"] = "calendar#events",
            ["timeZone"] = result.TimeZone,
            ["items"] = new JsonArray([.. page.Select(e => (JsonNode)e.DeepClone())]),
        };
        if (result.Remaining.Count > size)
        {
            var token = RandomId(32);
            _pages[token] = result with { Remaining = result.Remaining.Skip(size).ToList() };
            body["nextPageToken"] = token;
        }
        else
        {
            body["nextSyncToken"] = result.NextSyncToken;
        }

        return Results.Json(body);
    }

    private string SyncToken(Calendar calendar) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{calendar.Id}|{calendar.Epoch}|{_seq}")));

    private static (int Epoch, long Seq)? ParseSyncToken(string token)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(token)).Split('|');
            return parts.Length == 3 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var epoch)
                && long.TryParse(parts[2], CultureInfo.InvariantCulture, out var seq)
                    ? (epoch, seq)
                    : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A full listing: live events, series expanded into instances when asked, overlapping [timeMin, timeMax).</summary>
    private List<JsonObject> Listing(Calendar calendar, bool singleEvents, Instant? timeMin, Instant? timeMax, bool showDeleted)
    {
        var result = new List<JsonObject>();
        foreach (var stored in calendar.Events.Values.OrderBy(e => e.Seq))
        {
            var isException = stored.Body["recurringEventId"] is not null;
            if (singleEvents && stored.Body["recurrence"] is not null)
            {
                if (!stored.Cancelled)
                {
                    result.AddRange(Instances(calendar, stored).Where(i => showDeleted || (string?)i["status"] != "cancelled"));
                }

                continue;
            }

            if (singleEvents && isException)
            {
                // Listed as part of its series' expansion above.
                continue;
            }

            if (stored.Cancelled && !showDeleted)
            {
                continue;
            }

            result.Add((JsonObject)stored.Body.DeepClone());
        }

        return [.. result.Where(e => Overlaps(e, timeMin, timeMax))];
    }

    /// <summary>Everything changed after <paramref name="since"/>: series changes come as all their instances.</summary>
    private List<JsonObject> Changes(Calendar calendar, long since, bool singleEvents)
    {
        var byId = new Dictionary<string, (long Seq, JsonObject Body)>(StringComparer.Ordinal);
        void Add(long seq, JsonObject body) => byId[(string)body["id"]!] = (seq, body);

        foreach (var stored in calendar.Events.Values.Where(e => e.Seq > since))
        {
            if (singleEvents && stored.Body["recurrence"] is not null)
            {
                if (!stored.Cancelled)
                {
                    foreach (var instance in Instances(calendar, stored))
                    {
                        Add(stored.Seq, instance);
                    }
                }

                continue;
            }

            Add(stored.Seq, Minimal(stored));
        }

        if (singleEvents)
        {
            foreach (var tombstone in calendar.InstanceTombstones.Values.Where(t => t.Seq > since))
            {
                if (!byId.TryGetValue(tombstone.Id, out var existing) || existing.Seq < tombstone.Seq)
                {
                    Add(tombstone.Seq, (JsonObject)tombstone.Body.DeepClone());
                }
            }
        }

        return [.. byId.Values.OrderBy(v => v.Seq).Select(v => v.Body)];
    }

    /// <summary>Deleted events come back with few fields, as Google sends them in incremental syncs.</summary>
    private static JsonObject Minimal(Stored stored)
    {
        if (!stored.Cancelled || stored.Body["recurringEventId"] is not null)
        {
            return (JsonObject)stored.Body.DeepClone();
        }

        return new JsonObject
        {
            ["kind"] = "calendar#event",
            ["etag"] = stored.Body["etag"]?.DeepClone(),
            ["id"] = stored.Id,
            ["status"] = "cancelled",
        };
    }

    /// <summary>The instances of a series with its exceptions applied (cancelled exceptions come as cancelled instances).</summary>
    private List<JsonObject> Instances(Calendar calendar, Stored master)
    {
        var body = master.Body;
        var start = body["start"]!;
        var zoneId = (string?)start["timeZone"] ?? calendar.TimeZone;
        var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(zoneId) ?? DateTimeZone.Utc;
        var first = ParseTime((string)start["dateTime"]!).InZone(zone);
        var length = ParseTime((string)body["end"]!["dateTime"]!) - first.ToInstant();
        var lines = body["recurrence"]!.AsArray().Select(n => (string)n!).ToList();
        var masterId = master.Id;
        var result = new List<JsonObject>();
        foreach (var at in Recurrence.Expand(first, lines, _clock.GetCurrentInstant() + Duration.FromDays(730), 1000))
        {
            var id = masterId + "_" + InstanceSuffix.Format(at.ToInstant());
            if (calendar.Events.TryGetValue(id, out var exception))
            {
                result.Add((JsonObject)exception.Body.DeepClone());
                continue;
            }

            var instance = (JsonObject)body.DeepClone();
            instance.Remove("recurrence");
            instance["id"] = id;
            instance["recurringEventId"] = masterId;
            instance["originalStartTime"] = new JsonObject { ["dateTime"] = Rfc3339.Format(at.ToInstant()), ["timeZone"] = zoneId };
            instance["start"] = new JsonObject { ["dateTime"] = Rfc3339.Format(at.ToInstant()), ["timeZone"] = zoneId };
            instance["end"] = new JsonObject { ["dateTime"] = Rfc3339.Format(at.ToInstant() + length), ["timeZone"] = zoneId };
            result.Add(instance);
        }

        return result;
    }

    private static bool Overlaps(JsonObject e, Instant? timeMin, Instant? timeMax)
    {
        if ((string?)e["status"] == "cancelled" && e["start"] is null)
        {
            return true;
        }

        var (start, end) = Span(e);
        return (timeMin is not { } min || end > min) && (timeMax is not { } max || start < max);
    }

    private static (Instant Start, Instant End) Span(JsonObject e)
    {
        static Instant At(JsonNode? node) => node?["dateTime"] is { } dt
            ? ParseTime((string)dt!)
            : LocalDatePattern.Iso.Parse((string?)node?["date"] ?? "2000-01-01").GetValueOrThrow().AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
        return (At(e["start"]), At(e["end"]));
    }

    /// <summary>Stores a new version of an event; for a series, instances that vanish become tombstones.</summary>
    private JsonObject Store(Calendar calendar, JsonObject body, Stored? previous)
    {
        var seq = ++_seq;
        var before = previous is { Cancelled: false } && previous.Body["recurrence"] is not null
            ? Instances(calendar, previous).Select(i => (string)i["id"]!).ToList()
            : [];
        body["kind"] = "calendar#event";
        body["etag"] = "\"" + seq.ToString(CultureInfo.InvariantCulture) + RandomDigits() + "\"";
        body["status"] ??= "confirmed";
        body["updated"] = Rfc3339.Format(_clock.GetCurrentInstant());
        body["iCalUID"] ??= previous?.Body["iCalUID"]?.DeepClone() ?? (string)body["id"]! + "@google.com";
        body["organizer"] ??= new JsonObject { ["email"] = calendar.Owner, ["self"] = true };
        body["creator"] ??= new JsonObject { ["email"] = calendar.Owner, ["self"] = true };
        var stored = previous ?? new Stored(body, seq);
        stored.Body = body;
        stored.Seq = seq;
        calendar.Events[(string)body["id"]!] = stored;
        if (before.Count > 0)
        {
            var now = body["recurrence"] is not null && !stored.Cancelled ? Instances(calendar, stored).Select(i => (string)i["id"]!).ToHashSet() : [];
            foreach (var gone in before.Where(id => !now.Contains(id)))
            {
                calendar.InstanceTombstones[gone] = new Stored(new JsonObject
                {
                    ["kind"] = "calendar#event",
                    ["id"] = gone,
                    ["status"] = "cancelled",
                    ["recurringEventId"] = (string)body["id"]!,
                }, seq);
            }
        }

        return (JsonObject)body.DeepClone();
    }

    private void Delete(Calendar calendar, Stored stored)
    {
        var body = (JsonObject)stored.Body.DeepClone();
        body["status"] = "cancelled";
        Store(calendar, body, stored);
        // Deleting a series deletes its exceptions with it.
        foreach (var exception in calendar.Events.Values.Where(e => (string?)e.Body["recurringEventId"] == stored.Id && !e.Cancelled).ToList())
        {
            var cancelled = (JsonObject)exception.Body.DeepClone();
            cancelled["status"] = "cancelled";
            Store(calendar, cancelled, exception);
        }
    }

    /// <summary>
    /// Sends "exists" to every live channel on the calendar. The headers are those of
    /// https://developers.google.com/calendar/api/guides/push#understanding-the-notification-message-format; the body is empty.
    /// </summary>
    private void Notify(string calendarId)
    {
        if (!SendNotifications)
        {
            return;
        }

        List<Channel> channels;
        lock (_gate)
        {
            var now = _clock.GetCurrentInstant();
            channels = [.. _channels.Values.Where(c => c.CalendarId == calendarId && c.ExpiresAt > now)];
        }

        foreach (var channel in channels)
        {
            Deliver(channel, "exists");
        }
    }

    private void Deliver(Channel channel, string state)
    {
        long number;
        lock (_gate)
        {
            number = ++channel.MessageNumber;
        }

        var task = Task.Run(async () =>
        {
            var status = 0;
            try
            {
                using var http = NotificationHandler is null ? new HttpClient() : new HttpClient(NotificationHandler, disposeHandler: false);
                using var request = new HttpRequestMessage(HttpMethod.Post, channel.Address);
                request.Headers.TryAddWithoutValidation("X-Goog-Channel-ID", channel.Id);
                request.Headers.TryAddWithoutValidation("X-Goog-Message-Number", number.ToString(CultureInfo.InvariantCulture));
                request.Headers.TryAddWithoutValidation("X-Goog-Resource-ID", channel.ResourceId);
                request.Headers.TryAddWithoutValidation("X-Goog-Resource-State", state);
                request.Headers.TryAddWithoutValidation("X-Goog-Resource-URI",
                    new Uri(ApiBaseUrl, "calendars/" + Uri.EscapeDataString(channel.CalendarId) + "/events?alt=json").ToString());
                request.Headers.TryAddWithoutValidation("X-Goog-Channel-Expiration", channel.ExpiresAt.ToDateTimeOffset().ToString("R", CultureInfo.InvariantCulture));
                if (channel.Token is not null)
                {
                    request.Headers.TryAddWithoutValidation("X-Goog-Channel-Token", channel.Token);
                }

                request.Content = new ByteArrayContent([]);
                using var response = await http.SendAsync(request);
                status = (int)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                // Google gives up on an address that does not answer; so do we. Polling finds the change.
            }

            lock (_gate)
            {
                _sent.Add(new SentNotification(channel.Id, state, number, status));
            }
        });
        lock (_gate)
        {
            _deliveries.Add(task);
        }
    }

    private static async Task<JsonObject?> ReadBodyAsync(HttpRequest request)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    internal static Instant ParseTime(string text)
    {
        var parsed = OffsetDateTimePattern.ExtendedIso.Parse(text);
        if (parsed.Success)
        {
            return parsed.Value.ToInstant();
        }

        return InstantPattern.ExtendedIso.Parse(text).GetValueOrThrow();
    }

    /// <summary>Random base32hex characters (a-v, 0-9): the alphabet of Google's event ids.</summary>
    private static string RandomId(int length)
    {
        const string alphabet = "0123456789abcdefghijklmnopqrstuv";
        return string.Create(length, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
    }

    private static string RandomDigits() => RandomNumberGenerator.GetInt32(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
}

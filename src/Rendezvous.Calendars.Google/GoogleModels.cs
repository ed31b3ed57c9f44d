using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rendezvous.Calendars.Google;

// The subset of the Calendar API v3 resources that sync needs, as documented at
// https://developers.google.com/calendar/api/v3/reference/events and .../calendarList and .../channels.

/// <summary>An event resource. Unknown fields are ignored; only what we set is sent.</summary>
public sealed class GoogleEvent
{
    public string? Id { get; set; }

    /// <summary>"confirmed", "tentative" or "cancelled" (a deleted event, or a cancelled instance of a series).</summary>
    public string? Status { get; set; }

    [JsonPropertyName("etag")]
    public string? ETag { get; set; }

    public string? Summary { get; set; }

    public string? Description { get; set; }

    public string? Location { get; set; }

    public GoogleEventTime? Start { get; set; }

    public GoogleEventTime? End { get; set; }

    /// <summary>"opaque" (busy, the default) or "transparent" (free).</summary>
    public string? Transparency { get; set; }

    /// <summary>For an instance of a recurring event: the series' id.</summary>
    public string? RecurringEventId { get; set; }

    /// <summary>For an instance: where the series put it before any change.</summary>
    public GoogleEventTime? OriginalStartTime { get; set; }

    /// <summary>RRULE, EXRULE, RDATE and EXDATE lines of a series' master.</summary>
    public List<string>? Recurrence { get; set; }

    [JsonPropertyName("iCalUID")]
    public string? ICalUid { get; set; }

    public List<GoogleAttendee>? Attendees { get; set; }

    public GoogleExtendedProperties? ExtendedProperties { get; set; }

    public string? HangoutLink { get; set; }

    public string? Updated { get; set; }

    public bool IsCancelled => Status == "cancelled";
}

/// <summary>Either <see cref="DateTime"/> (RFC 3339 with an offset) or <see cref="Date"/> (an all-day event).</summary>
public sealed class GoogleEventTime
{
    public string? DateTime { get; set; }

    public string? Date { get; set; }

    public string? TimeZone { get; set; }
}

public sealed class GoogleAttendee
{
    public string? Email { get; set; }

    public string? DisplayName { get; set; }

    /// <summary>"needsAction", "declined", "tentative" or "accepted".</summary>
    public string? ResponseStatus { get; set; }

    public bool? Organizer { get; set; }

    /// <summary>True for the entry that is the calendar's owner.</summary>
    public bool? Self { get; set; }

    public bool? Optional { get; set; }
}

public sealed class GoogleExtendedProperties
{
    public Dictionary<string, string>? Private { get; set; }

    public Dictionary<string, string>? Shared { get; set; }
}

/// <summary>One page of events.list: a page token for more, or on the last page the sync token for next time.</summary>
public sealed class GoogleEventsPage
{
    public List<GoogleEvent>? Items { get; set; }

    public string? NextPageToken { get; set; }

    public string? NextSyncToken { get; set; }

    public string? TimeZone { get; set; }
}

public sealed class GoogleCalendarListEntry
{
    public string? Id { get; set; }

    public string? Summary { get; set; }

    /// <summary>"freeBusyReader", "reader", "writer" or "owner".</summary>
    public string? AccessRole { get; set; }

    public bool? Primary { get; set; }

    public string? TimeZone { get; set; }

    public bool CanWrite => AccessRole is "writer" or "owner";
}

public sealed class GoogleCalendarListPage
{
    public List<GoogleCalendarListEntry>? Items { get; set; }

    public string? NextPageToken { get; set; }
}

/// <summary>A notification channel (https://developers.google.com/calendar/api/guides/push).</summary>
public sealed class GoogleChannel
{
    public string? Kind { get; set; } = "api#channel";

    public string? Id { get; set; }

    /// <summary>Google's id of the watched resource; needed, with <see cref="Id"/>, to stop the channel.</summary>
    public string? ResourceId { get; set; }

    public string? ResourceUri { get; set; }

    /// <summary>Echoed in X-Goog-Channel-Token on every notification.</summary>
    public string? Token { get; set; }

    /// <summary>Milliseconds since the Unix epoch, as a string.</summary>
    public string? Expiration { get; set; }

    public string? Type { get; set; }

    public string? Address { get; set; }

    public Dictionary<string, string>? Params { get; set; }
}

internal sealed class GoogleErrorBody
{
    public GoogleErrorDetail? Error { get; set; }
}

internal sealed class GoogleErrorDetail
{
    public int Code { get; set; }

    public string? Message { get; set; }

    public List<GoogleErrorItem>? Errors { get; set; }
}

internal sealed class GoogleErrorItem
{
    public string? Domain { get; set; }

    public string? Reason { get; set; }

    public string? Message { get; set; }
}

internal static class GoogleJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

using System.Text.Json.Nodes;
using NodaTime;

namespace Rendezvous.Emulators.Google;

/// <summary>A fault the emulator answers instead of doing the request (tests queue them).</summary>
/// <param name="PathContains">Applies to requests whose path contains this ("" for all API requests).</param>
/// <param name="Status">HTTP status to answer; 0 answers normally after <paramref name="Delay"/> (a slow server).</param>
/// <param name="Reason">errors[0].reason in the body (e.g. "rateLimitExceeded", "backendError").</param>
/// <param name="RetryAfter">A Retry-After header, in seconds.</param>
/// <param name="Times">How many requests it applies to.</param>
/// <param name="Delay">A pause before answering.</param>
/// <param name="Method">Only this HTTP method, when set.</param>
public sealed record GoogleFault(string PathContains, int Status, string? Reason = null, int? RetryAfter = null, int Times = 1,
    TimeSpan? Delay = null, string? Method = null)
{
    internal int Remaining { get; set; } = Times;
}

/// <summary>A push notification the emulator sent, with the answer it got.</summary>
public sealed record SentNotification(string ChannelId, string ResourceState, long MessageNumber, int Status);

public sealed partial class GoogleCalendarEmulator
{
    private sealed class Account(string email)
    {
        public string Email { get; } = email;

        public List<string> Calendars { get; } = [];

        public bool Revoked { get; set; }
    }

    private sealed class Calendar(string id, string summary, string owner)
    {
        public string Id { get; } = id;

        public string Summary { get; set; } = summary;

        public string Owner { get; } = owner;

        public string AccessRole { get; set; } = "owner";

        public string TimeZone { get; set; } = "UTC";

        /// <summary>Events and exceptions of series, by id; deleted ones stay with status "cancelled" (tombstones).</summary>
        public Dictionary<string, Stored> Events { get; } = new(StringComparer.Ordinal);

        /// <summary>Instances of series that disappeared (series deleted or shortened), reported once to incremental syncs.</summary>
        public Dictionary<string, Stored> InstanceTombstones { get; } = new(StringComparer.Ordinal);

        /// <summary>Raised by <see cref="InvalidateSyncTokens"/>: tokens of an older epoch get 410.</summary>
        public int Epoch { get; set; }
    }

    private sealed class Stored(JsonObject body, long seq)
    {
        public JsonObject Body { get; set; } = body;

        public long Seq { get; set; } = seq;

        public string Id => Body["id"]!.GetValue<string>();

        public bool Cancelled => (string?)Body["status"] == "cancelled";
    }

    private sealed record Grant(string Email, string RefreshToken);

    private sealed record AccessGrant(string Email, Instant ExpiresAt, string RefreshToken);

    private sealed record PendingCode(string Email, string RedirectUri, bool Offline);

    private sealed class Channel(string id, string resourceId, string calendarId, Uri address, string? token, Instant expiresAt)
    {
        public string Id { get; } = id;

        public string ResourceId { get; } = resourceId;

        public string CalendarId { get; } = calendarId;

        public Uri Address { get; } = address;

        public string? Token { get; } = token;

        public Instant ExpiresAt { get; } = expiresAt;

        public long MessageNumber { get; set; }
    }

    private sealed record PagedResult(List<JsonObject> Remaining, string? NextSyncToken, string? TimeZone);
}

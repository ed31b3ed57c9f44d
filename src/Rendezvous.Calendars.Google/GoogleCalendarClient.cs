using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Rendezvous.Calendars.Google;

/// <summary>Gives the client a bearer token; asked again with <c>forceRefresh</c> after a 401.</summary>
public interface IGoogleAccessTokens
{
    Task<string> GetAsync(bool forceRefresh, CancellationToken ct);
}

/// <summary>Which answers Google's error guide (https://developers.google.com/calendar/api/guides/errors) says to retry.</summary>
public static class GoogleRetry
{
    public static bool IsRateLimitReason(string? reason) => reason is "rateLimitExceeded" or "userRateLimitExceeded" or "quotaExceeded";

    public static bool IsRetryable(HttpStatusCode status, string? reason) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout
        || (status == HttpStatusCode.Forbidden && IsRateLimitReason(reason));

    /// <summary>Exponential backoff with full jitter: a random wait up to base·2^attempt, capped.</summary>
    public static TimeSpan Backoff(int attempt, TimeSpan baseDelay, TimeSpan max)
    {
        var ceiling = Math.Min(max.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }
}

/// <summary>
/// Typed calls of the Google Calendar API v3 (https://developers.google.com/calendar/api/v3/reference) for what sync
/// needs, over a plain <see cref="HttpClient"/> with System.Text.Json. Every attempt has a timeout; throttling and
/// server errors are retried with jittered exponential backoff (Retry-After honoured); a 401 refreshes the token once.
/// </summary>
public sealed class GoogleCalendarClient(HttpClient http, GoogleCalendarOptions options, IGoogleAccessTokens tokens)
{
    /// <summary>All calendars in the user's list (https://developers.google.com/calendar/api/v3/reference/calendarList/list).</summary>
    public async Task<IReadOnlyList<GoogleCalendarListEntry>> ListCalendarsAsync(CancellationToken ct)
    {
        var all = new List<GoogleCalendarListEntry>();
        string? pageToken = null;
        do
        {
            var path = "users/me/calendarList?maxResults=250" + (pageToken is null ? "" : "&pageToken=" + Uri.EscapeDataString(pageToken));
            var page = await SendAsync<GoogleCalendarListPage>(HttpMethod.Get, path, null, null, ct);
            all.AddRange(page?.Items ?? []);
            pageToken = page?.NextPageToken;
        }
        while (pageToken is not null);
        return all;
    }

    /// <summary>The primary calendar's entry; its id is the account's email address.</summary>
    public Task<GoogleCalendarListEntry?> GetPrimaryCalendarAsync(CancellationToken ct) =>
        SendAsync<GoogleCalendarListEntry>(HttpMethod.Get, "users/me/calendarList/primary", null, null, ct);

    /// <summary>
    /// One page of events.list (https://developers.google.com/calendar/api/v3/reference/events/list). With a sync token,
    /// only changes since then (deleted events included, as status "cancelled"); without, a full listing from
    /// <paramref name="timeMin"/>. <c>singleEvents=true</c> expands recurring series into their instances. Throws
    /// <see cref="GoogleSyncTokenExpiredException"/> on 410 Gone.
    /// </summary>
    public async Task<GoogleEventsPage> ListEventsPageAsync(string calendarId, string? syncToken, string? pageToken, DateTimeOffset? timeMin,
        int maxResults, CancellationToken ct)
    {
        var query = new StringBuilder("calendars/").Append(Escape(calendarId)).Append("/events?singleEvents=true&maxResults=")
            .Append(maxResults.ToString(CultureInfo.InvariantCulture));
        if (syncToken is not null)
        {
            // Google refuses timeMin/timeMax together with a sync token; the token remembers the first request's window.
            query.Append("&syncToken=").Append(Uri.EscapeDataString(syncToken));
        }
        else if (timeMin is { } min)
        {
            query.Append("&timeMin=").Append(Uri.EscapeDataString(min.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)));
        }

        if (pageToken is not null)
        {
            query.Append("&pageToken=").Append(Uri.EscapeDataString(pageToken));
        }

        try
        {
            return await SendAsync<GoogleEventsPage>(HttpMethod.Get, query.ToString(), null, null, ct) ?? new GoogleEventsPage();
        }
        catch (GoogleApiException ex) when (ex.Status == HttpStatusCode.Gone)
        {
            throw new GoogleSyncTokenExpiredException(ex.Message);
        }
    }

    /// <summary>https://developers.google.com/calendar/api/v3/reference/events/get; null when there is no such event.</summary>
    public async Task<GoogleEvent?> GetEventAsync(string calendarId, string eventId, CancellationToken ct)
    {
        try
        {
            return await SendAsync<GoogleEvent>(HttpMethod.Get, EventPath(calendarId, eventId), null, null, ct);
        }
        catch (GoogleApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return null;
        }
    }

    /// <summary>
    /// Creates an event with the id we chose (https://developers.google.com/calendar/api/v3/reference/events/insert):
    /// a retry of a create that in fact succeeded gets 409 "duplicate", answered here with null so the caller updates.
    /// </summary>
    public async Task<GoogleEvent?> InsertEventAsync(string calendarId, GoogleEvent body, CancellationToken ct)
    {
        try
        {
            return await SendAsync<GoogleEvent>(HttpMethod.Post, "calendars/" + Escape(calendarId) + "/events?sendUpdates=none", body, null, ct);
        }
        catch (GoogleApiException ex) when (ex.Status == HttpStatusCode.Conflict)
        {
            return null;
        }
    }

    /// <summary>
    /// Replaces an event (https://developers.google.com/calendar/api/v3/reference/events/update), only if it is still at
    /// <paramref name="etag"/> when one is given (https://developers.google.com/calendar/api/guides/version-resources):
    /// 412 is thrown as a <see cref="GoogleApiException"/> for the caller to decide.
    /// </summary>
    public Task<GoogleEvent?> UpdateEventAsync(string calendarId, string eventId, GoogleEvent body, string? etag, CancellationToken ct) =>
        SendAsync<GoogleEvent>(HttpMethod.Put, EventPath(calendarId, eventId) + "?sendUpdates=none", body, etag, ct);

    /// <summary>https://developers.google.com/calendar/api/v3/reference/events/delete; an event already gone counts as deleted.</summary>
    public async Task DeleteEventAsync(string calendarId, string eventId, CancellationToken ct)
    {
        try
        {
            await SendAsync<JsonElement?>(HttpMethod.Delete, EventPath(calendarId, eventId) + "?sendUpdates=none", null, null, ct);
        }
        catch (GoogleApiException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
        }
    }

    /// <summary>
    /// Opens a notification channel on a calendar's events (https://developers.google.com/calendar/api/v3/reference/events/watch):
    /// Google then posts to <paramref name="address"/> (HTTPS in production) whenever the calendar changes.
    /// </summary>
    public async Task<GoogleChannel> WatchEventsAsync(string calendarId, string channelId, Uri address, string token, TimeSpan? ttl, CancellationToken ct)
    {
        var body = new GoogleChannel
        {
            Id = channelId,
            Type = "web_hook",
            Address = address.ToString(),
            Token = token,
            Params = ttl is { } t ? new Dictionary<string, string> { ["ttl"] = ((long)t.TotalSeconds).ToString(CultureInfo.InvariantCulture) } : null,
        };
        return await SendAsync<GoogleChannel>(HttpMethod.Post, "calendars/" + Escape(calendarId) + "/events/watch", body, null, ct)
            ?? throw new GoogleApiException(0, null, "Google answered events.watch without a channel.");
    }

    /// <summary>https://developers.google.com/calendar/api/v3/reference/channels/stop; a channel already gone is fine.</summary>
    public async Task StopChannelAsync(string channelId, string resourceId, CancellationToken ct)
    {
        try
        {
            await SendAsync<JsonElement?>(HttpMethod.Post, "channels/stop", new GoogleChannel { Kind = null, Id = channelId, ResourceId = resourceId }, null, ct);
        }
        catch (GoogleApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
        }
    }

    private static string EventPath(string calendarId, string eventId) => "calendars/" + Escape(calendarId) + "/events/" + Escape(eventId);

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private async Task<T?> SendAsync<T>(HttpMethod method, string relative, object? body, string? ifMatch, CancellationToken ct)
    {
        var uri = new Uri(options.ApiBaseUrl, relative);
        var refreshed = false;
        for (var attempt = 0; ; attempt++)
        {
            var accessToken = await tokens.GetAsync(forceRefresh: false, ct);
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            if (ifMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }

            if (body is not null)
            {
                request.Content = JsonContent.Create(body, body.GetType(), options: GoogleJson.Options);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.RequestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
            {
                var failure = new GoogleApiException(0, null,
                    ex is OperationCanceledException ? $"Google did not answer within {options.RequestTimeout.TotalSeconds:0} s." : "Google could not be reached: " + ex.Message, ex);
                if (attempt + 1 >= options.MaxAttempts)
                {
                    throw failure;
                }

                await Task.Delay(GoogleRetry.Backoff(attempt, options.BaseDelay, options.MaxDelay), ct);
                continue;
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    if (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0)
                    {
                        return default;
                    }

                    var text = await response.Content.ReadAsStringAsync(ct);
                    return string.IsNullOrWhiteSpace(text) ? default : JsonSerializer.Deserialize<T>(text, GoogleJson.Options);
                }

                var (reason, message) = await ReadErrorAsync(response, ct);
                if (response.StatusCode == HttpStatusCode.Unauthorized && !refreshed)
                {
                    // The access token expired or was revoked early: refresh once (a revoked grant throws from there).
                    refreshed = true;
                    await tokens.GetAsync(forceRefresh: true, ct);
                    attempt--;
                    continue;
                }

                var error = new GoogleApiException(response.StatusCode, reason, $"Google answered {(int)response.StatusCode} {reason ?? response.ReasonPhrase}: {message}");
                if (!GoogleRetry.IsRetryable(response.StatusCode, reason) || attempt + 1 >= options.MaxAttempts)
                {
                    throw error;
                }

                var wait = RetryAfter(response) ?? GoogleRetry.Backoff(attempt, options.BaseDelay, options.MaxDelay);
                if (wait > options.MaxDelay)
                {
                    // Google asks for a longer pause than a sync round should hold a worker: fail now, retry later.
                    throw error;
                }

                await Task.Delay(wait, ct);
            }
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return null;
    }

    private static async Task<(string? Reason, string Message)> ReadErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            var body = JsonSerializer.Deserialize<GoogleErrorBody>(text, GoogleJson.Options);
            return (body?.Error?.Errors?.FirstOrDefault()?.Reason, body?.Error?.Message ?? text);
        }
        catch (JsonException)
        {
            return (null, text.Length > 200 ? text[..200] : text);
        }
    }
}

using System.Net;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;

namespace Rendezvous.Calendars.Graph;

/// <summary>A calendar of the signed-in user.</summary>
public sealed record GraphCalendar(string Id, string Name, bool CanEdit, bool IsDefault);

/// <summary>One round of calendarView delta: what changed, what was removed, and the link for the next round.</summary>
/// <param name="Changed">New and updated events (occurrences of series included, as calendarView expands them).</param>
/// <param name="Removed">Ids of events and occurrences gone from the view (deleted, cancelled, moved out of the window).</param>
/// <param name="DeltaLink">The <c>@odata.deltaLink</c> to ask with next time; null when the service no longer knows the link.</param>
/// <param name="CursorInvalid">The service answered 410 (syncStateNotFound, resyncRequired...): start again without a link.</param>
public sealed record GraphDelta(IReadOnlyList<Event> Changed, IReadOnlyList<string> Removed, string? DeltaLink, bool CursorInvalid);

/// <summary>How a conditional update ended.</summary>
public enum GraphWriteOutcome
{
    Written,
    /// <summary>412: the event changed since the change key we sent.</summary>
    PreconditionFailed,
    NotFound,
}

/// <summary>An event write: how it ended, and the event as now stored (id and change key) when it was written.</summary>
public sealed record GraphWrite(GraphWriteOutcome Outcome, Event? Event);

/// <summary>
/// The Microsoft Graph calls the calendar sync needs, over the official SDK. The base URL comes from
/// <see cref="GraphOptions.GraphBaseUrl"/>; the bearer token is attached only for that host. Every call has a timeout
/// and bounded retries (<see cref="GraphRetryHandler"/>); a 401 is answered once by a forced token refresh; failures
/// surface as <see cref="GraphException"/>.
/// </summary>
public sealed class GraphCalendarClient : IDisposable
{
    private const string PreferUtc = "outlook.timezone=\"UTC\"";

    private readonly HttpClient _http;
    private readonly GraphServiceClient _graph;
    private readonly TokenProvider _tokens;
    private readonly GraphOptions _options;

    /// <param name="transport">The HTTP handler at the bottom of the pipeline (shared by all clients; not disposed here).</param>
    /// <param name="options">Base URL, timeouts and retry bounds.</param>
    /// <param name="tokens">Access tokens for the account.</param>
    public GraphCalendarClient(HttpMessageHandler transport, GraphOptions options, IGraphTokenSource tokens)
    {
        _options = options;
        _tokens = new TokenProvider(tokens, options.GraphBaseUrl);
        var handlers = GraphClientFactory.CreateDefaultHandlers().Where(h => h is not RetryHandler).ToList();
        handlers.Add(new GraphRetryHandler(options, tokens));
        var pipeline = GraphClientFactory.CreatePipeline(handlers, new NonDisposingHandler(transport));
        _http = new HttpClient(pipeline) { Timeout = Timeout.InfiniteTimeSpan };
        _graph = new GraphServiceClient(_http, new BaseBearerTokenAuthenticationProvider(_tokens), options.GraphBaseUrl.ToString().TrimEnd('/'));
    }

    public void Dispose() => _http.Dispose();

    /// <summary>GET /me/calendars (https://learn.microsoft.com/en-us/graph/api/user-list-calendars), every page.</summary>
    public Task<IReadOnlyList<GraphCalendar>> ListCalendarsAsync(CancellationToken ct) => CallAsync<IReadOnlyList<GraphCalendar>>(async () =>
    {
        var calendars = new List<GraphCalendar>();
        var page = await _graph.Me.Calendars.GetAsync(cancellationToken: ct);
        while (page is not null)
        {
            calendars.AddRange((page.Value ?? []).Where(c => c.Id is not null)
                .Select(c => new GraphCalendar(c.Id!, c.Name ?? c.Id!, c.CanEdit ?? true, c.IsDefaultCalendar ?? false)));
            page = page.OdataNextLink is { } next ? await _graph.Me.Calendars.WithUrl(next).GetAsync(cancellationToken: ct) : null;
        }

        return calendars;
    }, "listing calendars", ct);

    /// <summary>
    /// GET /me/calendars/{id}/calendarView/delta (https://learn.microsoft.com/en-us/graph/api/event-delta,
    /// https://learn.microsoft.com/en-us/graph/delta-query-events): with <paramref name="deltaLink"/> null a full listing of
    /// the window [<paramref name="from"/>, <paramref name="to"/>) (the window is fixed into the links the service returns),
    /// otherwise the changes since that link. Follows every <c>@odata.nextLink</c> to the final <c>@odata.deltaLink</c>.
    /// Times come back in UTC (<c>Prefer: outlook.timezone</c>).
    /// </summary>
    public Task<GraphDelta> CalendarViewDeltaAsync(string calendarId, string? deltaLink, DateTimeOffset from, DateTimeOffset to, CancellationToken ct) =>
        CallAsync(async () =>
        {
            var changed = new List<Event>();
            var removed = new List<string>();
            var builder = _graph.Me.Calendars[calendarId].CalendarView.Delta;
            Microsoft.Graph.Me.Calendars.Item.CalendarView.Delta.DeltaGetResponse? page;
            try
            {
                page = deltaLink is null
                    ? await builder.GetAsDeltaGetResponseAsync(rc =>
                    {
                        rc.QueryParameters.StartDateTime = from.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                        rc.QueryParameters.EndDateTime = to.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                        Prefer(rc.Headers);
                    }, ct)
                    : await builder.WithUrl(deltaLink).GetAsDeltaGetResponseAsync(rc => Prefer(rc.Headers), ct);
                while (true)
                {
                    foreach (var item in page?.Value ?? [])
                    {
                        if (item.Id is null)
                        {
                            continue;
                        }

                        if (item.AdditionalData.ContainsKey("@removed"))
                        {
                            removed.Add(item.Id);
                        }
                        else
                        {
                            changed.Add(item);
                        }
                    }

                    if (page?.OdataNextLink is { } next)
                    {
                        page = await builder.WithUrl(next).GetAsDeltaGetResponseAsync(rc => Prefer(rc.Headers), ct);
                        continue;
                    }

                    return new GraphDelta(changed, removed, page?.OdataDeltaLink, false);
                }
            }
            catch (ApiException ex) when (IsInvalidSyncState(ex))
            {
                // https://learn.microsoft.com/en-us/graph/delta-query-overview: 410 Gone means the state token is no longer
                // valid and the client must start over with a full synchronization.
                return new GraphDelta([], [], null, true);
            }
        }, "reading calendar changes", ct);

    /// <summary>
    /// GET /users/{id}/calendarView/delta (https://learn.microsoft.com/en-us/graph/api/event-delta): the same as
    /// <see cref="CalendarViewDeltaAsync"/> on the default calendar of another mailbox, such as a room mailbox an
    /// application with the Calendars.ReadWrite application permission reads.
    /// </summary>
    public Task<GraphDelta> UserCalendarViewDeltaAsync(string user, string? deltaLink, DateTimeOffset from, DateTimeOffset to, CancellationToken ct) =>
        CallAsync(async () =>
        {
            var changed = new List<Event>();
            var removed = new List<string>();
            var builder = _graph.Users[user].CalendarView.Delta;
            Microsoft.Graph.Users.Item.CalendarView.Delta.DeltaGetResponse? page;
            try
            {
                page = deltaLink is null
                    ? await builder.GetAsDeltaGetResponseAsync(rc =>
                    {
                        rc.QueryParameters.StartDateTime = from.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                        rc.QueryParameters.EndDateTime = to.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                        Prefer(rc.Headers);
                    }, ct)
                    : await builder.WithUrl(deltaLink).GetAsDeltaGetResponseAsync(rc => Prefer(rc.Headers), ct);
                while (true)
                {
                    foreach (var item in page?.Value ?? [])
                    {
                        if (item.Id is null)
                        {
                            continue;
                        }

                        if (item.AdditionalData.ContainsKey("@removed"))
                        {
                            removed.Add(item.Id);
                        }
                        else
                        {
                            changed.Add(item);
                        }
                    }

                    if (page?.OdataNextLink is { } next)
                    {
                        page = await builder.WithUrl(next).GetAsDeltaGetResponseAsync(rc => Prefer(rc.Headers), ct);
                        continue;
                    }

                    return new GraphDelta(changed, removed, page?.OdataDeltaLink, false);
                }
            }
            catch (ApiException ex) when (IsInvalidSyncState(ex))
            {
                return new GraphDelta([], [], null, true);
            }
        }, "reading a mailbox's calendar changes", ct);

    /// <summary>
    /// Answers a meeting in another mailbox (a room's): POST /users/{id}/events/{id}/accept
    /// (https://learn.microsoft.com/en-us/graph/api/event-accept), /decline
    /// (https://learn.microsoft.com/en-us/graph/api/event-decline) or /tentativelyAccept
    /// (https://learn.microsoft.com/en-us/graph/api/event-tentativelyaccept), with a comment and sendResponse true so
    /// the organizer gets the usual Outlook answer. <paramref name="response"/> is ACCEPTED, DECLINED or TENTATIVE.
    /// </summary>
    /// <returns>False when the event is gone (the organizer deleted it): there is nobody left to answer.</returns>
    public Task<bool> RespondAsync(string user, string eventId, string response, string? comment, CancellationToken ct) =>
        CallAsync(async () =>
        {
            var item = _graph.Users[user].Events[eventId];
            try
            {
                switch (response)
                {
                    case "ACCEPTED":
                        await item.Accept.PostAsync(new Microsoft.Graph.Users.Item.Events.Item.Accept.AcceptPostRequestBody
                        {
                            Comment = comment, SendResponse = true,
                        }, cancellationToken: ct);
                        break;
                    case "DECLINED":
                        await item.Decline.PostAsync(new Microsoft.Graph.Users.Item.Events.Item.Decline.DeclinePostRequestBody
                        {
                            Comment = comment, SendResponse = true,
                        }, cancellationToken: ct);
                        break;
                    case "TENTATIVE":
                        await item.TentativelyAccept.PostAsync(new Microsoft.Graph.Users.Item.Events.Item.TentativelyAccept.TentativelyAcceptPostRequestBody
                        {
                            Comment = comment, SendResponse = true,
                        }, cancellationToken: ct);
                        break;
                    default:
                        throw new ArgumentException($"A room answers ACCEPTED, DECLINED or TENTATIVE, not '{response}'.", nameof(response));
                }

                return true;
            }
            catch (ApiException ex) when (ex.ResponseStatusCode == (int)HttpStatusCode.NotFound)
            {
                return false;
            }
        }, "answering a meeting", ct);

    /// <summary>
    /// POST /me/calendars/{id}/events (https://learn.microsoft.com/en-us/graph/api/calendar-post-events). The event must
    /// carry a transactionId: a create repeated with it (a retry after a lost answer) does not make a second event.
    /// </summary>
    public Task<Event> CreateEventAsync(string calendarId, Event calendarEvent, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(calendarEvent.TransactionId))
        {
            throw new ArgumentException("An event is created with a transactionId, so a retry never makes a duplicate.", nameof(calendarEvent));
        }

        return CallAsync(async () => await _graph.Me.Calendars[calendarId].Events.PostAsync(calendarEvent, rc => Prefer(rc.Headers), ct)
            ?? throw new GraphException(GraphErrorKind.Protocol, null, null, "Creating an event returned no event."), "creating an event", ct);
    }

    /// <summary>
    /// PATCH /me/events/{id} (https://learn.microsoft.com/en-us/graph/api/event-update) with <c>If-Match</c> on the change
    /// key we last saw (the event's etag is <c>W/"changeKey"</c>); null <paramref name="changeKey"/> writes unconditionally.
    /// </summary>
    public Task<GraphWrite> UpdateEventAsync(string eventId, Event calendarEvent, string? changeKey, CancellationToken ct) =>
        CallAsync(async () =>
        {
            try
            {
                var written = await _graph.Me.Events[eventId].PatchAsync(calendarEvent, rc =>
                {
                    Prefer(rc.Headers);
                    if (changeKey is not null)
                    {
                        rc.Headers.Add("If-Match", EtagOf(changeKey));
                    }
                }, ct);
                return new GraphWrite(GraphWriteOutcome.Written, written);
            }
            catch (ApiException ex) when (ex.ResponseStatusCode == (int)HttpStatusCode.PreconditionFailed)
            {
                return new GraphWrite(GraphWriteOutcome.PreconditionFailed, null);
            }
            catch (ApiException ex) when (ex.ResponseStatusCode == (int)HttpStatusCode.NotFound)
            {
                return new GraphWrite(GraphWriteOutcome.NotFound, null);
            }
        }, "updating an event", ct);

    /// <summary>GET /me/events/{id} (https://learn.microsoft.com/en-us/graph/api/event-get); null when it is gone.</summary>
    public Task<Event?> GetEventAsync(string eventId, CancellationToken ct) =>
        CallAsync(async () =>
        {
            try
            {
                return await _graph.Me.Events[eventId].GetAsync(rc => Prefer(rc.Headers), ct);
            }
            catch (ApiException ex) when (ex.ResponseStatusCode == (int)HttpStatusCode.NotFound)
            {
                return null;
            }
        }, "reading an event", ct);

    /// <summary>DELETE /me/events/{id} (https://learn.microsoft.com/en-us/graph/api/event-delete); false when it was already gone.</summary>
    public Task<bool> DeleteEventAsync(string eventId, CancellationToken ct) =>
        CallAsync(async () =>
        {
            try
            {
                await _graph.Me.Events[eventId].DeleteAsync(cancellationToken: ct);
                return true;
            }
            catch (ApiException ex) when (ex.ResponseStatusCode == (int)HttpStatusCode.NotFound)
            {
                return false;
            }
        }, "deleting an event", ct);

    /// <summary>
    /// POST /subscriptions (https://learn.microsoft.com/en-us/graph/api/subscription-post-subscriptions) for created,
    /// updated and deleted events of one calendar. The service validates <paramref name="notificationUrl"/> before it
    /// answers (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks).
    /// </summary>
    public Task<Subscription> CreateSubscriptionAsync(string calendarId, Uri notificationUrl, Uri lifecycleUrl, string clientState,
        DateTimeOffset expiresAt, CancellationToken ct) =>
        CallAsync(async () => await _graph.Subscriptions.PostAsync(new Subscription
            {
                ChangeType = "created,updated,deleted",
                NotificationUrl = notificationUrl.ToString(),
                LifecycleNotificationUrl = lifecycleUrl.ToString(),
                Resource = $"/me/calendars/{calendarId}/events",
                ExpirationDateTime = expiresAt,
                ClientState = clientState,
            }, cancellationToken: ct) ?? throw new GraphException(GraphErrorKind.Protocol, null, null, "Creating a subscription returned nothing."),
            "subscribing to changes", ct);

    /// <summary>PATCH /subscriptions/{id} (https://learn.microsoft.com/en-us/graph/api/subscription-update); null when it is gone.</summary>
    public Task<Subscription?> RenewSubscriptionAsync(string subscriptionId, DateTimeOffset expiresAt, CancellationToken ct) =>
        CallAsync(async () =>
        {
            try
            {
                return await _graph.Subscriptions[subscriptionId].PatchAsync(new Subscription { ExpirationDateTime = expiresAt }, cancellationToken: ct);
            }
            catch (ApiException ex) when (ex.ResponseStatusCode == (int)HttpStatusCode.NotFound)
            {
                return null;
            }
        }, "renewing a subscription", ct);

    /// <summary>DELETE /subscriptions/{id} (https://learn.microsoft.com/en-us/graph/api/subscription-delete); a missing one is fine.</summary>
    public Task DeleteSubscriptionAsync(string subscriptionId, CancellationToken ct) =>
        CallAsync(async () =>
        {
            try
            {
                await _graph.Subscriptions[subscriptionId].DeleteAsync(cancellationToken: ct);
            }
            catch (ApiException ex) when (ex.ResponseStatusCode == (int)HttpStatusCode.NotFound)
            {
            }

            return true;
        }, "removing a subscription", ct);

    /// <summary>The weak etag Graph gives an event whose change key is <paramref name="changeKey"/>.</summary>
    public static string EtagOf(string changeKey) => "W/\"" + changeKey + "\"";

    private void Prefer(RequestHeaders headers)
    {
        headers.Add("Prefer", PreferUtc);
        headers.Add("Prefer", $"odata.maxpagesize={_options.PageSize}");
    }

    private static bool IsInvalidSyncState(ApiException ex) =>
        ex.ResponseStatusCode == (int)HttpStatusCode.Gone
        || (ex is ODataError { Error.Code: "syncStateNotFound" or "syncStateInvalid" or "resyncRequired" });

    /// <summary>Runs a call; failures become <see cref="GraphException"/> (a 401 was already retried once with a refreshed token).</summary>
    private async Task<T> CallAsync<T>(Func<Task<T>> call, string what, CancellationToken ct)
    {
        try
        {
            return await call();
        }
        catch (ApiException ex)
        {
            throw Map(ex, what);
        }
        catch (TimeoutException ex)
        {
            throw new GraphException(GraphErrorKind.Unavailable, null, "timeout", $"Microsoft Graph timed out while {what}.", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new GraphException(GraphErrorKind.Unavailable, null, "network", $"Microsoft Graph could not be reached while {what}: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new GraphException(GraphErrorKind.Unavailable, null, "timeout", $"Microsoft Graph timed out while {what}.", ex);
        }
    }

    private static GraphException Map(ApiException ex, string what)
    {
        var code = (ex as ODataError)?.Error?.Code;
        var status = ex.ResponseStatusCode;
        var kind = status switch
        {
            401 or 403 => GraphErrorKind.AccessDenied,
            404 => GraphErrorKind.NotFound,
            429 => GraphErrorKind.Throttled,
            >= 500 => GraphErrorKind.Unavailable,
            _ => GraphErrorKind.Protocol,
        };
        var text = kind switch
        {
            GraphErrorKind.AccessDenied => $"Microsoft Graph refused access while {what} ({status} {code}).",
            GraphErrorKind.NotFound => $"Microsoft Graph found nothing while {what} (404 {code}): was the calendar deleted?",
            GraphErrorKind.Throttled => $"Microsoft Graph is throttling this account (429) while {what}; retrying later.",
            GraphErrorKind.Unavailable => $"Microsoft Graph is unavailable ({status}) while {what}; retrying later.",
            _ => $"Microsoft Graph answered {status} {code} while {what}: {(ex as ODataError)?.Error?.Message ?? ex.Message}",
        };
        return new GraphException(kind, status, code, text, ex);
    }

    /// <summary>Hands the SDK a bearer token, only for the configured Graph host (never to a host a link points elsewhere).</summary>
    private sealed class TokenProvider(IGraphTokenSource source, Uri graphBase) : IAccessTokenProvider
    {
        public AllowedHostsValidator AllowedHostsValidator { get; } = new([graphBase.Host]);

        public async Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null,
            CancellationToken cancellationToken = default)
        {
            if (!AllowedHostsValidator.IsUrlHostValid(uri) || uri.Port != graphBase.Port || uri.Scheme != Uri.UriSchemeHttps)
            {
                return "";
            }

            return await source.GetAccessTokenAsync(false, cancellationToken);
        }
    }

    /// <summary>Keeps the shared transport handler alive when one client's pipeline is disposed.</summary>
    private sealed class NonDisposingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
            // The inner handler is shared by every client of the process; its owner disposes it.
        }
    }
}

using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Rendezvous.Emulators.Graph;

public sealed partial class GraphEmulator
{
    /// <summary>Outlook events allow a subscription at most 10,080 minutes (7 days) ahead.</summary>
    public static readonly TimeSpan MaxSubscriptionLifetime = TimeSpan.FromMinutes(10080);

    private void MapSubscriptions(RouteGroupBuilder graph)
    {
        // https://learn.microsoft.com/en-us/graph/api/subscription-post-subscriptions. Before answering, Graph validates the
        // notification URL (and the lifecycle URL): it POSTs ?validationToken=... and wants the token back as text/plain with
        // 200 within 10 seconds (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks).
        graph.MapPost("/subscriptions", async context =>
        {
            if (await AuthenticateAsync(context) is not { } mailbox)
            {
                return;
            }

            var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync()) as JsonObject ?? [];
            var resource = body["resource"]?.GetValue<string>() ?? "";
            var parts = resource.Trim('/').Split('/');
            string? calendarId = parts is ["me", "calendars", var id, "events"] ? id : parts is ["me", "events"] ? null : "?";
            if (calendarId == "?" || (calendarId is not null && mailbox.FindCalendar(calendarId) is null))
            {
                await WriteError(context, 400, "InvalidRequest", $"Resource '{resource}' is not supported.");
                return;
            }

            if (!Uri.TryCreate(body["notificationUrl"]?.GetValue<string>(), UriKind.Absolute, out var notificationUrl) || notificationUrl.Scheme != Uri.UriSchemeHttps
                && !notificationUrl.IsLoopback)
            {
                await WriteError(context, 400, "InvalidRequest", "The notificationUrl must be an https URL.");
                return;
            }

            Uri? lifecycleUrl = Uri.TryCreate(body["lifecycleNotificationUrl"]?.GetValue<string>(), UriKind.Absolute, out var l) ? l : null;
            var expiration = body["expirationDateTime"]?.GetValue<DateTimeOffset>() ?? default;
            if (expiration <= Now() || expiration > Now() + MaxSubscriptionLifetime)
            {
                await WriteError(context, 400, "ExtensionError",
                    $"Subscription expiration can only be {MaxSubscriptionLifetime.TotalMinutes:0} minutes in the future.");
                return;
            }

            if (body["clientState"]?.GetValue<string>() is { Length: > 255 })
            {
                await WriteError(context, 400, "InvalidRequest", "clientState is longer than 255 characters.");
                return;
            }

            foreach (var url in new[] { notificationUrl, lifecycleUrl }.OfType<Uri>())
            {
                if (!await ValidateEndpointAsync(url))
                {
                    await WriteError(context, 400, "ValidationError",
                        "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.");
                    return;
                }
            }

            var subscription = new EmulatedSubscription
            {
                Id = Guid.NewGuid().ToString(),
                MailboxEmail = mailbox.Email,
                Resource = resource,
                CalendarId = calendarId,
                ChangeType = body["changeType"]?.GetValue<string>() ?? "",
                NotificationUrl = notificationUrl,
                LifecycleNotificationUrl = lifecycleUrl,
                ClientState = body["clientState"]?.GetValue<string>(),
                ExpirationDateTime = expiration,
            };
            _subscriptions[subscription.Id] = subscription;
            await WriteJson(context, 201, SubscriptionJson(subscription));
        });

        // https://learn.microsoft.com/en-us/graph/api/subscription-update: renewal moves expirationDateTime.
        graph.MapMethods("/subscriptions/{id}", ["PATCH"], async (HttpContext context, string id) =>
        {
            if (await AuthenticateAsync(context) is null)
            {
                return;
            }

            if (!_subscriptions.TryGetValue(id, out var subscription) || subscription.ExpirationDateTime <= Now())
            {
                _subscriptions.TryRemove(id, out _);
                await WriteError(context, 404, "ResourceNotFound", "The object was not found.");
                return;
            }

            var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync()) as JsonObject ?? [];
            var expiration = body["expirationDateTime"]?.GetValue<DateTimeOffset>() ?? default;
            if (expiration <= Now() || expiration > Now() + MaxSubscriptionLifetime)
            {
                await WriteError(context, 400, "ExtensionError",
                    $"Subscription expiration can only be {MaxSubscriptionLifetime.TotalMinutes:0} minutes in the future.");
                return;
            }

            subscription.ExpirationDateTime = expiration;
            await WriteJson(context, 200, SubscriptionJson(subscription));
        });

        // https://learn.microsoft.com/en-us/graph/api/subscription-delete
        graph.MapDelete("/subscriptions/{id}", async (HttpContext context, string id) =>
        {
            if (await AuthenticateAsync(context) is null)
            {
                return;
            }

            if (!_subscriptions.TryRemove(id, out _))
            {
                await WriteError(context, 404, "ResourceNotFound", "The object was not found.");
                return;
            }

            context.Response.StatusCode = 204;
        });
    }

    private static JsonObject SubscriptionJson(EmulatedSubscription s) => new()
    {
        ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
        ["id"] = s.Id,
        ["resource"] = s.Resource,
        ["changeType"] = s.ChangeType,
        ["clientState"] = s.ClientState,
        ["notificationUrl"] = s.NotificationUrl.ToString(),
        ["lifecycleNotificationUrl"] = s.LifecycleNotificationUrl?.ToString(),
        ["expirationDateTime"] = s.ExpirationDateTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        ["applicationId"] = ClientId,
        ["latestSupportedTlsVersion"] = "v1_2",
    };

    private HttpClient NotificationClient() =>
        new(NotificationHandler ?? new SocketsHttpHandler(), disposeHandler: NotificationHandler is null) { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The validation handshake: POST {url}?validationToken=... expecting the token back as text/plain.</summary>
    private async Task<bool> ValidateEndpointAsync(Uri url)
    {
        var token = "Validation: Testing client application reachability for subscription Request-Id: " + Guid.NewGuid();
        var target = new UriBuilder(url) { Query = (url.Query.Length > 1 ? url.Query[1..] + "&" : "") + "validationToken=" + Uri.EscapeDataString(token) }.Uri;
        try
        {
            using var client = NotificationClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new StringContent("", Encoding.UTF8, "text/plain") };
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var ok = (int)response.StatusCode == 200 && text == token
                && response.Content.Headers.ContentType?.MediaType == "text/plain";
            Record(new DeliveredNotification("", "validation", (int)response.StatusCode));
            return ok;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Record(new DeliveredNotification("", "validation", 0));
            return false;
        }
    }

    /// <summary>
    /// Sends a change notification (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks,
    /// https://learn.microsoft.com/en-us/graph/api/resources/changenotification) to every live subscription that covers the
    /// event's calendar and change type. Basic notifications: no resource data beyond the id.
    /// </summary>
    internal async Task NotifyAsync(EmulatedMailbox mailbox, EmulatedEvent e, string changeType)
    {
        var now = Now();
        foreach (var s in _subscriptions.Values.Where(s => string.Equals(s.MailboxEmail, mailbox.Email, StringComparison.OrdinalIgnoreCase)
                     && (s.CalendarId is null || s.CalendarId == e.CalendarId)
                     && s.ChangeType.Split(',').Contains(changeType, StringComparer.Ordinal)).ToList())
        {
            if (s.ExpirationDateTime <= now)
            {
                _subscriptions.TryRemove(s.Id, out _);
                continue;
            }

            var notification = new JsonObject
            {
                ["subscriptionId"] = s.Id,
                ["subscriptionExpirationDateTime"] = s.ExpirationDateTime.ToString("O", CultureInfo.InvariantCulture),
                ["changeType"] = changeType,
                ["resource"] = $"Users/{mailbox.UserId}/Events/{e.Id}",
                ["resourceData"] = new JsonObject
                {
                    ["@odata.type"] = "#Microsoft.Graph.Event",
                    ["@odata.id"] = $"Users/{mailbox.UserId}/Events/{e.Id}",
                    ["@odata.etag"] = $"W/\"{e.ChangeKey}\"",
                    ["id"] = e.Id,
                },
                ["clientState"] = s.ClientState,
                ["tenantId"] = TenantId,
            };
            await PostAsync(s.NotificationUrl, s.Id, changeType, notification);
        }
    }

    /// <summary>
    /// Sends a lifecycle notification (https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events):
    /// reauthorizationRequired, subscriptionRemoved (the subscription is then gone) or missed.
    /// </summary>
    public async Task SendLifecycleAsync(string subscriptionId, string lifecycleEvent)
    {
        var s = _subscriptions[subscriptionId];
        if (lifecycleEvent == "subscriptionRemoved")
        {
            _subscriptions.TryRemove(subscriptionId, out _);
        }

        var notification = new JsonObject
        {
            ["subscriptionId"] = s.Id,
            ["subscriptionExpirationDateTime"] = s.ExpirationDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["tenantId"] = TenantId,
            ["clientState"] = s.ClientState,
            ["lifecycleEvent"] = lifecycleEvent,
        };
        await PostAsync(s.LifecycleNotificationUrl ?? s.NotificationUrl, s.Id, lifecycleEvent, notification);
    }

    private async Task PostAsync(Uri url, string subscriptionId, string kind, JsonObject notification)
    {
        var payload = new JsonObject { ["value"] = new JsonArray(notification) };
        try
        {
            using var client = NotificationClient();
            using var content = new StringContent(payload.ToJsonString(), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync(url, content);
            Record(new DeliveredNotification(subscriptionId, kind, (int)response.StatusCode));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ObjectDisposedException)
        {
            Record(new DeliveredNotification(subscriptionId, kind, 0));
        }
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;

namespace Rendezvous.Emulators.Ews;

/// <summary>A streaming subscription: the folders it watches and the events not yet delivered.</summary>
public sealed class EmulatedSubscription(string id, EmulatedMailbox mailbox, IReadOnlyList<string> folderIds)
{
    public string Id { get; } = id;

    public EmulatedMailbox Mailbox { get; } = mailbox;

    public IReadOnlyList<string> FolderIds { get; } = folderIds;

    internal Channel<(string Kind, string ItemId, string FolderId)> Events { get; } = Channel.CreateUnbounded<(string, string, string)>();
}

/// <summary>Streaming notifications: Subscribe and GetStreamingEvents.</summary>
public sealed partial class EwsEmulator
{
    private readonly ConcurrentDictionary<string, EmulatedSubscription> _subscriptions = new(StringComparer.Ordinal);

    /// <summary>How long a "minute" of ConnectionTimeout lasts here (tests shorten it to see streams end and reconnect).</summary>
    public TimeSpan StreamingMinute { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often an open stream sends a ConnectionStatus OK heartbeat.</summary>
    public TimeSpan StreamingHeartbeat { get; set; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<EmulatedSubscription> Subscriptions => [.. _subscriptions.Values];

    /// <summary>Every subscription is forgotten (as after a server restart): streams get ErrorSubscriptionNotFound.</summary>
    public void DropSubscriptions() => _subscriptions.Clear();

    internal void Notify(EmulatedMailbox mailbox, string kind, EmulatedItem item)
    {
        foreach (var subscription in _subscriptions.Values)
        {
            if (subscription.Mailbox == mailbox && subscription.FolderIds.Contains(item.FolderId))
            {
                subscription.Events.Writer.TryWrite((kind, item.Id, item.FolderId));
            }
        }
    }

    /// <summary>
    /// Subscribe (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/subscribe-operation)
    /// with a StreamingSubscriptionRequest
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/streamingsubscriptionrequest).
    /// </summary>
    private IEnumerable<XElement> Subscribe(EmulatedMailbox mailbox, XElement body)
    {
        var request = body.Element(M + "StreamingSubscriptionRequest");
        if (request is null)
        {
            yield return Error("Subscribe", "ErrorInvalidSubscriptionRequest", "The emulator serves streaming subscriptions only.");
            yield break;
        }

        var folders = new List<string>();
        foreach (var folderId in request.Element(T + "FolderIds")?.Elements() ?? [])
        {
            if (FolderOf(mailbox, new XElement("x", folderId)) is not { } folder)
            {
                yield return Error("Subscribe", "ErrorFolderNotFound", "The specified folder could not be found in the store.");
                yield break;
            }

            folders.Add(folder.Id);
        }

        var subscription = new EmulatedSubscription("sub" + NewId(), mailbox, folders);
        _subscriptions[subscription.Id] = subscription;
        yield return Success("Subscribe", new XElement(M + "SubscriptionId", subscription.Id), new XElement(M + "Watermark", NewId()));
    }

    /// <summary>
    /// GetStreamingEvents (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getstreamingevents-operation):
    /// a chunked answer that stays open for ConnectionTimeout minutes (1-30), made of one envelope per batch of
    /// notifications, heartbeats with ConnectionStatus OK, and a last envelope with ConnectionStatus Closed.
    /// </summary>
    private async Task GetStreamingEventsAsync(HttpContext context, XElement body)
    {
        var id = body.Element(M + "SubscriptionIds")?.Element(T + "SubscriptionId")?.Value ?? "";
        if (!int.TryParse(body.Element(M + "ConnectionTimeout")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) || minutes is < 1 or > 30)
        {
            await WriteResponse(context, "GetStreamingEvents", [Error("GetStreamingEvents", "ErrorInvalidArgument", "ConnectionTimeout must be 1-30 minutes.")]);
            return;
        }

        if (!_subscriptions.TryGetValue(id, out var subscription))
        {
            await WriteResponse(context, "GetStreamingEvents", [Error("GetStreamingEvents", "ErrorSubscriptionNotFound", "The subscription was not found.")]);
            return;
        }

        context.Response.ContentType = "text/xml; charset=utf-8";
        var ends = DateTimeOffset.UtcNow + StreamingMinute * minutes;
        async Task Send(XElement message)
        {
            var envelope = new XElement(Soap + "Envelope", new XAttribute(XNamespace.Xmlns + "s", Soap),
                new XElement(Soap + "Body", new XElement(M + "GetStreamingEventsResponse",
                    new XAttribute(XNamespace.Xmlns + "m", M), new XAttribute(XNamespace.Xmlns + "t", T),
                    new XElement(M + "ResponseMessages", message))));
            await context.Response.WriteAsync(envelope.ToString(SaveOptions.DisableFormatting), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        try
        {
            await Send(Success("GetStreamingEvents", new XElement(M + "ConnectionStatus", "OK")));
            while (true)
            {
                var left = ends - DateTimeOffset.UtcNow;
                if (left <= TimeSpan.Zero || !_subscriptions.ContainsKey(id))
                {
                    break;
                }

                using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                wait.CancelAfter(left < StreamingHeartbeat ? left : StreamingHeartbeat);
                try
                {
                    await subscription.Events.Reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
                {
                    await Send(Success("GetStreamingEvents", new XElement(M + "ConnectionStatus", "OK")));
                    continue;
                }

                var batch = new List<XElement>();
                while (subscription.Events.Reader.TryRead(out var e))
                {
                    batch.Add(new XElement(T + e.Kind, new XElement(T + "TimeStamp", Time(DateTimeOffset.UtcNow)),
                        new XElement(T + "ItemId", new XAttribute("Id", e.ItemId)), new XElement(T + "ParentFolderId", new XAttribute("Id", e.FolderId))));
                }

                Requests.Enqueue("Notification " + subscription.Mailbox.Email);
                await Send(Success("GetStreamingEvents", new XElement(M + "Notifications",
                    new XElement(M + "Notification", new XElement(T + "SubscriptionId", id), batch))));
            }

            await Send(Success("GetStreamingEvents", new XElement(M + "ConnectionStatus", "Closed")));
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
    }
}

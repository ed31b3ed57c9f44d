using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rendezvous.Emulators.Ews;

/// <summary>
/// A local Exchange Web Services endpoint (<c>/EWS/Exchange.asmx</c>) written from Microsoft's EWS reference
/// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/ews-operations-in-exchange), served
/// over plain http on a loopback port. It keeps mailboxes, calendar folders and items in memory and answers the SOAP
/// operations the calendar sync uses, with Basic authentication, ExchangeImpersonation, sync states that expire,
/// ChangeKeys that change on every update, and injected faults (ErrorServerBusy with BackOffMilliseconds and others).
/// </summary>
public sealed partial class EwsEmulator : IAsyncDisposable
{
    internal static readonly XNamespace Soap = "http://schemas.xmlsoap.org/soap/envelope/";
    internal static readonly XNamespace T = "http://schemas.microsoft.com/exchange/services/2006/types";
    internal static readonly XNamespace M = "http://schemas.microsoft.com/exchange/services/2006/messages";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, EmulatedMailbox> _mailboxes = new(StringComparer.OrdinalIgnoreCase);
    private long _seq;

    private EwsEmulator(WebApplication app, Func<DateTimeOffset> now)
    {
        _app = app;
        Now = now;
    }

    internal object Gate { get; } = new();

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The EWS endpoint.</summary>
    public Uri EwsUrl => new(BaseUrl, "EWS/Exchange.asmx");

    /// <summary>The emulator's idea of now (sync state expiry); tests give it their own clock.</summary>
    public Func<DateTimeOffset> Now { get; set; }

    /// <summary>How long a SyncState is accepted after it was issued; older ones get ErrorInvalidSyncStateData.</summary>
    public TimeSpan SyncStateLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Faults to inject; the first one matching a request's operation answers it.</summary>
    public ConcurrentQueue<EmulatedFault> Faults { get; } = new();

    /// <summary>Every operation served, as "Operation mailbox" (for assertions about what a client did).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Headers and attributes worth asserting, per request: "Operation version=... anchor=... conflict=... send=...".</summary>
    public ConcurrentQueue<string> Details { get; } = new();

    public static async Task<EwsEmulator> StartAsync(Func<DateTimeOffset>? now = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var emulator = new EwsEmulator(app, now ?? (() => DateTimeOffset.UtcNow));
        app.MapPost("/EWS/Exchange.asmx", emulator.HandleAsync);
        emulator.MapAutodiscover(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseUrl = new Uri(new Uri(address).GetLeftPart(UriPartial.Authority).Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return emulator;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public EmulatedMailbox AddMailbox(string email, string password)
    {
        var mailbox = new EmulatedMailbox(this, email, password);
        _mailboxes[email] = mailbox;
        return mailbox;
    }

    public EmulatedMailbox Mailbox(string email) => _mailboxes[email];

    /// <summary>Every SyncState issued so far is refused from now on (as after a mailbox move or a store repair).</summary>
    public void InvalidateSyncStates() => Interlocked.Exchange(ref _stateEpoch, Interlocked.Read(ref _seq) + 1);

    private long _stateEpoch;

    internal long NextSeq() => Interlocked.Increment(ref _seq);

    internal static string NewId() => Ids.Random(24);

    internal static string NewChangeKey() => "DwAAABYA" + Ids.Random(9);

    private async Task HandleAsync(HttpContext context)
    {
        // Basic authentication (RFC 7617), the way Exchange's EWS virtual directory answers when Basic is enabled.
        var mailbox = Authenticate(context.Request.Headers.Authorization.ToString());
        if (mailbox is null)
        {
            Requests.Enqueue("401");
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"" + context.Request.Host.Host + "\"";
            return;
        }

        XDocument request;
        try
        {
            request = await XDocument.LoadAsync(context.Request.Body, LoadOptions.None, context.RequestAborted);
        }
        catch (System.Xml.XmlException)
        {
            await WriteFault(context, "a:ErrorSchemaValidation", "The request failed schema validation.", "ErrorSchemaValidation", null);
            return;
        }

        var header = request.Root?.Element(Soap + "Header");
        var body = request.Root?.Element(Soap + "Body")?.Elements().FirstOrDefault();
        if (body is null || body.Name.Namespace != M)
        {
            await WriteFault(context, "a:ErrorSchemaValidation", "The request has no EWS operation in its body.", "ErrorSchemaValidation", null);
            return;
        }

        var operation = body.Name.LocalName;
        var version = header?.Element(T + "RequestServerVersion")?.Attribute("Version")?.Value;
        Details.Enqueue($"{operation} version={version} anchor={context.Request.Headers["X-AnchorMailbox"]} " +
            $"conflict={body.Attribute("ConflictResolution")?.Value} send={body.Attribute("SendMeetingInvitations")?.Value ?? body.Attribute("SendMeetingInvitationsOrCancellations")?.Value ?? body.Attribute("SendMeetingCancellations")?.Value}");

        // ExchangeImpersonation (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/exchangeimpersonation):
        // the caller needs the ApplicationImpersonation role, and then acts on the named mailbox.
        if (header?.Element(T + "ExchangeImpersonation")?.Descendants(T + "SmtpAddress").FirstOrDefault()?.Value is { } target)
        {
            if (!mailbox.MayImpersonate)
            {
                await WriteFault(context, "a:ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user.",
                    "ErrorImpersonateUserDenied", null);
                return;
            }

            if (!_mailboxes.TryGetValue(target, out var impersonated))
            {
                await WriteFault(context, "a:ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.", "ErrorNonExistentMailbox", null);
                return;
            }

            mailbox = impersonated;
        }

        Requests.Enqueue(operation + " " + mailbox.Email);
        foreach (var fault in Faults)
        {
            if (fault.Times > 0 && (fault.Operation is null || fault.Operation == operation))
            {
                fault.Times--;
                fault.Hits++;
                if (fault.HttpStatus is { } status)
                {
                    context.Response.StatusCode = status;
                    return;
                }

                if (fault.AsSoapFault)
                {
                    await WriteFault(context, "a:" + fault.ResponseCode, "Injected fault.", fault.ResponseCode, fault.BackOffMilliseconds);
                }
                else
                {
                    await WriteResponse(context, operation, [Error(operation, fault.ResponseCode, "Injected fault.", fault.BackOffMilliseconds)]);
                }

                return;
            }
        }

        if (version is null)
        {
            // Exchange 2013 and later want the schema version (RequestServerVersion) on every request.
            await WriteFault(context, "a:ErrorInvalidServerVersion", "The request is missing RequestServerVersion.", "ErrorInvalidServerVersion", null);
            return;
        }

        if (operation == "GetStreamingEvents")
        {
            await GetStreamingEventsAsync(context, body);
            return;
        }

        IEnumerable<XElement> messages;
        lock (Gate)
        {
            messages = operation switch
            {
                "GetFolder" => GetFolder(mailbox, body),
                "FindFolder" => FindFolder(mailbox, body),
                "FindItem" => FindItem(mailbox, body),
                "GetItem" => GetItem(mailbox, body),
                "CreateItem" => CreateItem(mailbox, body),
                "UpdateItem" => UpdateItem(mailbox, body),
                "DeleteItem" => DeleteItem(mailbox, body),
                "SyncFolderItems" => SyncFolderItems(mailbox, body),
                "Subscribe" => Subscribe(mailbox, body),
                _ => [Error(operation, "ErrorInvalidRequest", "The emulator does not implement " + operation + ".")],
            };
            messages = messages.ToList();
        }

        await WriteResponse(context, operation, messages);
    }

    private EmulatedMailbox? Authenticate(string authorization)
    {
        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return null;
        }

        var user = decoded[..colon];
        var slash = user.IndexOf('\\', StringComparison.Ordinal);
        var name = slash >= 0 ? user[(slash + 1)..] : user;
        var mailbox = _mailboxes.Values.FirstOrDefault(m => string.Equals(m.Email, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(m.Email.Split('@')[0], name, StringComparison.OrdinalIgnoreCase));
        return mailbox is not null && mailbox.Password == decoded[(colon + 1)..] ? mailbox : null;
    }

    // ---- answers ----

    internal static XElement Success(string operation, params object?[] content) =>
        new(M + operation + "ResponseMessage", new XAttribute("ResponseClass", "Success"), new XElement(M + "ResponseCode", "NoError"), content);

    /// <summary>
    /// An error response message (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode);
    /// ErrorServerBusy carries BackOffMilliseconds in MessageXml
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange).
    /// </summary>
    internal static XElement Error(string operation, string code, string text, int? backOffMilliseconds = null) =>
        new(M + operation + "ResponseMessage", new XAttribute("ResponseClass", "Error"),
            new XElement(M + "MessageText", text),
            new XElement(M + "ResponseCode", code),
            new XElement(M + "DescriptiveLinkKey", "0"),
            backOffMilliseconds is { } ms
                ? new XElement(M + "MessageXml", new XElement(T + "Value", new XAttribute("Name", "BackOffMilliseconds"), ms.ToString(CultureInfo.InvariantCulture)))
                : null);

    private static async Task WriteResponse(HttpContext context, string operation, IEnumerable<XElement> messages)
    {
        var envelope = new XDocument(new XElement(Soap + "Envelope",
            new XAttribute(XNamespace.Xmlns + "s", Soap),
            new XElement(Soap + "Header",
                new XElement(T + "ServerVersionInfo", new XAttribute("MajorVersion", "15"), new XAttribute("MinorVersion", "2"),
                    new XAttribute("MajorBuildNumber", "1544"), new XAttribute("MinorBuildNumber", "4"), new XAttribute("Version", "V2017_07_11"))),
            new XElement(Soap + "Body",
                new XElement(M + operation + "Response",
                    new XAttribute(XNamespace.Xmlns + "m", M), new XAttribute(XNamespace.Xmlns + "t", T),
                    new XElement(M + "ResponseMessages", messages)))));
        context.Response.ContentType = "text/xml; charset=utf-8";
        await context.Response.WriteAsync(envelope.ToString(SaveOptions.DisableFormatting), context.RequestAborted);
    }

    /// <summary>A SOAP 1.1 fault with the EWS ResponseCode in its detail, as Exchange sends for whole-request failures.</summary>
    private static async Task WriteFault(HttpContext context, string faultCode, string text, string responseCode, int? backOffMilliseconds)
    {
        var envelope = new XDocument(new XElement(Soap + "Envelope",
            new XAttribute(XNamespace.Xmlns + "s", Soap),
            new XElement(Soap + "Body",
                new XElement(Soap + "Fault",
                    new XElement("faultcode", new XAttribute(XNamespace.Xmlns + "a", "http://schemas.microsoft.com/exchange/services/2006/types"), faultCode),
                    new XElement("faultstring", new XAttribute(XNamespace.Xml + "lang", "en-US"), text),
                    new XElement("detail",
                        new XElement(T + "ResponseCode", responseCode),
                        new XElement(T + "Message", text),
                        backOffMilliseconds is { } ms
                            ? new XElement(T + "MessageXml", new XElement(T + "Value", new XAttribute("Name", "BackOffMilliseconds"), ms.ToString(CultureInfo.InvariantCulture)))
                            : null)))));
        context.Response.StatusCode = 500;
        context.Response.ContentType = "text/xml; charset=utf-8";
        await context.Response.WriteAsync(envelope.ToString(SaveOptions.DisableFormatting), context.RequestAborted);
    }
}

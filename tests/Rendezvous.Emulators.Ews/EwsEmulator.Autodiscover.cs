using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Rendezvous.Emulators.Ews;

/// <summary>POX Autodiscover, the way an on-premises Exchange Server answers it.</summary>
public sealed partial class EwsEmulator
{
    private static readonly XNamespace RequestSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
    private static readonly XNamespace ResponseSchema = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
    private static readonly XNamespace OutlookSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

    /// <summary>Addresses Autodiscover redirects to another address (redirectAddr), as for a mailbox that moved domain.</summary>
    public Dictionary<string, string> AutodiscoverRedirects { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// POST /autodiscover/autodiscover.xml
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/pox-autodiscover-web-service-reference-for-exchange):
    /// the request names an EMailAddress; the answer gives the EWS URL (Protocol EXCH and EXPR, element EwsUrl) or a
    /// redirectAddr to ask again with
    /// (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/redirectaddr-pox).
    /// </summary>
    private void MapAutodiscover(WebApplication app)
    {
        app.MapPost("/autodiscover/autodiscover.xml", async context =>
        {
            if (Authenticate(context.Request.Headers.Authorization.ToString()) is null)
            {
                Requests.Enqueue("401");
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"" + context.Request.Host.Host + "\"";
                return;
            }

            var request = await XDocument.LoadAsync(context.Request.Body, LoadOptions.None, context.RequestAborted);
            var email = request.Root?.Element(RequestSchema + "Request")?.Element(RequestSchema + "EMailAddress")?.Value ?? "";
            Requests.Enqueue("Autodiscover " + email);
            XElement account;
            if (AutodiscoverRedirects.TryGetValue(email, out var redirect))
            {
                account = new XElement(OutlookSchema + "Account",
                    new XElement(OutlookSchema + "AccountType", "email"),
                    new XElement(OutlookSchema + "Action", "redirectAddr"),
                    new XElement(OutlookSchema + "RedirectAddr", redirect));
            }
            else if (_mailboxes.ContainsKey(email))
            {
                account = new XElement(OutlookSchema + "Account",
                    new XElement(OutlookSchema + "AccountType", "email"),
                    new XElement(OutlookSchema + "Action", "settings"),
                    new XElement(OutlookSchema + "Protocol", new XElement(OutlookSchema + "Type", "EXCH"), new XElement(OutlookSchema + "EwsUrl", EwsUrl)),
                    new XElement(OutlookSchema + "Protocol", new XElement(OutlookSchema + "Type", "EXPR"), new XElement(OutlookSchema + "EwsUrl", EwsUrl)));
            }
            else
            {
                var error = new XDocument(new XElement(ResponseSchema + "Autodiscover", new XElement(ResponseSchema + "Response",
                    new XElement(ResponseSchema + "Error", new XElement(ResponseSchema + "ErrorCode", "500"),
                        new XElement(ResponseSchema + "Message", "The email address can't be found.")))));
                context.Response.ContentType = "text/xml; charset=utf-8";
                await context.Response.WriteAsync(error.ToString(SaveOptions.DisableFormatting), context.RequestAborted);
                return;
            }

            var answer = new XDocument(new XElement(ResponseSchema + "Autodiscover",
                new XElement(OutlookSchema + "Response",
                    new XElement(OutlookSchema + "User", new XElement(OutlookSchema + "AutoDiscoverSMTPAddress", email)),
                    account)));
            context.Response.ContentType = "text/xml; charset=utf-8";
            await context.Response.WriteAsync(answer.ToString(SaveOptions.DisableFormatting), context.RequestAborted);
        });
    }
}

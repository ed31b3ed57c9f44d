using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Rendezvous.Calendars.Ews;

/// <summary>
/// Finds a mailbox's EWS URL with POX Autodiscover
/// (https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/autodiscover-for-exchange,
/// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/pox-autodiscover-web-service-reference-for-exchange):
/// it posts the email address to <c>https://{domain}/autodiscover/autodiscover.xml</c> and then
/// <c>https://autodiscover.{domain}/autodiscover/autodiscover.xml</c> (or the endpoints configured), follows HTTP
/// redirects to https endpoints and the answer's redirectAddr (ask again for another address) and redirectUrl (ask
/// another endpoint), at most ten times, and takes the EwsUrl of the EXCH protocol (or EXPR). The password goes only to
/// https endpoints, or to hosts allowed in configuration.
/// </summary>
public sealed class EwsAutodiscover(HttpMessageHandler transport, EwsOptions options)
{
    private static readonly XNamespace RequestSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
    private static readonly XNamespace OutlookSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
    private const int MaxHops = 10;

    /// <summary>The EWS URL of <paramref name="email"/>'s mailbox; <see cref="EwsException"/> when none is found.</summary>
    public async Task<Uri> FindEwsUrlAsync(string email, string username, string password, CancellationToken ct)
    {
        using var http = new HttpClient(transport, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        var address = email.Trim();
        var endpoints = new Queue<Uri>(Candidates(address));
        var failures = new List<string>();
        for (var hop = 0; hop < MaxHops && endpoints.Count > 0; hop++)
        {
            var endpoint = endpoints.Dequeue();
            try
            {
                EwsClient.RefuseCleartext(endpoint, options);
            }
            catch (EwsException ex)
            {
                failures.Add(ex.Message);
                continue;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
            {
                Content = new StringContent(new XDocument(new XElement(RequestSchema + "Autodiscover",
                    new XElement(RequestSchema + "Request",
                        new XElement(RequestSchema + "EMailAddress", address),
                        new XElement(RequestSchema + "AcceptableResponseSchema", OutlookSchema.NamespaceName)))).ToString(SaveOptions.DisableFormatting),
                    Encoding.UTF8, "text/xml"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password)));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.RequestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, timeout.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
            {
                failures.Add($"{endpoint.Host}: {ex.Message}");
                continue;
            }

            using (response)
            {
                if (response.StatusCode is HttpStatusCode.Moved or HttpStatusCode.Redirect or HttpStatusCode.TemporaryRedirect
                    or HttpStatusCode.PermanentRedirect && response.Headers.Location is { } location)
                {
                    // The documented HTTP redirect: post the same request to the new endpoint (https only).
                    endpoints = new Queue<Uri>([new Uri(endpoint, location), .. endpoints]);
                    continue;
                }

                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    throw new EwsException(EwsErrorKind.AccessDenied, "HTTP 401", "Autodiscover refused this user name and password.");
                }

                if (!response.IsSuccessStatusCode)
                {
                    failures.Add($"{endpoint.Host}: {(int)response.StatusCode}");
                    continue;
                }

                var answer = Parse(await response.Content.ReadAsStringAsync(timeout.Token));
                var account = answer?.Descendants(OutlookSchema + "Account").FirstOrDefault();
                switch (account?.Element(OutlookSchema + "Action")?.Value)
                {
                    case "settings":
                        var protocols = account.Elements(OutlookSchema + "Protocol").ToList();
                        var ews = protocols.FirstOrDefault(p => p.Element(OutlookSchema + "Type")?.Value == "EXCH")?.Element(OutlookSchema + "EwsUrl")?.Value
                            ?? protocols.FirstOrDefault(p => p.Element(OutlookSchema + "Type")?.Value == "EXPR")?.Element(OutlookSchema + "EwsUrl")?.Value;
                        if (Uri.TryCreate(ews, UriKind.Absolute, out var url))
                        {
                            return url;
                        }

                        failures.Add($"{endpoint.Host}: no EwsUrl in the settings");
                        break;
                    case "redirectAddr" when account.Element(OutlookSchema + "RedirectAddr")?.Value is { Length: > 0 } redirect:
                        address = redirect.Trim();
                        endpoints = new Queue<Uri>(Candidates(address));
                        break;
                    case "redirectUrl" when Uri.TryCreate(account.Element(OutlookSchema + "RedirectUrl")?.Value, UriKind.Absolute, out var next):
                        endpoints = new Queue<Uri>([next, .. endpoints]);
                        break;
                    default:
                        failures.Add($"{endpoint.Host}: the address is not known there");
                        break;
                }
            }
        }

        throw new EwsException(EwsErrorKind.NotFound, "Autodiscover",
            "Autodiscover found no Exchange server for " + email + (failures.Count > 0 ? " (" + string.Join("; ", failures) + ")" : "") + ". Enter the EWS URL instead.");
    }

    private IEnumerable<Uri> Candidates(string email)
    {
        if (options.AutodiscoverUrls.Count > 0)
        {
            return options.AutodiscoverUrls.Select(u => new Uri(u));
        }

        var at = email.LastIndexOf('@');
        if (at < 0 || at == email.Length - 1)
        {
            return [];
        }

        var domain = email[(at + 1)..];
        return [new Uri($"https://{domain}/autodiscover/autodiscover.xml"), new Uri($"https://autodiscover.{domain}/autodiscover/autodiscover.xml")];
    }

    private static XDocument? Parse(string text)
    {
        try
        {
            using var reader = XmlReader.Create(new StringReader(text), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            return XDocument.Load(reader);
        }
        catch (XmlException)
        {
            return null;
        }
    }
}

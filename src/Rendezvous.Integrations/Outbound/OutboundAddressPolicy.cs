using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using Rendezvous.Data.Diagnostics;

namespace Rendezvous.Integrations.Outbound;

/// <summary>Section <c>Rendezvous:Outbound</c>: which local or private destinations outbound HTTP may reach.</summary>
public sealed class OutboundOptions
{
    /// <summary>
    /// Host names or address literals (as written in URLs: <c>caldav.internal</c>, <c>127.0.0.1</c>, <c>::1</c>) that
    /// may resolve to private or local addresses, and that may receive Basic credentials over plain http.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Lets every host resolve to private and local addresses (a deployment whose calendars all live inside).</summary>
    public bool AllowPrivateNetworks { get; set; }
}

/// <summary>
/// Keeps user-given URLs (webhooks, CalDAV servers, space channels, provider endpoints) from reaching this machine or
/// the private network behind it (server-side request forgery): loopback, private (RFC 1918), shared (RFC 6598),
/// link-local (169.254.0.0/16, where cloud metadata services answer, and fe80::/10), unique-local (fc00::/7),
/// unspecified and multicast addresses are refused unless configured. The check runs in the connect step of
/// <see cref="SocketsHttpHandler"/> on the very addresses it then connects to, so a name that resolves to a public
/// address when a URL is saved and to 127.0.0.1 later (DNS rebinding) is still refused.
/// </summary>
public sealed class OutboundAddressPolicy(IOptions<OutboundOptions> options)
{
    private readonly HashSet<string> _allowed = new(options.Value.AllowedHosts.Select(Normalize), StringComparer.OrdinalIgnoreCase);
    private readonly bool _allowPrivate = options.Value.AllowPrivateNetworks;

    /// <summary>True when <paramref name="host"/> is listed in <see cref="OutboundOptions.AllowedHosts"/>.</summary>
    public bool IsAllowedHost(string host) => _allowed.Contains(Normalize(host));

    /// <summary>True for addresses outbound calls must not reach unless allowed.</summary>
    public static bool IsRestricted(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 0                                   // "this network"
                || b[0] == 10                                  // RFC 1918
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)  // RFC 6598 shared address space
                || (b[0] == 169 && b[1] == 254)                // link-local, cloud metadata
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)   // RFC 1918
                || (b[0] == 192 && b[1] == 168)                // RFC 1918
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)     // IETF protocol assignments
                || b[0] >= 224;                                // multicast and reserved
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC;                      // unique-local fc00::/7
        }

        return true;
    }

    /// <summary>Sets the address check on <paramref name="handler"/> (replacing no check it already has) and returns it.</summary>
    public SocketsHttpHandler Guard(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        handler.ConnectCallback ??= ConnectAsync;
        return handler;
    }

    /// <summary>Resolves the host, refuses restricted addresses that are not allowed, and connects to the checked address.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(Normalize(host), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (!_allowPrivate && !IsAllowedHost(host) && addresses.FirstOrDefault(IsRestricted) is { } refused)
        {
            RendezvousTelemetry.OutboundRefused.Add(1, new KeyValuePair<string, object?>("reason", "address"));
            throw new OutboundRefusedException(
                $"Refused to connect to {host} ({refused}): it is a loopback, private or link-local address. An administrator can allow it in Rendezvous:Outbound:AllowedHosts.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Refuses Basic credentials over plain http unless the host is allowed (they would cross the network readable).</summary>
    public void CheckCredentials(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is { } uri && uri.Scheme == Uri.UriSchemeHttp
            && request.Headers.Authorization is { Scheme: var scheme } && string.Equals(scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            && !IsAllowedHost(uri.IdnHost))
        {
            RendezvousTelemetry.OutboundRefused.Add(1, new KeyValuePair<string, object?>("reason", "plain_http_credentials"));
            throw new OutboundRefusedException(
                $"Refused to send a password to {uri.Host} over plain http; use https, or allow the host in Rendezvous:Outbound:AllowedHosts.");
        }
    }

    private static string Normalize(string host) => host.Trim().TrimStart('[').TrimEnd(']').TrimEnd('.');
}

/// <summary>An outbound call the address policy refused; a kind of <see cref="HttpRequestException"/>, so callers treat it as no answer.</summary>
public sealed class OutboundRefusedException(string message) : HttpRequestException(message);

/// <summary>The delegating handler that applies <see cref="OutboundAddressPolicy.CheckCredentials"/>.</summary>
public sealed class OutboundCredentialsHandler(OutboundAddressPolicy policy) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        policy.CheckCredentials(request);
        return base.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        policy.CheckCredentials(request);
        return base.Send(request, cancellationToken);
    }
}

public static class OutboundAddressPolicyExtensions
{
    /// <summary>
    /// Registers the policy and puts it under every <see cref="IHttpClientFactory"/> client: the address check on its
    /// socket handler (a plain default handler is swapped for a socket handler first) and the credentials check in front.
    /// Handlers that tests put in place of the network are left alone.
    /// </summary>
    public static IServiceCollection AddOutboundAddressPolicy(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<OutboundOptions>(configuration.GetSection("Rendezvous:Outbound"));
        services.AddSingleton<OutboundAddressPolicy>();
        // PostConfigure: runs after every client's own configuration, so it sees the final primary handler.
        services.PostConfigureAll<HttpClientFactoryOptions>(o => o.HttpMessageHandlerBuilderActions.Add(builder =>
        {
            var policy = builder.Services.GetRequiredService<OutboundAddressPolicy>();
            switch (builder.PrimaryHandler)
            {
                case SocketsHttpHandler sockets:
                    policy.Guard(sockets);
                    break;
                case HttpClientHandler { ServerCertificateCustomValidationCallback: null, Credentials: null, Proxy: null } plain
                    when plain.GetType() == typeof(HttpClientHandler) && plain.ClientCertificates.Count == 0:
                    builder.PrimaryHandler = policy.Guard(new SocketsHttpHandler
                    {
                        AllowAutoRedirect = plain.AllowAutoRedirect,
                        AutomaticDecompression = plain.AutomaticDecompression,
                        UseCookies = plain.UseCookies,
                        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    });
                    break;
            }

            builder.AdditionalHandlers.Add(new OutboundCredentialsHandler(policy));
        }));
        return services;
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rendezvous.Emulators.Graph;

/// <summary>
/// A local Microsoft Graph and Microsoft identity platform, written from Microsoft's documentation, serving HTTPS on a
/// loopback port with a certificate made at start (MSAL only talks to https authorities). It keeps mailboxes, calendars
/// and events in memory; answers OAuth authorization code and refresh token grants; serves calendars, calendarView delta
/// with paging, event create/read/update/delete with change keys, and change-notification subscriptions with the
/// validation handshake, notifications and lifecycle notifications. Tests inject faults (<see cref="Faults"/>), expire
/// access tokens, revoke grants and invalidate delta tokens.
/// </summary>
public sealed partial class GraphEmulator : IAsyncDisposable
{
    public const string ClientId = "5d3b1c7e-rendezvous-test-app";
    public const string ClientSecret = "emulator-client-secret";
    public const string TenantId = "72f988bf-0000-4000-8000-00000000e5e5";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, EmulatedMailbox> _mailboxes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _accessTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _refreshTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PendingPages> _pages = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, EmulatedSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly List<DeliveredNotification> _delivered = [];

    private GraphEmulator(WebApplication app, X509Certificate2 certificate, Func<DateTimeOffset> now)
    {
        _app = app;
        Certificate = certificate;
        Now = now;
    }

    internal object Gate { get; } = new();

    public X509Certificate2 Certificate { get; }

    /// <summary>https://127.0.0.1:port/ (the authority host; the tenant follows).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Microsoft Graph's versioned base, as the SDK wants it.</summary>
    public Uri GraphBaseUrl => new(BaseUrl, "v1.0");

    /// <summary>The emulator's idea of now (subscription expiry limits); tests give it their own clock.</summary>
    public Func<DateTimeOffset> Now { get; set; }

    /// <summary>Most events per delta page, whatever the client prefers; small values make tests page.</summary>
    public int MaxPageSize { get; set; } = 50;

    /// <summary>Faults to inject; the first one matching a request answers it.</summary>
    public ConcurrentQueue<EmulatedFault> Faults { get; } = new();

    /// <summary>Where notifications and validation requests go (tests give it the server under test's in-memory handler).</summary>
    public HttpMessageHandler? NotificationHandler { get; set; }

    /// <summary>The mailbox the next interactive sign-in consents for when the request names no login_hint.</summary>
    public string? NextSignIn { get; set; }

    /// <summary>Every request the emulator served, as "METHOD path" (for assertions about what a client did).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The event updates received, as "PATCH {id} If-Match={header} {body}".</summary>
    public ConcurrentQueue<string> Writes { get; } = new();

    public IReadOnlyList<EmulatedSubscription> Subscriptions => [.. _subscriptions.Values];

    public IReadOnlyList<DeliveredNotification> Delivered
    {
        get
        {
            lock (_delivered)
            {
                return [.. _delivered];
            }
        }
    }

    public static async Task<GraphEmulator> StartAsync(Func<DateTimeOffset>? now = null)
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        var emulator = new GraphEmulator(app, certificate, now ?? (() => DateTimeOffset.UtcNow));
        emulator.Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseUrl = new Uri(new Uri(address).GetLeftPart(UriPartial.Authority).Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return emulator;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate.Dispose();
    }

    /// <summary>An HTTP handler that trusts this emulator's certificate (and nothing else self-signed).</summary>
    public HttpMessageHandler CreateTrustingHandler()
    {
        var thumbprint = Certificate.Thumbprint;
        return new SocketsHttpHandler
        {
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                    errors == System.Net.Security.SslPolicyErrors.None
                    || (cert is not null && string.Equals(cert.GetCertHashString(), thumbprint, StringComparison.OrdinalIgnoreCase)),
            },
        };
    }

    public EmulatedMailbox AddMailbox(string email)
    {
        var mailbox = new EmulatedMailbox(this, email, Guid.NewGuid().ToString());
        _mailboxes[email] = mailbox;
        return mailbox;
    }

    public EmulatedMailbox Mailbox(string email) => _mailboxes[email];

    /// <summary>Every access and refresh token that is still valid, so a test can check none is stored in clear.</summary>
    public IReadOnlyList<string> LiveTokens => [.. _accessTokens.Keys, .. _refreshTokens.Keys];

    /// <summary>Every access token issued so far is refused from now on (401, as if it had expired).</summary>
    public void ExpireAccessTokens() => _accessTokens.Clear();

    /// <summary>The user withdraws consent: refresh tokens are refused with invalid_grant and access tokens with 401.</summary>
    public void RevokeGrant(string email)
    {
        foreach (var (token, owner) in _refreshTokens)
        {
            if (string.Equals(owner, email, StringComparison.OrdinalIgnoreCase))
            {
                _refreshTokens.TryRemove(token, out _);
            }
        }

        foreach (var (token, owner) in _accessTokens)
        {
            if (string.Equals(owner, email, StringComparison.OrdinalIgnoreCase))
            {
                _accessTokens.TryRemove(token, out _);
            }
        }
    }

    /// <summary>How many token requests (code redemptions and refreshes) the emulator answered.</summary>
    public int TokenRequests => Requests.Count(r => r.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal));

    /// <summary>A sign-in done as if the user had consented in the browser: a code for <paramref name="email"/>.</summary>
    public string IssueCode(string email)
    {
        var code = "code-" + NewId();
        _codes[code] = email;
        return code;
    }

    internal static string NewId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(12));

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            Requests.Enqueue($"{context.Request.Method} {context.Request.Path}");
            foreach (var fault in Faults)
            {
                if (fault.Times > 0 && context.Request.Path.Value!.Contains(fault.PathContains, StringComparison.Ordinal)
                    && (fault.Method is null || string.Equals(fault.Method, context.Request.Method, StringComparison.OrdinalIgnoreCase)))
                {
                    fault.Times--;
                    fault.Hits++;
                    if (fault.Delay > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(fault.Delay, context.RequestAborted);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }

                    if (fault.Status == 0)
                    {
                        break;
                    }

                    if (fault.RetryAfter is { } wait)
                    {
                        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }

                    await WriteError(context, fault.Status, fault.Code ?? DefaultCode(fault.Status), "Injected fault.");
                    return;
                }
            }

            await next(context);
        });

        MapIdentity(app);
        MapGraph(app);
    }

    private static string DefaultCode(int status) => status switch
    {
        401 => "InvalidAuthenticationToken",
        403 => "ErrorAccessDenied",
        404 => "ErrorItemNotFound",
        410 => "syncStateNotFound",
        412 => "ErrorIrresolvableConflict",
        429 => "ApplicationThrottled",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "generalException",
    };

    /// <summary>
    /// Graph's error body (https://learn.microsoft.com/en-us/graph/errors): <c>{"error":{"code","message","innerError"}}</c>.
    /// </summary>
    internal static Task WriteError(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = code,
                ["message"] = message,
                ["innerError"] = new JsonObject { ["request-id"] = Guid.NewGuid().ToString(), ["client-request-id"] = Guid.NewGuid().ToString() },
            },
        };
        return context.Response.WriteAsync(body.ToJsonString());
    }

    internal static Task WriteJson(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; odata.metadata=minimal";
        return context.Response.WriteAsync(body.ToJsonString());
    }

    /// <summary>The mailbox the request's bearer token belongs to; null after a 401 was written.</summary>
    internal async Task<EmulatedMailbox?> AuthenticateAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || !_accessTokens.TryGetValue(header["Bearer ".Length..], out var email))
        {
            // https://learn.microsoft.com/en-us/graph/resolve-auth-errors: a missing, expired or revoked token is a 401.
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"\", authorization_uri=\"" + BaseUrl + "common/oauth2/authorize\"";
            await WriteError(context, 401, "InvalidAuthenticationToken", header.Length == 0
                ? "Access token is empty."
                : "Lifetime validation failed, the token is expired.");
            return null;
        }

        return _mailboxes[email];
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));
        // Kestrel on Linux wants a certificate whose key came from a PKCS#12 blob.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    internal static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static string Base64Url(string text) => Base64Url(Encoding.UTF8.GetBytes(text));

    internal static string FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + ((4 - s.Length % 4) % 4), '=');
        return Encoding.UTF8.GetString(Convert.FromBase64String(s));
    }

    internal void Record(DeliveredNotification notification)
    {
        lock (_delivered)
        {
            _delivered.Add(notification);
        }
    }

    internal sealed record PendingPages(string Email, List<JsonObject> Items, string DeltaLink, int PageSize);

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}

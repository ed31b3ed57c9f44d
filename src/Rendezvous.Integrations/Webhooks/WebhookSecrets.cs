using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace Rendezvous.Integrations.Webhooks;

/// <summary>
/// Signing secrets: random, shown once, stored encrypted with Data Protection (they must be readable to sign, so they
/// cannot be hashed like API keys).
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    public const string Prefix = "whsec_";

    private const int HintLength = 12;

    private readonly IDataProtector _protector = provider.CreateProtector("Rendezvous.Webhook.SigningSecret.v1");

    /// <summary>A new secret: <c>whsec_</c> and 32 random bytes in base64url.</summary>
    public static string Generate() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string HintOf(string secret) => secret.Length <= HintLength ? secret : secret[..HintLength];

    public string Protect(string secret) => _protector.Protect(secret);

    /// <summary>The secret in clear; throws <see cref="CryptographicException"/> when the keys that encrypted it are gone.</summary>
    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);

    /// <summary>
    /// The <c>Rendezvous-Signature</c> header value: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256&gt;</c>, where the
    /// HMAC key is the secret's UTF-8 bytes and the message is <c>"&lt;t&gt;.&lt;body&gt;"</c>.
    /// </summary>
    public static string Signature(string secret, long unixSeconds, string body)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}

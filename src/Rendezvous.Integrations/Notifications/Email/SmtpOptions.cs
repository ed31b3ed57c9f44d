using MailKit.Security;

namespace Rendezvous.Integrations.Notifications.Email;

/// <summary>
/// Outgoing mail (section <c>Rendezvous:Smtp</c>, e.g. <c>Rendezvous__Smtp__Host</c>). Email is off while
/// <see cref="Host"/> is empty.
/// </summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    /// <summary>
    /// <c>None</c> (plain text), <c>StartTls</c> (upgrade after EHLO; fails when the server does not offer it),
    /// <c>StartTlsWhenAvailable</c> (upgrade when offered) or <c>SslOnConnect</c> (TLS from the first byte, port 465).
    /// The server's certificate is validated whenever TLS is used.
    /// </summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.StartTlsWhenAvailable;

    /// <summary>
    /// A certificate trusted even though it does not validate (a self-hosted relay or a test server with a self-signed
    /// certificate): its SHA-1 or SHA-256 thumbprint in hex. Every other certificate must validate.
    /// </summary>
    public string? TrustedCertificateThumbprint { get; set; }

    /// <summary>With <see cref="Password"/>, authenticates with the best mechanism the server offers; with <see cref="OAuth2"/>, the mailbox XOAUTH2 signs in as.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Credentials go only over TLS unless this is set (for a relay on the same machine).</summary>
    public bool AllowAuthWithoutTls { get; set; }

    /// <summary>XOAUTH2 (Microsoft 365, Gmail) with a refresh token; used instead of the password when configured.</summary>
    public SmtpOAuth2Options OAuth2 { get; set; } = new();

    /// <summary>DKIM signing of every message; off while no key is configured.</summary>
    public SmtpDkimOptions Dkim { get; set; } = new();

    /// <summary>The sender, <c>no-reply@example.com</c> or <c>Example Bookings &lt;no-reply@example.com&gt;</c>.</summary>
    public string? From { get; set; }

    /// <summary>The name we give in EHLO.</summary>
    public string ClientName { get; set; } = "localhost";

    /// <summary>Connections open at once (each carries one message at a time).</summary>
    public int MaxConnections { get; set; } = 8;

    /// <summary>Messages sent over one connection before it is closed and a new one opened.</summary>
    public int MessagesPerConnection { get; set; } = 1000;

    /// <summary>An idle pooled connection older than this is closed rather than reused (servers drop idle clients).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Longest wait to connect, greet, secure and authenticate a new session.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest wait for one reply or one write, including the server's verdict on a message (servers scan it first).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// After a failed attempt to open a session, further sends fail at once for this long instead of each waiting out
    /// <see cref="ConnectTimeout"/>, so a mail server that is down does not hold up the outbox.
    /// </summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    public bool HasPassword => !string.IsNullOrEmpty(Username) && Password is not null;
}

/// <summary>
/// An OAuth 2.0 refresh token exchanged at <see cref="TokenEndpoint"/> (RFC 6749 section 6) for the access tokens XOAUTH2
/// sends. Microsoft 365: <c>https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token</c> with scope
/// <c>https://outlook.office.com/SMTP.Send offline_access</c>; Gmail: <c>https://oauth2.googleapis.com/token</c> with scope
/// <c>https://mail.google.com/</c>.
/// </summary>
public sealed class SmtpOAuth2Options
{
    public string? TokenEndpoint { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public string? RefreshToken { get; set; }

    /// <summary>Sent with the refresh request when set (Microsoft's endpoint wants it; Google's ignores it).</summary>
    public string? Scope { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(TokenEndpoint) && !string.IsNullOrWhiteSpace(RefreshToken);
}

/// <summary>DKIM (RFC 6376) signing with an RSA key whose public half is published at <c>{Selector}._domainkey.{Domain}</c>.</summary>
public sealed class SmtpDkimOptions
{
    /// <summary>The signing domain (d=), normally the From address's domain.</summary>
    public string? Domain { get; set; }

    /// <summary>The selector (s=).</summary>
    public string? Selector { get; set; }

    /// <summary>The RSA private key, PEM (PKCS#1 or PKCS#8).</summary>
    public string? PrivateKeyPem { get; set; }

    /// <summary>Or a file holding it.</summary>
    public string? PrivateKeyFile { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Domain) && !string.IsNullOrWhiteSpace(Selector)
        && (!string.IsNullOrWhiteSpace(PrivateKeyPem) || !string.IsNullOrWhiteSpace(PrivateKeyFile));
}

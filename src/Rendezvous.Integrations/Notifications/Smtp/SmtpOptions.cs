namespace Rendezvous.Integrations.Notifications.Smtp;

/// <summary>
/// Outgoing mail (section <c>Rendezvous:Smtp</c>, e.g. <c>Rendezvous__Smtp__Host</c>). Email is off while
/// <see cref="Host"/> is empty.
/// </summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    /// <summary>Upgrade with STARTTLS after EHLO; the session fails when the server does not offer it.</summary>
    public bool UseStartTls { get; set; }

    /// <summary>With <see cref="Password"/>, authenticates with AUTH PLAIN (or LOGIN when PLAIN is not offered).</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

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

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// After a failed attempt to open a session, further sends fail at once for this long instead of each waiting out
    /// <see cref="ConnectTimeout"/>, so a mail server that is down does not hold up the outbox.
    /// </summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for one reply (or one write).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for the reply to the end of a message's data (servers scan it first).</summary>
    public TimeSpan DataTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Sends RSET before every further message on a connection, so each message starts from a clean session whatever the
    /// server made of the last one. With PIPELINING it rides in the same write as the envelope and costs nothing; without,
    /// it is one more round trip per message, and turning it off is safe (a completed transaction needs no reset; a failed
    /// one always gets it).
    /// </summary>
    public bool ResetBetweenMessages { get; set; } = true;

    /// <summary>Credentials go only over TLS unless this is set (for a relay on the same machine).</summary>
    public bool AllowAuthWithoutTls { get; set; }

    /// <summary>Accepts any server certificate after STARTTLS. Only for test relays with self-signed certificates.</summary>
    public bool AcceptAnyCertificate { get; set; }

    public bool HasCredentials => !string.IsNullOrEmpty(Username) && Password is not null;
}

namespace Rendezvous.Integrations.Notifications.Smtp;

/// <summary>
/// Who a message is from and to, as the SMTP session states it (MAIL FROM / RCPT TO), apart from the headers.
/// </summary>
/// <param name="From">The bounce address.</param>
/// <param name="Recipients">Every address the message is delivered to.</param>
/// <param name="EightBitBody">The message contains 8-bit data (needs the server's 8BITMIME).</param>
/// <param name="Utf8Headers">The message has UTF-8 in its headers or addresses (needs the server's SMTPUTF8).</param>
public sealed record SmtpEnvelope(string From, IReadOnlyList<string> Recipients, bool EightBitBody = false, bool Utf8Headers = false)
{
    /// <summary>True when an address itself is not ASCII, which only SMTPUTF8 servers accept.</summary>
    public bool HasUtf8Addresses => !System.Text.Ascii.IsValid(From) || Recipients.Any(r => !System.Text.Ascii.IsValid(r));
}

/// <summary>What the server did with each recipient of a message it accepted.</summary>
public sealed record SmtpSendResult(IReadOnlyList<string> Accepted, IReadOnlyList<(string Recipient, SmtpReply Reply)> Rejected);

/// <summary>Hands finished messages to a mail server.</summary>
public interface IMailTransport
{
    /// <summary>
    /// Sends <paramref name="message"/> (the complete RFC 5322 message, CRLF line ends). Throws
    /// <see cref="SmtpTransientException"/> or <see cref="SmtpPermanentException"/>; returns when the server took
    /// responsibility for it (some recipients may have been refused when there were several).
    /// </summary>
    Task<SmtpSendResult> SendAsync(SmtpEnvelope envelope, ReadOnlyMemory<byte> message, CancellationToken cancellationToken);
}

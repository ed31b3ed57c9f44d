using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Rendezvous.Integrations.Notifications.Email;

/// <summary>Where in the SMTP session a failure happened.</summary>
public enum SmtpStage
{
    /// <summary>Connecting, the greeting, EHLO and STARTTLS or the TLS handshake.</summary>
    Connect,
    Authenticate,
    /// <summary>The envelope, the message and the server's verdict on it.</summary>
    Send,
}

/// <summary>
/// A message that did not reach the mail server. <see cref="IsTransient"/> failures (4xx replies, network failures,
/// timeouts) may pass when tried again; the others will not until something changes. <see cref="IsMessageSpecific"/>
/// tells a refusal of this recipient or message (give up on it) from one of the session or the configuration
/// (authentication, TLS, the sender: retry, since fixing the configuration lets the waiting emails go out).
/// </summary>
public sealed class MailDeliveryException(string message, SmtpStage stage, bool isTransient, bool isMessageSpecific = false, int? statusCode = null,
    Exception? inner = null) : Exception(message, inner)
{
    public SmtpStage Stage { get; } = stage;

    public bool IsTransient { get; } = isTransient;

    public bool IsMessageSpecific { get; } = isMessageSpecific;

    /// <summary>The server's reply code when a reply caused the failure.</summary>
    public int? StatusCode { get; } = statusCode;

    /// <summary>
    /// Maps what MailKit throws onto transient or permanent. Returns null for exceptions that are not about mail delivery
    /// (bugs, cancellation the caller asked for), which should propagate as they are.
    /// </summary>
    public static MailDeliveryException? From(Exception ex, SmtpStage stage, string server)
    {
        switch (ex)
        {
            case MailDeliveryException same:
                return same;
            case SmtpCommandException command:
                var code = (int)command.StatusCode;
                var what = command.ErrorCode switch
                {
                    SmtpErrorCode.RecipientNotAccepted => $"The server refused the recipient <{command.Mailbox?.Address}>",
                    SmtpErrorCode.SenderNotAccepted => $"The server refused the sender <{command.Mailbox?.Address}>",
                    SmtpErrorCode.MessageNotAccepted => "The server refused the message",
                    _ when stage == SmtpStage.Connect => $"{server} refused the session",
                    _ => "The server refused a command",
                };
                // A refusal of the sender is about our configuration, not this message: it is retried like the session's.
                var aboutMessage = command.ErrorCode is SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.MessageNotAccepted;
                return new MailDeliveryException($"{what}: {code} {command.Message.Trim()}", stage, code is >= 400 and < 500, aboutMessage, code, ex);
            case AuthenticationException:
                return new MailDeliveryException($"Authentication with {server} failed: {ex.Message}", SmtpStage.Authenticate, isTransient: false, inner: ex);
            case SslHandshakeException:
                // Most often a certificate that does not validate: that needs the configuration (or the server) fixed.
                return new MailDeliveryException($"The TLS handshake with {server} failed: {FirstLine(ex.Message)}", SmtpStage.Connect, isTransient: false, inner: ex);
            case NotSupportedException:
                // What MailKit throws when the server lacks something the configuration requires (STARTTLS, AUTH).
                return new MailDeliveryException($"{server} cannot do what the configuration asks: {ex.Message}", stage, isTransient: false, inner: ex);
            case SmtpProtocolException or ServiceNotConnectedException or ServiceNotAuthenticatedException:
                return new MailDeliveryException($"The session with {server} broke: {ex.Message}", stage, isTransient: true, inner: ex);
            case SocketException when stage == SmtpStage.Connect:
                return new MailDeliveryException($"Cannot connect to {server}: {ex.Message}", stage, isTransient: true, inner: ex);
            case IOException or SocketException or TimeoutException:
                return new MailDeliveryException($"The connection to {server} failed: {ex.Message}", stage, isTransient: true, inner: ex);
            default:
                return null;
        }
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}

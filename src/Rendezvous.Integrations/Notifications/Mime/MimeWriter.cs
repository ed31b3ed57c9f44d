using System.Security.Cryptography;
using System.Text;

namespace Rendezvous.Integrations.Notifications.Mime;

/// <summary>
/// Writes a message as MIME (RFC 2045-2049, RFC 5322):
/// <code>
/// multipart/mixed
///   multipart/alternative
///     text/plain; charset=utf-8          quoted-printable
///     text/html; charset=utf-8           quoted-printable (when there is HTML)
///     text/calendar; method=REQUEST      quoted-printable (when there is a calendar part)
///   application/ics; name="invite.ics"   base64, attachment (the same calendar object)
/// </code>
/// The calendar object sits in the alternative so mail programs offer "accept / decline"; the attachment is for those
/// that only show attachments. It is <c>application/ics</c>, not a second <c>text/calendar</c>, so no program processes
/// the invitation twice. Without a calendar part the message is just the multipart/alternative. The output is 7-bit
/// unless an address is not ASCII (<see cref="EmailMessage.NeedsSmtpUtf8"/>).
/// </summary>
public static class MimeWriter
{
    public const string AttachmentName = "invite.ics";

    public static byte[] Write(EmailMessage message) => Encoding.UTF8.GetBytes(WriteText(message));

    public static string WriteText(EmailMessage message)
    {
        var sb = new StringBuilder(4096 + (message.TextBody.Length * 3) + ((message.HtmlBody?.Length ?? 0) * 2));
        sb.Append(HeaderEncoding.Raw("Date", HeaderEncoding.FormatDate(message.Date)));
        sb.Append(HeaderEncoding.Addresses("From", [message.From]));
        if (message.ReplyTo is { } replyTo)
        {
            sb.Append(HeaderEncoding.Addresses("Reply-To", [replyTo]));
        }

        sb.Append(HeaderEncoding.Addresses("To", message.To));
        sb.Append(HeaderEncoding.Unstructured("Subject", message.Subject));
        sb.Append(HeaderEncoding.Raw("Message-ID", "<" + message.MessageId + ">"));
        sb.Append("MIME-Version: 1.0\r\n");
        foreach (var (name, value) in message.Headers)
        {
            sb.Append(HeaderEncoding.Unstructured(name, value));
        }

        if (message.Calendar is { } calendar)
        {
            var mixed = NewBoundary();
            sb.Append("Content-Type: multipart/mixed; boundary=\"").Append(mixed).Append("\"\r\n\r\n");
            sb.Append("This is a message in MIME format.\r\n");
            sb.Append("--").Append(mixed).Append("\r\n");
            WriteAlternative(sb, message, calendar);
            sb.Append("\r\n--").Append(mixed).Append("\r\n");
            sb.Append("Content-Type: application/ics; name=\"").Append(AttachmentName).Append("\"\r\n");
            sb.Append("Content-Disposition: attachment; filename=\"").Append(AttachmentName).Append("\"\r\n");
            sb.Append("Content-Transfer-Encoding: base64\r\n\r\n");
            sb.Append(TransferEncoding.Base64(Encoding.UTF8.GetBytes(calendar.Content))).Append("\r\n");
            sb.Append("--").Append(mixed).Append("--\r\n");
        }
        else
        {
            WriteAlternative(sb, message, null);
        }

        return sb.ToString();
    }

    private static void WriteAlternative(StringBuilder sb, EmailMessage message, CalendarPart? calendar)
    {
        var boundary = NewBoundary();
        sb.Append("Content-Type: multipart/alternative; boundary=\"").Append(boundary).Append("\"\r\n\r\n");
        sb.Append("--").Append(boundary).Append("\r\n");
        WriteText(sb, "text/plain; charset=utf-8", message.TextBody);
        if (message.HtmlBody is { } html)
        {
            sb.Append("\r\n--").Append(boundary).Append("\r\n");
            WriteText(sb, "text/html; charset=utf-8", html);
        }

        if (calendar is not null)
        {
            sb.Append("\r\n--").Append(boundary).Append("\r\n");
            WriteText(sb, $"text/calendar; charset=utf-8; method={Token(calendar.Method)}", calendar.Content);
        }

        sb.Append("\r\n--").Append(boundary).Append("--\r\n");
    }

    private static void WriteText(StringBuilder sb, string contentType, string text)
    {
        sb.Append("Content-Type: ").Append(contentType).Append("\r\n");
        sb.Append("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        sb.Append(TransferEncoding.QuotedPrintable(text));
    }

    /// <summary>
    /// "=_" cannot occur in quoted-printable or base64 output, and the random part cannot occur by chance, so the
    /// boundary never collides with content.
    /// </summary>
    private static string NewBoundary() => "=_rdv_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    private static string Token(string method)
    {
        var upper = method.ToUpperInvariant();
        return upper.All(c => char.IsAsciiLetterUpper(c) || c == '-') && upper.Length > 0
            ? upper
            : throw new ArgumentException("An iTIP method is a token such as REQUEST or CANCEL.", nameof(method));
    }
}

using System.Text;
using MimeKit;
using MimeKit.Cryptography;
using NodaTime;

namespace Rendezvous.Integrations.Notifications.Email;

/// <summary>
/// Builds the MIME message:
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
/// the invitation twice. Without a calendar part the body is just the multipart/alternative. Bodies are 7-bit
/// (quoted-printable, base64), so any server takes them and a DKIM signature survives relays that would re-encode 8-bit.
/// MimeKit encodes non-ASCII names and subjects as RFC 2047 encoded-words and folds the header lines.
/// </summary>
public static class EmailComposer
{
    public const string AttachmentName = "invite.ics";

    public static MimeMessage Compose(EmailMessage email)
    {
        var message = new MimeMessage();
        message.From.Add(Clean(email.From));
        message.To.AddRange(email.To.Select(Clean));
        if (email.ReplyTo is { } replyTo)
        {
            message.ReplyTo.Add(Clean(replyTo));
        }

        message.Subject = OneLine(email.Subject);
        message.Date = email.Date.ToDateTimeOffset();
        message.MessageId = email.MessageId;
        foreach (var (name, value) in email.Headers)
        {
            message.Headers.Add(name, OneLine(value));
        }

        var alternative = new MultipartAlternative { Text(email.TextBody, "plain") };
        if (email.HtmlBody is { } html)
        {
            alternative.Add(Text(html, "html"));
        }

        if (email.Calendar is { } calendar)
        {
            var inline = Text(calendar.Content, "calendar");
            inline.ContentType.Parameters.Add("method", Method(calendar.Method));
            alternative.Add(inline);
            var attachment = new MimePart("application", "ics")
            {
                Content = new MimeContent(new MemoryStream(Encoding.UTF8.GetBytes(calendar.Content))),
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                ContentTransferEncoding = ContentEncoding.Base64,
                FileName = AttachmentName,
            };
            message.Body = new Multipart("mixed") { alternative, attachment };
        }
        else
        {
            message.Body = alternative;
        }

        return message;
    }

    /// <summary>
    /// Signs <paramref name="message"/> (RFC 6376, rsa-sha256, relaxed/relaxed) over the headers a reader sees and our
    /// Message-ID. The body is fixed to 7-bit first, so no server re-encodes it after the signature is made.
    /// </summary>
    public static void Sign(MimeMessage message, DkimSigner signer)
    {
        message.Prepare(EncodingConstraint.SevenBit);
        var headers = new List<HeaderId> { HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId, HeaderId.MimeVersion, HeaderId.ContentType };
        if (message.Headers.Contains(HeaderId.ReplyTo))
        {
            headers.Add(HeaderId.ReplyTo);
        }

        signer.Sign(message, headers);
    }

    /// <summary>A signer for the configured key; null when DKIM is not configured.</summary>
    public static DkimSigner? Signer(SmtpDkimOptions options)
    {
        if (!options.IsConfigured)
        {
            return null;
        }

        var pem = !string.IsNullOrWhiteSpace(options.PrivateKeyPem) ? options.PrivateKeyPem : File.ReadAllText(options.PrivateKeyFile!);
        using var stream = new MemoryStream(Encoding.ASCII.GetBytes(pem));
        return new DkimSigner(stream, options.Domain!, options.Selector!, DkimSignatureAlgorithm.RsaSha256)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
    }

    private static TextPart Text(string text, string subtype)
    {
        var part = new TextPart(subtype) { ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        part.SetText(Encoding.UTF8, text);
        return part;
    }

    private static MailboxAddress Clean(MailboxAddress mailbox) =>
        mailbox.Name is { } name && name.AsSpan().IndexOfAny('\r', '\n') >= 0 ? new MailboxAddress(OneLine(name), mailbox.Address) : mailbox;

    /// <summary>Header values are single lines: a value can never start a header field of its own.</summary>
    private static string OneLine(string value) => value.ReplaceLineEndings(" ");

    private static string Method(string method)
    {
        var upper = method.ToUpperInvariant();
        return upper.Length > 0 && upper.All(c => char.IsAsciiLetterUpper(c) || c == '-')
            ? upper
            : throw new ArgumentException("An iTIP method is a token such as REQUEST or CANCEL.", nameof(method));
    }
}

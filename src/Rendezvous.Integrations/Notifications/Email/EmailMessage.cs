using MimeKit;
using NodaTime;

namespace Rendezvous.Integrations.Notifications.Email;

/// <summary>An iCalendar object sent with a message: shown inline as an invitation and attached as invite.ics.</summary>
/// <param name="Content">The iCalendar text (with a METHOD).</param>
/// <param name="Method">The iTIP method it carries, REQUEST or CANCEL.</param>
public sealed record CalendarPart(string Content, string Method);

/// <summary>Everything a message shows; <see cref="EmailComposer"/> turns it into a MIME message.</summary>
public sealed record EmailMessage
{
    public required MailboxAddress From { get; init; }

    public required IReadOnlyList<MailboxAddress> To { get; init; }

    public MailboxAddress? ReplyTo { get; init; }

    public required string Subject { get; init; }

    public required Instant Date { get; init; }

    /// <summary>The Message-ID without angle brackets, e.g. <c>0190...@example.com</c>. Kept across retries of one email.</summary>
    public required string MessageId { get; init; }

    public required string TextBody { get; init; }

    public string? HtmlBody { get; init; }

    public CalendarPart? Calendar { get; init; }

    /// <summary>Further header fields (name, value); values are written as unstructured text.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}

/// <summary>Hands finished messages to a mail server.</summary>
public interface IMailTransport
{
    /// <summary>
    /// Sends <paramref name="message"/> to its To addresses. Returns when the server took responsibility for it; throws
    /// <see cref="MailDeliveryException"/> when it did not.
    /// </summary>
    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}

/// <summary>Addresses as people and configuration write them.</summary>
public static class EmailAddresses
{
    /// <summary>
    /// Parses <c>addr@example.com</c> or <c>Name &lt;addr@example.com&gt;</c> with the same rules the API validates
    /// addresses with when they are entered; false for anything else, including any line break.
    /// </summary>
    public static bool TryParse(string? text, out MailboxAddress mailbox)
    {
        mailbox = null!;
        if (string.IsNullOrWhiteSpace(text) || text.AsSpan().IndexOfAny('\r', '\n') >= 0
            || !System.Net.Mail.MailAddress.TryCreate(text.Trim(), out var parsed))
        {
            return false;
        }

        mailbox = new MailboxAddress(string.IsNullOrWhiteSpace(parsed.DisplayName) ? null : parsed.DisplayName, parsed.Address);
        return true;
    }

    /// <summary>The part after the last @.</summary>
    public static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];
}

using NodaTime;

namespace Rendezvous.Integrations.Notifications.Mime;

/// <summary>An iCalendar object sent with a message: shown inline as an invitation and attached as invite.ics.</summary>
/// <param name="Content">The iCalendar text (with a METHOD).</param>
/// <param name="Method">The iTIP method it carries, REQUEST or CANCEL.</param>
public sealed record CalendarPart(string Content, string Method);

/// <summary>Everything a message shows; <see cref="MimeWriter"/> turns it into RFC 5322 text.</summary>
public sealed record EmailMessage
{
    public required MailboxAddress From { get; init; }

    public required IReadOnlyList<MailboxAddress> To { get; init; }

    public MailboxAddress? ReplyTo { get; init; }

    public required string Subject { get; init; }

    public required Instant Date { get; init; }

    /// <summary>The Message-ID without angle brackets, e.g. <c>0190...@example.com</c>.</summary>
    public required string MessageId { get; init; }

    public required string TextBody { get; init; }

    public string? HtmlBody { get; init; }

    public CalendarPart? Calendar { get; init; }

    /// <summary>Further header fields (name, value); values are written as unstructured text.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>True when an address is not ASCII: the headers then carry UTF-8 and the server must offer SMTPUTF8.</summary>
    public bool NeedsSmtpUtf8 => From.IsInternational || To.Any(t => t.IsInternational) || ReplyTo?.IsInternational == true;
}

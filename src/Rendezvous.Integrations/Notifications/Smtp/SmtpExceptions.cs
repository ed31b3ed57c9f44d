namespace Rendezvous.Integrations.Notifications.Smtp;

/// <summary>Where in the SMTP session a failure happened.</summary>
public enum SmtpStage
{
    Connect,
    Greeting,
    Hello,
    StartTls,
    Authenticate,
    MailFrom,
    RecipientTo,
    Data,
    /// <summary>Sending the message itself, or waiting for the server's verdict on it.</summary>
    Content,
    Reset,
    Quit,
}

/// <summary>
/// An SMTP failure. <see cref="SmtpTransientException"/> (4xx replies, network failures, timeouts) may succeed when
/// tried again later; <see cref="SmtpPermanentException"/> (5xx replies, refused configuration) will not, unless
/// something changes.
/// </summary>
public abstract class SmtpException : Exception
{
    protected SmtpException(string message, SmtpStage stage, SmtpReply? reply, Exception? inner)
        : base(message, inner)
    {
        Stage = stage;
        Reply = reply;
    }

    public SmtpStage Stage { get; }

    /// <summary>The server's reply that caused the failure, when there was one.</summary>
    public SmtpReply? Reply { get; }

    public int? ReplyCode => Reply?.Code;

    /// <summary>The RFC 3463 enhanced status (e.g. 5.1.1) when the server gave one.</summary>
    public string? EnhancedStatus => Reply?.EnhancedStatus;

    public abstract bool IsTransient { get; }

    /// <summary>
    /// True when the server may already hold the message: the failure came after the end of the data was sent (a lost
    /// reply). Resending then risks a duplicate.
    /// </summary>
    public bool MessageMayHaveBeenAccepted { get; init; }

    /// <summary>
    /// True when the failure is about this message or recipient (refused recipient, refused content, a message the server
    /// cannot carry), not about the session or the configuration.
    /// </summary>
    public bool IsMessageSpecific
    {
        get => _messageSpecific ?? (Stage is SmtpStage.RecipientTo or SmtpStage.Content && Reply is not null);
        init => _messageSpecific = value;
    }

    private readonly bool? _messageSpecific;
}

/// <summary>A failure that may pass: 4xx replies, refused or dropped connections, timeouts.</summary>
public sealed class SmtpTransientException : SmtpException
{
    public SmtpTransientException(string message, SmtpStage stage, SmtpReply? reply = null, Exception? inner = null)
        : base(message, stage, reply, inner)
    {
    }

    public override bool IsTransient => true;
}

/// <summary>A failure that will repeat: 5xx replies, a recipient that does not exist, a server that lacks what we need.</summary>
public sealed class SmtpPermanentException : SmtpException
{
    public SmtpPermanentException(string message, SmtpStage stage, SmtpReply? reply = null, Exception? inner = null)
        : base(message, stage, reply, inner)
    {
    }

    public override bool IsTransient => false;
}

using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using MimeKit;
using Rendezvous.Calendars.ICalendar;
using Rendezvous.Calendars.Scheduling;
using Rendezvous.Data;

namespace Rendezvous.Server.Features.Spaces.Channels;

/// <summary>One iTIP message found in the space's mailbox.</summary>
public sealed record MailedInvitation(uint Uid, string? MessageId, ITipInvitation Invitation);

/// <summary>
/// A space that receives invitations by email (iMIP, RFC 6047): its INBOX is read over IMAP with MailKit. Messages are
/// read once, in UID order, from the highest UID seen (kept per space with the UIDVALIDITY that makes it meaningful);
/// each text/calendar part (or .ics attachment) with METHOD REQUEST or CANCEL for the space's address is handed on,
/// and the message is flagged \Seen so a person looking at the mailbox sees what was handled.
/// </summary>
public sealed class ImapSpaceMailbox : IAsyncDisposable
{
    private readonly ImapClient _client = new();
    private readonly SpaceChannel _channel;

    private ImapSpaceMailbox(SpaceChannel channel, TimeSpan timeout)
    {
        _channel = channel;
        _client.Timeout = (int)timeout.TotalMilliseconds;
    }

    public bool SupportsIdle => _client.Capabilities.HasFlag(ImapCapabilities.Idle);

    public static async Task<ImapSpaceMailbox> OpenAsync(SpaceChannel channel, string password, TimeSpan timeout, CancellationToken ct)
    {
        var mailbox = new ImapSpaceMailbox(channel, timeout);
        try
        {
            var security = channel.ImapSecurity switch
            {
                "None" => SecureSocketOptions.None,
                "StartTls" => SecureSocketOptions.StartTls,
                "SslOnConnect" => SecureSocketOptions.SslOnConnect,
                _ => SecureSocketOptions.StartTlsWhenAvailable,
            };
            await mailbox._client.ConnectAsync(channel.ImapHost ?? throw new InvalidOperationException("An iMIP space channel needs an IMAP host."), channel.ImapPort ?? 143, security, ct);
            await mailbox._client.AuthenticateAsync(channel.UserName, password, ct);
            await mailbox._client.Inbox.OpenAsync(FolderAccess.ReadWrite, ct);
            return mailbox;
        }
        catch
        {
            await mailbox.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The iTIP messages that arrived since the channel's last UID (all of them after a UIDVALIDITY change), and moves
    /// the channel's UIDVALIDITY and last UID on. Messages that are no invitation for the space only move the UID on.
    /// </summary>
    public async Task<IReadOnlyList<MailedInvitation>> ReadNewAsync(CancellationToken ct)
    {
        var inbox = _client.Inbox;
        if (_channel.ImapUidValidity != inbox.UidValidity)
        {
            _channel.ImapUidValidity = inbox.UidValidity;
            _channel.ImapLastUid = 0;
        }

        var found = new List<MailedInvitation>();
        if (inbox.Count == 0)
        {
            return found;
        }

        var from = new UniqueId((uint)Math.Min(_channel.ImapLastUid + 1, uint.MaxValue));
        var uids = (await inbox.SearchAsync(SearchQuery.Uids(new UniqueIdRange(from, UniqueId.MaxValue)), ct))
            .Where(u => u.Id > _channel.ImapLastUid)
            .OrderBy(u => u.Id)
            .ToList();
        foreach (var uid in uids)
        {
            var message = await inbox.GetMessageAsync(uid, ct);
            foreach (var text in CalendarParts(message))
            {
                ITipInvitation? invitation = null;
                try
                {
                    invitation = ITipMessages.Read(text, _channel.Address);
                }
                catch (ICalendarParseException)
                {
                    // An unreadable attachment is skipped; the rest of the mailbox goes on.
                }

                if (invitation is not null)
                {
                    found.Add(new MailedInvitation(uid.Id, message.MessageId, invitation));
                    break;
                }
            }

            _channel.ImapLastUid = uid.Id;
        }

        if (uids.Count > 0)
        {
            await inbox.AddFlagsAsync(uids, MessageFlags.Seen, silent: true, ct);
        }

        return found;
    }

    /// <summary>
    /// Waits in IMAP IDLE (RFC 2177) until new mail arrives or <paramref name="maxWait"/> passes; returns whether mail
    /// arrived. The server must support IDLE (<see cref="SupportsIdle"/>).
    /// </summary>
    public async Task<bool> WaitForMailAsync(TimeSpan maxWait, CancellationToken ct)
    {
        var inbox = _client.Inbox;
        var before = inbox.Count;
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        done.CancelAfter(maxWait);
        void OnCountChanged(object? sender, EventArgs e)
        {
            if (inbox.Count > before)
            {
                done.Cancel();
            }
        }

        inbox.CountChanged += OnCountChanged;
        try
        {
            await _client.IdleAsync(done.Token, ct);
        }
        finally
        {
            inbox.CountChanged -= OnCountChanged;
        }

        return inbox.Count > before;
    }

    private static IEnumerable<string> CalendarParts(MimeMessage message)
    {
        foreach (var part in message.BodyParts.OfType<MimePart>())
        {
            var type = part.ContentType;
            var isCalendar = type.IsMimeType("text", "calendar") || type.IsMimeType("application", "ics")
                || (part.FileName?.EndsWith(".ics", StringComparison.OrdinalIgnoreCase) ?? false);
            if (!isCalendar)
            {
                continue;
            }

            if (part is TextPart text)
            {
                yield return text.Text;
            }
            else
            {
                using var stream = new MemoryStream();
                part.Content?.DecodeTo(stream);
                yield return System.Text.Encoding.UTF8.GetString(stream.ToArray());
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync(quit: true);
            }
            catch (Exception ex) when (ex is IOException or ImapProtocolException or ImapCommandException or OperationCanceledException)
            {
                // The session is over either way.
            }
        }

        _client.Dispose();
    }
}

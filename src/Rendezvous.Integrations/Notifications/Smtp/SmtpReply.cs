using System.Text;

namespace Rendezvous.Integrations.Notifications.Smtp;

/// <summary>One (possibly multi-line) server reply: a three-digit code and its text lines.</summary>
public sealed record SmtpReply(int Code, IReadOnlyList<string> Lines)
{
    public bool IsPositive => Code is >= 200 and < 400;

    public bool IsTransientFailure => Code is >= 400 and < 500;

    /// <summary>The first line's text.</summary>
    public string Text => Lines.Count > 0 ? Lines[0] : "";

    /// <summary>An RFC 3463 enhanced status at the start of the text (e.g. "5.1.1"), or null.</summary>
    public string? EnhancedStatus
    {
        get
        {
            var text = Text;
            var end = text.IndexOf(' ', StringComparison.Ordinal);
            var candidate = end < 0 ? text : text[..end];
            var parts = candidate.Split('.');
            return parts.Length == 3 && parts[0] is "2" or "4" or "5" && parts.Skip(1).All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit))
                ? candidate
                : null;
        }
    }

    public override string ToString() => $"{Code} {string.Join(" / ", Lines)}";
}

/// <summary>
/// Reads replies from the server: lines end in CRLF (a bare LF is tolerated), "250-" continues and "250 " ends a reply.
/// </summary>
internal sealed class SmtpReplyReader(Stream stream)
{
    /// <summary>RFC 5321 allows 512 octets per reply line; be generous, but bounded.</summary>
    public const int MaxLineLength = 4096;

    private const int MaxLines = 200;

    private readonly byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    public Stream Stream { get; set; } = stream;

    /// <summary>True when bytes the server sent are already buffered (sent before we asked: a protocol violation before TLS).</summary>
    public bool HasBufferedData => _end > _start;

    public async Task<SmtpReply> ReadAsync(CancellationToken ct)
    {
        var lines = new List<string>();
        var code = -1;
        while (true)
        {
            var line = await ReadLineAsync(ct).ConfigureAwait(false);
            if (line.Length < 3 || !char.IsAsciiDigit(line[0]) || !char.IsAsciiDigit(line[1]) || !char.IsAsciiDigit(line[2])
                || (line.Length > 3 && line[3] != ' ' && line[3] != '-'))
            {
                throw new SmtpProtocolViolation($"The server sent a line that is not an SMTP reply: \"{Printable(line)}\".");
            }

            var lineCode = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            if (code >= 0 && lineCode != code)
            {
                throw new SmtpProtocolViolation($"The server changed the reply code within one reply ({code}, then {lineCode}).");
            }

            code = lineCode;
            lines.Add(line.Length > 4 ? line[4..] : "");
            if (line.Length == 3 || line[3] == ' ')
            {
                return new SmtpReply(code, lines);
            }

            if (lines.Count > MaxLines)
            {
                throw new SmtpProtocolViolation("The server sent a reply with too many lines.");
            }
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var span = _buffer.AsSpan(_start, _end - _start);
            var lf = span.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var length = lf > 0 && span[lf - 1] == '\r' ? lf - 1 : lf;
                // Replies are ASCII; anything else is shown, never trusted.
                var line = Encoding.UTF8.GetString(span[..length]);
                _start += lf + 1;
                return line;
            }

            if (_end - _start >= MaxLineLength)
            {
                throw new SmtpProtocolViolation("The server sent a reply line longer than " + MaxLineLength + " bytes.");
            }

            if (_start > 0)
            {
                span.CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            var read = await Stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException("The server closed the connection.");
            }

            _end += read;
        }
    }

    private static string Printable(string line) =>
        new([.. line.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}

/// <summary>The server broke the protocol (not a reply, wrong codes); the connection cannot be trusted any more.</summary>
internal sealed class SmtpProtocolViolation(string message) : Exception(message);

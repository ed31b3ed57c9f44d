using System.Buffers;

namespace Rendezvous.Integrations.Notifications.Smtp;

/// <summary>
/// Prepares a message for the DATA command (RFC 5321 4.5.2): every line that starts with a dot gets a second dot, every
/// line end becomes CRLF (a bare CR or LF is never sent: servers disagree about them, which is how SMTP smuggling works),
/// the message ends with a line end, and the terminating "." line follows.
/// </summary>
public static class DotStuffing
{
    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    private static ReadOnlySpan<byte> Terminator => ".\r\n"u8;

    public static void Write(ReadOnlySpan<byte> message, IBufferWriter<byte> output)
    {
        var lineStart = true;
        var i = 0;
        while (i < message.Length)
        {
            if (lineStart && message[i] == (byte)'.')
            {
                Put(output, "."u8);
            }

            // Copy the rest of the line in one piece.
            var rest = message[i..];
            var end = rest.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                Put(output, rest);
                i = message.Length;
                lineStart = false;
                break;
            }

            Put(output, rest[..end]);
            Put(output, CrLf);
            i += end + (rest[end] == (byte)'\r' && end + 1 < rest.Length && rest[end + 1] == (byte)'\n' ? 2 : 1);
            lineStart = true;
        }

        if (!lineStart)
        {
            Put(output, CrLf);
        }

        Put(output, Terminator);
    }

    /// <summary>The DATA payload of <paramref name="message"/>, for tests and small messages.</summary>
    public static byte[] Apply(ReadOnlySpan<byte> message)
    {
        var buffer = new ArrayBufferWriter<byte>(message.Length + 64);
        Write(message, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void Put(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}

using System.Globalization;
using System.Text;
using NodaTime;
using NodaTime.Text;

namespace Rendezvous.Integrations.Notifications.Mime;

/// <summary>A mailbox: an address with an optional display name.</summary>
public sealed record MailboxAddress(string? DisplayName, string Address)
{
    /// <summary>Parses <c>addr@example.com</c> or <c>Name &lt;addr@example.com&gt;</c>; false for anything else.</summary>
    public static bool TryParse(string? text, out MailboxAddress mailbox)
    {
        mailbox = new MailboxAddress(null, "");
        if (string.IsNullOrWhiteSpace(text) || text.AsSpan().IndexOfAny('\r', '\n') >= 0
            || !System.Net.Mail.MailAddress.TryCreate(text.Trim(), out var parsed))
        {
            return false;
        }

        mailbox = new MailboxAddress(string.IsNullOrWhiteSpace(parsed.DisplayName) ? null : parsed.DisplayName, parsed.Address);
        return true;
    }

    /// <summary>True when the address itself (not the name) needs SMTPUTF8.</summary>
    public bool IsInternational => !Ascii.IsValid(Address);

    public override string ToString() => DisplayName is null ? Address : $"{DisplayName} <{Address}>";
}

/// <summary>
/// Writes RFC 5322 header fields: folded at whitespace to lines of at most 78 characters, with RFC 2047 encoded-words for
/// text that is not plain ASCII, quoted strings for names with special characters, and no way for a value to start a
/// header of its own (CR and LF never pass through).
/// </summary>
public static class HeaderEncoding
{
    public const int MaxLineLength = 78;

    /// <summary>An encoded-word may be at most 75 characters (RFC 2047 2).</summary>
    public const int MaxEncodedWordLength = 75;

    /// <summary>We write shorter ones, so that one still fits on the first line after a field name such as "Reply-To: ".</summary>
    public const int EncodedWordLength = 64;

    private const string QPrefix = "=?utf-8?Q?";
    private const string BPrefix = "=?utf-8?B?";

    private static readonly InstantPattern DatePattern =
        InstantPattern.CreateWithInvariantCulture("ddd, dd MMM uuuu HH:mm:ss '+0000'");

    /// <summary>RFC 5322 date-time in UTC, e.g. "Mon, 01 Mar 2027 08:00:00 +0000".</summary>
    public static string FormatDate(Instant instant) => DatePattern.Format(instant);

    /// <summary>A complete header field for free text (Subject and the like), ending in CRLF.</summary>
    public static string Unstructured(string name, string value)
    {
        var line = new FoldingLine(name);
        foreach (var token in UnstructuredTokens(Clean(value)))
        {
            line.Add(token);
        }

        return line.ToString();
    }

    /// <summary>A complete address header field (From, To, Reply-To), ending in CRLF.</summary>
    public static string Addresses(string name, IReadOnlyList<MailboxAddress> mailboxes)
    {
        var line = new FoldingLine(name);
        for (var i = 0; i < mailboxes.Count; i++)
        {
            var m = mailboxes[i];
            var separator = i < mailboxes.Count - 1 ? "," : "";
            var address = Clean(m.Address).Replace(" ", "", StringComparison.Ordinal);
            if (string.IsNullOrWhiteSpace(m.DisplayName))
            {
                line.Add(address + separator);
                continue;
            }

            foreach (var token in PhraseTokens(Clean(m.DisplayName)))
            {
                line.Add(token);
            }

            line.Add("<" + address + ">" + separator);
        }

        return line.ToString();
    }

    /// <summary>A header field whose value is already a valid token list (Message-ID, MIME-Version, ...), ending in CRLF.</summary>
    public static string Raw(string name, string value)
    {
        var line = new FoldingLine(name);
        foreach (var token in Clean(value).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            line.Add(token);
        }

        return line.ToString();
    }

    /// <summary>
    /// Encodes <paramref name="text"/> as encoded-words of at most <see cref="EncodedWordLength"/> characters, never splitting a character between
    /// two words. Uses Q when that is shorter (mostly ASCII text), B otherwise. The Q alphabet is the one allowed in a
    /// phrase, so the words are safe in display names as well as in Subject.
    /// </summary>
    public static IReadOnlyList<string> EncodeWords(string text)
    {
        var bytes = Encoding.UTF8.GetByteCount(text);
        var qLength = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            qLength += QCost(rune);
        }

        var useQ = qLength <= ((bytes + 2) / 3 * 4);
        var words = new List<string>();
        var room = EncodedWordLength - QPrefix.Length - 2;
        var current = new StringBuilder();
        var pending = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            var n = rune.EncodeToUtf8(utf8);
            if (useQ)
            {
                var cost = QCost(rune);
                if (current.Length + cost > room)
                {
                    words.Add(QPrefix + current + "?=");
                    current.Clear();
                }

                AppendQ(current, rune, utf8[..n]);
            }
            else
            {
                // Base64 of k bytes takes 4 * ceil(k / 3) characters.
                if ((pending.Count + n + 2) / 3 * 4 > room)
                {
                    words.Add(BPrefix + Convert.ToBase64String([.. pending]) + "?=");
                    pending.Clear();
                }

                for (var i = 0; i < n; i++)
                {
                    pending.Add(utf8[i]);
                }
            }
        }

        if (useQ && current.Length > 0)
        {
            words.Add(QPrefix + current + "?=");
        }
        else if (!useQ && pending.Count > 0)
        {
            words.Add(BPrefix + Convert.ToBase64String([.. pending]) + "?=");
        }

        return words;
    }

    /// <summary>Line breaks and other control characters become spaces: a header value can never start a new field.</summary>
    public static string Clean(string value)
    {
        if (!value.Any(char.IsControl))
        {
            return value;
        }

        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            sb.Append(char.IsControl(c) ? ' ' : c);
        }

        return sb.ToString();
    }

    private static IEnumerable<string> UnstructuredTokens(string value)
    {
        var words = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // Plain words pass as they are; anything that is not printable ASCII, looks like an encoded-word, or cannot be
        // folded short enough makes the whole value encoded.
        var plain = words.All(w => w.Length <= MaxLineLength - 2 && !w.Contains("=?", StringComparison.Ordinal) && w.All(c => c is >= '!' and <= '~'));
        return plain ? words : EncodeWords(value);
    }

    private static IEnumerable<string> PhraseTokens(string name)
    {
        name = name.Trim();
        if (name.All(IsAtextOrSpace) && !name.Contains("=?", StringComparison.Ordinal))
        {
            return name.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }

        if (name.All(c => c is >= ' ' and <= '~') && name.Length <= MaxLineLength - 10)
        {
            return ["\"" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""];
        }

        return EncodeWords(name);
    }

    private static bool IsAtextOrSpace(char c) =>
        char.IsAsciiLetterOrDigit(c) || c == ' ' || "!#$%&'*+-/=?^_`{|}~".Contains(c, StringComparison.Ordinal);

    private static bool IsQLiteral(Rune r) =>
        r.IsAscii && (char.IsAsciiLetterOrDigit((char)r.Value) || r.Value is '!' or '*' or '+' or '-' or '/');

    private static int QCost(Rune r) => IsQLiteral(r) || r.Value == ' ' ? 1 : 3 * r.Utf8SequenceLength;

    private static void AppendQ(StringBuilder sb, Rune rune, ReadOnlySpan<byte> utf8)
    {
        if (rune.Value == ' ')
        {
            sb.Append('_');
        }
        else if (IsQLiteral(rune))
        {
            sb.Append((char)rune.Value);
        }
        else
        {
            foreach (var b in utf8)
            {
                sb.Append('=').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>Builds one header field, starting a continuation line (CRLF and a space) before a token that does not fit.</summary>
    private sealed class FoldingLine
    {
        private readonly StringBuilder _text = new();
        private readonly int _nameLength;
        private int _lineLength;

        public FoldingLine(string name)
        {
            _text.Append(name).Append(':');
            _nameLength = name.Length + 1;
            _lineLength = _nameLength;
        }

        public void Add(string token)
        {
            if (_lineLength > _nameLength && _lineLength + 1 + token.Length > MaxLineLength)
            {
                _text.Append("\r\n");
                _lineLength = 0;
            }

            _text.Append(' ').Append(token);
            _lineLength += 1 + token.Length;
        }

        public override string ToString() => _text + "\r\n";
    }
}

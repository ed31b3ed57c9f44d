using System.Text;
using NodaTime;
using Rendezvous.Integrations.Notifications.Mime;
using Rendezvous.Integrations.Notifications.Smtp;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Notifications;

public sealed class MimeWriterTests
{
    private static EmailMessage Sample(Action<EmailMessageBuilder>? change = null)
    {
        var b = new EmailMessageBuilder();
        change?.Invoke(b);
        return b.Build();
    }

    /// <summary>Mutable stand-in so each test changes only what it is about.</summary>
    private sealed class EmailMessageBuilder
    {
        public string Subject = "Confirmed: Intro call";
        public string Text = "Hello Grace,\n\nSee you soon.\n";
        public string? Html = "<p>Hello Grace,</p>";
        public CalendarPart? Calendar = new("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n", "REQUEST");
        public MailboxAddress To = new("Grace Hopper", "grace@example.com");
        public MailboxAddress From = new("Acme Bookings", "no-reply@acme.example");

        public EmailMessage Build() => new()
        {
            From = From,
            To = [To],
            ReplyTo = new MailboxAddress("Ada Admin", "ada@acme.example"),
            Subject = Subject,
            Date = Instant.FromUtc(2027, 3, 1, 8, 0, 5),
            MessageId = "abc123@acme.example",
            TextBody = Text,
            HtmlBody = Html,
            Calendar = Calendar,
            Headers = [new("Auto-Submitted", "auto-generated")],
        };
    }

    private static string[] HeaderLines(string message) => message[..message.IndexOf("\r\n\r\n", StringComparison.Ordinal)].Split("\r\n");

    [Fact]
    public void Writes_the_headers_and_the_part_structure()
    {
        var text = MimeWriter.WriteText(Sample());
        text.ShouldStartWith("Date: Mon, 01 Mar 2027 08:00:05 +0000\r\n");
        text.ShouldContain("From: Acme Bookings <no-reply@acme.example>\r\n");
        text.ShouldContain("Reply-To: Ada Admin <ada@acme.example>\r\n");
        text.ShouldContain("To: Grace Hopper <grace@example.com>\r\n");
        text.ShouldContain("Message-ID: <abc123@acme.example>\r\n");
        text.ShouldContain("MIME-Version: 1.0\r\n");
        text.ShouldContain("Auto-Submitted: auto-generated\r\n");

        var parsed = MimePart.Parse(text);
        parsed.MediaType.ShouldBe("multipart/mixed");
        parsed.Parts.Select(p => p.MediaType).ShouldBe(["multipart/alternative", "application/ics"]);
        parsed.Parts[0].Parts.Select(p => p.MediaType).ShouldBe(["text/plain", "text/html", "text/calendar"]);
        parsed.Parts[0].Parts[2].ContentTypeParameters["method"].ShouldBe("REQUEST");
        parsed.Parts[0].Parts[0].Text.ShouldBe("Hello Grace,\r\n\r\nSee you soon.\r\n");
        parsed.Parts[1].Header("Content-Disposition").ShouldBe("attachment; filename=\"invite.ics\"");
        parsed.Parts[1].Text.ShouldBe("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n");
        parsed.Parts[0].Parts[2].Text.ShouldBe(parsed.Parts[1].Text);
    }

    [Fact]
    public void The_message_is_7bit_with_lines_of_at_most_78_characters()
    {
        var longText = string.Join(' ', Enumerable.Repeat("Grüße aus Zürich, café au lait = très bien.", 30));
        var message = Sample(b =>
        {
            b.Subject = "Bestätigung: " + longText[..200];
            b.Text = longText + "\n" + new string('x', 300) + "\n";
            b.Html = "<p>" + longText + "</p>";
        });
        var bytes = MimeWriter.Write(message);
        bytes.ShouldAllBe(b => b < 128);
        foreach (var line in Encoding.ASCII.GetString(bytes).Split("\r\n"))
        {
            line.Length.ShouldBeLessThanOrEqualTo(78, line);
        }

        var parsed = MimePart.Parse(Encoding.ASCII.GetString(bytes));
        parsed.Header("Subject").ShouldBe("Bestätigung: " + longText[..200]);
        parsed.Single("text/plain").Text.ShouldBe(longText + "\r\n" + new string('x', 300) + "\r\n");
        parsed.Single("text/html").Text.ShouldBe("<p>" + longText + "</p>");
    }

    [Fact]
    public void Long_ASCII_subjects_fold_at_spaces_and_unfold_to_the_original()
    {
        var subject = string.Join(' ', Enumerable.Range(1, 40).Select(i => $"word{i}"));
        var text = MimeWriter.WriteText(Sample(b => b.Subject = subject));
        var lines = HeaderLines(text).SkipWhile(l => !l.StartsWith("Subject:", StringComparison.Ordinal)).TakeWhile(l => l.StartsWith("Subject:", StringComparison.Ordinal) || l.StartsWith(' ')).ToList();
        lines.Count.ShouldBeGreaterThan(1);
        lines.ShouldAllBe(l => l.Length <= 78);
        lines.ShouldNotContain(l => l.Contains("=?", StringComparison.Ordinal));
        MimePart.Parse(text).Header("Subject").ShouldBe(subject);
    }

    [Theory]
    [InlineData("Zoë Ångström")]
    [InlineData("山田 太郎")]
    [InlineData("O'Brien, Séamus \"Shay\"")]
    [InlineData("🎉 Party 🎉 with a very long name that needs more than one encoded word to be written in full")]
    public void Non_ASCII_names_become_encoded_words_that_decode_back(string name)
    {
        var text = MimeWriter.WriteText(Sample(b => b.To = new MailboxAddress(name, "someone@example.com")));
        var header = MimePart.Parse(text).Header("To")!;
        header.ShouldBe($"{name} <someone@example.com>");
        foreach (var word in System.Text.RegularExpressions.Regex.Matches(text, @"=\?[^?]+\?[BQ]\?[^?]*\?=").Select(m => m.Value))
        {
            word.Length.ShouldBeLessThanOrEqualTo(75);
        }
    }

    [Fact]
    public void ASCII_names_with_specials_are_quoted()
    {
        var text = MimeWriter.WriteText(Sample(b => b.To = new MailboxAddress("Hopper, Grace \"Amazing\"", "grace@example.com")));
        text.ShouldContain("To: \"Hopper, Grace \\\"Amazing\\\"\" <grace@example.com>\r\n");
    }

    [Fact]
    public void Encoded_words_never_split_a_character()
    {
        // 4-byte characters across many words: each word must decode on its own.
        var subject = string.Concat(Enumerable.Repeat("😀", 40));
        var text = MimeWriter.WriteText(Sample(b => b.Subject = subject));
        foreach (var word in System.Text.RegularExpressions.Regex.Matches(text, @"=\?utf-8\?[BQ]\?[^?]*\?=").Select(m => m.Value))
        {
            MimePart.DecodeWords(word).ShouldNotContain('\uFFFD');
        }

        MimePart.Parse(text).Header("Subject").ShouldBe(subject);
    }

    [Fact]
    public void Line_breaks_in_header_values_cannot_inject_headers()
    {
        var text = MimeWriter.WriteText(Sample(b =>
        {
            b.Subject = "Hello\r\nBcc: victim@example.com";
            b.To = new MailboxAddress("Eve\r\nBcc: x@example.com", "eve@example.com");
        }));
        HeaderLines(text).ShouldNotContain(l => l.StartsWith("Bcc", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Quoted_printable_escapes_what_must_be_escaped()
    {
        var qp = TransferEncoding.QuotedPrintable("a=b trailing \nFrom here\n\ttab\t\n.dot\n");
        qp.ShouldBe("a=3Db trailing=20\r\n=46rom here\r\n\ttab=09\r\n.dot\r\n");
        Encoding.UTF8.GetString(MimePart.DecodeQuotedPrintable(qp)).ShouldBe("a=b trailing \r\nFrom here\r\n\ttab\t\r\n.dot\r\n");
    }

    [Fact]
    public void Quoted_printable_soft_breaks_never_split_an_escape()
    {
        var text = string.Concat(Enumerable.Repeat("é", 100));
        var qp = TransferEncoding.QuotedPrintable(text);
        foreach (var line in qp.Split("\r\n"))
        {
            line.Length.ShouldBeLessThanOrEqualTo(76);
            System.Text.RegularExpressions.Regex.IsMatch(line.TrimEnd('='), "^(=[0-9A-F]{2})*$").ShouldBeTrue(line);
        }

        Encoding.UTF8.GetString(MimePart.DecodeQuotedPrintable(qp)).ShouldBe(text);
    }

    [Fact]
    public void A_message_without_calendar_is_just_the_alternative()
    {
        var parsed = MimePart.Parse(MimeWriter.WriteText(Sample(b => b.Calendar = null)));
        parsed.MediaType.ShouldBe("multipart/alternative");
        parsed.Parts.Select(p => p.MediaType).ShouldBe(["text/plain", "text/html"]);
    }

    [Fact]
    public void International_addresses_are_written_raw_and_flag_SMTPUTF8()
    {
        var message = Sample(b => b.To = new MailboxAddress("José", "josé@exämple.com"));
        message.NeedsSmtpUtf8.ShouldBeTrue();
        Encoding.UTF8.GetString(MimeWriter.Write(message)).ShouldContain("<josé@exämple.com>");
        Sample().NeedsSmtpUtf8.ShouldBeFalse();
    }

    [Theory]
    [InlineData(".leading dot\r\n", "..leading dot\r\n.\r\n")]
    [InlineData("a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n")]
    [InlineData("no final line end", "no final line end\r\n.\r\n")]
    [InlineData("bare\nline\rends\r\n", "bare\r\nline\r\nends\r\n.\r\n")]
    [InlineData("..two\n", "...two\r\n.\r\n")]
    [InlineData("", ".\r\n")]
    [InlineData("mid.dot\r\n", "mid.dot\r\n.\r\n")]
    public void Dot_stuffing_protects_lines_that_start_with_a_dot(string input, string expected)
    {
        Encoding.ASCII.GetString(DotStuffing.Apply(Encoding.ASCII.GetBytes(input))).ShouldBe(expected);
    }

    [Fact]
    public void A_written_message_survives_dot_stuffing_unchanged_in_meaning()
    {
        var message = Sample(b => b.Text = ".\n..\n.end\n");
        var wire = Encoding.ASCII.GetString(DotStuffing.Apply(MimeWriter.Write(message)));
        // What a server stores after removing the stuffing.
        var stored = string.Join("\r\n", wire[..^3].Split("\r\n").Select(l => l.StartsWith('.') ? l[1..] : l));
        MimePart.Parse(stored).Single("text/plain").Text.ShouldBe(".\r\n..\r\n.end\r\n");
    }
}

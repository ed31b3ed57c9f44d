using System.Text;
using NodaTime;
using Rendezvous.Integrations.Notifications.Email;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;
using Mailbox = MimeKit.MailboxAddress;

namespace Rendezvous.Server.Tests.Notifications;

/// <summary>The message as it leaves: its structure, 7-bit encodings and headers, read back with the tests' own parser.</summary>
public sealed class EmailComposerTests
{
    private static EmailMessage Sample(string? subject = null, Mailbox? to = null) => new()
    {
        From = new Mailbox("Acme Bookings", "no-reply@acme.example"),
        To = [to ?? new Mailbox("Grace Hopper", "grace@example.com")],
        ReplyTo = new Mailbox("Ada Admin", "ada@acme.example"),
        Subject = subject ?? "Confirmed: Intro call",
        Date = Instant.FromUtc(2027, 3, 1, 8, 0),
        MessageId = "0190c7d2abc@acme.example",
        TextBody = "Hello Grace,\n\nSee you on Monday.\n.\nA line with only a dot, and one that is very long: " + new string('x', 200) + "\n",
        HtmlBody = "<p>Hello Grace</p>",
        Calendar = new CalendarPart("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:b-1@rendezvous\r\nSEQUENCE:2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "request"),
        Headers = [new("Auto-Submitted", "auto-generated")],
    };

    private static string Wire(EmailMessage message)
    {
        using var stream = new MemoryStream();
        // CRLF, as SMTP carries it.
        var options = MimeKit.FormatOptions.Default.Clone();
        options.NewLineFormat = MimeKit.NewLineFormat.Dos;
        EmailComposer.Compose(message).WriteTo(options, stream);
        return Encoding.ASCII.GetString(stream.ToArray());
    }

    [Fact]
    public void The_invitation_is_inline_in_the_alternative_and_attached_as_invite_ics()
    {
        var parsed = MimePart.Parse(Wire(Sample()));

        parsed.MediaType.ShouldBe("multipart/mixed");
        var alternative = parsed.Parts[0];
        alternative.MediaType.ShouldBe("multipart/alternative");
        alternative.Parts.Select(p => p.MediaType).ShouldBe(["text/plain", "text/html", "text/calendar"]);
        alternative.Parts[2].ContentTypeParameters["method"].ShouldBe("REQUEST");
        alternative.Parts[2].Text.ShouldContain("UID:b-1@rendezvous");
        var attachment = parsed.Parts[1];
        attachment.MediaType.ShouldBe("application/ics");
        attachment.Header("Content-Disposition")!.ShouldContain("invite.ics");
        attachment.Text.ShouldBe(alternative.Parts[2].Text);
        alternative.Parts[0].Text.ReplaceLineEndings("\n").ShouldBe(Sample().TextBody);
    }

    [Fact]
    public void Without_an_invitation_the_body_is_just_the_alternative()
    {
        var parsed = MimePart.Parse(Wire(Sample() with { Calendar = null }));

        parsed.MediaType.ShouldBe("multipart/alternative");
        parsed.Parts.Select(p => p.MediaType).ShouldBe(["text/plain", "text/html"]);
    }

    [Fact]
    public void The_message_id_date_and_extra_headers_are_the_ones_given()
    {
        var parsed = MimePart.Parse(Wire(Sample()));

        parsed.Header("Message-ID").ShouldBe("<0190c7d2abc@acme.example>");
        parsed.Header("Date").ShouldBe("Mon, 01 Mar 2027 08:00:00 +0000");
        parsed.Header("Auto-Submitted").ShouldBe("auto-generated");
        parsed.Header("Reply-To").ShouldBe("Ada Admin <ada@acme.example>");
    }

    [Fact]
    public void Everything_on_the_wire_is_7_bit_with_lines_short_enough_for_any_server()
    {
        var wire = Wire(Sample("Réservation confirmée : Zoë, 東京 et Łódź", new Mailbox("José Müller", "jose@example.com")) with
        {
            TextBody = "Grüße aus Köln — ünïcödé everywhere\n",
        });

        Ascii.IsValid(wire).ShouldBeTrue();
        wire.Split("\r\n").ShouldAllBe(line => line.Length <= 998);
    }

    [Theory]
    [InlineData("Réservation confirmée : Zoë, 東京 et Łódź")]
    [InlineData("A subject long enough that it has to be folded over more than one line, with ünïcödé in the middle of it and more after")]
    public void Non_ascii_and_long_subjects_come_back_unchanged(string subject)
    {
        var parsed = MimePart.Parse(Wire(Sample(subject)));

        parsed.Header("Subject").ShouldBe(subject);
    }

    [Theory]
    [InlineData("José Müller")]
    [InlineData("Hopper, Grace \"Amazing\"")]
    public void Display_names_with_non_ascii_or_special_characters_come_back_unchanged(string name)
    {
        var parsed = MimeKit.MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(Wire(Sample(to: new Mailbox(name, "someone@example.com"))))));

        var mailbox = parsed.To.Mailboxes.ShouldHaveSingleItem();
        mailbox.Name.ShouldBe(name);
        mailbox.Address.ShouldBe("someone@example.com");
    }

    [Fact]
    public void A_line_break_in_a_name_subject_or_header_value_cannot_start_a_header_of_its_own()
    {
        var wire = Wire(Sample("Hi\r\nBcc: victim@example.com", new Mailbox("Eve\r\nBcc: x@example.com", "eve@example.com")) with
        {
            Headers = [new("X-Rendezvous-Kind", "confirmation\nBcc: y@example.com")],
        });

        wire.Split("\r\n").ShouldNotContain(line => line.StartsWith("Bcc:", StringComparison.OrdinalIgnoreCase));
        MimePart.Parse(wire).Header("Bcc").ShouldBeNull();
    }

    [Theory]
    [InlineData("Grace Hopper <grace@example.com>", "Grace Hopper", "grace@example.com")]
    [InlineData("no-reply@acme.example", null, "no-reply@acme.example")]
    public void Configured_addresses_parse_with_or_without_a_name(string text, string? name, string address)
    {
        EmailAddresses.TryParse(text, out var mailbox).ShouldBeTrue();
        mailbox.Name.ShouldBe(name);
        mailbox.Address.ShouldBe(address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not an address")]
    [InlineData("eve@example.com\r\nBcc: x@example.com")]
    public void Anything_that_is_not_one_address_is_refused(string text) =>
        EmailAddresses.TryParse(text, out _).ShouldBeFalse();
}

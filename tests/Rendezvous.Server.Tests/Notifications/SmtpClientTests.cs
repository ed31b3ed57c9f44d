using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Rendezvous.Integrations.Notifications.Smtp;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Notifications;

/// <summary>The SMTP client against a scripted in-process server: the protocol, the extensions, and every kind of failure.</summary>
public sealed class SmtpClientTests : IAsyncLifetime
{
    private readonly ScriptedSmtpServer _server = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private SmtpOptions Options(Action<SmtpOptions>? change = null)
    {
        var o = new SmtpOptions
        {
            Host = "127.0.0.1",
            Port = _server.Port,
            CommandTimeout = TimeSpan.FromSeconds(5),
            DataTimeout = TimeSpan.FromSeconds(5),
        };
        change?.Invoke(o);
        return o;
    }

    private static readonly byte[] Message = Encoding.ASCII.GetBytes("Subject: hi\r\nFrom: a@example.com\r\n\r\nHello\r\n.hidden dot\r\n");

    private static SmtpEnvelope To(params string[] recipients) => new("a@example.com", recipients);

    [Fact]
    public async Task Sends_a_message_with_pipelining_and_dot_stuffing()
    {
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        connection.Capabilities.Pipelining.ShouldBeTrue();
        var result = await connection.SendAsync(To("b@example.com"), Message, CancellationToken.None);

        result.Accepted.ShouldBe(["b@example.com"]);
        Encoding.ASCII.GetString(_server.RawMessages.Single()).ShouldBe("Subject: hi\r\nFrom: a@example.com\r\n\r\nHello\r\n..hidden dot\r\n");
        _server.Commands.ShouldContain("MAIL FROM:<a@example.com>");
        _server.Commands.ShouldContain("RCPT TO:<b@example.com>");
        // MAIL, RCPT and DATA came in one write: RCPT and DATA were already waiting when MAIL was read.
        _server.LinesQueuedBehindMail.Single().ShouldBeGreaterThanOrEqualTo(2);
    }

    [Fact]
    public async Task Without_pipelining_each_command_waits_for_its_reply()
    {
        _server.Extensions.Remove("PIPELINING");
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        await connection.SendAsync(To("b@example.com"), Message, CancellationToken.None);
        _server.LinesQueuedBehindMail.Single().ShouldBe(0);
    }

    [Fact]
    public async Task Reuses_one_connection_with_RSET_between_messages()
    {
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            await connection.SendAsync(To($"r{i}@example.com"), Message, CancellationToken.None);
        }

        _server.Connections.ShouldBe(1);
        _server.RawMessages.Count.ShouldBe(3);
        _server.Commands.Count(c => c == "RSET").ShouldBe(2);
        connection.MessagesSent.ShouldBe(3);
    }

    [Fact]
    public async Task Without_pipelining_RSET_between_good_messages_can_be_turned_off_but_follows_a_failed_one()
    {
        _server.Extensions.Remove("PIPELINING");
        _server.Reply = line => line == "RCPT TO:<busy@example.com>" ? "450 4.2.1 busy" : null;
        await using var connection = await SmtpConnection.OpenAsync(Options(o => o.ResetBetweenMessages = false), CancellationToken.None);
        await connection.SendAsync(To("a1@example.com"), Message, CancellationToken.None);
        await connection.SendAsync(To("a2@example.com"), Message, CancellationToken.None);
        _server.Commands.ShouldNotContain("RSET");
        await Should.ThrowAsync<SmtpTransientException>(() => connection.SendAsync(To("busy@example.com"), Message, CancellationToken.None));
        await connection.SendAsync(To("a3@example.com"), Message, CancellationToken.None);
        _server.Commands.Count(c => c == "RSET").ShouldBe(1);
        _server.RawMessages.Count.ShouldBe(3);
    }

    [Fact]
    public async Task A_server_that_only_knows_HELO_still_gets_the_message()
    {
        _server.EhloReply = "502 5.5.1 EHLO not implemented";
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        connection.Capabilities.Extended.ShouldBeFalse();
        await connection.SendAsync(To("b@example.com"), Message, CancellationToken.None);
        _server.Commands.ShouldContain(c => c.StartsWith("HELO ", StringComparison.Ordinal));
        _server.RawMessages.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_4xx_recipient_refusal_is_transient_and_the_session_stays_usable()
    {
        _server.Reply = line => line.StartsWith("RCPT", StringComparison.Ordinal) && line.Contains("busy", StringComparison.Ordinal)
            ? "450 4.2.1 mailbox busy, try later"
            : null;
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);

        var ex = await Should.ThrowAsync<SmtpTransientException>(() => connection.SendAsync(To("busy@example.com"), Message, CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.RecipientTo);
        ex.ReplyCode.ShouldBe(450);
        ex.EnhancedStatus.ShouldBe("4.2.1");
        ex.IsMessageSpecific.ShouldBeTrue();
        connection.IsUsable.ShouldBeTrue();

        // The failed transaction is reset, and the next message goes through on the same connection.
        await connection.SendAsync(To("ok@example.com"), Message, CancellationToken.None);
        _server.RawMessages.Count.ShouldBe(1);
        _server.Commands.ShouldContain("RSET");
    }

    [Fact]
    public async Task A_5xx_recipient_refusal_is_permanent()
    {
        _server.Reply = line => line.StartsWith("RCPT", StringComparison.Ordinal) ? "550 5.1.1 no such user" : null;
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        var ex = await Should.ThrowAsync<SmtpPermanentException>(() => connection.SendAsync(To("nobody@example.com"), Message, CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.RecipientTo);
        ex.EnhancedStatus.ShouldBe("5.1.1");
        ex.Message.ShouldContain("nobody@example.com");
        // With every recipient refused, no message data is sent.
        _server.RawMessages.ShouldBeEmpty();
    }

    [Fact]
    public async Task Some_recipients_refused_the_message_still_goes_to_the_others()
    {
        _server.Reply = line => line == "RCPT TO:<gone@example.com>" ? "550 5.1.1 gone" : null;
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        var result = await connection.SendAsync(To("gone@example.com", "here@example.com"), Message, CancellationToken.None);
        result.Accepted.ShouldBe(["here@example.com"]);
        result.Rejected.Single().Recipient.ShouldBe("gone@example.com");
    }

    [Theory]
    [InlineData("452 4.3.1 insufficient storage", true)]
    [InlineData("554 5.7.1 message refused as spam", false)]
    public async Task The_verdict_on_the_message_data_is_classified(string reply, bool transient)
    {
        _server.Reply = line => line == "DATA-END" ? reply : null;
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        var ex = await Should.ThrowAsync<SmtpException>(() => connection.SendAsync(To("b@example.com"), Message, CancellationToken.None));
        ex.IsTransient.ShouldBe(transient);
        ex.Stage.ShouldBe(SmtpStage.Content);
        ex.IsMessageSpecific.ShouldBeTrue();
        ex.MessageMayHaveBeenAccepted.ShouldBeFalse();
        connection.IsUsable.ShouldBeTrue();
    }

    [Fact]
    public async Task A_sender_refusal_fails_the_message_and_reads_every_pipelined_reply()
    {
        _server.Reply = line => line.StartsWith("MAIL", StringComparison.Ordinal) ? "553 5.7.1 sender not allowed"
            : line == "DATA" ? "503 5.5.1 no valid recipients" : null;
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        var ex = await Should.ThrowAsync<SmtpPermanentException>(() => connection.SendAsync(To("b@example.com"), Message, CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.MailFrom);
        ex.IsMessageSpecific.ShouldBeFalse();

        // Still in step with the server: the next exchange gets its own replies.
        _server.Reply = null;
        await connection.SendAsync(To("b@example.com"), Message, CancellationToken.None);
        _server.RawMessages.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_421_greeting_is_transient()
    {
        _server.Greeting = "421 4.3.2 too busy, come back later";
        var ex = await Should.ThrowAsync<SmtpTransientException>(() => SmtpConnection.OpenAsync(Options(), CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.Greeting);
        ex.ReplyCode.ShouldBe(421);
    }

    [Fact]
    public async Task A_554_greeting_is_permanent()
    {
        _server.Greeting = "554 5.7.1 no service for you";
        var ex = await Should.ThrowAsync<SmtpPermanentException>(() => SmtpConnection.OpenAsync(Options(), CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.Greeting);
    }

    [Fact]
    public async Task Nothing_listening_is_a_transient_connect_failure()
    {
        var ex = await Should.ThrowAsync<SmtpTransientException>(() =>
            SmtpConnection.OpenAsync(Options(o => o.Port = SmtpServer.ClosedPort()), CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.Connect);
    }

    [Fact]
    public async Task A_server_that_stops_answering_times_out()
    {
        _server.Silent = line => line == "DATA";
        await using var connection = await SmtpConnection.OpenAsync(Options(o => o.CommandTimeout = TimeSpan.FromMilliseconds(300)), CancellationToken.None);
        var ex = await Should.ThrowAsync<SmtpTransientException>(() => connection.SendAsync(To("b@example.com"), Message, CancellationToken.None));
        ex.Message.ShouldContain("timed out");
        connection.IsUsable.ShouldBeFalse();
    }

    [Fact]
    public async Task A_lost_reply_after_the_data_is_flagged_as_possibly_delivered()
    {
        // The server takes the data and hangs up instead of giving its verdict.
        _server.Reply = line => line == "DATA-END" ? throw new IOException("drop") : null;
        await using var connection = await SmtpConnection.OpenAsync(Options(o => o.DataTimeout = TimeSpan.FromMilliseconds(500)), CancellationToken.None);
        var ex = await Should.ThrowAsync<SmtpTransientException>(() => connection.SendAsync(To("b@example.com"), Message, CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.Content);
        ex.MessageMayHaveBeenAccepted.ShouldBeTrue();
    }

    [Fact]
    public async Task Authenticates_with_PLAIN_over_STARTTLS()
    {
        _server.Extensions.AddRange(["STARTTLS", "AUTH PLAIN LOGIN"]);
        (_server.Username, _server.Password) = ("ada", "sécret");
        await using var connection = await SmtpConnection.OpenAsync(Options(o =>
        {
            o.UseStartTls = true;
            o.AcceptAnyCertificate = true;
            o.Username = "ada";
            o.Password = "sécret";
        }), CancellationToken.None);

        connection.IsEncrypted.ShouldBeTrue();
        connection.IsAuthenticated.ShouldBeTrue();
        await connection.SendAsync(To("b@example.com"), Message, CancellationToken.None);
        _server.RawMessages.Count.ShouldBe(1);
        // EHLO again after the handshake (RFC 3207), and the password never in clear.
        _server.Commands.Count(c => c.StartsWith("EHLO", StringComparison.Ordinal)).ShouldBe(2);
        _server.Commands.ShouldNotContain(c => c.Contains("sécret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Authenticates_with_LOGIN_when_PLAIN_is_not_offered()
    {
        _server.Extensions.Add("AUTH LOGIN");
        (_server.Username, _server.Password) = ("ada", "pw");
        await using var connection = await SmtpConnection.OpenAsync(Options(o =>
        {
            o.Username = "ada";
            o.Password = "pw";
            o.AllowAuthWithoutTls = true;
        }), CancellationToken.None);
        connection.IsAuthenticated.ShouldBeTrue();
        _server.Commands.ShouldContain("AUTH LOGIN");
    }

    [Fact]
    public async Task Wrong_credentials_are_a_permanent_authentication_failure()
    {
        _server.Extensions.Add("AUTH PLAIN");
        (_server.Username, _server.Password) = ("ada", "right");
        var ex = await Should.ThrowAsync<SmtpPermanentException>(() => SmtpConnection.OpenAsync(Options(o =>
        {
            o.Username = "ada";
            o.Password = "wrong";
            o.AllowAuthWithoutTls = true;
        }), CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.Authenticate);
        ex.ReplyCode.ShouldBe(535);
        ex.Message.ShouldNotContain("wrong");
    }

    [Fact]
    public async Task Credentials_are_not_sent_without_TLS()
    {
        _server.Extensions.Add("AUTH PLAIN");
        var ex = await Should.ThrowAsync<SmtpPermanentException>(() => SmtpConnection.OpenAsync(Options(o =>
        {
            o.Username = "ada";
            o.Password = "pw";
        }), CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.Authenticate);
        _server.Commands.ShouldNotContain(c => c.StartsWith("AUTH", StringComparison.Ordinal));
    }

    [Fact]
    public async Task STARTTLS_required_but_not_offered_fails()
    {
        var ex = await Should.ThrowAsync<SmtpPermanentException>(() => SmtpConnection.OpenAsync(Options(o => o.UseStartTls = true), CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.StartTls);
    }

    [Fact]
    public async Task International_addresses_need_SMTPUTF8()
    {
        await using (var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None))
        {
            await connection.SendAsync(new SmtpEnvelope("a@example.com", ["josé@example.com"]), Message, CancellationToken.None);
        }

        _server.Commands.ShouldContain("MAIL FROM:<a@example.com> BODY=8BITMIME SMTPUTF8");
        _server.Extensions.Remove("SMTPUTF8");
        await using var old = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        var ex = await Should.ThrowAsync<SmtpPermanentException>(() =>
            old.SendAsync(new SmtpEnvelope("a@example.com", ["josé@example.com"]), Message, CancellationToken.None));
        ex.Message.ShouldContain("SMTPUTF8");
    }

    [Fact]
    public async Task A_message_larger_than_the_announced_SIZE_is_refused_before_sending()
    {
        _server.Extensions.Add("SIZE 20");
        await using var connection = await SmtpConnection.OpenAsync(Options(), CancellationToken.None);
        var ex = await Should.ThrowAsync<SmtpPermanentException>(() => connection.SendAsync(To("b@example.com"), Message, CancellationToken.None));
        ex.IsMessageSpecific.ShouldBeTrue();
        _server.Commands.ShouldNotContain(c => c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_pool_reuses_connections_and_recovers_from_a_dropped_one()
    {
        // The server hangs up after every second message, as servers do with clients they consider idle.
        _server.DropAfterMessages = 2;
        await using var pool = new SmtpConnectionPool(Options(o => o.MaxConnections = 1), NullLogger<SmtpConnectionPool>.Instance, null);
        for (var i = 0; i < 6; i++)
        {
            await pool.SendAsync(To($"r{i}@example.com"), Message, CancellationToken.None);
        }

        _server.RawMessages.Count.ShouldBe(6);
        _server.Connections.ShouldBe(3);
    }

    [Fact]
    public async Task The_pool_sends_concurrently_over_at_most_its_connections()
    {
        await using var pool = new SmtpConnectionPool(Options(o => o.MaxConnections = 3), NullLogger<SmtpConnectionPool>.Instance, null);
        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => pool.SendAsync(To($"r{i}@example.com"), Message, CancellationToken.None)));
        _server.RawMessages.Count.ShouldBe(60);
        _server.Connections.ShouldBeLessThanOrEqualTo(3);
    }

    [Fact]
    public async Task After_a_failed_connect_the_pool_fails_fast_for_a_while()
    {
        var closed = SmtpServer.ClosedPort();
        var attempts = 0;
        var options = Options(o =>
        {
            o.Port = closed;
            o.ReconnectDelay = TimeSpan.FromMinutes(5);
        });
        await using var pool = new SmtpConnectionPool(options, NullLogger<SmtpConnectionPool>.Instance, ct =>
        {
            attempts++;
            return SmtpConnection.OpenAsync(options, ct);
        });
        var first = await Should.ThrowAsync<SmtpTransientException>(() => pool.SendAsync(To("b@example.com"), Message, CancellationToken.None));
        var second = await Should.ThrowAsync<SmtpTransientException>(() => pool.SendAsync(To("b@example.com"), Message, CancellationToken.None));
        attempts.ShouldBe(1);
        first.Stage.ShouldBe(SmtpStage.Connect);
        second.Message.ShouldStartWith("Not trying again yet: ");
    }

    [Fact]
    public async Task The_pool_does_not_resend_after_a_failure_the_server_reported()
    {
        _server.Reply = line => line == "DATA-END" ? "451 4.3.0 try again later" : null;
        await using var pool = new SmtpConnectionPool(Options(), NullLogger<SmtpConnectionPool>.Instance, null);
        await pool.SendAsync(To("warm@example.com"), Message, CancellationToken.None).ShouldThrowAsync<SmtpTransientException>();
        await pool.SendAsync(To("b@example.com"), Message, CancellationToken.None).ShouldThrowAsync<SmtpTransientException>();
        _server.Commands.Count(c => c == "DATA").ShouldBe(2);
    }
}

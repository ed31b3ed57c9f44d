using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailKit.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using NodaTime;
using Rendezvous.Integrations.Notifications.Email;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Notifications;

/// <summary>
/// The MailKit adapter (<see cref="SmtpClientPool"/>): TLS, authentication, how failures are classified, and pooling.
/// Refusals the real server cannot be made to give come from the scripted in-process server.
/// </summary>
public sealed class SmtpTransportTests : IAsyncLifetime
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
            Security = SecureSocketOptions.None,
            CommandTimeout = TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ReconnectDelay = TimeSpan.Zero,
        };
        change?.Invoke(o);
        return o;
    }

    private static SmtpClientPool Pool(SmtpOptions options, ISmtpAccessTokenSource? tokens = null) =>
        new(options, NullLogger<SmtpClientPool>.Instance, tokens);

    internal static EmailMessage Message(string to, string subject = "Hello") => new()
    {
        From = new MailboxAddress("Acme Bookings", "no-reply@acme.example"),
        To = [new MailboxAddress("Grace Hopper", to)],
        Subject = subject,
        Date = Instant.FromUtc(2027, 3, 1, 8, 0),
        MessageId = $"{Guid.NewGuid():N}@acme.example",
        TextBody = "Hello Grace,\n\nSee you soon.\n",
    };

    [Fact]
    public async Task Starttls_with_plain_auth_sends_the_credentials_only_inside_tls()
    {
        _server.Extensions.AddRange(["STARTTLS", "AUTH PLAIN"]);
        (_server.Username, _server.Password) = ("mailer", "s3cret");
        await using var pool = Pool(Options(o =>
        {
            o.Security = SecureSocketOptions.StartTls;
            o.TrustedCertificateThumbprint = _server.Certificate.GetCertHashString(HashAlgorithmName.SHA256);
            (o.Username, o.Password) = ("mailer", "s3cret");
        }));

        await pool.SendAsync(Message("grace@example.com"), CancellationToken.None);

        _server.RawMessages.Count.ShouldBe(1);
        var commands = _server.Commands.Select(c => c.Split(' ')[0]).ToList();
        commands.IndexOf("STARTTLS").ShouldBeLessThan(commands.IndexOf("AUTH"));
        _server.Commands.ShouldContain(c => c.StartsWith("AUTH PLAIN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_certificate_that_does_not_validate_is_refused_unless_its_thumbprint_is_trusted()
    {
        _server.Extensions.Add("STARTTLS");
        await using var pool = Pool(Options(o => o.Security = SecureSocketOptions.StartTls));

        var ex = await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.IsMessageSpecific.ShouldBeFalse();
        ex.Message.ShouldContain("TLS handshake");
        _server.Commands.ShouldNotContain(c => c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Starttls_required_but_not_offered_fails_for_good_before_anything_is_sent()
    {
        await using var pool = Pool(Options(o => o.Security = SecureSocketOptions.StartTls));

        var ex = await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.Stage.ShouldBe(SmtpStage.Connect);
        _server.Commands.ShouldNotContain(c => c.StartsWith("MAIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Starttls_when_available_goes_on_in_plain_text_with_a_server_that_does_not_offer_it()
    {
        await using var pool = Pool(Options(o => o.Security = SecureSocketOptions.StartTlsWhenAvailable));

        await pool.SendAsync(Message("grace@example.com"), CancellationToken.None);

        _server.RawMessages.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Credentials_are_never_sent_in_plain_text_unless_allowed()
    {
        _server.Extensions.Add("AUTH PLAIN");
        (_server.Username, _server.Password) = ("mailer", "s3cret");
        await using var pool = Pool(Options(o => (o.Username, o.Password) = ("mailer", "s3cret")));

        var ex = await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));

        ex.Stage.ShouldBe(SmtpStage.Authenticate);
        _server.Commands.ShouldNotContain(c => c.StartsWith("AUTH", StringComparison.Ordinal));

        await using var allowed = Pool(Options(o => (o.Username, o.Password, o.AllowAuthWithoutTls) = ("mailer", "s3cret", true)));
        await allowed.SendAsync(Message("grace@example.com"), CancellationToken.None);
        _server.RawMessages.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Wrong_credentials_are_a_permanent_failure_of_the_session_not_of_the_message()
    {
        _server.Extensions.Add("AUTH PLAIN LOGIN");
        (_server.Username, _server.Password) = ("mailer", "s3cret");
        await using var pool = Pool(Options(o => (o.Username, o.Password, o.AllowAuthWithoutTls) = ("mailer", "wrong", true)));

        var ex = await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.IsMessageSpecific.ShouldBeFalse();
        ex.Stage.ShouldBe(SmtpStage.Authenticate);
        _server.RawMessages.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("421 4.3.2 service not available, closing channel", true)]
    [InlineData("554 5.7.1 no SMTP service here", false)]
    public async Task A_refused_greeting_is_transient_for_4xx_and_permanent_for_5xx(string greeting, bool transient)
    {
        _server.Greeting = greeting;
        await using var pool = Pool(Options());

        var ex = await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));

        ex.IsTransient.ShouldBe(transient);
        ex.IsMessageSpecific.ShouldBeFalse();
        ex.StatusCode.ShouldBe(int.Parse(greeting[..3], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("RCPT", "550 5.1.1 no such user", false, true)]
    [InlineData("RCPT", "452 4.2.2 mailbox full", true, true)]
    [InlineData("DATA-END", "554 5.6.0 message refused", false, true)]
    [InlineData("DATA-END", "451 4.3.0 try again later", true, true)]
    [InlineData("MAIL", "553 5.7.1 sender not allowed", false, false)]
    public async Task A_refusal_during_the_transaction_says_whether_it_passes_and_whether_it_is_about_this_message(
        string command, string reply, bool transient, bool aboutMessage)
    {
        _server.Reply = line => line.StartsWith(command, StringComparison.Ordinal) ? reply : null;
        await using var pool = Pool(Options());

        var ex = await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));

        ex.IsTransient.ShouldBe(transient);
        ex.IsMessageSpecific.ShouldBe(aboutMessage);
        ex.Stage.ShouldBe(SmtpStage.Send);
        ex.StatusCode.ShouldBe(int.Parse(reply[..3], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_refused_recipient_leaves_the_session_usable_for_the_next_message()
    {
        _server.Reply = line => line.Contains("nobody@", StringComparison.Ordinal) ? "550 5.1.1 no such user" : null;
        await using var pool = Pool(Options());

        await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("nobody@example.com"), CancellationToken.None));
        await pool.SendAsync(Message("grace@example.com"), CancellationToken.None);

        _server.RawMessages.Count.ShouldBe(1);
        _server.Connections.ShouldBe(1);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_a_transient_failure()
    {
        await using var pool = Pool(Options(o => o.Port = SmtpServer.ClosedPort()));

        var ex = await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));

        ex.IsTransient.ShouldBeTrue();
        ex.Stage.ShouldBe(SmtpStage.Connect);
        ex.Message.ShouldContain("Cannot connect");
    }

    [Fact]
    public async Task After_a_failed_connect_sends_fail_at_once_until_the_reconnect_delay_has_passed()
    {
        await using var pool = Pool(Options(o => (o.Port, o.ReconnectDelay) = (SmtpServer.ClosedPort(), TimeSpan.FromMinutes(10))));

        await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));
        var again = await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));

        again.Message.ShouldStartWith("Not trying again yet");
        again.IsTransient.ShouldBeTrue();
    }

    [Fact]
    public async Task The_pool_sends_many_messages_over_one_authenticated_session()
    {
        _server.Extensions.Add("AUTH PLAIN");
        (_server.Username, _server.Password) = ("mailer", "s3cret");
        await using var pool = Pool(Options(o => (o.Username, o.Password, o.AllowAuthWithoutTls, o.MaxConnections) = ("mailer", "s3cret", true, 1)));

        for (var i = 0; i < 5; i++)
        {
            await pool.SendAsync(Message($"grace{i}@example.com"), CancellationToken.None);
        }

        _server.RawMessages.Count.ShouldBe(5);
        _server.Connections.ShouldBe(1);
        pool.ConnectionsOpened.ShouldBe(1);
        _server.Commands.Count(c => c.StartsWith("AUTH", StringComparison.Ordinal)).ShouldBe(1);
    }

    [Fact]
    public async Task Parallel_sends_share_at_most_the_configured_number_of_sessions()
    {
        await using var pool = Pool(Options(o => o.MaxConnections = 3));

        await Task.WhenAll(Enumerable.Range(0, 30).Select(i => pool.SendAsync(Message($"grace{i}@example.com"), CancellationToken.None)));

        _server.RawMessages.Count.ShouldBe(30);
        pool.ConnectionsOpened.ShouldBeLessThanOrEqualTo(3);
    }

    [Fact]
    public async Task A_session_is_replaced_after_the_configured_number_of_messages()
    {
        await using var pool = Pool(Options(o => (o.MaxConnections, o.MessagesPerConnection) = (1, 2)));

        for (var i = 0; i < 5; i++)
        {
            await pool.SendAsync(Message($"grace{i}@example.com"), CancellationToken.None);
        }

        _server.RawMessages.Count.ShouldBe(5);
        pool.ConnectionsOpened.ShouldBe(3);
        _server.Commands.Count(c => c == "QUIT").ShouldBe(2);
    }

    [Fact]
    public async Task A_pooled_session_the_server_closed_while_idle_is_replaced_before_the_next_message_is_handed_over()
    {
        _server.DropAfterMessages = 1;
        await using var pool = Pool(Options(o => o.MaxConnections = 1));
        await pool.SendAsync(Message("first@example.com"), CancellationToken.None);

        // Long enough idle that the pool checks the session before using it again.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await pool.SendAsync(Message("second@example.com"), CancellationToken.None);

        _server.RawMessages.Count.ShouldBe(2);
        pool.ConnectionsOpened.ShouldBe(2);
    }

    [Fact]
    public async Task Implicit_tls_speaks_tls_from_the_first_byte()
    {
        await using var server = new ScriptedSmtpServer(implicitTls: true);
        await using var pool = Pool(Options(o =>
        {
            o.Port = server.Port;
            o.Security = SecureSocketOptions.SslOnConnect;
            o.TrustedCertificateThumbprint = server.Certificate.Thumbprint;
        }));

        await pool.SendAsync(Message("grace@example.com"), CancellationToken.None);

        server.RawMessages.Count.ShouldBe(1);
        server.Commands.ShouldNotContain("STARTTLS");
    }

    [SmtpTlsFact]
    public async Task Starttls_with_the_real_server_delivers_when_its_certificate_is_trusted_and_not_otherwise()
    {
        var (port, certificate) = (SmtpServer.StartTlsPort, SmtpServer.Certificate());
        var to = $"starttls.{Guid.NewGuid():N}@example.com";
        await using (var untrusted = Pool(Options(o => (o.Port, o.Security) = (port, SecureSocketOptions.StartTls))))
        {
            var ex = await Should.ThrowAsync<MailDeliveryException>(() => untrusted.SendAsync(Message(to), CancellationToken.None));
            ex.IsTransient.ShouldBeFalse();
        }

        await using var pool = Pool(Options(o =>
            (o.Port, o.Security, o.TrustedCertificateThumbprint) = (port, SecureSocketOptions.StartTls, certificate.GetCertHashString(HashAlgorithmName.SHA256))));
        await pool.SendAsync(Message(to, "Über STARTTLS"), CancellationToken.None);

        SmtpServer.MessagesTo(to).ShouldHaveSingleItem().Header("Subject").ShouldBe("Über STARTTLS");
    }

    [SmtpTlsFact]
    public async Task Implicit_tls_with_the_real_server_on_a_465_style_listener_delivers()
    {
        var to = $"smtps.{Guid.NewGuid():N}@example.com";
        await using var pool = Pool(Options(o =>
            (o.Port, o.Security, o.TrustedCertificateThumbprint) = (SmtpServer.SmtpsPort, SecureSocketOptions.SslOnConnect, SmtpServer.Certificate().Thumbprint)));

        await pool.SendAsync(Message(to), CancellationToken.None);

        SmtpServer.MessagesTo(to).ShouldHaveSingleItem();
    }

    [SmtpFact]
    public async Task A_dkim_signed_message_verifies_with_the_public_key_after_delivery()
    {
        using var key = RSA.Create(2048);
        var to = $"dkim.{Guid.NewGuid():N}@example.com";
        await using var pool = Pool(Options(o =>
        {
            o.Port = SmtpServer.Port;
            o.Dkim = new SmtpDkimOptions { Domain = "acme.example", Selector = "rdv2027", PrivateKeyPem = key.ExportRSAPrivateKeyPem() };
        }));

        var email = Message(to, "Réservation confirmée, José") with
        {
            HtmlBody = "<p>Hello Grace</p>",
            Calendar = new CalendarPart("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n", "REQUEST"),
        };
        await pool.SendAsync(email, CancellationToken.None);

        SmtpServer.MessagesTo(to).ShouldHaveSingleItem();
        var delivered = await MimeMessage.LoadAsync(SmtpServer.FileOf(to));
        var index = delivered.Headers.IndexOf(HeaderId.DkimSignature);
        index.ShouldBeGreaterThanOrEqualTo(0);
        delivered.Headers[index].Value.ShouldContain("d=acme.example");
        delivered.Headers[index].Value.ShouldContain("s=rdv2027");

        var publicKey = new PublicKeys(new() { ["rdv2027._domainkey.acme.example"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()) });
        var verifier = new MimeKit.Cryptography.DkimVerifier(publicKey);
        (await verifier.VerifyAsync(delivered, delivered.Headers[index])).ShouldBeTrue();

        // A changed subject no longer verifies: the signature covers it.
        delivered.Subject = "Changed on the way";
        (await verifier.VerifyAsync(delivered, delivered.Headers[delivered.Headers.IndexOf(HeaderId.DkimSignature)])).ShouldBeFalse();
    }

    [Fact]
    public async Task Xoauth2_signs_in_with_an_access_token_from_the_refresh_token_and_reuses_it()
    {
        await using var endpoint = await WebhookReceiver.StartAsync();
        var tokenUrl = endpoint.NewUrl("token");
        // RFC 6749 section 5.1: a successful token response.
        endpoint.Script(tokenUrl, new ScriptedAnswer(200, """{"access_token":"at-1","token_type":"Bearer","expires_in":3600}"""));
        _server.Extensions.AddRange(["STARTTLS", "AUTH XOAUTH2"]);
        _server.Username = "bookings@acme.example";
        _server.BearerTokens.Add("at-1");
        var options = Options(o =>
        {
            o.Security = SecureSocketOptions.StartTls;
            o.TrustedCertificateThumbprint = _server.Certificate.Thumbprint;
            o.Username = "bookings@acme.example";
            o.MessagesPerConnection = 1;
            o.OAuth2 = new SmtpOAuth2Options { TokenEndpoint = tokenUrl, ClientId = "client-1", ClientSecret = "secret-1", RefreshToken = "rt-1", Scope = "https://outlook.office.com/SMTP.Send offline_access" };
        });
        using var http = new HttpClient();
        var tokens = new RefreshTokenAccessTokenSource(http, Microsoft.Extensions.Options.Options.Create(options), new FakeClock(Instant.FromUtc(2027, 3, 1, 8, 0)));
        await using var pool = Pool(options, tokens);

        await pool.SendAsync(Message("grace@example.com"), CancellationToken.None);
        await pool.SendAsync(Message("alan@example.com"), CancellationToken.None);

        _server.RawMessages.Count.ShouldBe(2);
        pool.ConnectionsOpened.ShouldBe(2);
        var request = endpoint.RequestsTo(tokenUrl).ShouldHaveSingleItem();
        request.Method.ShouldBe("POST");
        var form = request.Body.Split('&').Select(p => p.Split('=')).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
        form["grant_type"].ShouldBe("refresh_token");
        form["refresh_token"].ShouldBe("rt-1");
        form["client_id"].ShouldBe("client-1");
        form["scope"].ShouldBe("https://outlook.office.com/SMTP.Send offline_access");
        var auth = _server.Commands.First(c => c.StartsWith("AUTH XOAUTH2", StringComparison.Ordinal)).Split(' ')[^1];
        Encoding.UTF8.GetString(Convert.FromBase64String(auth)).ShouldBe("user=bookings@acme.example\u0001auth=Bearer at-1\u0001\u0001");
    }

    [Fact]
    public async Task Xoauth2_with_a_refused_token_fails_for_now_and_the_next_session_gets_a_fresh_token()
    {
        await using var endpoint = await WebhookReceiver.StartAsync();
        var tokenUrl = endpoint.NewUrl("token");
        endpoint.Script(tokenUrl,
            new ScriptedAnswer(200, """{"access_token":"revoked","token_type":"Bearer","expires_in":3600}"""),
            new ScriptedAnswer(200, """{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"""));
        _server.Extensions.AddRange(["STARTTLS", "AUTH XOAUTH2"]);
        _server.Username = "bookings@acme.example";
        _server.BearerTokens.Add("at-2");
        var options = Options(o =>
        {
            o.Security = SecureSocketOptions.StartTls;
            o.TrustedCertificateThumbprint = _server.Certificate.Thumbprint;
            o.Username = "bookings@acme.example";
            o.OAuth2 = new SmtpOAuth2Options { TokenEndpoint = tokenUrl, RefreshToken = "rt-1" };
        });
        using var http = new HttpClient();
        var tokens = new RefreshTokenAccessTokenSource(http, Microsoft.Extensions.Options.Options.Create(options), new FakeClock(Instant.FromUtc(2027, 3, 1, 8, 0)));
        await using var pool = Pool(options, tokens);

        var ex = await Should.ThrowAsync<MailDeliveryException>(() => pool.SendAsync(Message("grace@example.com"), CancellationToken.None));
        ex.Stage.ShouldBe(SmtpStage.Authenticate);
        ex.IsMessageSpecific.ShouldBeFalse();
        await pool.SendAsync(Message("grace@example.com"), CancellationToken.None);

        _server.RawMessages.Count.ShouldBe(1);
        endpoint.RequestsTo(tokenUrl).Count.ShouldBe(2);
    }

    [Theory]
    [InlineData(400, """{"error":"invalid_grant"}""", false)]
    [InlineData(503, """{"error":"temporarily_unavailable"}""", true)]
    public async Task A_token_endpoint_refusal_is_permanent_for_bad_credentials_and_transient_when_it_is_unavailable(int status, string body, bool transient)
    {
        await using var endpoint = await WebhookReceiver.StartAsync();
        var tokenUrl = endpoint.NewUrl("token");
        endpoint.Script(tokenUrl, new ScriptedAnswer(status, body));
        var options = Options(o => o.OAuth2 = new SmtpOAuth2Options { TokenEndpoint = tokenUrl, RefreshToken = "rt-1" });
        using var http = new HttpClient();
        var tokens = new RefreshTokenAccessTokenSource(http, Microsoft.Extensions.Options.Options.Create(options), new FakeClock(Instant.FromUtc(2027, 3, 1, 8, 0)));

        var ex = await Should.ThrowAsync<MailDeliveryException>(() => tokens.GetAccessTokenAsync(CancellationToken.None));

        ex.IsTransient.ShouldBe(transient);
        ex.Message.ShouldContain(transient ? "temporarily_unavailable" : "invalid_grant");
    }

    /// <summary>DKIM public keys as DNS would publish them, without DNS.</summary>
    private sealed class PublicKeys(Dictionary<string, string> keys) : MimeKit.Cryptography.DkimPublicKeyLocatorBase
    {
        public override Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey($"v=DKIM1; k=rsa; p={keys[$"{selector}._domainkey.{domain}"]}");

        public override Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector,
            CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}

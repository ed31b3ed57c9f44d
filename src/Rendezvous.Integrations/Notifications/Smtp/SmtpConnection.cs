using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Rendezvous.Integrations.Notifications.Smtp;

/// <summary>What the server announced in its EHLO reply.</summary>
public sealed record SmtpCapabilities(
    bool Extended,
    bool Pipelining,
    bool EightBitMime,
    bool SmtpUtf8,
    bool StartTls,
    bool EnhancedStatusCodes,
    long? MaxSize,
    IReadOnlySet<string> AuthMechanisms)
{
    /// <summary>A server that only knows HELO: no extensions at all.</summary>
    public static SmtpCapabilities None { get; } = new(false, false, false, false, false, false, null, new HashSet<string>());

    public static SmtpCapabilities Parse(SmtpReply ehlo)
    {
        bool pipelining = false, eightBit = false, utf8 = false, startTls = false, enhanced = false;
        long? size = null;
        var auth = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        // The first line greets; each further line is one keyword with its parameters.
        foreach (var line in ehlo.Lines.Skip(1))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            switch (parts[0].ToUpperInvariant())
            {
                case "PIPELINING":
                    pipelining = true;
                    break;
                case "8BITMIME":
                    eightBit = true;
                    break;
                case "SMTPUTF8":
                    utf8 = true;
                    break;
                case "STARTTLS":
                    startTls = true;
                    break;
                case "ENHANCEDSTATUSCODES":
                    enhanced = true;
                    break;
                case "SIZE":
                    if (parts.Length > 1 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max > 0)
                    {
                        size = max;
                    }

                    break;
                case "AUTH":
                    auth.UnionWith(parts.Skip(1));
                    break;
                default:
                    break;
            }
        }

        return new SmtpCapabilities(true, pipelining, eightBit, utf8, startTls, enhanced, size, auth);
    }
}

/// <summary>
/// One SMTP session (RFC 5321) that can carry many messages: greeting, EHLO (HELO for old servers), STARTTLS when
/// configured, AUTH PLAIN or LOGIN when credentials are set, then MAIL / RCPT / DATA per message, with the commands of a
/// message sent in one write when the server offers PIPELINING (RFC 2920). Every read and write has a timeout. Not
/// thread-safe: one message at a time (the pool gives each connection to one sender at a time).
/// </summary>
public sealed class SmtpConnection : IAsyncDisposable
{
    private readonly SmtpOptions _options;
    private readonly Socket _socket;
    private readonly ArrayBufferWriter<byte> _out = new(1024);
    private readonly ArrayBufferWriter<byte> _data = new(16 * 1024);
    private readonly SmtpReplyReader _reader;
    private Stream _stream;
    private bool _inTransaction;

    private SmtpConnection(SmtpOptions options, Socket socket)
    {
        _options = options;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new SmtpReplyReader(_stream);
        LastUsed = Environment.TickCount64;
    }

    public SmtpCapabilities Capabilities { get; private set; } = SmtpCapabilities.None;

    /// <summary>The greeting line's text, for logs.</summary>
    public string Greeting { get; private set; } = "";

    public bool IsEncrypted => _stream is SslStream;

    public bool IsAuthenticated { get; private set; }

    /// <summary>False once the session is broken (I/O failure, timeout, 421, protocol violation) or closed.</summary>
    public bool IsUsable { get; private set; } = true;

    /// <summary>Messages accepted over this connection.</summary>
    public int MessagesSent { get; private set; }

    /// <summary><see cref="Environment.TickCount64"/> when the connection last finished an operation.</summary>
    public long LastUsed { get; private set; }

    /// <summary>Connects, reads the greeting, says EHLO, upgrades to TLS and authenticates as configured.</summary>
    public static async Task<SmtpConnection> OpenAsync(SmtpOptions options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            throw new SmtpPermanentException("No SMTP host is configured (Rendezvous__Smtp__Host).", SmtpStage.Connect);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(options.ConnectTimeout);
                try
                {
                    await socket.ConnectAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new SmtpTransientException(
                        $"Connecting to {options.Host}:{options.Port} timed out after {options.ConnectTimeout.TotalSeconds:0.#} s.", SmtpStage.Connect);
                }
                catch (SocketException ex)
                {
                    throw new SmtpTransientException($"Cannot connect to {options.Host}:{options.Port}: {ex.Message}", SmtpStage.Connect, inner: ex);
                }
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new SmtpConnection(options, socket);
        try
        {
            await connection.HandshakeAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        var greeting = await ReadAsync(SmtpStage.Greeting, _options.CommandTimeout, ct).ConfigureAwait(false);
        if (greeting.Code != 220)
        {
            throw Failure(SmtpStage.Greeting, greeting, "The server refused the session");
        }

        Greeting = greeting.Text;
        await HelloAsync(ct).ConfigureAwait(false);

        if (_options.UseStartTls)
        {
            if (!Capabilities.StartTls)
            {
                throw new SmtpPermanentException(
                    $"{_options.Host} does not offer STARTTLS, and Rendezvous__Smtp__UseStartTls is set.", SmtpStage.StartTls);
            }

            var reply = await CommandAsync("STARTTLS", SmtpStage.StartTls, ct).ConfigureAwait(false);
            if (reply.Code != 220)
            {
                throw Failure(SmtpStage.StartTls, reply, "The server refused STARTTLS");
            }

            if (_reader.HasBufferedData)
            {
                // Anything sent before the handshake would be read as if it came over TLS (CVE-2011-0411 and friends).
                IsUsable = false;
                throw new SmtpPermanentException("The server sent data before the TLS handshake; refusing to continue.", SmtpStage.StartTls);
            }

            await StartTlsAsync(ct).ConfigureAwait(false);
            // RFC 3207: forget everything learned before TLS and ask again.
            await HelloAsync(ct).ConfigureAwait(false);
        }

        if (_options.HasCredentials)
        {
            await AuthenticateAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task HelloAsync(CancellationToken ct)
    {
        var name = _options.ClientName;
        var ehlo = await CommandAsync("EHLO " + name, SmtpStage.Hello, ct).ConfigureAwait(false);
        if (ehlo.Code == 250)
        {
            Capabilities = SmtpCapabilities.Parse(ehlo);
            return;
        }

        if (ehlo.Code is 500 or 502 or 504 or 550)
        {
            // A server from before ESMTP: no extensions.
            var helo = await CommandAsync("HELO " + name, SmtpStage.Hello, ct).ConfigureAwait(false);
            if (helo.Code == 250)
            {
                Capabilities = SmtpCapabilities.None;
                return;
            }

            throw Failure(SmtpStage.Hello, helo, "The server refused HELO");
        }

        throw Failure(SmtpStage.Hello, ehlo, "The server refused EHLO");
    }

    private async Task StartTlsAsync(CancellationToken ct)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        var tls = new SslClientAuthenticationOptions { TargetHost = _options.Host };
        if (_options.AcceptAnyCertificate)
        {
#pragma warning disable CA5359 // Explicitly configured for test relays with self-signed certificates.
            tls.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.CommandTimeout);
        try
        {
            await ssl.AuthenticateAsClientAsync(tls, timeout.Token).ConfigureAwait(false);
        }
        catch (AuthenticationException ex)
        {
            IsUsable = false;
            throw new SmtpPermanentException($"The TLS handshake with {_options.Host} failed: {ex.Message}", SmtpStage.StartTls, inner: ex);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            IsUsable = false;
            throw new SmtpTransientException("The TLS handshake timed out.", SmtpStage.StartTls);
        }
        catch (IOException ex)
        {
            IsUsable = false;
            throw new SmtpTransientException($"The connection failed during the TLS handshake: {ex.Message}", SmtpStage.StartTls, inner: ex);
        }

        _stream = ssl;
        _reader.Stream = ssl;
    }

    private async Task AuthenticateAsync(CancellationToken ct)
    {
        if (!IsEncrypted && !_options.AllowAuthWithoutTls)
        {
            throw new SmtpPermanentException(
                "Refusing to send SMTP credentials over an unencrypted connection; set Rendezvous__Smtp__UseStartTls "
                + "(or Rendezvous__Smtp__AllowAuthWithoutTls for a relay on this machine).", SmtpStage.Authenticate);
        }

        var mechanisms = Capabilities.AuthMechanisms;
        SmtpReply reply;
        if (mechanisms.Contains("PLAIN"))
        {
            var token = Base64("\0" + _options.Username + "\0" + _options.Password);
            reply = await CommandAsync("AUTH PLAIN " + token, SmtpStage.Authenticate, ct).ConfigureAwait(false);
            if (reply.Code == 334)
            {
                // Servers that do not take an initial response ask for it separately.
                reply = await CommandAsync(token, SmtpStage.Authenticate, ct).ConfigureAwait(false);
            }
        }
        else if (mechanisms.Contains("LOGIN"))
        {
            reply = await CommandAsync("AUTH LOGIN", SmtpStage.Authenticate, ct).ConfigureAwait(false);
            if (reply.Code == 334)
            {
                reply = await CommandAsync(Base64(_options.Username!), SmtpStage.Authenticate, ct).ConfigureAwait(false);
            }

            if (reply.Code == 334)
            {
                reply = await CommandAsync(Base64(_options.Password!), SmtpStage.Authenticate, ct).ConfigureAwait(false);
            }
        }
        else
        {
            throw new SmtpPermanentException(
                mechanisms.Count == 0
                    ? $"{_options.Host} offers no AUTH, but credentials are configured."
                    : $"{_options.Host} offers AUTH {string.Join(' ', mechanisms)}; Rendezvous supports PLAIN and LOGIN.",
                SmtpStage.Authenticate);
        }

        if (reply.Code != 235)
        {
            if (reply.Code == 334)
            {
                // Cancel the exchange so the session stays in sync (RFC 4954 4).
                await CommandAsync("*", SmtpStage.Authenticate, ct).ConfigureAwait(false);
            }

            throw Failure(SmtpStage.Authenticate, reply, "Authentication failed");
        }

        IsAuthenticated = true;
    }

    /// <summary>
    /// Sends one message. Between messages on one connection the previous transaction is reset first (RSET, in the same
    /// write as the envelope when the server pipelines).
    /// </summary>
    public async Task<SmtpSendResult> SendAsync(SmtpEnvelope envelope, ReadOnlyMemory<byte> message, CancellationToken ct)
    {
        if (!IsUsable)
        {
            throw new InvalidOperationException("This SMTP connection is closed or broken.");
        }

        if (envelope.Recipients.Count == 0)
        {
            throw new ArgumentException("A message needs at least one recipient.", nameof(envelope));
        }

        var mailParameters = Check(envelope, message.Length);
        // Between messages as configured (free when pipelined), and always after a transaction that did not finish.
        var reset = _inTransaction || (MessagesSent > 0 && (Capabilities.Pipelining || _options.ResetBetweenMessages));
        var rejected = new List<(string, SmtpReply)>();
        var accepted = new List<string>();
        _inTransaction = true;

        if (Capabilities.Pipelining)
        {
            // RFC 2920: RSET, MAIL and RCPT may be pipelined; DATA ends the group.
            if (reset)
            {
                Command("RSET");
            }

            Command("MAIL FROM:<" + envelope.From + ">" + mailParameters);
            foreach (var r in envelope.Recipients)
            {
                Command("RCPT TO:<" + r + ">");
            }

            Command("DATA");
            await FlushAsync(SmtpStage.MailFrom, ct).ConfigureAwait(false);

            var resetReply = reset ? await ReadAsync(SmtpStage.Reset, _options.CommandTimeout, ct).ConfigureAwait(false) : null;
            var mailReply = await ReadAsync(SmtpStage.MailFrom, _options.CommandTimeout, ct).ConfigureAwait(false);
            foreach (var r in envelope.Recipients)
            {
                var reply = await ReadAsync(SmtpStage.RecipientTo, _options.CommandTimeout, ct).ConfigureAwait(false);
                if (reply.IsPositive)
                {
                    accepted.Add(r);
                }
                else
                {
                    rejected.Add((r, reply));
                }
            }

            var dataReply = await ReadAsync(SmtpStage.Data, _options.CommandTimeout, ct).ConfigureAwait(false);
            var failure = resetReply is { Code: not 250 } ? Failure(SmtpStage.Reset, resetReply, "The server refused RSET")
                : mailReply.Code != 250 ? Failure(SmtpStage.MailFrom, mailReply, $"The server refused the sender <{envelope.From}>")
                : accepted.Count == 0 ? RecipientsFailure(rejected)
                : dataReply.Code != 354 ? Failure(SmtpStage.Data, dataReply, "The server refused DATA")
                : null;
            if (failure is not null)
            {
                if (dataReply.Code == 354)
                {
                    // The server wants data although the transaction failed: end it with an empty message (RFC 2920 3.1).
                    Command(".");
                    await FlushAsync(SmtpStage.Data, ct).ConfigureAwait(false);
                    await ReadAsync(SmtpStage.Data, _options.CommandTimeout, ct).ConfigureAwait(false);
                }

                throw failure;
            }
        }
        else
        {
            if (reset)
            {
                var resetReply = await CommandAsync("RSET", SmtpStage.Reset, ct).ConfigureAwait(false);
                if (resetReply.Code != 250)
                {
                    throw Failure(SmtpStage.Reset, resetReply, "The server refused RSET");
                }
            }

            var mailReply = await CommandAsync("MAIL FROM:<" + envelope.From + ">" + mailParameters, SmtpStage.MailFrom, ct).ConfigureAwait(false);
            if (mailReply.Code != 250)
            {
                throw Failure(SmtpStage.MailFrom, mailReply, $"The server refused the sender <{envelope.From}>");
            }

            foreach (var r in envelope.Recipients)
            {
                var reply = await CommandAsync("RCPT TO:<" + r + ">", SmtpStage.RecipientTo, ct).ConfigureAwait(false);
                if (reply.IsPositive)
                {
                    accepted.Add(r);
                }
                else
                {
                    rejected.Add((r, reply));
                }
            }

            if (accepted.Count == 0)
            {
                throw RecipientsFailure(rejected);
            }

            var dataReply = await CommandAsync("DATA", SmtpStage.Data, ct).ConfigureAwait(false);
            if (dataReply.Code != 354)
            {
                throw Failure(SmtpStage.Data, dataReply, "The server refused DATA");
            }
        }

        _data.ResetWrittenCount();
        DotStuffing.Write(message.Span, _data);
        await WriteAsync(_data.WrittenMemory, SmtpStage.Content, ct, afterData: true).ConfigureAwait(false);
        var final = await ReadAsync(SmtpStage.Content, _options.DataTimeout, ct, afterData: true).ConfigureAwait(false);
        _inTransaction = false;
        if (final.Code != 250)
        {
            throw Failure(SmtpStage.Content, final, "The server refused the message");
        }

        MessagesSent++;
        return new SmtpSendResult(accepted, rejected);
    }

    /// <summary>Says goodbye politely; never throws.</summary>
    public async Task QuitAsync(CancellationToken ct)
    {
        if (!IsUsable)
        {
            return;
        }

        try
        {
            Command("QUIT");
            await FlushAsync(SmtpStage.Quit, ct).ConfigureAwait(false);
            await ReadAsync(SmtpStage.Quit, TimeSpan.FromSeconds(Math.Min(5, _options.CommandTimeout.TotalSeconds)), ct).ConfigureAwait(false);
        }
        catch (SmtpException)
        {
            // Closing anyway.
        }
        catch (OperationCanceledException)
        {
            // Closing anyway.
        }

        IsUsable = false;
    }

    public async ValueTask DisposeAsync()
    {
        IsUsable = false;
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    /// <summary>Checks what the message needs against what the server offers; returns the MAIL FROM parameters.</summary>
    private string Check(SmtpEnvelope envelope, int size)
    {
        foreach (var address in envelope.Recipients.Append(envelope.From))
        {
            if (address.AsSpan().IndexOfAny("<>\r\n\0 ") >= 0)
            {
                throw new SmtpPermanentException($"\"{address.ReplaceLineEndings(" ")}\" is not an address SMTP can carry.", SmtpStage.MailFrom)
                {
                    IsMessageSpecific = true,
                };
            }
        }

        var needsUtf8 = envelope.HasUtf8Addresses || envelope.Utf8Headers;
        if (needsUtf8 && !Capabilities.SmtpUtf8)
        {
            throw new SmtpPermanentException(
                $"The message needs SMTPUTF8 (an address or header is not ASCII), which {_options.Host} does not offer.", SmtpStage.MailFrom)
            {
                IsMessageSpecific = true,
            };
        }

        var eightBit = envelope.EightBitBody || needsUtf8;
        if (eightBit && !Capabilities.EightBitMime)
        {
            throw new SmtpPermanentException($"The message has 8-bit content, and {_options.Host} does not offer 8BITMIME.", SmtpStage.MailFrom)
            {
                IsMessageSpecific = true,
            };
        }

        if (Capabilities.MaxSize is { } max && size > max)
        {
            throw new SmtpPermanentException($"The message ({size} bytes) is larger than {_options.Host} accepts ({max} bytes).", SmtpStage.MailFrom)
            {
                IsMessageSpecific = true,
            };
        }

        var parameters = new StringBuilder();
        if (Capabilities.MaxSize is not null)
        {
            parameters.Append(CultureInfo.InvariantCulture, $" SIZE={size}");
        }

        if (eightBit)
        {
            parameters.Append(" BODY=8BITMIME");
        }

        if (needsUtf8)
        {
            parameters.Append(" SMTPUTF8");
        }

        return parameters.ToString();
    }

    private static SmtpException RecipientsFailure(List<(string Recipient, SmtpReply Reply)> rejected)
    {
        // Transient when any refusal was: a later attempt may get through.
        var index = rejected.FindIndex(r => r.Reply.IsTransientFailure);
        var (recipient, reply) = rejected[Math.Max(index, 0)];
        return Failure(SmtpStage.RecipientTo, reply, $"The server refused the recipient <{recipient}>");
    }

    private static SmtpException Failure(SmtpStage stage, SmtpReply reply, string what)
    {
        var message = $"{what}: {reply}";
        return reply.IsTransientFailure
            ? new SmtpTransientException(message, stage, reply)
            : new SmtpPermanentException(message, stage, reply);
    }

    private void Command(string line)
    {
        var bytes = Encoding.UTF8.GetByteCount(line) + 2;
        var span = _out.GetSpan(bytes);
        var written = Encoding.UTF8.GetBytes(line, span);
        span[written] = (byte)'\r';
        span[written + 1] = (byte)'\n';
        _out.Advance(written + 2);
    }

    /// <summary>Sends one command and reads its reply. Commands are never logged: some carry credentials.</summary>
    private async Task<SmtpReply> CommandAsync(string line, SmtpStage stage, CancellationToken ct)
    {
        Command(line);
        await FlushAsync(stage, ct).ConfigureAwait(false);
        return await ReadAsync(stage, _options.CommandTimeout, ct).ConfigureAwait(false);
    }

    private async Task FlushAsync(SmtpStage stage, CancellationToken ct)
    {
        try
        {
            await WriteAsync(_out.WrittenMemory, stage, ct, afterData: false).ConfigureAwait(false);
        }
        finally
        {
            _out.ResetWrittenCount();
        }
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> bytes, SmtpStage stage, CancellationToken ct, bool afterData)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(afterData ? _options.DataTimeout : _options.CommandTimeout);
        try
        {
            await _stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
            await _stream.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsBroken(ex, ct))
        {
            // Only once the final dot is out could the server have the message; a failed write never got that far.
            throw BrokenFailure(ex, stage, "sending", afterData: false);
        }
    }

    private async Task<SmtpReply> ReadAsync(SmtpStage stage, TimeSpan limit, CancellationToken ct, bool afterData = false)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(limit);
        try
        {
            var reply = await _reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            LastUsed = Environment.TickCount64;
            if (reply.Code == 421)
            {
                // The server is closing the session (RFC 5321 3.8).
                IsUsable = false;
            }

            return reply;
        }
        catch (Exception ex) when (IsBroken(ex, ct))
        {
            throw BrokenFailure(ex, stage, "waiting for the reply", afterData);
        }
    }

    /// <summary>An I/O failure, a timeout (not our caller's cancellation) or a protocol violation: the session is lost.</summary>
    private static bool IsBroken(Exception ex, CancellationToken ct) =>
        ex is IOException or SocketException or ObjectDisposedException or SmtpProtocolViolation
        || (ex is OperationCanceledException && !ct.IsCancellationRequested);

    private SmtpTransientException BrokenFailure(Exception ex, SmtpStage stage, string doing, bool afterData)
    {
        IsUsable = false;
        var reason = ex is OperationCanceledException ? "timed out" : ex.Message;
        return new SmtpTransientException($"SMTP {stage} failed while {doing} ({_options.Host}:{_options.Port}): {reason}", stage, inner: ex)
        {
            MessageMayHaveBeenAccepted = afterData,
        };
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}

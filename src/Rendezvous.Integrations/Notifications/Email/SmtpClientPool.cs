using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;

namespace Rendezvous.Integrations.Notifications.Email;

/// <summary>
/// Sends messages over a small set of connected, authenticated MailKit <see cref="SmtpClient"/>s: at most
/// <see cref="SmtpOptions.MaxConnections"/> at once, each carrying up to <see cref="SmtpOptions.MessagesPerConnection"/>
/// messages, so thousands of messages a minute cost a handful of handshakes. A client is closed when it has sat idle for
/// <see cref="SmtpOptions.IdleTimeout"/>, and thrown away when its session broke. Every failure surfaces as a
/// <see cref="MailDeliveryException"/> saying whether it may pass.
/// </summary>
public sealed partial class SmtpClientPool : IMailTransport, IAsyncDisposable
{
    /// <summary>
    /// A client idle for longer than this is asked for NOOP before it is given a message: a server may have closed the
    /// session meanwhile, and that must be found out before the message is handed over, not half-way through it. Busy
    /// clients skip the round trip.
    /// </summary>
    private static readonly TimeSpan ProbeAfterIdle = TimeSpan.FromSeconds(1);

    private readonly SmtpOptions _options;
    private readonly ISmtpAccessTokenSource? _tokens;
    private readonly ILogger<SmtpClientPool> _logger;
    private readonly Lazy<DkimSigner?> _signer;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentStack<Session> _idle = new();
    private int _opened;
    private bool _disposed;
    private volatile OpenFailure? _lastOpenFailure;

    public SmtpClientPool(IOptions<SmtpOptions> options, ILogger<SmtpClientPool> logger, ISmtpAccessTokenSource? tokens = null)
        : this(options.Value, logger, tokens)
    {
    }

    public SmtpClientPool(SmtpOptions options, ILogger<SmtpClientPool> logger, ISmtpAccessTokenSource? tokens = null)
    {
        _options = options;
        _logger = logger;
        _tokens = tokens;
        _signer = new Lazy<DkimSigner?>(() => EmailComposer.Signer(options.Dkim));
        _slots = new SemaphoreSlim(Math.Max(1, options.MaxConnections));
    }

    /// <summary>Sessions opened since start (a measure of reuse).</summary>
    public int ConnectionsOpened => Volatile.Read(ref _opened);

    private string Server => $"{_options.Host}:{_options.Port}";

    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        var mime = EmailComposer.Compose(message);
        if (_signer.Value is { } signer)
        {
            EmailComposer.Sign(mime, signer);
        }

        await SendAsync(mime, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a finished message to its To, Cc and Bcc addresses, from its Sender or first From address.</summary>
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var activity = Rendezvous.Data.Diagnostics.RendezvousTelemetry.Source.StartActivity("smtp send", System.Diagnostics.ActivityKind.Client);
        activity?.SetTag("server.address", Server);
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var session = await TakeIdleAsync(cancellationToken).ConfigureAwait(false) ?? await OpenAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await session.Client.SendAsync(message, cancellationToken).ConfigureAwait(false);
                session.Sent++;
                Rendezvous.Data.Diagnostics.RendezvousTelemetry.EmailsSent.Add(1, new KeyValuePair<string, object?>("outcome", "sent"));
            }
            catch (Exception ex) when (MailDeliveryException.From(ex, SmtpStage.Send, Server) is { } failure)
            {
                Rendezvous.Data.Diagnostics.RendezvousTelemetry.EmailsSent.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, failure.Message);
                // MailKit resets a session after a refused command and disconnects after a broken one.
                await ReturnAsync(session).ConfigureAwait(false);
                throw failure;
            }
            catch
            {
                // Cancelled half-way: the session's state is unknown.
                session.Client.Dispose();
                throw;
            }

            await ReturnAsync(session).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<Session?> TakeIdleAsync(CancellationToken ct)
    {
        while (_idle.TryPop(out var session))
        {
            var idleFor = TimeSpan.FromMilliseconds(Environment.TickCount64 - session.LastUsed);
            if (!session.Client.IsConnected || idleFor >= _options.IdleTimeout)
            {
                await CloseAsync(session).ConfigureAwait(false);
                continue;
            }

            if (idleFor < ProbeAfterIdle)
            {
                return session;
            }

            try
            {
                await session.Client.NoOpAsync(ct).ConfigureAwait(false);
                return session;
            }
            catch (Exception ex) when (MailDeliveryException.From(ex, SmtpStage.Send, Server) is not null)
            {
                LogStaleConnection(_logger, ex.Message);
                session.Client.Dispose();
            }
        }

        return null;
    }

    private async Task<Session> OpenAsync(CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(_options.Host))
        {
            throw new MailDeliveryException("No SMTP host is configured (Rendezvous__Smtp__Host).", SmtpStage.Connect, isTransient: false);
        }

        if (_lastOpenFailure is { } last && Environment.TickCount64 < last.Until)
        {
            throw new MailDeliveryException($"Not trying again yet: {last.Failure.Message}", last.Failure.Stage, last.Failure.IsTransient,
                statusCode: last.Failure.StatusCode, inner: last.Failure);
        }

        var client = new SmtpClient
        {
            LocalDomain = _options.ClientName,
            Timeout = (int)Math.Min(int.MaxValue, _options.CommandTimeout.TotalMilliseconds),
        };
        if (!string.IsNullOrWhiteSpace(_options.TrustedCertificateThumbprint))
        {
            client.ServerCertificateValidationCallback = ValidateCertificate;
        }

        var stage = SmtpStage.Connect;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.ConnectTimeout);
        try
        {
            await client.ConnectAsync(_options.Host, _options.Port, _options.Security, deadline.Token).ConfigureAwait(false);
            stage = SmtpStage.Authenticate;
            await AuthenticateAsync(client, deadline.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _opened);
            _lastOpenFailure = null;
            return new Session(client);
        }
        catch (Exception ex)
        {
            client.Dispose();
            var failure = ex is OperationCanceledException && !ct.IsCancellationRequested
                ? new MailDeliveryException($"Opening a session with {Server} timed out after {_options.ConnectTimeout.TotalSeconds:0.#} s.", stage, isTransient: true, inner: ex)
                : MailDeliveryException.From(ex, stage, Server);
            if (failure is null)
            {
                throw;
            }

            if (_options.ReconnectDelay > TimeSpan.Zero)
            {
                _lastOpenFailure = new OpenFailure(Environment.TickCount64 + (long)_options.ReconnectDelay.TotalMilliseconds, failure);
            }

            throw failure;
        }
    }

    private async Task AuthenticateAsync(SmtpClient client, CancellationToken ct)
    {
        var oauth = _tokens is not null;
        if (!oauth && !_options.HasPassword)
        {
            return;
        }

        if (!client.IsSecure && !_options.AllowAuthWithoutTls)
        {
            throw new MailDeliveryException(
                $"Refusing to send credentials to {Server} without TLS: set Rendezvous__Smtp__Security to StartTls or SslOnConnect "
                + "(or Rendezvous__Smtp__AllowAuthWithoutTls for a relay on this machine).", SmtpStage.Authenticate, isTransient: false);
        }

        if (!oauth)
        {
            await client.AuthenticateAsync(_options.Username!, _options.Password!, ct).ConfigureAwait(false);
            return;
        }

        if (string.IsNullOrWhiteSpace(_options.Username))
        {
            throw new MailDeliveryException("XOAUTH2 needs Rendezvous__Smtp__Username (the mailbox that sends).", SmtpStage.Authenticate, isTransient: false);
        }

        var token = await _tokens!.GetAccessTokenAsync(ct).ConfigureAwait(false);
        try
        {
            await client.AuthenticateAsync(new SaslMechanismOAuth2(_options.Username, token), ct).ConfigureAwait(false);
        }
        catch (AuthenticationException)
        {
            // Revoked or expired early: the next session asks for a fresh token rather than offering this one again.
            _tokens.Invalidate(token);
            throw;
        }
    }

    private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null)
        {
            return false;
        }

        var wanted = new string([.. _options.TrustedCertificateThumbprint!.Where(char.IsAsciiHexDigit)]);
        return string.Equals(wanted, certificate.GetCertHashString(), StringComparison.OrdinalIgnoreCase)
            || string.Equals(wanted, certificate.GetCertHashString(HashAlgorithmName.SHA256), StringComparison.OrdinalIgnoreCase);
    }

    private async Task ReturnAsync(Session session)
    {
        session.LastUsed = Environment.TickCount64;
        if (!session.Client.IsConnected)
        {
            session.Client.Dispose();
        }
        else if (session.Sent >= _options.MessagesPerConnection || _disposed)
        {
            await CloseAsync(session).ConfigureAwait(false);
        }
        else
        {
            _idle.Push(session);
        }
    }

    private static async Task CloseAsync(Session session)
    {
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await session.Client.DisconnectAsync(quit: true, quick.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or MailKit.Net.Smtp.SmtpProtocolException or MailKit.Net.Smtp.SmtpCommandException)
        {
            // Closing a session the server already gave up on: nothing left to say.
        }
        finally
        {
            session.Client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryPop(out var session))
        {
            await CloseAsync(session).ConfigureAwait(false);
        }

        // The semaphore is left undisposed: a send still finishing may release it, and it holds no wait handle.
    }

    private sealed class Session(SmtpClient client)
    {
        public SmtpClient Client { get; } = client;

        public int Sent { get; set; }

        public long LastUsed { get; set; } = Environment.TickCount64;
    }

    private sealed record OpenFailure(long Until, MailDeliveryException Failure);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A pooled SMTP connection was gone ({Reason}); sending on a new one")]
    private static partial void LogStaleConnection(ILogger logger, string reason);
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Rendezvous.Integrations.Notifications.Smtp;

/// <summary>
/// Sends messages over a small set of reused SMTP connections: at most <see cref="SmtpOptions.MaxConnections"/> at once,
/// each carrying up to <see cref="SmtpOptions.MessagesPerConnection"/> messages, so thousands of messages a minute cost
/// a handful of handshakes. A pooled connection the server has dropped while it sat idle is noticed on its next use
/// before the message is handed over, and that message goes out once more on a fresh connection.
/// </summary>
public sealed partial class SmtpConnectionPool : IMailTransport, IAsyncDisposable
{
    private readonly SmtpOptions _options;
    private readonly Func<CancellationToken, Task<SmtpConnection>> _open;
    private readonly ILogger<SmtpConnectionPool> _logger;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentStack<SmtpConnection> _idle = new();
    private int _opened;
    private bool _disposed;
    private volatile OpenFailure? _lastOpenFailure;

    public SmtpConnectionPool(IOptions<SmtpOptions> options, ILogger<SmtpConnectionPool> logger)
        : this(options.Value, logger, null)
    {
    }

    /// <summary>With <paramref name="open"/>, connections come from there (tests).</summary>
    public SmtpConnectionPool(SmtpOptions options, ILogger<SmtpConnectionPool> logger, Func<CancellationToken, Task<SmtpConnection>>? open)
    {
        _options = options;
        _logger = logger;
        _open = open ?? (ct => SmtpConnection.OpenAsync(_options, ct));
        _slots = new SemaphoreSlim(Math.Max(1, options.MaxConnections));
    }

    /// <summary>Connections opened since start (a measure of reuse).</summary>
    public int ConnectionsOpened => Volatile.Read(ref _opened);

    public async Task<SmtpSendResult> SendAsync(SmtpEnvelope envelope, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var connection = await TakeIdleAsync(cancellationToken).ConfigureAwait(false);
                var reused = connection is not null;
                connection ??= await OpenAsync(cancellationToken).ConfigureAwait(false);

                try
                {
                    var result = await connection.SendAsync(envelope, message, cancellationToken).ConfigureAwait(false);
                    await ReturnAsync(connection, cancellationToken).ConfigureAwait(false);
                    return result;
                }
                catch (SmtpException ex)
                {
                    await ReturnAsync(connection, cancellationToken).ConfigureAwait(false);
                    // A session the server ended while idle: the message was never handed over, so sending it again is safe.
                    if (reused && attempt == 0 && !connection.IsUsable && ex.IsTransient && !ex.MessageMayHaveBeenAccepted)
                    {
                        LogStaleConnection(_logger, ex.Message);
                        continue;
                    }

                    throw;
                }
                catch
                {
                    await DiscardAsync(connection).ConfigureAwait(false);
                    throw;
                }
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<SmtpConnection> OpenAsync(CancellationToken ct)
    {
        if (_lastOpenFailure is { } last && Environment.TickCount64 < last.Until)
        {
            throw new SmtpTransientException($"Not trying again yet: {last.Failure.Message}", last.Failure.Stage, last.Failure.Reply, last.Failure);
        }

        try
        {
            var connection = await _open(ct).ConfigureAwait(false);
            Interlocked.Increment(ref _opened);
            _lastOpenFailure = null;
            return connection;
        }
        catch (SmtpException ex) when (_options.ReconnectDelay > TimeSpan.Zero)
        {
            _lastOpenFailure = new OpenFailure(Environment.TickCount64 + (long)_options.ReconnectDelay.TotalMilliseconds, ex);
            throw;
        }
    }

    private async Task<SmtpConnection?> TakeIdleAsync(CancellationToken ct)
    {
        while (_idle.TryPop(out var connection))
        {
            var idleFor = TimeSpan.FromMilliseconds(Environment.TickCount64 - connection.LastUsed);
            if (connection.IsUsable && idleFor < _options.IdleTimeout)
            {
                return connection;
            }

            await CloseAsync(connection, ct).ConfigureAwait(false);
        }

        return null;
    }

    private async Task ReturnAsync(SmtpConnection connection, CancellationToken ct)
    {
        if (!connection.IsUsable)
        {
            await DiscardAsync(connection).ConfigureAwait(false);
        }
        else if (connection.MessagesSent >= _options.MessagesPerConnection || _disposed)
        {
            await CloseAsync(connection, ct).ConfigureAwait(false);
        }
        else
        {
            _idle.Push(connection);
        }
    }

    private static async Task CloseAsync(SmtpConnection connection, CancellationToken ct)
    {
        await connection.QuitAsync(ct).ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private static ValueTask DiscardAsync(SmtpConnection connection) => connection.DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryPop(out var connection))
        {
            await CloseAsync(connection, CancellationToken.None).ConfigureAwait(false);
        }

        // The semaphore is left undisposed: a send still finishing may release it, and it holds no wait handle.
    }

    private sealed record OpenFailure(long Until, SmtpException Failure);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A pooled SMTP connection was gone ({Reason}); sending on a new one")]
    private static partial void LogStaleConnection(ILogger logger, string reason);
}

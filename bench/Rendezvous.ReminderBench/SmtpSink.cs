using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rendezvous.ReminderBench;

/// <summary>
/// A minimal SMTP server for the benchmark: speaks enough ESMTP (EHLO with PIPELINING and 8BITMIME, MAIL, RCPT, DATA,
/// RSET, NOOP, QUIT) to take messages as fast as the sender can give them, and remembers each Message-ID so the
/// benchmark can check every reminder arrived exactly once. It keeps nothing else.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<Task> _sessions = [];
    private Task? _accept;
    private long _messages;
    private long _lastTicks;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public long Messages => Interlocked.Read(ref _messages);

    public int Distinct => _ids.Count;

    public int Duplicates => _ids.Values.Count(v => v > 1);

    /// <summary>When the latest message was accepted (Environment.TickCount64).</summary>
    public long LastMessageTicks => Interlocked.Read(ref _lastTicks);

    public void Start()
    {
        _listener.Start(512);
        _accept = AcceptAsync();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (_sessions)
            {
                _sessions.Add(SessionAsync(client));
            }
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        client.NoDelay = true;
        var stream = client.GetStream();
        var lines = new LineReader(stream);
        var output = new MemoryStream();

        async Task Reply(string text)
        {
            var bytes = Encoding.ASCII.GetBytes(text + "\r\n");
            output.Write(bytes);
            await Task.CompletedTask;
        }

        // Replies are collected and written whenever the client has nothing more queued, so pipelined commands get
        // their answers together, and nothing waits on an unsent reply.
        async Task<string?> NextLine()
        {
            if (!lines.HasLine && output.Length > 0)
            {
                await stream.WriteAsync(output.GetBuffer().AsMemory(0, (int)output.Length), _stop.Token);
                output.SetLength(0);
            }

            return await lines.ReadLineAsync(_stop.Token);
        }

        await Reply("220 sink.bench ESMTP ready");
        try
        {
            while (await NextLine() is { } line)
            {
                var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await Reply("250-sink.bench\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800");
                        break;
                    case "HELO":
                        await Reply("250 sink.bench");
                        break;
                    case "DATA":
                        await Reply("354 go ahead");
                        string? id = null;
                        while (await NextLine() is { } data && data != ".")
                        {
                            if (id is null && data.StartsWith("Message-ID:", StringComparison.OrdinalIgnoreCase))
                            {
                                id = data[11..].Trim();
                            }
                        }

                        _ids.AddOrUpdate(id ?? Guid.NewGuid().ToString(), 1, (_, n) => n + 1);
                        Interlocked.Increment(ref _messages);
                        Interlocked.Exchange(ref _lastTicks, Environment.TickCount64);
                        await Reply("250 queued");
                        break;
                    case "QUIT":
                        await Reply("221 bye");
                        await stream.WriteAsync(output.GetBuffer().AsMemory(0, (int)output.Length), _stop.Token);
                        return;
                    default:
                        // MAIL, RCPT, RSET, NOOP and anything else: accepted.
                        await Reply("250 ok");
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Reads CRLF lines from a socket and knows whether a whole line is already buffered.</summary>
    private sealed class LineReader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[128 * 1024];
        private int _start;
        private int _end;

        public bool HasLine => Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start) >= 0;

        public async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline >= 0)
                {
                    var length = newline - _start;
                    if (length > 0 && _buffer[newline - 1] == '\r')
                    {
                        length--;
                    }

                    var line = Encoding.Latin1.GetString(_buffer, _start, length);
                    _start = newline + 1;
                    return line;
                }

                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }

                if (_end == _buffer.Length)
                {
                    // An absurdly long line: drop it.
                    _end = 0;
                }

                var read = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
                if (read == 0)
                {
                    return null;
                }

                _end += read;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_accept is not null)
        {
            await _accept;
        }

        Task[] sessions;
        lock (_sessions)
        {
            sessions = [.. _sessions];
        }

        await Task.WhenAll(sessions).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}

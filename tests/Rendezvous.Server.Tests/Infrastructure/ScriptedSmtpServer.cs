using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>
/// A tiny in-process SMTP server whose answers a test scripts: it speaks enough RFC 5321 for the client (EHLO/HELO,
/// STARTTLS or TLS from the first byte with a self-signed certificate, AUTH PLAIN, LOGIN and XOAUTH2,
/// MAIL/RCPT/DATA/RSET/NOOP/QUIT), records what it received, and lets <see cref="Reply"/> replace any answer.
/// <c>"DATA-END"</c> names the answer to the end of a message. It is for what the real server (aiosmtpd) cannot be
/// made to do: refuse a greeting, a recipient or credentials, or take OAuth bearer tokens.
/// </summary>
public sealed class ScriptedSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly Lazy<X509Certificate2> _certificate = new(CreateCertificate);
    private int _connections;

    /// <param name="implicitTls">TLS from the first byte, as on port 465.</param>
    public ScriptedSmtpServer(bool implicitTls = false)
    {
        ImplicitTls = implicitTls;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public bool ImplicitTls { get; }

    /// <summary>The self-signed certificate the server presents.</summary>
    public X509Certificate2 Certificate => _certificate.Value;

    /// <summary>Bearer tokens AUTH XOAUTH2 accepts (with <see cref="Username"/>).</summary>
    public HashSet<string> BearerTokens { get; } = [];

    public string Greeting { get; set; } = "220 fake.test ESMTP ready";

    /// <summary>EHLO keywords after the greeting line.</summary>
    public List<string> Extensions { get; } = ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES"];

    /// <summary>Answers EHLO with this instead (e.g. "502 5.5.1 unknown command" for an old server).</summary>
    public string? EhloReply { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Replaces the answer to a command: gets the command line (or "DATA-END"), returns the reply or null for the default.</summary>
    public Func<string, string?>? Reply { get; set; }

    /// <summary>Commands never answered (the client must time out).</summary>
    public Func<string, bool>? Silent { get; set; }

    /// <summary>Closes each connection after this many accepted messages, without a word (as a server dropping idle clients).</summary>
    public int? DropAfterMessages { get; set; }

    public ConcurrentQueue<string> Commands { get; } = new();

    /// <summary>Each accepted message's DATA exactly as it came over the wire (dot-stuffed, without the final ".").</summary>
    public ConcurrentQueue<byte[]> RawMessages { get; } = new();

    /// <summary>For each MAIL FROM: how many further command lines had already arrived before we answered it.</summary>
    public ConcurrentQueue<int> LinesQueuedBehindMail { get; } = new();

    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        Stream stream = client.GetStream();
        var messages = 0;
        var recipients = 0;
        try
        {
            if (ImplicitTls)
            {
                var tls = new SslStream(stream, false);
                await tls.AuthenticateAsServerAsync(_certificate.Value);
                stream = tls;
            }

            var reader = new LineReader(stream);
            await WriteAsync(stream, Greeting);
            while (true)
            {
                var line = await reader.ReadLineAsync(_stop.Token);
                if (line is null)
                {
                    return;
                }

                Commands.Enqueue(line);
                if (Silent?.Invoke(line) == true)
                {
                    continue;
                }

                var verb = line.Split(' ')[0].ToUpperInvariant();
                if (verb == "MAIL")
                {
                    LinesQueuedBehindMail.Enqueue(reader.BufferedLines());
                }

                var scripted = Reply?.Invoke(line);
                if (scripted is not null)
                {
                    await WriteAsync(stream, scripted);
                    if (scripted.StartsWith("421", StringComparison.Ordinal))
                    {
                        return;
                    }

                    continue;
                }

                switch (verb)
                {
                    case "EHLO":
                        await WriteAsync(stream, EhloReply ?? string.Join("\r\n",
                            new[] { "fake.test greets you" }.Concat(Extensions).Select((e, i) => (i == Extensions.Count ? "250 " : "250-") + e)));
                        break;
                    case "HELO":
                        await WriteAsync(stream, "250 fake.test");
                        break;
                    case "STARTTLS":
                        await WriteAsync(stream, "220 2.0.0 go ahead");
                        var ssl = new SslStream(stream, false);
                        await ssl.AuthenticateAsServerAsync(_certificate.Value);
                        stream = ssl;
                        reader = new LineReader(ssl);
                        break;
                    case "AUTH":
                        await AuthenticateAsync(stream, reader, line);
                        break;
                    case "DATA" when recipients == 0:
                        await WriteAsync(stream, "554 5.5.1 no valid recipients");
                        break;
                    case "DATA":
                        recipients = 0;
                        await WriteAsync(stream, "354 end with <CRLF>.<CRLF>");
                        var data = await reader.ReadDataAsync(_stop.Token);
                        var end = Reply?.Invoke("DATA-END");
                        if (end is null or ['2', ..])
                        {
                            RawMessages.Enqueue(data);
                            messages++;
                        }

                        await WriteAsync(stream, end ?? "250 2.0.0 queued");
                        if (DropAfterMessages is { } drop && messages >= drop)
                        {
                            return;
                        }

                        break;
                    case "QUIT":
                        await WriteAsync(stream, "221 2.0.0 bye");
                        return;
                    case "RCPT":
                        recipients++;
                        await WriteAsync(stream, "250 2.1.5 ok");
                        break;
                    case "MAIL" or "RSET":
                        recipients = 0;
                        await WriteAsync(stream, "250 2.0.0 ok");
                        break;
                    case "NOOP":
                        await WriteAsync(stream, "250 2.0.0 ok");
                        break;
                    default:
                        await WriteAsync(stream, "502 5.5.1 unknown command");
                        break;
                }
            }
        }
        catch (Exception)
        {
            // The client went away or the test ended.
        }
    }

    private async Task AuthenticateAsync(Stream stream, LineReader reader, string line)
    {
        var parts = line.Split(' ');
        string? user = null, password = null;
        if (parts.Length >= 2 && parts[1].Equals("PLAIN", StringComparison.OrdinalIgnoreCase))
        {
            var token = parts.Length > 2 ? parts[2] : null;
            if (token is null)
            {
                await WriteAsync(stream, "334 ");
                token = await reader.ReadLineAsync(_stop.Token);
            }

            var fields = Encoding.UTF8.GetString(Convert.FromBase64String(token!)).Split('\0');
            (user, password) = (fields[1], fields[2]);
        }
        else if (parts.Length >= 2 && parts[1].Equals("XOAUTH2", StringComparison.OrdinalIgnoreCase))
        {
            // "user=" user ^A "auth=Bearer " token ^A ^A, base64 (Google's and Microsoft's XOAUTH2 documentation).
            var token = parts.Length > 2 ? parts[2] : null;
            if (token is null)
            {
                await WriteAsync(stream, "334 ");
                token = await reader.ReadLineAsync(_stop.Token);
            }

            var fields = Encoding.UTF8.GetString(Convert.FromBase64String(token!)).Split('\x01');
            var bearer = fields.FirstOrDefault(f => f.StartsWith("auth=Bearer ", StringComparison.Ordinal))?["auth=Bearer ".Length..];
            var valid = fields[0] == "user=" + Username && bearer is not null && BearerTokens.Contains(bearer);
            await WriteAsync(stream, valid ? "235 2.7.0 authenticated" : "535 5.7.8 authentication credentials invalid");
            return;
        }
        else if (parts.Length >= 2 && parts[1].Equals("LOGIN", StringComparison.OrdinalIgnoreCase))
        {
            await WriteAsync(stream, "334 VXNlcm5hbWU6");
            user = Encoding.UTF8.GetString(Convert.FromBase64String((await reader.ReadLineAsync(_stop.Token))!));
            await WriteAsync(stream, "334 UGFzc3dvcmQ6");
            password = Encoding.UTF8.GetString(Convert.FromBase64String((await reader.ReadLineAsync(_stop.Token))!));
        }

        await WriteAsync(stream, user == Username && password == Password ? "235 2.7.0 authenticated" : "535 5.7.8 authentication credentials invalid");
    }

    private static async Task WriteAsync(Stream stream, string reply)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(reply + "\r\n"));
        await stream.FlushAsync();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=fake.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.Parse("2020-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.Parse("2100-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        if (_certificate.IsValueCreated)
        {
            _certificate.Value.Dispose();
        }

        _stop.Dispose();
    }

    /// <summary>Reads CRLF lines and DATA blocks from a stream, keeping what arrived early.</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly List<byte> _buffer = [];

        public int BufferedLines() => _buffer.Count(b => b == (byte)'\n');

        public async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            while (true)
            {
                var lf = _buffer.IndexOf((byte)'\n');
                if (lf >= 0)
                {
                    var line = Encoding.UTF8.GetString([.. _buffer.Take(lf)]).TrimEnd('\r');
                    _buffer.RemoveRange(0, lf + 1);
                    return line;
                }

                if (!await FillAsync(ct))
                {
                    return null;
                }
            }
        }

        public async Task<byte[]> ReadDataAsync(CancellationToken ct)
        {
            var data = new List<byte>();
            while (true)
            {
                var lf = _buffer.IndexOf((byte)'\n');
                if (lf < 0)
                {
                    if (!await FillAsync(ct))
                    {
                        throw new EndOfStreamException();
                    }

                    continue;
                }

                var line = _buffer.Take(lf + 1).ToArray();
                _buffer.RemoveRange(0, lf + 1);
                if (line is [(byte)'.', (byte)'\r', (byte)'\n'])
                {
                    return [.. data];
                }

                data.AddRange(line);
            }
        }

        private async Task<bool> FillAsync(CancellationToken ct)
        {
            var chunk = new byte[4096];
            var read = await stream.ReadAsync(chunk, ct);
            if (read == 0)
            {
                return false;
            }

            _buffer.AddRange(chunk.AsSpan(0, read).ToArray());
            return true;
        }
    }
}

/// <summary>
/// A TCP relay in front of the real SMTP server that a test can close (nothing listens: connections are refused) and
/// open again on the same port, as a mail server that goes down and comes back.
/// </summary>
public sealed class SmtpGate : IAsyncDisposable
{
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _accepting;

    public SmtpGate(string upstreamHost, int upstreamPort)
    {
        _upstreamHost = upstreamHost;
        _upstreamPort = upstreamPort;
        Port = SmtpServer.ClosedPort();
    }

    public int Port { get; }

    public bool IsOpen => _listener is not null;

    public void Open()
    {
        if (_listener is not null)
        {
            return;
        }

        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _stop = new CancellationTokenSource();
        _accepting = AcceptAsync(listener, _stop.Token);
    }

    /// <summary>Stops listening and cuts every relayed connection.</summary>
    public async Task CloseAsync()
    {
        if (_listener is null)
        {
            return;
        }

        await _stop!.CancelAsync();
        _listener.Stop();
        await _accepting!;
        lock (_open)
        {
            foreach (var c in _open)
            {
                c.Dispose();
            }

            _open.Clear();
        }

        _stop.Dispose();
        _listener = null;
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using var upstream = new TcpClient();
                lock (_open)
                {
                    _open.Add(client);
                    _open.Add(upstream);
                }

                try
                {
                    await upstream.ConnectAsync(_upstreamHost, _upstreamPort, ct);
                    var a = client.GetStream().CopyToAsync(upstream.GetStream(), ct);
                    var b = upstream.GetStream().CopyToAsync(client.GetStream(), ct);
                    await Task.WhenAny(a, b);
                }
                catch (Exception)
                {
                    // Cut by CloseAsync, or one side went away.
                }
                finally
                {
                    client.Dispose();
                }
            }, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync() => await CloseAsync();
}

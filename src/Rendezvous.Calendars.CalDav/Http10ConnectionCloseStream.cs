namespace Rendezvous.Calendars.CalDav;

/// <summary>
/// Wraps a plaintext HTTP/1.x connection stream so that an HTTP/1.0 answer carries <c>Connection: close</c>.
/// </summary>
/// <remarks>
/// An HTTP/1.0 server closes the connection after its answer (RFC 9112 section 9.3), but SocketsHttpHandler keeps such
/// a connection in its pool unless the answer says "Connection: close", and the next request sent on it fails with
/// "response ended prematurely" (Radicale's built-in server answers this way). Only the first answer on a connection
/// is looked at: once the header is added, .NET closes the connection after it, and an HTTP/1.1 connection is passed
/// through untouched from then on.
/// </remarks>
internal sealed class Http10ConnectionCloseStream : Stream
{
    private const int MaxStatusLine = 8 * 1024;
    private static readonly byte[] Http10 = "HTTP/1.0"u8.ToArray();
    private static readonly byte[] CloseHeader = "Connection: close\r\n"u8.ToArray();

    private readonly Stream _inner;
    private byte[] _pending = [];
    private int _pendingOffset;
    private bool _inspected;

    public Http10ConnectionCloseStream(Stream inner) => _inner = inner;

    public override bool CanRead => _inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pendingOffset < _pending.Length)
        {
            return buffer.IsEmpty ? 0 : TakePending(buffer.Span);
        }

        if (_inspected || buffer.IsEmpty)
        {
            return await _inner.ReadAsync(buffer, cancellationToken);
        }

        // Collect the status line, then decide; a read of 0 (closed) ends the collection early.
        using var collected = new MemoryStream();
        var chunk = new byte[Math.Max(buffer.Length, 512)];
        while (!HasLineEnd(collected) && collected.Length < MaxStatusLine)
        {
            var read = await _inner.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                break;
            }

            collected.Write(chunk, 0, read);
        }

        Inspect(collected);
        return _pending.Length == 0 ? 0 : TakePending(buffer.Span);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_pendingOffset < _pending.Length)
        {
            return buffer.IsEmpty ? 0 : TakePending(buffer);
        }

        if (_inspected || buffer.IsEmpty)
        {
            return _inner.Read(buffer);
        }

        using var collected = new MemoryStream();
        var chunk = new byte[Math.Max(buffer.Length, 512)];
        while (!HasLineEnd(collected) && collected.Length < MaxStatusLine)
        {
            var read = _inner.Read(chunk, 0, chunk.Length);
            if (read == 0)
            {
                break;
            }

            collected.Write(chunk, 0, read);
        }

        Inspect(collected);
        return _pending.Length == 0 ? 0 : TakePending(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => _inner.Write(buffer);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.WriteAsync(buffer, cancellationToken);

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override ValueTask DisposeAsync() => _inner.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private static bool HasLineEnd(MemoryStream collected) =>
        collected.GetBuffer().AsSpan(0, (int)collected.Length).IndexOf((byte)'\n') >= 0;

    private void Inspect(MemoryStream collected)
    {
        _inspected = true;
        var bytes = collected.GetBuffer().AsSpan(0, (int)collected.Length);
        var lineEnd = bytes.IndexOf((byte)'\n');
        if (lineEnd < 0 || !bytes.StartsWith(Http10))
        {
            _pending = bytes.ToArray();
            _pendingOffset = 0;
            return;
        }

        var rewritten = new byte[bytes.Length + CloseHeader.Length];
        bytes[..(lineEnd + 1)].CopyTo(rewritten);
        CloseHeader.CopyTo(rewritten.AsSpan(lineEnd + 1));
        bytes[(lineEnd + 1)..].CopyTo(rewritten.AsSpan(lineEnd + 1 + CloseHeader.Length));
        _pending = rewritten;
        _pendingOffset = 0;
    }

    private int TakePending(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _pending.Length - _pendingOffset);
        _pending.AsSpan(_pendingOffset, count).CopyTo(destination);
        _pendingOffset += count;
        return count;
    }
}

using System.Text;

namespace Rendezvous.Calendars.CalDav.Tests;

public sealed class Http10ConnectionCloseStreamTests
{
    private const string Http10Answer = "HTTP/1.0 201 Created\r\nETag: \"1\"\r\nContent-Length: 0\r\n\r\n";
    private const string Http11Answer = "HTTP/1.1 207 Multi-Status\r\nContent-Length: 5\r\n\r\nhello";

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public async Task An_http_1_0_answer_gains_connection_close_after_its_status_line(int chunk)
    {
        var text = await ReadAllAsync(Http10Answer, chunk, readSize: 7);

        text.ShouldBe("HTTP/1.0 201 Created\r\nConnection: close\r\nETag: \"1\"\r\nContent-Length: 0\r\n\r\n");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task An_http_1_1_connection_passes_through_untouched(int chunk)
    {
        (await ReadAllAsync(Http11Answer + Http11Answer, chunk, readSize: 5)).ShouldBe(Http11Answer + Http11Answer);
    }

    [Fact]
    public void Synchronous_reads_are_rewritten_the_same_way()
    {
        using var stream = new Http10ConnectionCloseStream(new TrickleStream(Encoding.ASCII.GetBytes(Http10Answer), 2));
        var output = new MemoryStream();
        var buffer = new byte[6];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        Encoding.ASCII.GetString(output.ToArray()).ShouldContain("Created\r\nConnection: close\r\n");
    }

    [Fact]
    public async Task Zero_byte_reads_consume_nothing_and_an_empty_connection_reads_as_ended()
    {
        await using var stream = new Http10ConnectionCloseStream(new TrickleStream(Encoding.ASCII.GetBytes(Http10Answer), 100));
        (await stream.ReadAsync(Memory<byte>.Empty)).ShouldBe(0);
        var buffer = new byte[200];
        var read = await stream.ReadAsync(buffer);
        Encoding.ASCII.GetString(buffer, 0, read).ShouldStartWith("HTTP/1.0 201 Created\r\nConnection: close\r\n");

        await using var empty = new Http10ConnectionCloseStream(new TrickleStream([], 1));
        (await empty.ReadAsync(buffer)).ShouldBe(0);
    }

    [Fact]
    public async Task Writes_go_straight_to_the_connection()
    {
        var inner = new TrickleStream([], 1);
        await using var stream = new Http10ConnectionCloseStream(inner);

        await stream.WriteAsync("PUT / HTTP/1.1\r\n"u8.ToArray());

        Encoding.ASCII.GetString(inner.Written.ToArray()).ShouldBe("PUT / HTTP/1.1\r\n");
    }

    private static async Task<string> ReadAllAsync(string answer, int chunk, int readSize)
    {
        await using var stream = new Http10ConnectionCloseStream(new TrickleStream(Encoding.ASCII.GetBytes(answer), chunk));
        var output = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return Encoding.ASCII.GetString(output.ToArray());
    }

    /// <summary>A connection that hands out its bytes a few at a time, as a network may.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : Stream
    {
        private int _position;

        public MemoryStream Written { get; } = new();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, chunk), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rendezvous.Browser.Tests.Infrastructure;

/// <summary>
/// Another website, for the embeds: a few fixed HTML pages served on a loopback port of their own, so the browser sees a
/// different origin from the Rendezvous server's.
/// </summary>
public sealed class HostSite : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly IReadOnlyDictionary<string, string> _pages;
    private readonly Task _loop;

    private HostSite(IReadOnlyDictionary<string, string> pages)
    {
        _pages = pages;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        Origin = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Origin + "/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>scheme://host:port, as the browser names this site.</summary>
    public string Origin { get; }

    /// <summary>Serves <paramref name="pages"/> (path, such as "/inline.html", to its HTML); anything else is 404.</summary>
    public static HostSite Start(IReadOnlyDictionary<string, string> pages) => new(pages);

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
            // Stopping the listener ends the loop this way on some platforms.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var response = context.Response;
            if (_pages.TryGetValue(context.Request.Url!.AbsolutePath, out var html))
            {
                var body = Encoding.UTF8.GetBytes(html);
                response.ContentType = "text/html; charset=utf-8";
                response.ContentLength64 = body.Length;
                await response.OutputStream.WriteAsync(body);
            }
            else
            {
                response.StatusCode = 404;
            }

            response.Close();
        }
    }
}

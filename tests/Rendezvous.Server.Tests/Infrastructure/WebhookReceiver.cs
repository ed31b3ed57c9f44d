using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>A request the receiver got, as it arrived on the wire.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
}

/// <summary>How the receiver answers one request.</summary>
public sealed record ScriptedAnswer(int Status, string? Body = null, string? Location = null, TimeSpan? Delay = null);

/// <summary>
/// A real HTTP server on 127.0.0.1 (a free port), standing in for a webhook consumer such as a Zapier catch hook: it
/// records every request and answers 200 with a small JSON body unless a test scripted other answers for a path.
/// Tests give each subscription its own path, so leftovers from other tests never mix in.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ScriptedAnswer>> _scripts = new(StringComparer.Ordinal);

    private WebhookReceiver()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>e.g. http://127.0.0.1:41234</summary>
    public string BaseUrl { get; private set; } = "";

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        await receiver._app.StartAsync();
        var addresses = receiver._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        receiver.BaseUrl = addresses.Addresses.First().TrimEnd('/');
        return receiver;
    }

    /// <summary>A fresh path on this receiver, as an absolute URL.</summary>
    public string NewUrl(string name) => $"{BaseUrl}/hooks/{name}-{Guid.NewGuid():N}";

    /// <summary>Answers the next requests to <paramref name="url"/> in this order; after them, 200 again.</summary>
    public void Script(string url, params ScriptedAnswer[] answers)
    {
        var queue = _scripts.GetOrAdd(new Uri(url).AbsolutePath, _ => new ConcurrentQueue<ScriptedAnswer>());
        foreach (var answer in answers)
        {
            queue.Enqueue(answer);
        }
    }

    /// <summary>Requests to <paramref name="url"/>, in the order they arrived.</summary>
    public IReadOnlyList<ReceivedRequest> RequestsTo(string url)
    {
        var path = new Uri(url).AbsolutePath;
        return [.. _requests.Where(r => r.Path == path)];
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A loopback URL nothing listens on: a port bound and released at once.</summary>
    public static string UnreachableUrl()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return $"http://127.0.0.1:{port}/hooks/nobody-home";
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var path = context.Request.Path.Value ?? "/";
        _requests.Enqueue(new ReceivedRequest(context.Request.Method, path, headers, body));

        var answer = _scripts.TryGetValue(path, out var queue) && queue.TryDequeue(out var next)
            ? next
            : new ScriptedAnswer(200, """{"status":"success","attempt":"accepted"}""");
        if (answer.Delay is { } delay)
        {
            await Task.Delay(delay, context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        context.Response.StatusCode = answer.Status;
        if (answer.Location is not null)
        {
            context.Response.Headers.Location = answer.Location;
        }

        if (answer.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Body, context.RequestAborted);
        }
    }
}

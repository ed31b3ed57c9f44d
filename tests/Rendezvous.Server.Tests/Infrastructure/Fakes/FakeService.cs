using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rendezvous.Server.Tests.Infrastructure.Fakes;

/// <summary>A request a fake received.</summary>
public sealed record FakeRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";

    /// <summary>A form field or query parameter (URL-decoded), or null.</summary>
    public string? Form(string name) => Parse(Body).GetValueOrDefault(name);

    public string? QueryValue(string name) => Parse(Query.TrimStart('?')).GetValueOrDefault(name);

    private static Dictionary<string, string> Parse(string text) =>
        text.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .GroupBy(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')))
            .ToDictionary(g => g.Key, g => Uri.UnescapeDataString((g.First().Length > 1 ? g.First()[1] : "").Replace('+', ' ')));
}

/// <summary>How a fake answers.</summary>
public sealed record FakeAnswer(int Status, string? Json = null, IReadOnlyDictionary<string, string>? Headers = null);

/// <summary>
/// A vendor API stand-in: a real HTTP server (Kestrel on 127.0.0.1, a free port) that records every request and answers
/// the way the vendor's documentation says. Tests can make the next matching requests fail with a given answer (401, 404,
/// 429, 5xx) before the fake behaves normally again.
/// </summary>
public abstract class FakeService : IAsyncDisposable
{
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private readonly List<(string Method, string PathPrefix, FakeAnswer Answer)> _faults = [];
    private WebApplication? _app;

    /// <summary>e.g. http://127.0.0.1:41234</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Serialises the fake's state: answers are computed one at a time.</summary>
    protected Lock Gate { get; } = new();

    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    public IReadOnlyList<FakeRequest> RequestsTo(string method, string pathPrefix) =>
        [.. _requests.Where(r => r.Method == method && r.Path.StartsWith(pathPrefix, StringComparison.Ordinal))];

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/');
    }

    /// <summary>The next <paramref name="times"/> requests whose method and path match are answered with <paramref name="answer"/>.</summary>
    public void Fail(string method, string pathPrefix, FakeAnswer answer, int times = 1)
    {
        lock (Gate)
        {
            for (var i = 0; i < times; i++)
            {
                _faults.Add((method, pathPrefix, answer));
            }
        }
    }

    public void ClearFaults()
    {
        lock (Gate)
        {
            _faults.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>The vendor's answer to a request (called under <see cref="Gate"/>).</summary>
    protected abstract FakeAnswer Answer(FakeRequest request);

    protected static FakeAnswer Json(int status, string json) => new(status, json);

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var request = new FakeRequest(context.Request.Method, context.Request.Path.Value ?? "/", context.Request.QueryString.Value ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body);
        _requests.Enqueue(request);
        FakeAnswer answer;
        lock (Gate)
        {
            var fault = _faults.FindIndex(f => f.Method == request.Method && request.Path.StartsWith(f.PathPrefix, StringComparison.Ordinal));
            if (fault >= 0)
            {
                answer = _faults[fault].Answer;
                _faults.RemoveAt(fault);
            }
            else
            {
                answer = Answer(request);
            }
        }

        context.Response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        if (answer.Json is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Json, context.RequestAborted);
        }
    }
}

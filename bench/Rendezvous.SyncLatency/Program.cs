using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using NodaTime;
using Rendezvous.Calendars.CalDav;
using Rendezvous.Emulators.Google;
using Rendezvous.Emulators.Graph;

// Calendar sync latency: how long from a change in a host's own calendar (our event moved) to the booking's update,
// with many calendars connected. CalDAV is polled at the default interval; Microsoft 365 (Graph emulator) and Google
// (Google emulator) are woken by their push notifications. Run through bench/sync-latency, which prepares PostgreSQL
// and Radicale; this driver starts the Graph and Google emulators in its own process and then the server as a child
// process pointed at them. Everything stays on 127.0.0.1; every loop is bounded in count and time.
//
//   dotnet bench/Rendezvous.SyncLatency/bin/Release/net10.0/Rendezvous.SyncLatency.dll --server path/Rendezvous.Server.dll
//       --db CONNECTION --port 8091 --caldav URL --user U --password P [--providers caldav,microsoft,google]
//       [--calendars 100] [--changes 100] [--server-log FILE]

var o = Options.Parse(args);
var key = "rdv_bench_" + Guid.NewGuid().ToString("N");
var url = new Uri($"http://127.0.0.1:{o.Port}/");

await using var graph = await GraphEmulator.StartAsync();
await using var google = await GoogleCalendarEmulator.StartAsync(SystemClock.Instance);

// The server trusts the Graph emulator's certificate the way an operator trusts a private CA: through OpenSSL's
// certificate directory, which .NET reads on Linux. The system's own certificates stay trusted too.
var trust = Directory.CreateTempSubdirectory("rdv-bench-trust-");
await File.WriteAllTextAsync(Path.Combine(trust.FullName, "graph-emulator.pem"), graph.Certificate.ExportCertificatePem());

using var server = StartServer(o, url, key, graph, google, trust.FullName);
try
{
    // Redirects are followed by hand: the OAuth sign-ins go through the emulators as a browser would.
    using var api = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
    api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    if (!await WaitForServerAsync(api, server))
    {
        Console.Error.WriteLine($"the server did not start; see {o.ServerLog}");
        return 1;
    }

    var results = new List<string>();
    var missed = false;
    foreach (var provider in o.Providers)
    {
        ICalendarSide side = provider switch
        {
            "caldav" => new CalDavSide(o, api),
            "microsoft" => new GraphSide(graph, api),
            "google" => new GoogleSide(google, api),
            _ => throw new ArgumentException($"unknown provider {provider}"),
        };
        var latencies = await MeasureAsync(api, side, o);
        if (latencies is null)
        {
            return 1;
        }

        latencies.Sort();
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{side.Label}: calendar change -> booking rescheduled, {o.Calendars} calendars, {latencies.Count} changes: median {Percentile(latencies, 0.5):F0} ms, p95 {Percentile(latencies, 0.95):F0} ms, max {latencies[^1]:F0} ms");
        Console.WriteLine(line);
        results.Add(line);
        missed |= Percentile(latencies, 0.95) >= 2000;
    }

    Console.WriteLine();
    results.ForEach(Console.WriteLine);
    return missed ? 3 : 0;
}
finally
{
    if (!server.HasExited)
    {
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }

    trust.Delete(recursive: true);
}

static async Task<List<double>?> MeasureAsync(HttpClient api, ICalendarSide side, Options o)
{
    var run = Guid.NewGuid().ToString("N")[..8];
    var firstDay = DateTime.UtcNow.Date.AddDays(2);
    Console.WriteLine($"{side.Label}: setting up {o.Calendars} hosts, each with a booking calendar, a connection (both toggles on) and one booking");
    var hosts = new List<HostSetup>();
    var connections = new List<string>();
    for (var i = 0; i < o.Calendars; i++)
    {
        var user = await Api.PostAsync(api, "/api/v1/users", new { name = $"Latency host {i}", email = $"lat-{run}-{i}@bench.example", timeZone = "UTC", role = "member" });
        var userId = user["id"]!.GetValue<string>();
        var slug = $"lat-{side.Name}-{run}-{i}";
        await Api.PostAsync(api, "/api/v1/booking-pages", new
        {
            ownerId = userId,
            slug,
            title = "Latency",
            durationMinutes = 30,
            timeZone = "UTC",
            bookingWindowDays = 400,
            weeklyHours = new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" }
                .Select(d => new { day = d, start = "00:00", end = "24:00" }).ToArray(),
        });
        var (calendar, connectionId) = await side.ConnectAsync(userId, $"lat-{run}-{i}");
        connections.Add(connectionId);
        var start = firstDay.AddHours(i % 24).AddDays(i / 24);
        var booking = await Api.PostAsync(api, $"/api/v1/booking-pages/{slug}/bookings", new
        {
            start = Iso(start),
            customer = new { name = $"Customer {i}", email = $"customer-{run}-{i}@bench.example", timeZone = "UTC" },
        });
        hosts.Add(new HostSetup(calendar, booking["id"]!.GetValue<string>(), start));
    }

    Console.WriteLine($"{side.Label}: waiting for every booking to appear in its calendar");
    var appearDeadline = Stopwatch.StartNew();
    foreach (var host in hosts)
    {
        while (!await side.HasEventAsync(host))
        {
            if (appearDeadline.Elapsed > TimeSpan.FromMinutes(3))
            {
                Console.Error.WriteLine($"{side.Label}: bookings did not reach their calendars within 3 minutes");
                return null;
            }

            await Task.Delay(100);
        }
    }

    Console.WriteLine($"{side.Label}: all {hosts.Count} events written after {appearDeadline.Elapsed.TotalSeconds:F1} s; letting every calendar sync once");
    if (!await side.ReadyAsync(connections, TimeSpan.FromMinutes(3)))
    {
        Console.Error.WriteLine($"{side.Label}: the connections did not finish their first rounds (and push subscriptions) within 3 minutes");
        return null;
    }

    await Task.Delay(TimeSpan.FromSeconds(5));

    var latencies = new List<double>();
    var random = new Random(20271107);
    for (var j = 0; j < o.Changes; j++)
    {
        var host = hosts[j % hosts.Count];
        var newStart = host.Start.AddDays(30 + j);

        // Changes land at random moments relative to the polling rhythm.
        await Task.Delay(random.Next(0, 1000));
        var sw = Stopwatch.StartNew();
        if (!await side.MoveAsync(host, newStart))
        {
            // Our writer rewrote the event between our read and our write; take that change again.
            j--;
            continue;
        }

        while (true)
        {
            var booking = await api.GetFromJsonAsync<JsonObject>($"/api/v1/bookings/{host.BookingId}");
            if (booking!["start"]!.GetValue<string>() == Iso(newStart))
            {
                break;
            }

            if (sw.Elapsed > TimeSpan.FromSeconds(60))
            {
                Console.Error.WriteLine($"{side.Label}: change {j} was not applied within 60 s");
                return null;
            }

            await Task.Delay(20);
        }

        latencies.Add(sw.Elapsed.TotalMilliseconds);
        hosts[j % hosts.Count] = host with { Start = newStart };
    }

    // The next provider is measured without these connections polling in the background.
    foreach (var id in connections)
    {
        using var deleted = await api.DeleteAsync($"/api/v1/calendar-connections/{id}");
    }

    return latencies;
}

static Process StartServer(Options o, Uri url, string key, GraphEmulator graph, GoogleCalendarEmulator google, string trustDir)
{
    var info = new ProcessStartInfo("dotnet", [o.ServerDll])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    var env = info.Environment;
    env["RENDEZVOUS_DB"] = o.Database;
    env["RENDEZVOUS_URL"] = url.ToString().TrimEnd('/');
    env["Rendezvous__PublicBaseUrl"] = url.ToString().TrimEnd('/');
    env["Rendezvous__Bootstrap__Organization"] = "bench";
    // The emulators listen on loopback, which outbound calls may not reach unless allowed.
    env["Rendezvous__Outbound__AllowedHosts__0"] = "127.0.0.1";
    env["Rendezvous__Outbound__AllowedHosts__1"] = "localhost";
    env["Rendezvous__Bootstrap__ApiKey"] = key;
    env["Rendezvous__CalendarSync__PushBaseUrl"] = url.ToString();
    env["Rendezvous__Microsoft__ClientId"] = GraphEmulator.ClientId;
    env["Rendezvous__Microsoft__ClientSecret"] = GraphEmulator.ClientSecret;
    env["Rendezvous__Microsoft__AuthorityHost"] = graph.BaseUrl.ToString();
    env["Rendezvous__Microsoft__GraphBaseUrl"] = graph.GraphBaseUrl.ToString();
    env["Rendezvous__Microsoft__RedirectUri"] = new Uri(url, "api/v1/calendar-connections/microsoft/callback").ToString();
    env["Rendezvous__Google__ClientId"] = GoogleCalendarEmulator.ClientId;
    env["Rendezvous__Google__ClientSecret"] = GoogleCalendarEmulator.ClientSecret;
    env["Rendezvous__Google__ApiBaseUrl"] = google.ApiBaseUrl.ToString();
    env["Rendezvous__Google__AuthorizationUrl"] = google.AuthorizationUrl.ToString();
    env["Rendezvous__Google__TokenUrl"] = google.TokenUrl.ToString();
    env["Rendezvous__Google__RevokeUrl"] = google.RevokeUrl.ToString();
    env["Rendezvous__Google__RedirectUri"] = new Uri(url, "api/v1/calendar-connections/google/callback").ToString();
    env["SSL_CERT_DIR"] = trustDir + ":" + (Environment.GetEnvironmentVariable("SSL_CERT_DIR") ?? "/etc/ssl/certs");

    var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the server");
    var log = new StreamWriter(o.ServerLog, append: false) { AutoFlush = true };
    var gate = new Lock();
    void Write(string? line)
    {
        if (line is not null)
        {
            lock (gate)
            {
                log.WriteLine(line);
            }
        }
    }

    process.OutputDataReceived += (_, e) => Write(e.Data);
    process.ErrorDataReceived += (_, e) => Write(e.Data);
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task<bool> WaitForServerAsync(HttpClient api, Process server)
{
    for (var i = 0; i < 240 && !server.HasExited; i++)
    {
        try
        {
            using var response = await api.GetAsync("/health");
            if (response.IsSuccessStatusCode)
            {
                return true;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(500);
    }

    return false;
}

static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);


/// <summary>One host's booking calendar (a CalDAV href, a Graph mailbox, a Google account) and its booking.</summary>
internal sealed record HostSetup(string Calendar, string BookingId, DateTime Start);

/// <summary>What the driver does on the calendar side of one provider, as the host would in their own calendar app.</summary>
internal interface ICalendarSide
{
    string Name { get; }

    string Label { get; }

    /// <summary>Makes the host's calendar and connects it with both toggles on; returns the calendar and the connection id.</summary>
    Task<(string Calendar, string ConnectionId)> ConnectAsync(string userId, string name);

    Task<bool> HasEventAsync(HostSetup host);

    /// <summary>True once every connection had a successful round (and, with push, holds its subscription).</summary>
    Task<bool> ReadyAsync(IReadOnlyList<string> connectionIds, TimeSpan within);

    /// <summary>Moves the booking's event to <paramref name="newStart"/>; false when a concurrent write of ours won.</summary>
    Task<bool> MoveAsync(HostSetup host, DateTime newStart);
}

internal sealed class CalDavSide(Options o, HttpClient api) : ICalendarSide
{
    private readonly CalDavClient _dav = new(new CalDavClientOptions { ServerUri = o.CalDav, UserName = o.User, Password = o.Password });

    public string Name => "caldav";

    public string Label => "CalDAV (Radicale, polling)";

    public async Task<(string Calendar, string ConnectionId)> ConnectAsync(string userId, string name)
    {
        var href = $"/{o.User}/{name}/";
        await _dav.CreateCalendarAsync(href, name, ["VEVENT"]);
        var connection = await Api.PostAsync(api, "/api/v1/calendar-connections", new
        {
            userId,
            url = o.CalDav.ToString(),
            username = o.User,
            password = o.Password,
            bookingCalendarUrl = href,
            cancelBookingOnDelete = true,
            updateBookingOnMove = true,
        });
        return (href, connection["id"]!.GetValue<string>());
    }

    public async Task<bool> HasEventAsync(HostSetup host) => (await _dav.ListObjectsAsync(host.Calendar)).Count > 0;

    public Task<bool> ReadyAsync(IReadOnlyList<string> connectionIds, TimeSpan within) => Api.AllSyncedAsync(api, connectionIds, within);

    public async Task<bool> MoveAsync(HostSetup host, DateTime newStart)
    {
        var obj = (await _dav.MultigetAsync(host.Calendar, (await _dav.ListObjectsAsync(host.Calendar)).Select(x => x.Href))).Objects.Single();
        var moved = obj.CalendarData
            .Replace(Compact(host.Start), Compact(newStart), StringComparison.Ordinal)
            .Replace(Compact(host.Start.AddMinutes(30)), Compact(newStart.AddMinutes(30)), StringComparison.Ordinal);
        return (await _dav.UpdateObjectAsync(obj.Href, moved, obj.ETag!)).Succeeded;
    }

    private static string Compact(DateTime t) => t.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
}

internal sealed class GraphSide(GraphEmulator graph, HttpClient api) : ICalendarSide
{
    public string Name => "microsoft";

    public string Label => "Microsoft 365 (Graph emulator, change notifications)";

    /// <summary>Signs the host in as a browser would: our authorize redirect, the emulator's consent, our callback.</summary>
    public async Task<(string Calendar, string ConnectionId)> ConnectAsync(string userId, string name)
    {
        var mailbox = graph.AddMailbox($"{name}@contoso.example");
        graph.NextSignIn = mailbox.Email;
        using var start = await api.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/v1/calendar-connections/microsoft/authorize?userId={userId}"));
        var authorize = start.StatusCode == HttpStatusCode.Redirect ? start.Headers.Location! : throw new InvalidOperationException($"authorize answered {(int)start.StatusCode}");
        var handler = (SocketsHttpHandler)graph.CreateTrustingHandler();
        handler.AllowAutoRedirect = false;
        using var browser = new HttpClient(handler);
        using var consent = await browser.GetAsync(authorize);
        using var anonymous = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = api.BaseAddress };
        using var done = await anonymous.GetAsync(consent.Headers.Location!.PathAndQuery);
        var connectionId = done.Headers.Location?.ToString().Split('/').Last()
            ?? throw new InvalidOperationException($"the Microsoft callback answered {(int)done.StatusCode}: {await done.Content.ReadAsStringAsync()}");
        using var toggles = await api.PutAsJsonAsync($"/api/v1/calendar-connections/{connectionId}", new { cancelBookingOnDelete = true, updateBookingOnMove = true });
        toggles.EnsureSuccessStatusCode();
        return (mailbox.Email, connectionId);
    }

    public Task<bool> HasEventAsync(HostSetup host)
    {
        var mailbox = graph.Mailbox(host.Calendar);
        return Task.FromResult(mailbox.EventsIn(mailbox.DefaultCalendarId).Count > 0);
    }

    public async Task<bool> ReadyAsync(IReadOnlyList<string> connectionIds, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (graph.Subscriptions.Count < connectionIds.Count)
        {
            if (deadline.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(200);
        }

        return await Api.AllSyncedAsync(api, connectionIds, within - deadline.Elapsed);
    }

    public async Task<bool> MoveAsync(HostSetup host, DateTime newStart)
    {
        var mailbox = graph.Mailbox(host.Calendar);
        var ours = mailbox.EventsIn(mailbox.DefaultCalendarId).Single();
        var at = new DateTimeOffset(newStart, TimeSpan.Zero);
        await mailbox.MoveAsync(ours.Id, at, at.AddMinutes(30));
        return true;
    }
}

internal sealed class GoogleSide(GoogleCalendarEmulator google, HttpClient api) : ICalendarSide
{
    public string Name => "google";

    public string Label => "Google (Google emulator, watch channels)";

    public async Task<(string Calendar, string ConnectionId)> ConnectAsync(string userId, string name)
    {
        var account = $"{name}@gmail.example";
        google.AddAccount(account);
        var authorize = await api.GetFromJsonAsync<JsonObject>(
            $"/api/v1/calendar-connections/google/authorize?userId={userId}&cancelBookingOnDelete=true&updateBookingOnMove=true");
        google.ConsentingAccount = account;
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var consent = await browser.GetAsync(authorize!["authorizationUrl"]!.GetValue<string>());
        using var anonymous = new HttpClient { BaseAddress = api.BaseAddress };
        using var done = await anonymous.GetAsync(consent.Headers.Location!.PathAndQuery);
        var text = await done.Content.ReadAsStringAsync();
        var connection = done.IsSuccessStatusCode ? JsonNode.Parse(text)!.AsObject() : throw new InvalidOperationException($"the Google callback answered {(int)done.StatusCode}: {text}");
        return (account, connection["id"]!.GetValue<string>());
    }

    public Task<bool> HasEventAsync(HostSetup host) => Task.FromResult(google.Event(host.Calendar, EventId(host)) is not null);

    public async Task<bool> ReadyAsync(IReadOnlyList<string> connectionIds, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        var accounts = await Task.WhenAll(connectionIds.Select(async id =>
            (await api.GetFromJsonAsync<JsonObject>($"/api/v1/calendar-connections/{id}"))!["username"]!.GetValue<string>()));
        while (accounts.Any(a => google.ChannelsOn(a).Count == 0))
        {
            if (deadline.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(200);
        }

        return await Api.AllSyncedAsync(api, connectionIds, within - deadline.Elapsed);
    }

    public Task<bool> MoveAsync(HostSetup host, DateTime newStart)
    {
        google.MoveEvent(host.Calendar, EventId(host), Duration.FromTimeSpan(newStart - host.Start));
        return Task.FromResult(true);
    }

    private static string EventId(HostSetup host) => "rdv" + Guid.Parse(host.BookingId).ToString("N");
}

internal static class Api
{
    public static async Task<JsonObject> PostAsync(HttpClient api, string path, object body)
    {
        using var response = await api.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? JsonNode.Parse(text)!.AsObject()
            : throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {text}");
    }

    public static async Task<bool> AllSyncedAsync(HttpClient api, IReadOnlyList<string> ids, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within)
        {
            var all = await api.GetFromJsonAsync<JsonArray>("/api/v1/calendar-connections");
            var synced = all!.Count(c => ids.Contains(c!["id"]!.GetValue<string>()) && c["lastSuccessAt"] is not null);
            if (synced == ids.Count)
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }
}

internal sealed record Options(string ServerDll, string Database, int Port, Uri CalDav, string User, string Password, string[] Providers, int Calendars,
    int Changes, string ServerLog)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string? fallback = null)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required");
        }

        var options = new Options(Get("--server"), Get("--db"), int.Parse(Get("--port", "8091"), CultureInfo.InvariantCulture), new Uri(Get("--caldav")),
            Get("--user"), Get("--password"), Get("--providers", "caldav,microsoft,google").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            int.Parse(Get("--calendars", "100"), CultureInfo.InvariantCulture), int.Parse(Get("--changes", "100"), CultureInfo.InvariantCulture),
            Get("--server-log", Path.Combine(Path.GetTempPath(), "rendezvous-bench-server.log")));
        return options.CalDav.IsLoopback ? options : throw new ArgumentException("Loopback addresses only.");
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;

// Booking write-path load driver. bench/booking-load starts a private PostgreSQL and runs it as:
//   Rendezvous.LoadDriver --server <Rendezvous.Server.dll> --db <connection string> [options]
// It starts the server as a child process (or uses --url and --key for one already running), then measures in one run:
//   1. the ceiling: pgbench running ceiling.pgbench (one exclusion-constrained insert and one outbox insert a
//      transaction) against the same PostgreSQL, with as many clients as the driver;
//   2. bookings/s spread over --pages pages (one host each), every request a different slot;
//   3. bookings/s on one page;
//   4. a race: --racers requests for one slot at once (one 201, the rest 409, no 5xx);
//   5. slot look-ups at --concurrency clients;
// and prints each booking rate as a ratio of the ceiling. With --kill it then books again, kills the server with
// SIGKILL in the middle, starts it again and checks that every booking it answered 201 for is there.
// Loopback only.

var options = Options.Parse(args);
if (!options.Url.IsLoopback)
{
    Console.Error.WriteLine("Refusing to load a non-loopback address.");
    return 2;
}

Process? server = null;
using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = int.MaxValue };
using var http = new HttpClient(handler) { BaseAddress = options.Url, Timeout = TimeSpan.FromSeconds(60) };
var admin = new AuthenticationHeaderValue("Bearer", options.Key);
var failed = false;
try
{
    if (options.ServerDll is not null)
    {
        server = StartServer(options);
        await WaitForHealthAsync(options.Url);
    }

    double? ceiling = null;
    if (options.Db is not null && options.PgbenchSeconds > 0)
    {
        ceiling = await RunCeilingAsync(options);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ceiling (pgbench, {options.Concurrency} clients, {options.PgbenchSeconds} s): {ceiling:F0} transactions/s"));
    }

    var firstDay = DateTime.UtcNow.Date.AddDays(1);
    var perPage = (options.Bookings / options.Pages) + 1;
    var spreadPages = new List<string>();
    for (var i = 0; i < options.Pages; i++)
    {
        spreadPages.Add(await CreatePageAsync(perPage, i));
    }

    // Spread: request i goes to page i mod P, slot i div P of that page, so the pages are busy evenly.
    var spread = await RunBookingsAsync("spread", options.Bookings,
        i => (spreadPages[i % spreadPages.Count], firstDay.AddMinutes(15 * (i / spreadPages.Count))));
    failed |= spread.Created != options.Bookings;
    Print($"bookings spread over {options.Pages} pages", spread, ceiling);

    var onePage = await CreatePageAsync(options.Bookings, options.Pages);
    var single = await RunBookingsAsync("one page", options.Bookings, i => (onePage, firstDay.AddMinutes(15 * i)));
    failed |= single.Created != options.Bookings;
    Print("bookings on one page", single, ceiling);

    failed |= !await RaceAsync(onePage, firstDay.AddMinutes(15 * (options.Bookings + 10)));
    await SlotsAsync(spreadPages, DateOnly.FromDateTime(firstDay));

    if (options.Kill)
    {
        failed |= !await KillCheckAsync(firstDay);
    }
}
finally
{
    if (server is { HasExited: false })
    {
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }
}

return failed ? 1 : 0;

async Task<string> CreatePageAsync(int slotsNeeded, int n)
{
    var slug = $"load-{n}-" + Guid.NewGuid().ToString("N")[..8];
    // A fresh host per page, so earlier runs' bookings do not occupy its time.
    using var hostRequest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/users")
    {
        Content = JsonContent.Create(new { name = $"Load host {n}", email = $"{slug}@load.example", timeZone = "UTC", role = "member" }),
    };
    hostRequest.Headers.Authorization = admin;
    using var host = await http.SendAsync(hostRequest);
    if (host.StatusCode != HttpStatusCode.Created)
    {
        throw new InvalidOperationException($"Could not create a host: {(int)host.StatusCode} {await host.Content.ReadAsStringAsync()}");
    }

    var hostId = (await host.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    var days = (slotsNeeded / 96) + 2;
    var page = new JsonObject
    {
        ["slug"] = slug,
        ["ownerId"] = hostId,
        ["title"] = "Load test",
        ["durationMinutes"] = 15,
        ["timeZone"] = "UTC",
        ["bookingWindowDays"] = Math.Max(days + 10, 60),
        ["weeklyHours"] = new JsonArray([.. new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" }
            .Select(d => (JsonNode)new JsonObject { ["day"] = d, ["start"] = "00:00", ["end"] = "24:00" })]),
    };
    using var pageRequest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/booking-pages") { Content = JsonContent.Create(page) };
    pageRequest.Headers.Authorization = admin;
    using var created = await http.SendAsync(pageRequest);
    if (created.StatusCode != HttpStatusCode.Created)
    {
        throw new InvalidOperationException($"Could not create a page: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
    }

    return slug;
}

// Public bookings go without an Authorization header, as a visitor's browser sends them.
async Task<HttpResponseMessage> BookAsync(string slug, DateTime start, int i)
{
    var body = new
    {
        start = start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        customer = new { name = $"Load {i}", email = $"load{i}@load.example", timeZone = "UTC" },
    };
    return await http.PostAsJsonAsync($"/api/v1/booking-pages/{slug}/bookings", body);
}

async Task<RunResult> RunBookingsAsync(string name, int count, Func<int, (string Slug, DateTime Start)> target,
    CancellationToken stop = default, List<string>? acknowledged = null)
{
    var latencies = new double[count];
    var statuses = new int[count];
    var next = -1;
    var shown = 0;
    var wall = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
    {
        int i;
        while (!stop.IsCancellationRequested && (i = Interlocked.Increment(ref next)) < count)
        {
            var (slug, start) = target(i);
            var sw = Stopwatch.StartNew();
            try
            {
                using var response = await BookAsync(slug, start, i);
                latencies[i] = sw.Elapsed.TotalMilliseconds;
                statuses[i] = (int)response.StatusCode;
                if (response.StatusCode == HttpStatusCode.Created && acknowledged is not null)
                {
                    var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
                    lock (acknowledged)
                    {
                        acknowledged.Add(id);
                    }
                }
                else if (response.StatusCode != HttpStatusCode.Created && Interlocked.Increment(ref shown) <= 3)
                {
                    Console.Error.WriteLine($"{name} booking {i} at {start:O}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
            catch (HttpRequestException) when (acknowledged is not null)
            {
                // The kill check expects refused connections while the server is down.
                statuses[i] = -1;
            }
            catch (TaskCanceledException)
            {
                // No answer within the client's timeout: counted as a failed request, not the end of the run.
                statuses[i] = -2;
                Console.Error.WriteLine($"{name} booking {i} at {start:O}: no answer within {http.Timeout.TotalSeconds:F0} s");
            }
        }
    }));
    wall.Stop();
    var done = statuses.Count(s => s != 0);
    var measured = latencies.Where((_, i) => statuses[i] > 0).ToArray();
    Array.Sort(measured);
    var created = statuses.Count(s => s == 201);
    return new RunResult(done, created, created / wall.Elapsed.TotalSeconds, measured,
        statuses.Count(s => s >= 500), wall.Elapsed);
}

void Print(string what, RunResult r, double? ceilingRate)
{
    var ratio = ceilingRate is > 0 ? string.Create(CultureInfo.InvariantCulture, $", {r.PerSecond / ceilingRate.Value:F2} of the ceiling") : "";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{what}: {r.Requests} requests, {r.Created} created, {r.ServerErrors} 5xx, concurrency {options.Concurrency}, {r.Wall.TotalSeconds:F1} s, " +
        $"{r.PerSecond:F0} bookings/s{ratio}; median {Percentile(r.Latencies, 0.5):F1} ms, p95 {Percentile(r.Latencies, 0.95):F1} ms, p99 {Percentile(r.Latencies, 0.99):F1} ms"));
}

async Task<bool> RaceAsync(string slug, DateTime start)
{
    // Connections are opened first, so the race measures the server, not TCP handshakes queued behind each other.
    var gate = new TaskCompletionSource();
    var latencies = new double[options.Racers];
    var wall = new Stopwatch();
    var tasks = Enumerable.Range(0, options.Racers).Select(async i =>
    {
        await gate.Task;
        var sw = Stopwatch.StartNew();
        try
        {
            using var response = await BookAsync(slug, start, 1_000_000 + i);
            latencies[i] = sw.Elapsed.TotalMilliseconds;
            if ((int)response.StatusCode >= 500 && i % 100 == 0)
            {
                Console.Error.WriteLine($"race {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            return ((int)response.StatusCode, response.Headers.RetryAfter is not null);
        }
        catch (HttpRequestException ex)
        {
            latencies[i] = sw.Elapsed.TotalMilliseconds;
            Console.Error.WriteLine($"race {i}: {ex.Message}");
            return (-1, false);
        }
    }).ToList();
    wall.Start();
    gate.SetResult();
    var results = await Task.WhenAll(tasks);
    wall.Stop();
    Array.Sort(latencies);
    var created = results.Count(r => r.Item1 == 201);
    var conflicts = results.Count(r => r.Item1 == 409);
    var busy = results.Count(r => r.Item1 == 503);
    var busyWithRetry = results.Count(r => r.Item1 == 503 && r.Item2);
    var errors = results.Count(r => r.Item1 >= 500 && r.Item1 != 503);
    var refused = results.Count(r => r.Item1 < 0);
    var other = results.Length - created - conflicts - busy - errors - refused;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"race for one slot: {options.Racers} requests, {created} × 201, {conflicts} × 409, {busy} × 503 ({busyWithRetry} with Retry-After), " +
        $"{errors} other 5xx, {refused} failed connections, {other} other; {wall.Elapsed.TotalMilliseconds:F0} ms in all, " +
        $"median {Percentile(latencies, 0.5):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms"));
    return created == 1 && errors == 0 && refused == 0;
}

async Task SlotsAsync(List<string> pages, DateOnly day)
{
    var latencies = new double[options.SlotRequests];
    var statuses = new int[options.SlotRequests];
    var next = -1;
    var from = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    var wall = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < options.SlotRequests)
        {
            var sw = Stopwatch.StartNew();
            using var response = await http.GetAsync($"/api/v1/booking-pages/{pages[i % pages.Count]}/slots?from={from}&to={from}&timeZone=UTC");
            await response.Content.ReadAsByteArrayAsync();
            latencies[i] = sw.Elapsed.TotalMilliseconds;
            statuses[i] = (int)response.StatusCode;
        }
    }));
    wall.Stop();
    Array.Sort(latencies);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"slots (one day of a page with bookings): {options.SlotRequests} requests, {statuses.Count(s => s == 200)} × 200, concurrency {options.Concurrency}, " +
        $"{options.SlotRequests / wall.Elapsed.TotalSeconds:F0}/s, median {Percentile(latencies, 0.5):F1} ms, p95 {Percentile(latencies, 0.95):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms"));
}

async Task<bool> KillCheckAsync(DateTime firstDay)
{
    if (server is null)
    {
        Console.Error.WriteLine("--kill needs --server (the driver must own the process it kills).");
        return false;
    }

    var pages = new List<string>();
    for (var i = 0; i < options.Pages; i++)
    {
        pages.Add(await CreatePageAsync(options.Bookings, 1000 + i));
    }

    var acknowledged = new List<string>();
    using var stop = new CancellationTokenSource();
    var load = RunBookingsAsync("kill", options.Bookings * 10,
        i => (pages[i % pages.Count], firstDay.AddMinutes(15 * (i / pages.Count))), stop.Token, acknowledged);
    await Task.Delay(TimeSpan.FromSeconds(3));
    // SIGKILL: no shutdown hooks, no flushing; whatever was answered 201 before this must have been committed.
    server.Kill(entireProcessTree: true);
    await server.WaitForExitAsync();
    int before;
    lock (acknowledged)
    {
        before = acknowledged.Count;
    }

    stop.Cancel();
    await load;
    server = StartServer(options);
    await WaitForHealthAsync(options.Url);
    var missing = 0;
    foreach (var id in acknowledged)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/bookings/{id}");
        request.Headers.Authorization = admin;
        using var response = await http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            missing++;
        }
    }

    Console.WriteLine($"kill -9 during load: {acknowledged.Count} bookings answered 201 ({before} before the kill), {missing} missing after the restart");
    return missing == 0 && acknowledged.Count > 0;
}

static async Task<double> RunCeilingAsync(Options options)
{
    var cs = new NpgsqlConnectionStringBuilder(options.Db);
    await using (var conn = new NpgsqlConnection(cs.ConnectionString))
    {
        await conn.OpenAsync();
        await using var setup = new NpgsqlCommand("""
            CREATE EXTENSION IF NOT EXISTS btree_gist;
            DROP TABLE IF EXISTS bench_ceiling_holds, bench_ceiling_outbox;
            DROP SEQUENCE IF EXISTS bench_ceiling_slots;
            CREATE SEQUENCE bench_ceiling_slots;
            CREATE TABLE bench_ceiling_holds (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                user_id int NOT NULL,
                during tstzrange NOT NULL,
                EXCLUDE USING gist (user_id WITH =, during WITH &&));
            CREATE TABLE bench_ceiling_outbox (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                kind text NOT NULL,
                payload jsonb NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now());
            """, conn);
        await setup.ExecuteNonQueryAsync();
    }

    var script = Path.Combine(AppContext.BaseDirectory, "ceiling.pgbench");
    var start = new ProcessStartInfo("pgbench",
    [
        "-n", "-M", "prepared", "-c", options.Concurrency.ToString(CultureInfo.InvariantCulture), "-j", "2",
        "-T", options.PgbenchSeconds.ToString(CultureInfo.InvariantCulture), "-f", script,
        "-h", cs.Host!, "-p", cs.Port.ToString(CultureInfo.InvariantCulture), "-U", cs.Username ?? "postgres", cs.Database!,
    ])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    using var pgbench = Process.Start(start)!;
    var output = await pgbench.StandardOutput.ReadToEndAsync();
    var errors = await pgbench.StandardError.ReadToEndAsync();
    await pgbench.WaitForExitAsync();
    var tps = Regex.Match(output, @"tps = ([0-9.]+)");
    if (pgbench.ExitCode != 0 || !tps.Success)
    {
        throw new InvalidOperationException($"pgbench failed ({pgbench.ExitCode}): {output} {errors}");
    }

    return double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture);
}

static Process StartServer(Options options)
{
    var start = new ProcessStartInfo("dotnet", [options.ServerDll!])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    start.Environment["RENDEZVOUS_DB"] = options.Db;
    start.Environment["RENDEZVOUS_URL"] = options.Url.ToString().TrimEnd('/');
    start.Environment["Rendezvous__Bootstrap__Organization"] = "load-bench";
    start.Environment["Rendezvous__Bootstrap__ApiKey"] = options.Key;
    // One client address sends everything here; the per-address limits are for the open internet.
    start.Environment["Rendezvous__RateLimits__Enabled"] = "false";
    // The write path alone: the outbox rows are written in the booking's transaction, their delivery is measured apart.
    start.Environment["Rendezvous__Workers__Enabled"] = "false";
    start.Environment["Rendezvous__CalendarSync__Enabled"] = "false";
    start.Environment["Logging__LogLevel__Default"] = "Warning";
    foreach (var (key, value) in options.ServerSettings)
    {
        start.Environment[key] = value;
    }

    var process = Process.Start(start)!;
    process.OutputDataReceived += (_, _) => { };
    var errorLines = 0;
    process.ErrorDataReceived += (_, e) =>
    {
        if (e.Data is not null && Interlocked.Increment(ref errorLines) <= 20)
        {
            Console.Error.WriteLine("server: " + e.Data);
        }
    };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task WaitForHealthAsync(Uri url)
{
    using var client = new HttpClient();
    // Migrations on a fresh database take a while on a busy machine.
    for (var i = 0; i < 2400; i++)
    {
        try
        {
            if ((await client.GetAsync(new Uri(url, "/health"))).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(250);
    }

    throw new TimeoutException("The server did not start within ten minutes.");
}

static double Percentile(double[] sorted, double p) =>
    sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

internal sealed record RunResult(int Requests, int Created, double PerSecond, double[] Latencies, int ServerErrors, TimeSpan Wall);

internal sealed record Options(
    Uri Url, string Key, string? ServerDll, string? Db, int Pages, int Bookings, int Concurrency, int Racers, int SlotRequests,
    int PgbenchSeconds, bool Kill, IReadOnlyList<(string Key, string Value)> ServerSettings)
{
    public static Options Parse(string[] args)
    {
        string? Get(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

        var serverDll = Get("--server");
        var key = Get("--key") ?? Environment.GetEnvironmentVariable("RENDEZVOUS_API_KEY")
            ?? (serverDll is not null ? "rdv_load_bench_" + Guid.NewGuid().ToString("N") : "");
        if (key.Length == 0)
        {
            throw new ArgumentException("Pass --server <dll> --db <connection string>, or --url and --key <administrator API key> of a running server.");
        }

        // --set Name=Value (repeatable) passes a setting to the server it starts, e.g. --set Rendezvous__Admission__MaxConcurrent=8.
        var settings = new List<(string, string)>();
        for (var i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--set" && args[i + 1].IndexOf('=', StringComparison.Ordinal) is > 0 and var eq)
            {
                settings.Add((args[i + 1][..eq], args[i + 1][(eq + 1)..]));
            }
        }

        return new Options(
            new Uri(Get("--url") ?? Environment.GetEnvironmentVariable("RENDEZVOUS_URL") ?? (serverDll is not null ? "http://127.0.0.1:8095" : "http://127.0.0.1:8080")),
            key, serverDll, Get("--db"),
            Int("--pages", 50), Int("--bookings", 2000), Int("--concurrency", 16), Int("--racers", 1000), Int("--slot-requests", 2000),
            Int("--pgbench-seconds", 10), args.Contains("--kill"), settings);
    }
}

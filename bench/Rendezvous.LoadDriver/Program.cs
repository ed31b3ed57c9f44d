using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

// Booking load driver. Against a running server (./scripts/run, or RENDEZVOUS_URL), as the administrator key:
//   dotnet run -c Release --project bench/Rendezvous.LoadDriver -- --url http://127.0.0.1:8080 --key <api key>
//     [--bookings 2000] [--concurrency 16] [--racers 50]
// It creates one fresh page per run, then measures two things:
//   1. throughput and latency of distinct bookings (every request a different slot, --concurrency at a time);
//   2. a race: --racers requests for one slot at once, which must give exactly one 201 and the rest 409.
// Requests stop after the given counts; every request has a 30 s timeout. Loopback only.

var options = Options.Parse(args);
if (!options.Url.IsLoopback)
{
    Console.Error.WriteLine("Refusing to load a non-loopback address.");
    return 2;
}

using var http = new HttpClient { BaseAddress = options.Url, Timeout = TimeSpan.FromSeconds(30) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Key);

var slug = "load-" + Guid.NewGuid().ToString("N")[..10];
// A fresh host per run, so earlier runs' bookings do not occupy the times.
var host = await http.PostAsJsonAsync("/api/v1/users", new { name = "Load host", email = $"{slug}@load.example", timeZone = "UTC", role = "member" });
if (host.StatusCode != HttpStatusCode.Created)
{
    Console.Error.WriteLine($"Could not create the host: {(int)host.StatusCode} {await host.Content.ReadAsStringAsync()}");
    return 1;
}

var hostId = (await host.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
var days = (options.Bookings / 96) + 2;
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
var created = await http.PostAsJsonAsync("/api/v1/booking-pages", page);
if (created.StatusCode != HttpStatusCode.Created)
{
    Console.Error.WriteLine($"Could not create the page: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
    return 1;
}

// Slots start tomorrow (UTC) at midnight, every 15 minutes.
var firstDay = DateTime.UtcNow.Date.AddDays(1);
var starts = Enumerable.Range(0, options.Bookings).Select(i => firstDay.AddMinutes(15 * i)).ToArray();

var latencies = new double[options.Bookings];
var statuses = new HttpStatusCode[options.Bookings];
var next = -1;
var shown = 0;
var wall = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
{
    int i;
    while ((i = Interlocked.Increment(ref next)) < options.Bookings)
    {
        var sw = Stopwatch.StartNew();
        var response = await http.PostAsJsonAsync($"/api/v1/booking-pages/{slug}/bookings", Body(starts[i], i));
        latencies[i] = sw.Elapsed.TotalMilliseconds;
        statuses[i] = response.StatusCode;
        if (response.StatusCode != HttpStatusCode.Created && Interlocked.Increment(ref shown) <= 3)
        {
            Console.Error.WriteLine($"booking {i} at {starts[i]:O}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        response.Dispose();
    }
}));
wall.Stop();

var ok = statuses.Count(s => s == HttpStatusCode.Created);
Array.Sort(latencies);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"distinct bookings: {options.Bookings} requests, {ok} created, concurrency {options.Concurrency}, {wall.Elapsed.TotalSeconds:F1} s, " +
    $"{options.Bookings / wall.Elapsed.TotalSeconds:F0} bookings/s, median {Percentile(latencies, 0.5):F1} ms, p95 {Percentile(latencies, 0.95):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms"));

var raceStart = starts[^1].AddDays(1);
var raceWall = Stopwatch.StartNew();
var raceStatuses = await Task.WhenAll(Enumerable.Range(0, options.Racers).Select(async i =>
{
    using var response = await http.PostAsJsonAsync($"/api/v1/booking-pages/{slug}/bookings", Body(raceStart, 1_000_000 + i));
    return response.StatusCode;
}));
raceWall.Stop();
var winners = raceStatuses.Count(s => s == HttpStatusCode.Created);
var losers = raceStatuses.Count(s => s == HttpStatusCode.Conflict);
Console.WriteLine($"race for one slot: {options.Racers} requests, {winners} created, {losers} conflicts, {raceWall.Elapsed.TotalMilliseconds:F0} ms in all");
return ok == options.Bookings && winners == 1 && losers == options.Racers - 1 ? 0 : 1;

static object Body(DateTime start, int i) => new
{
    start = start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    customer = new { name = $"Load {i}", email = $"load{i}@load.example", timeZone = "UTC" },
};

static double Percentile(double[] sorted, double p) =>
    sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

internal sealed record Options(Uri Url, string Key, int Bookings, int Concurrency, int Racers)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        var key = Get("--key", Environment.GetEnvironmentVariable("RENDEZVOUS_API_KEY") ?? "");
        if (key.Length == 0)
        {
            throw new ArgumentException("Pass --key <administrator API key> (./scripts/run prints it).");
        }

        return new Options(new Uri(Get("--url", Environment.GetEnvironmentVariable("RENDEZVOUS_URL") ?? "http://127.0.0.1:8080")), key,
            int.Parse(Get("--bookings", "2000"), CultureInfo.InvariantCulture),
            int.Parse(Get("--concurrency", "16"), CultureInfo.InvariantCulture),
            int.Parse(Get("--racers", "50"), CultureInfo.InvariantCulture));
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Rendezvous.Calendars.CalDav;

// Calendar sync latency: how long from a change in a host's calendar to the booking's update, with many calendars
// connected and polled at the default interval. Run through bench/sync-latency, which starts PostgreSQL, Radicale and
// the server. Everything stays on 127.0.0.1; every loop is bounded in count and time.
//
//   dotnet run -c Release --project bench/Rendezvous.SyncLatency -- --url URL --key KEY --caldav URL --user U --password P
//       [--calendars 100] [--changes 100]

var o = Options.Parse(args);
using var api = new HttpClient { BaseAddress = o.Url, Timeout = TimeSpan.FromSeconds(30) };
api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", o.Key);
using var dav = new CalDavClient(new CalDavClientOptions { ServerUri = o.CalDav, UserName = o.User, Password = o.Password });
var run = Guid.NewGuid().ToString("N")[..8];
var firstDay = DateTime.UtcNow.Date.AddDays(2);

Console.WriteLine($"setting up {o.Calendars} hosts, each with a booking calendar, a connection (both toggles on) and one booking");
var hosts = new List<HostSetup>();
for (var i = 0; i < o.Calendars; i++)
{
    var user = await PostAsync(api, "/api/v1/users", new { name = $"Latency host {i}", email = $"lat-{run}-{i}@bench.example", timeZone = "UTC", role = "member" });
    var userId = user["id"]!.GetValue<string>();
    var slug = $"lat-{run}-{i}";
    await PostAsync(api, "/api/v1/booking-pages", new
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
    var calendarHref = $"/{o.User}/lat-{run}-{i}/";
    await dav.CreateCalendarAsync(calendarHref, $"Latency {i}", ["VEVENT"]);
    await PostAsync(api, "/api/v1/calendar-connections", new
    {
        userId,
        url = o.CalDav.ToString(),
        username = o.User,
        password = o.Password,
        bookingCalendarUrl = calendarHref,
        cancelBookingOnDelete = true,
        updateBookingOnMove = true,
    });
    var start = firstDay.AddHours(i % 24).AddDays(i / 24);
    var booking = await PostAsync(api, $"/api/v1/booking-pages/{slug}/bookings", new
    {
        start = Iso(start),
        customer = new { name = $"Customer {i}", email = $"customer-{run}-{i}@bench.example", timeZone = "UTC" },
    });
    hosts.Add(new HostSetup(calendarHref, booking["id"]!.GetValue<string>(), start));
}

Console.WriteLine("waiting for every booking to appear in its calendar");
var appearDeadline = Stopwatch.StartNew();
foreach (var host in hosts)
{
    while ((await dav.ListObjectsAsync(host.CalendarHref)).Count == 0)
    {
        if (appearDeadline.Elapsed > TimeSpan.FromMinutes(3))
        {
            Console.Error.WriteLine("bookings did not reach their calendars within 3 minutes");
            return 1;
        }

        await Task.Delay(100);
    }
}

Console.WriteLine($"all {hosts.Count} events written after {appearDeadline.Elapsed.TotalSeconds:F1} s; letting every calendar sync once");
await Task.Delay(TimeSpan.FromSeconds(5));

var latencies = new List<double>();
var random = new Random(20271107);
for (var j = 0; j < o.Changes; j++)
{
    var host = hosts[j % hosts.Count];
    var obj = (await dav.MultigetAsync(host.CalendarHref, (await dav.ListObjectsAsync(host.CalendarHref)).Select(x => x.Href))).Objects.Single();
    var newStart = host.Start.AddDays(30 + j);
    var moved = obj.CalendarData
        .Replace(Compact(host.Start), Compact(newStart), StringComparison.Ordinal)
        .Replace(Compact(host.Start.AddMinutes(30)), Compact(newStart.AddMinutes(30)), StringComparison.Ordinal);

    // Changes land at random moments relative to the polling rhythm.
    await Task.Delay(random.Next(0, 1000));
    var sw = Stopwatch.StartNew();
    var written = await dav.UpdateObjectAsync(obj.Href, moved, obj.ETag!);
    if (!written.Succeeded)
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
            Console.Error.WriteLine($"change {j} was not applied within 60 s");
            return 1;
        }

        await Task.Delay(20);
    }

    latencies.Add(sw.Elapsed.TotalMilliseconds);
    hosts[j % hosts.Count] = host with { Start = newStart };
}

latencies.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"calendar change -> booking rescheduled, {o.Calendars} calendars, {latencies.Count} changes: median {Percentile(0.5):F0} ms, p95 {Percentile(0.95):F0} ms, max {latencies[^1]:F0} ms"));
return Percentile(0.95) < 2000 ? 0 : 3;

double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];

static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

static string Compact(DateTime t) => t.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

static async Task<JsonObject> PostAsync(HttpClient api, string path, object body)
{
    using var response = await api.PostAsJsonAsync(path, body);
    var text = await response.Content.ReadAsStringAsync();
    return response.IsSuccessStatusCode
        ? JsonNode.Parse(text)!.AsObject()
        : throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {text}");
}

internal sealed record HostSetup(string CalendarHref, string BookingId, DateTime Start);

internal sealed record Options(Uri Url, string Key, Uri CalDav, string User, string Password, int Calendars, int Changes)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string? fallback = null)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required");
        }

        var options = new Options(new Uri(Get("--url")), Get("--key"), new Uri(Get("--caldav")), Get("--user"), Get("--password"),
            int.Parse(Get("--calendars", "100"), CultureInfo.InvariantCulture), int.Parse(Get("--changes", "100"), CultureInfo.InvariantCulture));
        return options.Url.IsLoopback && options.CalDav.IsLoopback ? options : throw new ArgumentException("Loopback addresses only.");
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Npgsql;

// Fault harness for the cluster of scripts/cluster (run it through bench/fault/run.sh, which starts the cluster):
// books through HAProxy for --duration while, in a loop, one server process and then the database primary are killed
// with SIGKILL; then waits for the outbox to drain and checks that every acknowledged booking exists, that no two
// bookings of the host overlap, that every booking has exactly one confirmation email per recipient (a repeat must
// carry the same Message-ID) and exactly one calendar event, and that no outbox message was lost. Loopback only,
// bounded in time. Exit code 0 when every check holds.

var o = Options.Parse(args);
foreach (var u in new[] { o.Url, o.CalDavUrl })
{
    if (!u.IsLoopback)
    {
        Console.Error.WriteLine($"Refusing a non-loopback address: {u}");
        return 2;
    }
}

var clock = Stopwatch.StartNew();
var runStarted = DateTimeOffset.UtcNow;
using var http = new HttpClient { BaseAddress = o.Url, Timeout = TimeSpan.FromSeconds(90) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", o.Key);

// --- Set-up: --hosts hosts, each with its own fresh Radicale calendar and a page open around the clock. Several
// calendars because a Radicale collection gets slower with every event in it (one calendar of a thousand events took
// more than 15 s per PUT), and a real organization's bookings are spread over its members' calendars too.
var run = Guid.NewGuid().ToString("N")[..10];
var hosts = new List<Host>();
for (var h = 0; h < o.Hosts; h++)
{
    var calendarPath = $"/{o.CalDavUser}/fault-{run}-{h}/";
    using (var dav = new HttpClient { BaseAddress = o.CalDavUrl, Timeout = TimeSpan.FromSeconds(30) })
    {
        dav.DefaultRequestHeaders.Authorization = Basic(o.CalDavUser, o.CalDavPassword);
        // The CalDAV server is shared with other work on the machine and may be restarting: a few tries.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var made = await dav.SendAsync(new HttpRequestMessage(new HttpMethod("MKCALENDAR"), calendarPath));
                Require(made.StatusCode == HttpStatusCode.Created, $"MKCALENDAR {calendarPath}: {(int)made.StatusCode}");
                break;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && attempt < 5)
            {
                await Task.Delay(2000);
            }
        }
    }

    var hostId = (await SetupAsync("/api/v1/users", new JsonObject
    {
        ["name"] = $"Fault host {h}", ["email"] = $"fault-{run}-{h}@cluster.example", ["timeZone"] = "UTC", ["role"] = "member",
    }))["id"]!.GetValue<string>();
    await SetupAsync("/api/v1/calendar-connections", new JsonObject
    {
        ["userId"] = hostId, ["kind"] = "caldav", ["url"] = o.CalDavUrl.ToString(), ["username"] = o.CalDavUser,
        ["password"] = o.CalDavPassword, ["bookingCalendarUrl"] = calendarPath,
    });
    var slug = $"fault-{run}-{h}";
    var pageId = (await SetupAsync("/api/v1/booking-pages", new JsonObject
    {
        ["slug"] = slug, ["ownerId"] = hostId, ["title"] = $"Fault test {h}", ["durationMinutes"] = 15, ["timeZone"] = "UTC",
        ["bookingWindowDays"] = 365,
        ["weeklyHours"] = new JsonArray([.. new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" }
            .Select(d => (JsonNode)new JsonObject { ["day"] = d, ["start"] = "00:00", ["end"] = "24:00" })]),
    }))["id"]!.GetValue<string>();
    hosts.Add(new Host(slug, Guid.Parse(pageId), calendarPath));
}

var pageIds = hosts.Select(h => h.PageId).ToArray();
Console.WriteLine($"{hosts.Count} pages fault-{run}-*, each with its own calendar; {o.Duration.TotalSeconds:0} s of load with faults every {o.FaultInterval.TotalSeconds:0} s");

// --- Load: distinct slots, and every tenth request aims at the previous slot (a race that must give one booking).
var firstDay = DateTime.UtcNow.Date.AddDays(2);
var acked = new ConcurrentDictionary<string, (string Key, DateTime Start)>();
var outcomes = new ConcurrentDictionary<string, int>();
var retriedRequests = 0;
var nextSlot = 0;
var loadEnds = o.Duration;
var ackTimes = new ConcurrentBag<double>();

async Task WorkerAsync()
{
    while (clock.Elapsed < loadEnds)
    {
        var n = Interlocked.Increment(ref nextSlot);
        var slot = n % 10 == 0 ? n - 1 : n;
        var start = firstDay.AddMinutes(15 * slot);
        // Ten requests in a row go to one page, so the tenth races the ninth on the same host.
        var slug = hosts[(n - 1) / 10 % hosts.Count].Slug;
        var key = Guid.NewGuid().ToString("N");
        var body = new JsonObject
        {
            ["start"] = start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["customer"] = new JsonObject { ["name"] = $"Customer {n}", ["email"] = $"c{n}-{run}@customers.example", ["timeZone"] = "UTC" },
        };
        // The same Idempotency-Key on every try: a request cut with its server, or answered 5xx, is sent again until
        // it gets an answer, up to two minutes after the load ends.
        for (var attempt = 1; ; attempt++)
        {
            string outcome;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/booking-pages/{slug}/bookings")
                {
                    Content = JsonContent.Create(body),
                };
                request.Headers.Add("Idempotency-Key", key);
                using var response = await http.SendAsync(request);
                var code = (int)response.StatusCode;
                if (code == 201)
                {
                    var json = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
                    acked[json["id"]!.GetValue<string>()] = (key, start);
                    ackTimes.Add(clock.Elapsed.TotalSeconds);
                    outcomes.AddOrUpdate("201", 1, (_, c) => c + 1);
                    break;
                }

                if (code < 500)
                {
                    outcomes.AddOrUpdate(code.ToString(CultureInfo.InvariantCulture), 1, (_, c) => c + 1);
                    break;
                }

                outcome = code.ToString(CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                outcome = ex.GetType().Name;
            }

            outcomes.AddOrUpdate("retried after " + outcome, 1, (_, c) => c + 1);
            if (attempt == 1)
            {
                Interlocked.Increment(ref retriedRequests);
            }

            if (clock.Elapsed > loadEnds + TimeSpan.FromMinutes(2))
            {
                outcomes.AddOrUpdate("gave up", 1, (_, c) => c + 1);
                break;
            }

            await Task.Delay(500);
        }
    }
}

// --- Faults: kill -9 one server (in turn), bring it back, then kill -9 the primary, bring that node back as a standby.
var faults = new List<string>();
var writeGaps = new List<double>();
async Task FaultsAsync()
{
    var server = 0;
    while (clock.Elapsed + o.FaultInterval < loadEnds)
    {
        await Task.Delay(o.FaultInterval);
        server = (server % 3) + 1;
        faults.Add($"{clock.Elapsed.TotalSeconds:0}s {await ClusterAsync("kill-server", server.ToString(CultureInfo.InvariantCulture))}");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await ClusterAsync("start");
        if (clock.Elapsed + o.FaultInterval >= loadEnds)
        {
            break;
        }

        await Task.Delay(o.FaultInterval);
        var killedAt = clock.Elapsed.TotalSeconds;
        faults.Add($"{killedAt:0}s {await ClusterAsync("kill-primary")}");
        // Writes are back when a booking is acknowledged that was sent after the kill.
        while (clock.Elapsed < loadEnds + TimeSpan.FromMinutes(2) && !ackTimes.Any(t => t > killedAt + 1))
        {
            await Task.Delay(250);
        }

        writeGaps.Add(ackTimes.Where(t => t > killedAt + 1).DefaultIfEmpty(double.NaN).Min() - killedAt);
        await ClusterAsync("start");
    }
}

var workers = Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(WorkerAsync)).ToList();
var faultTask = Task.Run(FaultsAsync);
await Task.WhenAll(workers);
await faultTask;
var loadSeconds = clock.Elapsed.TotalSeconds;

// --- Drain: the outbox sends the emails and writes the calendar events; wait until nothing is pending, for as long
// as the backlog keeps shrinking (a drain that makes no progress for three minutes has failed), at most 20 minutes.
// The checks read every booking and message of the run: no command timeout.
var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(o.Db) { CommandTimeout = 0 }.ConnectionString);
var drain = Stopwatch.StartNew();
var pendingLeft = -1L;
var lowest = long.MaxValue;
var lastProgress = TimeSpan.Zero;
while (drain.Elapsed < TimeSpan.FromMinutes(20) && drain.Elapsed - lastProgress < TimeSpan.FromMinutes(3))
{
    try
    {
        pendingLeft = await ScalarAsync<long>("SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL");
        if (pendingLeft == 0)
        {
            break;
        }

        if (pendingLeft < lowest)
        {
            lowest = pendingLeft;
            lastProgress = drain.Elapsed;
        }
    }
    catch (NpgsqlException)
    {
        // The database may still be failing over.
    }

    await Task.Delay(500);
}

var drainSeconds = drain.Elapsed.TotalSeconds;

// Emails are on disk once the outbox says sent; calendar writes too. A second for the SMTP sink's file rename.
await Task.Delay(1000);

// --- Checks.
var ackedIds = acked.Keys.Select(Guid.Parse).ToArray();
var missing = await ScalarAsync<long>("SELECT count(*) FROM unnest(@ids) AS i(id) WHERE NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = i.id)", ackedIds);
var stored = await ScalarAsync<long>("SELECT count(*) FROM bookings WHERE booking_page_id = ANY(@pages)", new[] { pageIds });
var overlaps = await ScalarAsync<long>("""
    SELECT count(*) FROM bookings a JOIN bookings b ON a.owner_id = b.owner_id AND a.id < b.id
        AND tstzrange(a.start_at, a.end_at) && tstzrange(b.start_at, b.end_at)
    WHERE a.booking_page_id = ANY(@pages) AND a.status NOT IN ('Canceled', 'Declined') AND b.status NOT IN ('Canceled', 'Declined')
    """, new[] { pageIds });
var outboxMissing = await ScalarAsync<long>("""
    SELECT count(*) FROM unnest(@ids) AS i(id)
    WHERE NOT EXISTS (SELECT 1 FROM outbox_messages m WHERE m.ordering_key = i.id::text)
    """, ackedIds);
var outboxFailed = await ScalarAsync<long>("SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL");
var storedIds = await ListAsync("SELECT id::text FROM bookings WHERE booking_page_id = ANY(@pages)", new[] { pageIds });

// Emails: confirmation per (booking, recipient); repeats must share the Message-ID.
var mails = ReadMaildir(o.Maildir, runStarted).Where(m => m.Kind == "confirmation" && storedIds.Contains(m.Booking)).ToList();
var mailGroups = mails.GroupBy(m => (m.Booking, m.To)).ToList();
var mailDuplicatesSameId = mailGroups.Count(g => g.Count() > 1 && g.Select(m => m.MessageId).Distinct().Count() == 1);
var mailDuplicatesDifferent = mailGroups.Count(g => g.Select(m => m.MessageId).Distinct().Count() > 1);
var bookingsWithoutMail = storedIds.Count(id => !mails.Any(m => m.Booking == id));

// Calendar: one event per booking in its host's calendar.
var events = new List<string>();
foreach (var host in hosts)
{
    events.AddRange(await CalendarEventsAsync(host.CalendarPath));
}

var eventsPerBooking = storedIds.ToDictionary(id => id, id => events.Count(e => e.Contains(id, StringComparison.OrdinalIgnoreCase)));
var bookingsWithoutEvent = eventsPerBooking.Count(kv => kv.Value == 0);
var bookingsWithSeveralEvents = eventsPerBooking.Count(kv => kv.Value > 1);

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"load: {loadSeconds:0} s, {o.Concurrency} clients; requests: {string.Join(", ", outcomes.OrderBy(k => k.Key).Select(k => $"{k.Key}: {k.Value}"))}");
report.AppendLine(CultureInfo.InvariantCulture, $"requests that needed a retry by the client: {retriedRequests}");
report.AppendLine(CultureInfo.InvariantCulture, $"faults: {faults.Count} ({string.Join("; ", faults)})");
report.AppendLine(CultureInfo.InvariantCulture, $"writes resumed after a primary kill (s): {string.Join(", ", writeGaps.Select(g => g.ToString("0.0", CultureInfo.InvariantCulture)))}");
report.AppendLine(CultureInfo.InvariantCulture, $"acknowledged bookings: {acked.Count}; missing from the database: {missing}; stored on the page: {stored}");
report.AppendLine(CultureInfo.InvariantCulture, $"overlapping booking pairs: {overlaps}");
report.AppendLine(CultureInfo.InvariantCulture, $"confirmation emails: {mails.Count} for {mailGroups.Count} (booking, recipient) pairs; bookings without one: {bookingsWithoutMail}; repeats with the same Message-ID: {mailDuplicatesSameId}; repeats with a different Message-ID: {mailDuplicatesDifferent}");
report.AppendLine(CultureInfo.InvariantCulture, $"calendar events: {events.Count}; bookings without an event: {bookingsWithoutEvent}; with more than one: {bookingsWithSeveralEvents}");
report.AppendLine(CultureInfo.InvariantCulture, $"outbox: acknowledged bookings without a message: {outboxMissing}; drain: {drainSeconds:0} s; messages still pending after it: {outboxFailed}");
var ok = missing == 0 && overlaps == 0 && mailDuplicatesDifferent == 0 && bookingsWithoutMail == 0 && bookingsWithoutEvent == 0
    && bookingsWithSeveralEvents == 0 && outboxMissing == 0 && outboxFailed == 0 && acked.Count > 0;
report.AppendLine(ok ? "RESULT: every check holds" : "RESULT: a check FAILED");
Console.Write(report);
return ok ? 0 : 1;

async Task<JsonObject> SetupAsync(string path, JsonObject body)
{
    for (var attempt = 1; ; attempt++)
    {
        try
        {
            using var response = await http.PostAsJsonAsync(path, body);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            }

            Require(attempt < 10 && (int)response.StatusCode >= 500, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        catch (HttpRequestException) when (attempt < 10)
        {
        }

        await Task.Delay(1000);
    }
}

async Task<string> ClusterAsync(params string[] arguments)
{
    var start = new ProcessStartInfo(o.ClusterScript) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in arguments)
    {
        start.ArgumentList.Add(a);
    }

    using var process = Process.Start(start)!;
    var output = await process.StandardOutput.ReadToEndAsync();
    var errors = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0)
    {
        Console.Error.WriteLine($"cluster {string.Join(' ', arguments)} failed: {errors}");
    }

    var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
    Console.WriteLine($"[{clock.Elapsed.TotalSeconds:0}s] cluster {string.Join(' ', arguments)}: {(arguments[0] == "start" ? "ok" : last)}");
    return last;
}

async Task<T> ScalarAsync<T>(string sql, object? parameter = null)
{
    await using var command = db.CreateCommand(sql);
    AddParameter(command, parameter);
    return (T)(await command.ExecuteScalarAsync())!;
}

async Task<HashSet<string>> ListAsync(string sql, object? parameter = null)
{
    await using var command = db.CreateCommand(sql);
    AddParameter(command, parameter);
    await using var reader = await command.ExecuteReaderAsync();
    var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
    while (await reader.ReadAsync())
    {
        set.Add(reader.GetString(0));
    }

    return set;
}

static void AddParameter(NpgsqlCommand command, object? parameter)
{
    if (parameter is Guid[] ids)
    {
        command.Parameters.AddWithValue("ids", ids);
    }
    else if (parameter is Guid[][] pages)
    {
        command.Parameters.AddWithValue("pages", pages[0]);
    }
}

async Task<List<string>> CalendarEventsAsync(string calendarPath)
{
    // The CalDAV server is shared with other work on the machine and may restart: a few tries before giving up.
    for (var attempt = 1; ; attempt++)
    {
        try
        {
            return await CalendarEventsOnceAsync(calendarPath);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && attempt < 5)
        {
            await Task.Delay(5000);
        }
    }
}

async Task<List<string>> CalendarEventsOnceAsync(string calendarPath)
{
    using var dav = new HttpClient { BaseAddress = o.CalDavUrl };
    dav.DefaultRequestHeaders.Authorization = Basic(o.CalDavUser, o.CalDavPassword);
    using var request = new HttpRequestMessage(new HttpMethod("REPORT"), calendarPath)
    {
        Content = new StringContent("""
            <?xml version="1.0" encoding="utf-8"?>
            <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
              <D:prop><C:calendar-data/></D:prop>
              <C:filter><C:comp-filter name="VCALENDAR"/></C:filter>
            </C:calendar-query>
            """, Encoding.UTF8, "application/xml"),
    };
    request.Headers.Add("Depth", "1");
    using var response = await dav.SendAsync(request);
    var xml = XDocument.Parse(await response.Content.ReadAsStringAsync());
    XNamespace c = "urn:ietf:params:xml:ns:caldav";
    return [.. xml.Descendants(c + "calendar-data").Select(e => e.Value)];
}

static IEnumerable<Mail> ReadMaildir(string maildir, DateTimeOffset since)
{
    foreach (var file in Directory.EnumerateFiles(Path.Combine(maildir, "new")).Concat(Directory.EnumerateFiles(Path.Combine(maildir, "cur"))))
    {
        if (File.GetLastWriteTimeUtc(file) < since.UtcDateTime.AddSeconds(-5))
        {
            continue;
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in File.ReadLines(file))
        {
            if (line.Length == 0)
            {
                break;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && !char.IsWhiteSpace(line[0]))
            {
                headers.TryAdd(line[..colon], line[(colon + 1)..].Trim());
            }
        }

        if (headers.TryGetValue("X-Rendezvous-Booking", out var booking))
        {
            yield return new Mail(booking, headers.GetValueOrDefault("X-Rendezvous-Kind", ""), headers.GetValueOrDefault("To", ""),
                headers.GetValueOrDefault("Message-ID", ""));
        }
    }
}

static AuthenticationHeaderValue Basic(string user, string password) =>
    new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

static void Require(bool condition, string message)
{
    if (!condition)
    {
        throw new InvalidOperationException(message);
    }
}

internal sealed record Host(string Slug, Guid PageId, string CalendarPath);

internal sealed record Mail(string Booking, string Kind, string To, string MessageId);

internal sealed record Options(Uri Url, string Key, string Db, string Maildir, Uri CalDavUrl, string CalDavUser, string CalDavPassword,
    TimeSpan Duration, TimeSpan FaultInterval, int Concurrency, string ClusterScript, int Hosts)
{
    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        string Get(string name, string variable, string? fallback = null) =>
            values.GetValueOrDefault(name) ?? Environment.GetEnvironmentVariable(variable) ?? fallback
            ?? throw new ArgumentException($"--{name} (or {variable}) is required");

        var duration = TimeSpan.FromSeconds(double.Parse(Get("duration", "FAULT_DURATION", "180"), CultureInfo.InvariantCulture));
        if (duration > TimeSpan.FromMinutes(30))
        {
            throw new ArgumentException("--duration is at most 1800 seconds");
        }

        return new Options(new Uri(Get("url", "CLUSTER_URL")), Get("key", "CLUSTER_API_KEY"), Get("db", "CLUSTER_DB"), Get("maildir", "CLUSTER_MAILDIR"),
            new Uri(Get("caldav-url", "RENDEZVOUS_TEST_CALDAV_URL")), Get("caldav-user", "RENDEZVOUS_TEST_CALDAV_USER"),
            Get("caldav-password", "RENDEZVOUS_TEST_CALDAV_PASSWORD"), duration,
            TimeSpan.FromSeconds(double.Parse(Get("fault-interval", "FAULT_INTERVAL", "20"), CultureInfo.InvariantCulture)),
            int.Parse(Get("concurrency", "FAULT_CONCURRENCY", "4"), CultureInfo.InvariantCulture), Get("cluster", "CLUSTER_SCRIPT"),
            Math.Clamp(int.Parse(Get("hosts", "FAULT_HOSTS", "8"), CultureInfo.InvariantCulture), 1, 50));
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using Rendezvous.ReminderBench;

// Outbox throughput: how fast the real server drains a backlog of booking events into email, against how fast the SMTP
// sink takes mail at all. Run through bench/outbox, which starts PostgreSQL and prepares an empty database.
//
// 1. The sink's own limit: raw sockets, pipelined ESMTP, ready-made messages of the same size, --connections at once.
// 2. The server (Release build, workers on, SMTP pointed at a fresh sink) starts; N bookings are seeded with one
//    booking.created outbox message each, held back (available in a day); then all are released at once and the
//    driver waits until every message is processed. Each message sends two emails (customer and host).
// 3. With --kill-after K, the server is killed (SIGKILL) once K messages are done and started again; at the end every
//    email must have arrived, and any email that arrived twice must carry the same Message-ID (the sink counts them by it).
//
//   dotnet run -c Release --project bench/Rendezvous.OutboxThroughput -- --db "<connection string>" --server <Rendezvous.Server.dll>
//       [--messages 16000] [--hosts 200] [--connections 8] [--kill-after 5000]

var db = Arg("--db") ?? throw new ArgumentException("--db is required");
var serverDll = Arg("--server") ?? throw new ArgumentException("--server is required");
var total = int.Parse(Arg("--messages") ?? "16000", CultureInfo.InvariantCulture);
var hosts = int.Parse(Arg("--hosts") ?? "200", CultureInfo.InvariantCulture);
var connections = int.Parse(Arg("--connections") ?? "8", CultureInfo.InvariantCulture);
var killAfter = Arg("--kill-after") is { } k ? int.Parse(k, CultureInfo.InvariantCulture) : (int?)null;
var emailsPerMessage = 2;

// 1. The sink's limit with a client that does nothing but write ready-made messages.
double ceiling;
await using (var rawSink = new SmtpSink())
{
    rawSink.Start();
    var count = Math.Min(total * emailsPerMessage, 20_000);
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, connections).Select(c => RawSendAsync(rawSink.Port, c, count / connections)));
    ceiling = rawSink.Messages / watch.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"sink limit (raw sockets, {connections} connections, pipelined): {rawSink.Messages} messages in {watch.Elapsed.TotalSeconds:F1} s = {ceiling:F0}/s"));
}

// 2. The server drains a backlog into a fresh sink.
await using var sink = new SmtpSink();
sink.Start();
var key = "rdv_bench_outbox_" + Guid.NewGuid().ToString("N");
var server = StartServer(serverDll, db, sink.Port, key, connections);
try
{
    await WaitForHealthAsync();
    Console.WriteLine($"seeding {total} bookings with a held-back booking.created message each ({hosts} hosts)");
    await SeedAsync(db, total, hosts);
    var cpuBefore = server.TotalProcessorTime;
    await using var conn = new NpgsqlConnection(db);
    await conn.OpenAsync();
    await Execute(conn, "UPDATE outbox_messages SET available_at = now() WHERE type = 'booking.created' AND processed_at IS NULL");
    var watch = Stopwatch.StartNew();
    var killed = false;
    var serverCpu = TimeSpan.Zero;
    long done = 0;
    var deadline = TimeSpan.FromMinutes(killAfter is null ? 60 : 70);
    while (watch.Elapsed < deadline)
    {
        await Task.Delay(100);
        done = await Scalar(conn, "SELECT count(*) FROM outbox_messages WHERE type = 'booking.created' AND processed_at IS NOT NULL");
        if (killAfter is { } after && !killed && done >= after)
        {
            serverCpu += server.TotalProcessorTime - cpuBefore;
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            killed = true;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"killed the server (SIGKILL) at {watch.Elapsed.TotalSeconds:F1} s with {done} messages done and {sink.Messages} emails received; starting it again"));
            server = StartServer(serverDll, db, sink.Port, key, connections);
            cpuBefore = server.TotalProcessorTime;
        }

        if (done >= total && sink.Distinct >= total * emailsPerMessage)
        {
            break;
        }
    }

    var seconds = watch.Elapsed.TotalSeconds;
    serverCpu += server.TotalProcessorTime - cpuBefore;
    var rate = done / seconds;
    var emailRate = sink.Messages / seconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"drained {done} of {total} messages in {seconds:F1} s = {rate:F0} messages/s; {sink.Messages} emails received ({emailRate:F0}/s), "
        + $"{sink.Distinct} distinct Message-IDs, {sink.Duplicates} received twice; "
        + $"server CPU {serverCpu.TotalSeconds:F1} s ({serverCpu.TotalMilliseconds / Math.Max(done, 1):F2} ms/message); "
        + $"email rate / sink limit = {emailRate / ceiling:P0}"));
    var dead = await Scalar(conn, "SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL");
    Console.WriteLine($"messages not processed: {dead}");
    var complete = done == total && sink.Distinct == total * emailsPerMessage;
    return complete ? 0 : 3;
}
finally
{
    if (!server.HasExited)
    {
        server.Kill(entireProcessTree: true);
    }

    await server.WaitForExitAsync();
}

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static async Task Execute(NpgsqlConnection conn, string sql)
{
    await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
    await cmd.ExecuteNonQueryAsync();
}

static async Task<long> Scalar(NpgsqlConnection conn, string sql)
{
    await using var cmd = new NpgsqlCommand(sql, conn);
    return (long)(await cmd.ExecuteScalarAsync())!;
}

// Pipelined ESMTP over one socket: the envelope in one write, the data in another, replies read as they come.
static async Task RawSendAsync(int port, int connection, int count)
{
    using var client = new TcpClient { NoDelay = true };
    await client.ConnectAsync("127.0.0.1", port);
    var stream = client.GetStream();
    var reader = new StreamReader(stream, Encoding.ASCII);
    async Task Expect(string code)
    {
        string? line;
        do
        {
            line = await reader.ReadLineAsync() ?? throw new IOException("closed");
        }
        while (line.Length > 3 && line[3] == '-');
        if (!line.StartsWith(code, StringComparison.Ordinal))
        {
            throw new IOException($"expected {code}, got {line}");
        }
    }

    await Expect("220");
    await stream.WriteAsync(Encoding.ASCII.GetBytes("EHLO bench\r\n"));
    await Expect("250");
    var body = new string('x', 76);
    for (var n = 0; n < count; n++)
    {
        var envelope = $"MAIL FROM:<no-reply@bench.example>\r\nRCPT TO:<c{connection}-{n}@bench.example>\r\nDATA\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(envelope));
        await Expect("250");
        await Expect("250");
        await Expect("354");
        // About the size of a booking email (3.3 kB): headers, then 40 lines.
        var message = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"Message-ID: <raw-{connection}-{n}@bench.example>\r\nSubject: bench\r\n\r\n");
        for (var line = 0; line < 40; line++)
        {
            message.Append(body).Append("\r\n");
        }

        message.Append(".\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(message.ToString()));
        await Expect("250");
    }

    await stream.WriteAsync(Encoding.ASCII.GetBytes("QUIT\r\n"));
}

static Process StartServer(string dll, string db, int smtpPort, string key, int connections)
{
    var start = new ProcessStartInfo("dotnet", [dll])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    start.Environment["RENDEZVOUS_DB"] = db + ";Maximum Pool Size=100";
    start.Environment["RENDEZVOUS_URL"] = "http://127.0.0.1:8094";
    start.Environment["Rendezvous__Bootstrap__Organization"] = "outbox-bench";
    start.Environment["Rendezvous__Bootstrap__ApiKey"] = key;
    start.Environment["Rendezvous__Smtp__Host"] = "127.0.0.1";
    start.Environment["Rendezvous__Smtp__Port"] = smtpPort.ToString(CultureInfo.InvariantCulture);
    start.Environment["Rendezvous__Smtp__Security"] = "None";
    start.Environment["Rendezvous__Smtp__MaxConnections"] = connections.ToString(CultureInfo.InvariantCulture);
    start.Environment["Rendezvous__Smtp__From"] = "Bookings <no-reply@bench.example>";
    start.Environment["Rendezvous__CalendarSync__Enabled"] = "false";
    // Everything the handlers reach in this run listens on loopback, which outbound calls may not reach unless allowed.
    start.Environment["Rendezvous__Outbound__AllowedHosts__0"] = "127.0.0.1";
    // A killed process's claims come back after this long (the default, two minutes, would only stretch the run).
    start.Environment["Rendezvous__Outbox__Lease"] = "00:00:10";
    start.Environment["Logging__LogLevel__Default"] = "Warning";
    var process = Process.Start(start)!;
    process.OutputDataReceived += (_, e) => { };
    process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("server: " + e.Data); } };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task WaitForHealthAsync()
{
    using var http = new HttpClient();
    for (var i = 0; i < 960; i++)
    {
        try
        {
            if ((await http.GetAsync(new Uri("http://127.0.0.1:8094/health"))).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(250);
    }

    throw new TimeoutException("The server did not start within four minutes.");
}

// Bookings as the API would have written them, each with the booking.created event it raised, held back for a day.
static async Task SeedAsync(string connectionString, int total, int hosts)
{
    await using var conn = new NpgsqlConnection(connectionString);
    await conn.OpenAsync();
    var sql = """
        INSERT INTO users (id, organization_id, name, email, time_zone, role, created_at)
        SELECT gen_random_uuid(), o.id, 'Host ' || g, 'host' || g || '@bench.example', 'Europe/London', 'Member', now()
        FROM organizations o, generate_series(1, @hosts) g WHERE o.slug = 'outbox-bench';

        INSERT INTO booking_pages (id, organization_id, owner_id, slug, title, description, location, settings, created_at)
        SELECT gen_random_uuid(), u.organization_id, u.id, 'bench-' || replace(u.id::text, '-', ''), 'Consultation', NULL, 'Video call',
               '{"durationMinutes":30,"timeZone":"Europe/London","weeklyHours":[]}', now()
        FROM users u JOIN organizations o ON o.id = u.organization_id WHERE o.slug = 'outbox-bench' AND u.email LIKE 'host%@bench.example';

        CREATE TEMP TABLE bench_pages AS
        SELECT p.id AS page_id, p.owner_id, p.organization_id, row_number() OVER (ORDER BY p.id) - 1 AS n
        FROM booking_pages p JOIN organizations o ON o.id = p.organization_id WHERE o.slug = 'outbox-bench';

        INSERT INTO customers (id, organization_id, name, email, phone, time_zone, created_at)
        SELECT gen_random_uuid(), (SELECT organization_id FROM bench_pages LIMIT 1), 'Customer ' || g, 'customer' || g || '@bench.example', NULL, 'America/New_York', now()
        FROM generate_series(1, @total) g;

        CREATE TEMP TABLE bench_customers AS
        SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM customers WHERE email LIKE 'customer%@bench.example';

        CREATE TEMP TABLE bench_bookings AS
        SELECT gen_random_uuid() AS id, p.page_id, p.owner_id, p.organization_id, c.id AS customer_id,
               date_trunc('hour', now()) + interval '2 days' + ((c.n / @hosts) * interval '1 hour') AS start_at,
               date_trunc('second', now()) AS at
        FROM bench_customers c JOIN bench_pages p ON p.n = c.n % @hosts;

        INSERT INTO bookings (id, organization_id, booking_page_id, owner_id, customer_id, start_at, end_at, status, detailed_status,
                              session_number, session_count, answers, created_at, updated_at)
        SELECT id, organization_id, page_id, owner_id, customer_id, start_at, start_at + interval '30 minutes', 'Scheduled',
               'Scheduled by Customer', 1, 1, '{}', at, at
        FROM bench_bookings;

        INSERT INTO booking_hosts (booking_id, user_id, is_primary, start_at, end_at, hold_key, active)
        SELECT id, owner_id, true, start_at, start_at + interval '30 minutes', id::text, true FROM bench_bookings;

        INSERT INTO booking_activities (booking_id, at, to_status, detailed_status, actor_kind, start_at, end_at)
        SELECT id, at, 'Scheduled', 'Scheduled by Customer', 'Customer', start_at, start_at + interval '30 minutes' FROM bench_bookings;

        INSERT INTO outbox_messages (organization_id, type, payload, created_at, available_at)
        SELECT organization_id, 'booking.created', jsonb_build_object(
                   'type', 'booking.created', 'bookingId', id, 'organizationId', organization_id, 'bookingPageId', page_id,
                   'status', 'scheduled', 'detailedStatus', 'Scheduled by Customer',
                   'actor', jsonb_build_object('kind', 'customer', 'id', customer_id),
                   'reason', NULL, 'start', to_char(start_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'end', to_char((start_at + interval '30 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'previousStart', NULL, 'previousEnd', NULL,
                   'occurredAt', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'quiet', false),
               at, now() + interval '1 day'
        FROM bench_bookings ORDER BY start_at, id;
        """;
    await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
    cmd.Parameters.AddWithValue("hosts", hosts);
    cmd.Parameters.AddWithValue("total", total);
    await cmd.ExecuteNonQueryAsync();
}

using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Rendezvous.ReminderBench;

// Reminder throughput: N reminders all due in the same minute must all reach the SMTP server within that minute, each
// once. Run through bench/reminders, which starts PostgreSQL and prepares a database. This driver seeds bookings and
// their reminders straight into the database (due at the start of the next full minute), starts an SMTP sink, starts
// the real server with its workers pointed at the sink, and watches. Loopback only; bounded in count and time.
//
//   dotnet run -c Release --project bench/Rendezvous.ReminderBench -- --db "<connection string>" --server <path to Rendezvous.Server.dll>
//       [--reminders 100000] [--hosts 1000]

var db = Arg("--db") ?? throw new ArgumentException("--db is required");
var serverDll = Arg("--server") ?? throw new ArgumentException("--server is required");
var total = int.Parse(Arg("--reminders") ?? "100000", CultureInfo.InvariantCulture);
var hosts = int.Parse(Arg("--hosts") ?? "1000", CultureInfo.InvariantCulture);

await using var sink = new SmtpSink();
sink.Start();
Console.WriteLine($"SMTP sink on 127.0.0.1:{sink.Port}");

// Migrate and bootstrap by starting the server once without workers... simpler: start it with workers on and seed
// reminders due at the next minute that is at least 40 seconds away, so seeding finishes first.
var now = DateTime.UtcNow;
var due = new DateTime(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, DateTimeKind.Utc).AddMinutes(now.Second < 20 ? 1 : 2);
var key = "rdv_bench_reminders_" + Guid.NewGuid().ToString("N");
var server = StartServer(serverDll, db, sink.Port, key);
try
{
    await WaitForHealthAsync();
    Console.WriteLine($"seeding {total} bookings with a reminder due at {due:HH:mm:ss} UTC ({hosts} hosts)");
    var seedWatch = Stopwatch.StartNew();
    await SeedAsync(db, total, hosts, due);
    Console.WriteLine($"seeded in {seedWatch.Elapsed.TotalSeconds:F1} s; waiting for {due:HH:mm:ss}");
    if (DateTime.UtcNow >= due)
    {
        Console.Error.WriteLine("Seeding ran past the due minute; use fewer reminders or a faster machine.");
        return 2;
    }

    var deadline = due.AddMinutes(3);
    while (sink.Messages < total && DateTime.UtcNow < deadline)
    {
        await Task.Delay(200);
    }

    var lastAt = DateTime.UtcNow.AddMilliseconds(sink.LastMessageTicks - Environment.TickCount64);
    var elapsed = lastAt - due;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"reminders due {due:HH:mm:ss}: {sink.Messages} messages received, {sink.Distinct} distinct, {sink.Duplicates} duplicated; last one {elapsed.TotalSeconds:F1} s after the due time ({total / Math.Max(elapsed.TotalSeconds, 0.001):F0} per second)"));
    await using var conn = new NpgsqlConnection(db);
    await conn.OpenAsync();
    await using var count = new NpgsqlCommand("SELECT status, count(*) FROM reminders GROUP BY status ORDER BY status", conn);
    await using (var reader = await count.ExecuteReaderAsync())
    {
        while (await reader.ReadAsync())
        {
            Console.WriteLine($"  reminders {reader.GetString(0)}: {reader.GetInt64(1)}");
        }
    }

    return sink.Messages == total && sink.Distinct == total && elapsed < TimeSpan.FromMinutes(1) ? 0 : 3;
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

static Process StartServer(string dll, string db, int smtpPort, string key)
{
    var start = new ProcessStartInfo("dotnet", [dll])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    start.Environment["RENDEZVOUS_DB"] = db + ";Maximum Pool Size=100";
    start.Environment["RENDEZVOUS_URL"] = "http://127.0.0.1:8093";
    start.Environment["Rendezvous__Bootstrap__Organization"] = "reminder-bench";
    start.Environment["Rendezvous__Outbound__AllowedHosts__0"] = "127.0.0.1";
    start.Environment["Rendezvous__Bootstrap__ApiKey"] = key;
    start.Environment["Rendezvous__Smtp__Host"] = "127.0.0.1";
    start.Environment["Rendezvous__Smtp__Port"] = smtpPort.ToString(CultureInfo.InvariantCulture);
    start.Environment["Rendezvous__Smtp__From"] = "Bookings <no-reply@bench.example>";
    start.Environment["Rendezvous__CalendarSync__Enabled"] = "false";
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
    for (var i = 0; i < 240; i++)
    {
        try
        {
            if ((await http.GetAsync(new Uri("http://127.0.0.1:8093/health"))).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(250);
    }

    throw new TimeoutException("The server did not start within a minute.");
}

static async Task SeedAsync(string connectionString, int total, int hosts, DateTime due)
{
    await using var conn = new NpgsqlConnection(connectionString);
    await conn.OpenAsync();
    var sql = """
        DO $$ BEGIN PERFORM 1; END $$;
        WITH org AS (SELECT id FROM organizations WHERE slug = 'reminder-bench')
        INSERT INTO users (id, organization_id, name, email, time_zone, role, created_at)
        SELECT gen_random_uuid(), org.id, 'Host ' || g, 'host' || g || '@bench.example', 'Europe/London', 'Member', now()
        FROM org, generate_series(1, @hosts) g;

        INSERT INTO booking_pages (id, organization_id, owner_id, slug, title, description, location, settings, created_at)
        SELECT gen_random_uuid(), u.organization_id, u.id, 'bench-' || replace(u.id::text, '-', ''), 'Consultation', NULL, 'Video call',
               '{"durationMinutes":30,"timeZone":"Europe/London","weeklyHours":[]}', now()
        FROM users u JOIN organizations o ON o.id = u.organization_id WHERE o.slug = 'reminder-bench' AND u.email LIKE 'host%@bench.example';

        CREATE TEMP TABLE bench_pages AS
        SELECT p.id AS page_id, p.owner_id, p.organization_id, row_number() OVER (ORDER BY p.id) - 1 AS n
        FROM booking_pages p JOIN organizations o ON o.id = p.organization_id WHERE o.slug = 'reminder-bench';

        INSERT INTO customers (id, organization_id, name, email, phone, time_zone, created_at)
        SELECT gen_random_uuid(), (SELECT organization_id FROM bench_pages LIMIT 1), 'Customer ' || g, 'customer' || g || '@bench.example', NULL, 'America/New_York', now()
        FROM generate_series(1, @total) g;

        CREATE TEMP TABLE bench_customers AS
        SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM customers WHERE email LIKE 'customer%@bench.example';

        CREATE TEMP TABLE bench_bookings AS
        SELECT gen_random_uuid() AS id, p.page_id, p.owner_id, p.organization_id, c.id AS customer_id,
               @due::timestamptz + interval '1 day' + ((c.n / @hosts) * interval '1 hour') AS start_at
        FROM bench_customers c JOIN bench_pages p ON p.n = c.n % @hosts;

        INSERT INTO bookings (id, organization_id, booking_page_id, owner_id, customer_id, start_at, end_at, status, detailed_status,
                              session_number, session_count, answers, created_at, updated_at)
        SELECT id, organization_id, page_id, owner_id, customer_id, start_at, start_at + interval '30 minutes', 'Scheduled',
               'Scheduled by Customer', 1, 1, '{}', now(), now()
        FROM bench_bookings;

        INSERT INTO booking_hosts (booking_id, user_id, is_primary, start_at, end_at, hold_key, active)
        SELECT id, owner_id, true, start_at, start_at + interval '30 minutes', id::text, true FROM bench_bookings;

        INSERT INTO booking_activities (booking_id, at, to_status, detailed_status, actor_kind, start_at, end_at)
        SELECT id, now(), 'Scheduled', 'Scheduled by Customer', 'Customer', start_at, start_at + interval '30 minutes' FROM bench_bookings;

        INSERT INTO reminders (id, organization_id, booking_id, kind, number, offset_minutes, channel, for_start, due_at, status)
        SELECT gen_random_uuid(), organization_id, id, 'Reminder', 1, 1440, 'Email', start_at, @due::timestamptz, 'Pending' FROM bench_bookings;
        """;
    await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
    cmd.Parameters.AddWithValue("hosts", hosts);
    cmd.Parameters.AddWithValue("total", total);
    cmd.Parameters.AddWithValue("due", due);
    await cmd.ExecuteNonQueryAsync();
}

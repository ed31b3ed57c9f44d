using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Npgsql;

namespace Rendezvous.Browser.Tests.Infrastructure;

/// <summary>
/// The real server, started as its own process on a free loopback port against a fresh PostgreSQL database, with its
/// background workers running and email going to the test SMTP server; plus one headless Debian Chromium driven by
/// Playwright. Bootstraps organization "browser" whose administrator (<see cref="AdminEmail"/>) signs in with
/// <see cref="AdminPassword"/> and calls the API with <see cref="AdminKey"/>.
/// </summary>
public sealed class RendezvousServer : IAsyncLifetime
{
    public const string Organization = "browser";
    public const string AdminEmail = "ada@browser.example";
    public const string AdminPassword = "browser-admin-password";
    public const string AdminKey = "rdv_browser_test_admin_key_0000000001";

    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _database;
    private IPlaywright? _playwright;

    public string BaseUrl { get; private set; } = "";

    public string ConnectionString { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>What the server wrote so far (shown when a test fails to start it).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        if (TestEnvironment.SkipReason is not null)
        {
            return;
        }

        var admin = TestEnvironment.Database
            ?? throw new InvalidOperationException("RENDEZVOUS_TEST_DB is not set: PostgreSQL is required (CI=true turns a missing service into a failure).");
        var smtp = TestEnvironment.SmtpHost
            ?? throw new InvalidOperationException("RENDEZVOUS_TEST_SMTP_HOST is not set: the SMTP server is required.");
        if (!File.Exists(TestEnvironment.ChromiumPath))
        {
            throw new InvalidOperationException($"{TestEnvironment.ChromiumPath} is missing: install Debian's chromium (scripts/lib.sh ensure_chromium).");
        }

        _database = "rdv_browser_" + Guid.NewGuid().ToString("N")[..12];
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{_database}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = _database }.ConnectionString;
        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}";
        StartServer(smtp);
        await WaitUntilUpAsync();

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = TestEnvironment.ChromiumPath,
            Headless = true,
            ChromiumSandbox = false,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (_database is not null && TestEnvironment.Database is { } admin)
        {
            NpgsqlConnection.ClearAllPools();
            await using var conn = new NpgsqlConnection(admin);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    /// <summary>A fresh browser context (its own cookies and storage), in a time zone and at a size of the test's choosing.</summary>
    public async Task<IPage> NewPageAsync(string timeZone = "Europe/London", int width = 1280, int height = 900, string locale = "en-GB")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            TimezoneId = timeZone,
            Locale = locale,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    /// <summary>Signs in through the sign-in page and lands on the activity stream.</summary>
    public async Task<IPage> SignedInAsync(string email = AdminEmail, string password = AdminPassword, string timeZone = "Europe/London")
    {
        var page = await NewPageAsync(timeZone);
        await page.GotoAsync("/app/sign-in");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/app/activity**");
        return page;
    }

    /// <summary>The API as the administrator, for arranging what a test needs.</summary>
    public HttpClient Api(string? key = AdminKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public async Task<JsonNode> GetJsonAsync(string path)
    {
        using var api = Api();
        var response = await api.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? JsonNode.Parse(text)! : throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {text}");
    }

    public async Task<JsonNode> PostJsonAsync(string path, object body, string method = "POST")
    {
        using var api = Api();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(body) };
        var response = await api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        }

        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    /// <summary>Runs SQL against the server's database (to arrange what no request can, such as a meeting already under way).</summary>
    public async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }

        await cmd.ExecuteNonQueryAsync();
    }

    private void StartServer(string smtp)
    {
        var configuration = typeof(RendezvousServer).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var bin = Path.Combine(TestEnvironment.RepositoryRoot, "src", "Rendezvous.Server", "bin", configuration, "net10.0");
        var dll = Path.Combine(bin, "Rendezvous.Server.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing; build the solution first.");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = bin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("serve");
        var env = start.Environment;
        env["RENDEZVOUS_DB"] = ConnectionString;
        env["RENDEZVOUS_URL"] = BaseUrl;
        env["ASPNETCORE_ENVIRONMENT"] = "Production";
        // The suite books and signs in many times from 127.0.0.1: the request limits are turned off explicitly.
        env["Rendezvous__RateLimits__Enabled"] = "false";
        // The server is reached over plain HTTP on loopback; the OAuth endpoints refuse that unless told otherwise.
        env["Rendezvous__OAuth__RequireHttps"] = "false";
        // The test services (CalDAV servers, emulators, webhook receivers) listen on loopback, which outbound calls may
        // not reach unless allowed (docs/SECURITY.md).
        env["Rendezvous__Outbound__AllowedHosts__0"] = "127.0.0.1";
        env["Rendezvous__Outbound__AllowedHosts__1"] = "localhost";
        env["Rendezvous__Outbound__AllowedHosts__2"] = "::1";
        env["Rendezvous__Bootstrap__Organization"] = Organization;
        env["Rendezvous__Bootstrap__ApiKey"] = AdminKey;
        env["Rendezvous__Bootstrap__AdminName"] = "Ada Admin";
        env["Rendezvous__Bootstrap__AdminEmail"] = AdminEmail;
        env["Rendezvous__Bootstrap__AdminPassword"] = AdminPassword;
        env["Rendezvous__Bootstrap__TimeZone"] = "Europe/London";
        env["Rendezvous__PublicBaseUrl"] = BaseUrl;
        env["Rendezvous__Smtp__Host"] = smtp;
        env["Rendezvous__Smtp__Port"] = TestEnvironment.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["Rendezvous__Smtp__From"] = "Browser Tests <no-reply@browser.example>";
        env["Logging__LogLevel__Default"] = "Warning";
        env["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";

        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 200_000)
            {
                _output.AppendLine(line);
            }
        }
    }

    private async Task WaitUntilUpAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode} at start:\n{Output}");
            }

            try
            {
                var response = await http.GetAsync(BaseUrl + "/health");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException($"The server did not answer /health within 90 seconds:\n{Output}");
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<RendezvousServer>
{
    public const string Name = "browser";
}

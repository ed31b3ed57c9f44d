using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Server.Cli;

namespace Rendezvous.Server.Tests.Infrastructure;

/// <summary>
/// The real application on a fresh PostgreSQL database, with a clock the test controls and background workers off
/// (tests drive them). Bootstraps organization "acme" whose administrator holds <see cref="AdminKey"/>.
/// </summary>
public class RendezvousApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "test-admin-key-acme-000000000001";

    /// <summary>Monday 2027-03-01 08:00 UTC: the tests' "now".</summary>
    public static readonly Instant Start = Instant.FromUtc(2027, 3, 1, 8, 0);

    public FakeClock Clock { get; } = new(Start);

    public string ConnectionString { get; private set; } = "";

    public static JsonSerializerOptions Json { get; } = JsonDefaults.Options;

    public async Task InitializeAsync()
    {
        await StartServicesAsync();
        ConnectionString = await TestDatabase.CreateAsync();
    }

    /// <summary>Lets a test class start the local services (HTTP fakes) its settings point at, before the host is built.</summary>
    protected virtual Task StartServicesAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await TestDatabase.DropAsync(ConnectionString);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Rendezvous", ConnectionString);
        builder.UseSetting("Rendezvous:Bootstrap:Organization", "acme");
        builder.UseSetting("Rendezvous:Bootstrap:ApiKey", AdminKey);
        builder.UseSetting("Rendezvous:Bootstrap:AdminEmail", "admin@acme.example");
        builder.UseSetting("Rendezvous:Workers:Enabled", "false");
        builder.UseSetting("Rendezvous:CalendarSync:Enabled", "false");
        builder.UseEnvironment("Testing");
        // The suites book and sign in many times from one address: request limits are off unless a test class turns
        // them on (RateLimitTests sets tight ones). The sign-in lockout stays on everywhere.
        builder.UseSetting("Rendezvous:RateLimits:Enabled", "false");
        // The test services (Radicale, Cyrus, emulators, webhook receivers) listen on loopback, which outbound calls may
        // not reach unless allowed; OutboundAddressTests takes the allowance away again.
        builder.UseSetting("Rendezvous:Outbound:AllowedHosts:0", "127.0.0.1");
        builder.UseSetting("Rendezvous:Outbound:AllowedHosts:1", "localhost");
        builder.UseSetting("Rendezvous:Outbound:AllowedHosts:2", "::1");
        // Tests run on busy machines: requests queue at the admission gate rather than time out there (the tests of the
        // gate itself set it tight).
        builder.UseSetting("Rendezvous:Admission:MaxWaitMilliseconds", "300000");
        // The in-memory server speaks plain HTTP; the OAuth server refuses that unless told otherwise.
        builder.UseSetting("Rendezvous:OAuth:RequireHttps", "false");
        ConfigureSettings(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IClock>(Clock);
            services.AddSingleton<IStartupFilter, ClientAddressFilter>();
            ConfigureServices(services);
        });
    }

    /// <summary>Lets a test class add or override settings (applied after the defaults above).</summary>
    protected virtual void ConfigureSettings(IWebHostBuilder builder)
    {
    }

    /// <summary>The header a test sends to appear to come from another client address.</summary>
    public const string ClientAddressHeader = "X-Test-Client-Address";

    /// <summary>
    /// The in-memory test server gives requests no remote address; this makes every request come from 127.0.0.1, or
    /// from the address in <see cref="ClientAddressHeader"/>, so per-address limits can be tested.
    /// </summary>
    private sealed class ClientAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                context.Connection.RemoteIpAddress = context.Request.Headers.TryGetValue(ClientAddressHeader, out var value)
                    ? System.Net.IPAddress.Parse(value.ToString())
                    : System.Net.IPAddress.Loopback;
                return following(context);
            });
            next(app);
        };
    }

    /// <summary>Lets a test class add or replace services.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>
    /// Whether <see cref="Client"/> checks every /api/ answer against the OpenAPI document (on for every API test; a test
    /// class that deliberately provokes answers outside the contract may turn it off).
    /// </summary>
    protected virtual bool ValidatesContract => true;

    private Task<JsonNode>? _document;

    /// <summary>The server's own OpenAPI document, read once.</summary>
    public Task<JsonNode> OpenApiDocumentAsync() => _document ??= LoadDocumentAsync();

    private async Task<JsonNode> LoadDocumentAsync()
    {
        using var plain = Server.CreateClient();
        return JsonNode.Parse(await plain.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!;
    }

    public HttpClient Client(string? apiKey = AdminKey, bool validateContract = true)
    {
        // As CreateClient does (cookies kept, redirects not followed), with the contract check in front.
        var handlers = ValidatesContract && validateContract
            ? new DelegatingHandler[] { new Api.ContractValidatingHandler(OpenApiDocumentAsync), new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler() }
            : [new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler()];
        var client = CreateDefaultClient(new Uri("http://localhost"), handlers);
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public HttpClient Anonymous() => Client(null);

    /// <summary>Creates another organization with its own administrator key (as the bootstrap does) and returns the key.</summary>
    public async Task<string> CreateOrganizationAsync(string slug)
    {
        var key = $"test-admin-key-{slug}-{Guid.NewGuid():N}";
        await Startup.BootstrapAsync(Services, new BootstrapOptions { Organization = slug, ApiKey = key }, CancellationToken.None);
        return key;
    }

    /// <summary>Runs <paramref name="work"/> with a fresh scope's database context that reads every organization's rows.</summary>
    public async Task<T> WithDbAsync<T>(Func<RendezvousDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<RendezvousDbContext>().ForAllTenants());
    }

    public async Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }
}

/// <summary>Small helpers for JSON over HTTP.</summary>
public static class Http
{
    public static async Task<JsonNode> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("Empty JSON body.");
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) =>
        client.PostAsJsonAsync(url, body, RendezvousApp.Json);

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, object body) =>
        client.PutAsJsonAsync(url, body, RendezvousApp.Json);

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string body) =>
        client.PostAsync(url, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

    /// <summary>Asserts the status and, for errors, that the body is problem+json; returns the body.</summary>
    public static async Task<JsonNode> ExpectAsync(this HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != status)
        {
            throw new Xunit.Sdk.XunitException($"Expected {status} but got {(int)response.StatusCode}: {text}");
        }

        if (status >= 400)
        {
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                throw new Xunit.Sdk.XunitException($"Expected application/problem+json, got {response.Content.Headers.ContentType}: {text}");
            }
        }

        return string.IsNullOrEmpty(text) ? new JsonObject() : JsonNode.Parse(text)!;
    }
}

using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rendezvous.Integrations.Outbound;
using Rendezvous.Integrations.Webhooks;
using Rendezvous.Server.Features.CalendarSync;
using Rendezvous.Server.Tests.Infrastructure;
using Shouldly;

namespace Rendezvous.Server.Tests.Security;

/// <summary>The host as deployed: no outbound allowance for loopback (the shared test host gives one).</summary>
public sealed class NoOutboundAllowanceApp : RendezvousApp
{
    protected override void ConfigureSettings(IWebHostBuilder builder)
    {
        for (var i = 0; i < 3; i++)
        {
            builder.UseSetting($"Rendezvous:Outbound:AllowedHosts:{i}", "allowed.invalid");
        }
    }
}

/// <summary>
/// Outbound calls to user-given URLs cannot reach loopback, private or link-local addresses unless configured; the
/// check runs when connecting, so a name that resolves there is refused too. No request ever leaves for a private
/// address: the refusal comes before the connection.
/// </summary>
public sealed class OutboundAddressTests(NoOutboundAllowanceApp app) : IClassFixture<NoOutboundAllowanceApp>, IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private Task<WebhookAttemptOutcome> DeliverAsync(IServiceProvider services, string url) =>
        services.GetRequiredService<WebhookHttp>().SendAsync(url, "evt_1", "booking.created", "{}", "t=1,v1=x", CancellationToken.None);

    [DbFact]
    public async Task A_webhook_to_127_0_0_1_is_refused_without_an_allowance_and_never_arrives()
    {
        var url = _receiver.NewUrl("loopback");
        var outcome = await DeliverAsync(app.Services, url);
        outcome.StatusCode.ShouldBeNull();
        outcome.Error!.ShouldContain("Refused to connect");
        _receiver.RequestsTo(url).ShouldBeEmpty();
    }

    [DbFact]
    public async Task A_webhook_to_a_name_that_resolves_to_loopback_is_refused()
    {
        var url = _receiver.NewUrl("by-name").Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        var outcome = await DeliverAsync(app.Services, url);
        outcome.Error!.ShouldContain("Refused to connect to localhost");
    }

    [DbTheory]
    [InlineData("http://10.20.30.40/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://192.168.1.1/")]
    [InlineData("http://[fd00::1]/")]
    [InlineData("http://0.0.0.0/")]
    public async Task Webhooks_to_private_link_local_unique_local_and_unspecified_addresses_are_refused(string url)
    {
        var outcome = await DeliverAsync(app.Services, url);
        outcome.Error!.ShouldContain("Refused to connect");
    }

    [DbFact]
    public async Task Every_factory_client_carries_the_check()
    {
        var factory = app.Services.GetRequiredService<IHttpClientFactory>();
        foreach (var name in new[] { CalendarProviders.CalDavClientName, "outbound-salesforce", "" })
        {
            using var client = factory.CreateClient(name);
            var error = await Should.ThrowAsync<HttpRequestException>(() => client.GetAsync(_receiver.NewUrl("client")));
            error.ToString().ShouldContain("Refused to connect", customMessage: name);
        }
    }

    [DbFact]
    public async Task An_allowed_host_is_reached()
    {
        await using var allowed = new RendezvousApp();
        await ((IAsyncLifetime)allowed).InitializeAsync();
        try
        {
            var url = _receiver.NewUrl("allowed");
            var outcome = await DeliverAsync(allowed.Services, url);
            outcome.Succeeded.ShouldBeTrue(outcome.Error);
            _receiver.RequestsTo(url).Count.ShouldBe(1);
        }
        finally
        {
            await ((IAsyncLifetime)allowed).DisposeAsync();
        }
    }

    [Fact]
    public void Basic_credentials_go_over_plain_http_only_to_an_allowed_host()
    {
        var policy = new OutboundAddressPolicy(Options.Create(new OutboundOptions { AllowedHosts = ["caldav.internal"] }));
        HttpRequestMessage With(string url) => new(HttpMethod.Get, url)
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", "dXNlcjpwYXNz") },
        };

        Should.Throw<OutboundRefusedException>(() => policy.CheckCredentials(With("http://calendar.example.com/dav/")));
        policy.CheckCredentials(With("https://calendar.example.com/dav/"));
        policy.CheckCredentials(With("http://caldav.internal/dav/"));
        policy.CheckCredentials(new HttpRequestMessage(HttpMethod.Get, "http://calendar.example.com/public.ics"));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.0.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fc00::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:4860:4860::8888", false)]
    public void Restricted_addresses_are_the_local_and_private_ranges(string address, bool restricted) =>
        OutboundAddressPolicy.IsRestricted(IPAddress.Parse(address)).ShouldBe(restricted);
}

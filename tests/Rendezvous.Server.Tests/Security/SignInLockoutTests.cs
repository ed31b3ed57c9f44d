using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Rendezvous.Server.Tests.Infrastructure;
using Rendezvous.Server.Tests.Web;
using Shouldly;

namespace Rendezvous.Server.Tests.Security;

/// <summary>
/// Parallel wrong guesses cannot check more passwords than the lockout allows, and a lockout started from one address
/// does not keep the owner out from another (decision 0022).
/// </summary>
public sealed class SignInLockoutTests(PortalApp app) : IClassFixture<PortalApp>
{
    private const int Guesses = 50;

    /// <summary>Counts the password checks of this test host (the meter belongs to its own meter factory).</summary>
    private sealed class CheckCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public CheckCounter(IMeterFactory factory, string kind)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Name == "rendezvous.sign_in.password_checks")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "kind" && (string?)tag.Value == kind)
                    {
                        Interlocked.Add(ref _count, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }

    private WebSession SessionFrom(string address)
    {
        var session = new WebSession(app);
        session.Client.DefaultRequestHeaders.Add(RendezvousApp.ClientAddressHeader, address);
        return session;
    }

    private HttpClient BrowserFrom(string address)
    {
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        browser.DefaultRequestHeaders.Add(RendezvousApp.ClientAddressHeader, address);
        return browser;
    }

    [DbFact]
    public async Task Fifty_parallel_wrong_staff_sign_ins_check_at_most_five_passwords_and_lock_only_that_address()
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, "Guessed Member");
        var email = (await (await admin.GetAsync($"/api/v1/users/{id}")).ExpectAsync(200))["email"]!.GetValue<string>();
        (await admin.PutJsonAsync($"/api/v1/users/{id}/password", new { password = "the right password" })).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        using var checks = new CheckCounter(app.Services.GetRequiredService<IMeterFactory>(), "staff");
        var answers = await Task.WhenAll(Enumerable.Range(0, Guesses)
            .Select(i => SessionFrom("203.0.113.7").SignInAsync(email, $"wrong guess {i:D3}")));
        answers.ShouldAllBe(a => a.StatusCode == HttpStatusCode.Unauthorized);
        checks.Count.ShouldBeLessThanOrEqualTo(5);
        checks.Count.ShouldBeGreaterThan(0);

        // The right password from the guessing address is refused while the lock lasts, without being checked.
        var attacker = SessionFrom("203.0.113.7");
        (await attacker.SignInAsync(email, "the right password")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        attacker.LastHtml.ShouldContain("try again in 15 minutes");
        checks.Count.ShouldBeLessThanOrEqualTo(5);

        // The owner, from another address, still signs in.
        (await SessionFrom("198.51.100.20").SignInAsync(email, "the right password")).StatusCode.ShouldBe(HttpStatusCode.Redirect);

        app.Clock.AdvanceMinutes(14);
        (await SessionFrom("203.0.113.7").SignInAsync(email, "the right password")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        app.Clock.AdvanceMinutes(2);
        (await SessionFrom("203.0.113.7").SignInAsync(email, "the right password")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
    }

    [DbFact]
    public async Task Guesses_spread_over_many_addresses_meet_the_account_wide_ceiling()
    {
        var admin = app.Client();
        var id = await Scenario.CreateUserAsync(admin, "Widely Guessed");
        var email = (await (await admin.GetAsync($"/api/v1/users/{id}")).ExpectAsync(200))["email"]!.GetValue<string>();
        (await admin.PutJsonAsync($"/api/v1/users/{id}/password", new { password = "the right password" })).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        using var checks = new CheckCounter(app.Services.GetRequiredService<IMeterFactory>(), "staff");
        // 30 addresses, 3 guesses each: under the per-address limit of 5, but 90 in all against the ceiling of 50.
        await Task.WhenAll(Enumerable.Range(0, 30).SelectMany(a => Enumerable.Range(0, 3)
            .Select(g => SessionFrom($"192.0.2.{a + 1}").SignInAsync(email, $"wrong {a} {g}"))));
        checks.Count.ShouldBeLessThanOrEqualTo(50);

        var owner = SessionFrom("198.51.100.99");
        (await owner.SignInAsync(email, "the right password")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        owner.LastHtml.ShouldContain("locked");

        // An administrator's new password lifts every lock.
        (await admin.PutJsonAsync($"/api/v1/users/{id}/password", new { password = "a brand new password" })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await SessionFrom("198.51.100.99").SignInAsync(email, "a brand new password")).StatusCode.ShouldBe(HttpStatusCode.Redirect);
    }

    [DbFact]
    public async Task Fifty_parallel_wrong_portal_sign_ins_check_at_most_five_passwords_and_lock_only_that_address()
    {
        var slug = await Scenario.CreatePageAsync(app.Client());
        var email = $"guessed-{Guid.NewGuid():N}@example.com";
        await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-23T10:00:00Z", new { name = "Lou", email });
        var owner = BrowserFrom("198.51.100.30");
        await (await owner.PostJsonAsync("/api/v1/portal/acme/sign-in-link", new { email })).ExpectAsync(202);
        (await owner.GetAsync(new Uri(app.Mailer.Sent.Last(s => s.Email == email).Url).AbsolutePath)).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await owner.PostJsonAsync("/api/v1/portal/acme/password", new { password = "portal right password" })).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        using var checks = new CheckCounter(app.Services.GetRequiredService<IMeterFactory>(), "portal");
        var answers = await Task.WhenAll(Enumerable.Range(0, Guesses)
            .Select(i => BrowserFrom("203.0.113.8").PostJsonAsync("/api/v1/portal/acme/sign-in", new { email, password = $"wrong guess {i:D3}" })));
        answers.ShouldAllBe(a => a.StatusCode == HttpStatusCode.Forbidden);
        checks.Count.ShouldBeLessThanOrEqualTo(5);

        await (await BrowserFrom("203.0.113.8").PostJsonAsync("/api/v1/portal/acme/sign-in", new { email, password = "portal right password" })).ExpectAsync(403);
        await (await BrowserFrom("198.51.100.31").PostJsonAsync("/api/v1/portal/acme/sign-in", new { email, password = "portal right password" })).ExpectAsync(200);

        app.Clock.AdvanceMinutes(16);
        await (await BrowserFrom("203.0.113.8").PostJsonAsync("/api/v1/portal/acme/sign-in", new { email, password = "portal right password" })).ExpectAsync(200);
    }
}

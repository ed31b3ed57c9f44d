using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Rendezvous.Integrations;

/// <summary>Timeouts, retries and the circuit breaker for calls to one provider (bound from <c>Rendezvous:&lt;Provider&gt;</c>).</summary>
public class OutboundHttpOptions
{
    /// <summary>How long one attempt may take, answer included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one call may take, all its attempts and waits included.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Further attempts after a failure that may pass (idempotent requests only).</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The first wait between attempts; it doubles each time, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A Retry-After longer than this is not waited out in-process: the work goes back to its queue instead.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(10);

    public CircuitBreakerSettings CircuitBreaker { get; set; } = new();

    public ResilienceSettings ToResilience() => new(Timeout, TotalTimeout, MaxRetries, RetryBaseDelay, MaxRetryAfter, CircuitBreaker);
}

/// <summary>An answer from a provider, read in full.</summary>
public sealed record HttpAnswer(HttpStatusCode Status, string Body, HttpResponseHeaders Headers)
{
    public int Code => (int)Status;

    public bool IsSuccess => Code is >= 200 and < 300;

    /// <summary>The provider's Retry-After as a wait (delta-seconds form; a date form is not trusted against our clock).</summary>
    public TimeSpan? RetryAfter => Headers.RetryAfter?.Delta
        ?? (Headers.TryGetValues("Retry-After", out var values)
            && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds) : null);
}

/// <summary>
/// Calls to CRMs and payment providers, through the provider's named <see cref="IHttpClientFactory"/> client (see
/// <see cref="ResilientHttp"/>), which times out, retries and breaks the circuit. Whatever is still failing afterwards
/// is the caller's to classify; only "no answer at all" is turned into an <see cref="IntegrationException"/> here.
/// </summary>
public sealed class OutboundHttp(IHttpClientFactory factory)
{
    /// <summary>The named client of <paramref name="provider"/>.</summary>
    public static string ClientName(string provider) => "outbound-" + provider.ToLowerInvariant();

    /// <summary>
    /// Sends the request <paramref name="build"/> makes. The pipeline retries it only when <paramref name="idempotent"/>.
    /// Throws <see cref="IntegrationException"/> (Transient) when no answer came at all. <paramref name="options"/> is
    /// kept for the callers' sake; the pipeline reads the same bound options.
    /// </summary>
    public async Task<HttpAnswer> SendAsync(string provider, Func<HttpRequestMessage> build, bool idempotent, OutboundHttpOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(build);
        var client = factory.CreateClient(ClientName(provider));
        try
        {
            using var request = build().WithRetryScope(idempotent ? RetryScope.Transient : RetryScope.None);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return new HttpAnswer(response.StatusCode, body, response.Headers);
        }
        catch (Exception ex) when (ResilientHttp.IsNoAnswer(ex, cancellationToken))
        {
            throw new IntegrationException(provider, IntegrationFailureKind.Transient,
                $"{provider} could not be reached: {ResilientHttp.Describe(ex)}", inner: ex);
        }
    }
}

public static class OutboundHttpServiceCollectionExtensions
{
    /// <summary>Registers <see cref="OutboundHttp"/> and <paramref name="provider"/>'s named client, its pipeline shaped by <typeparamref name="TOptions"/>.</summary>
    public static IHttpClientBuilder AddOutboundHttpClient<TOptions>(this IServiceCollection services, string provider)
        where TOptions : OutboundHttpOptions
    {
        services.AddHttpClient();
        services.TryAddSingleton<OutboundHttp>();
        return services.AddResilientClient(OutboundHttp.ClientName(provider),
            sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<TOptions>>().Value.ToResilience());
    }
}

using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Rendezvous.Integrations.Notifications.Email;

/// <summary>The OAuth 2.0 access token XOAUTH2 signs in with. Register another to get tokens some other way.</summary>
public interface ISmtpAccessTokenSource
{
    /// <summary>A token valid for at least the next minute.</summary>
    Task<string> GetAccessTokenAsync(CancellationToken cancellationToken);

    /// <summary>The server refused <paramref name="accessToken"/>: the next call must not return it again.</summary>
    void Invalidate(string accessToken);
}

/// <summary>
/// Exchanges the configured refresh token at the configured token endpoint (RFC 6749 section 6: a form POST with
/// <c>grant_type=refresh_token</c>, answered with JSON <c>access_token</c> and <c>expires_in</c>), and keeps the access
/// token until a minute before it expires. A refresh token the endpoint rotates (Microsoft's may) is used from then on.
/// </summary>
public sealed class RefreshTokenAccessTokenSource(HttpClient http, IOptions<SmtpOptions> options, IClock clock) : ISmtpAccessTokenSource
{
    private static readonly Duration Margin = Duration.FromMinutes(1);
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private string? _refreshToken;
    private (string Token, Instant ValidUntil)? _current;

    public async Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        if (Valid() is { } token)
        {
            return token;
        }

        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Valid() ?? await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    public void Invalidate(string accessToken)
    {
        if (_current is { } current && current.Token == accessToken)
        {
            _current = null;
        }
    }

    private string? Valid() => _current is { } c && clock.GetCurrentInstant() < c.ValidUntil ? c.Token : null;

    private async Task<string> RefreshAsync(CancellationToken ct)
    {
        var o = options.Value.OAuth2;
        if (!o.IsConfigured)
        {
            throw new MailDeliveryException("XOAUTH2 needs Rendezvous__Smtp__OAuth2__TokenEndpoint and __RefreshToken.", SmtpStage.Authenticate, isTransient: false);
        }

        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", _refreshToken ?? o.RefreshToken!),
        };
        if (!string.IsNullOrEmpty(o.ClientId))
        {
            form.Add(new("client_id", o.ClientId));
        }

        if (!string.IsNullOrEmpty(o.ClientSecret))
        {
            form.Add(new("client_secret", o.ClientSecret));
        }

        if (!string.IsNullOrEmpty(o.Scope))
        {
            form.Add(new("scope", o.Scope));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, o.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new MailDeliveryException($"The OAuth token endpoint cannot be reached: {ex.Message}", SmtpStage.Authenticate, isTransient: true, inner: ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new MailDeliveryException("The OAuth token endpoint did not answer in time.", SmtpStage.Authenticate, isTransient: true, inner: ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                // 400 invalid_grant and 401 invalid_client need new credentials; 429 and 5xx pass.
                var transient = code is 408 or 429 or >= 500;
                throw new MailDeliveryException($"The OAuth token endpoint answered {code}: {Describe(body)}", SmtpStage.Authenticate, transient);
            }

            try
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                var token = root.GetProperty("access_token").GetString()
                    ?? throw new MailDeliveryException("The OAuth token endpoint sent no access_token.", SmtpStage.Authenticate, isTransient: true);
                var lifetime = root.TryGetProperty("expires_in", out var e) && e.TryGetInt64(out var seconds) ? Duration.FromSeconds(seconds) : Duration.FromMinutes(5);
                if (root.TryGetProperty("refresh_token", out var rotated) && rotated.GetString() is { Length: > 0 } next)
                {
                    _refreshToken = next;
                }

                _current = (token, clock.GetCurrentInstant() + lifetime - Margin);
                return token;
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new MailDeliveryException("The OAuth token endpoint's answer is not a token response.", SmtpStage.Authenticate, isTransient: true, inner: ex);
            }
        }
    }

    private static string Describe(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("error", out var error) ? error.ToString() : "(no error code)";
        }
        catch (JsonException)
        {
            return "(not JSON)";
        }
    }
}

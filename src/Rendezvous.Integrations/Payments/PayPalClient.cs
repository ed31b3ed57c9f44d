using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using NodaTime;
using Rendezvous.Domain.Payments;
using Rendezvous.Integrations;

namespace Rendezvous.Integrations.Payments;

/// <summary>Settings under <c>Rendezvous:PayPal</c>. Credentials are per organization (PUT /api/v1/payments/paypal).</summary>
public sealed class PayPalOptions : OutboundHttpOptions
{
    /// <summary><c>https://api-m.paypal.com</c> for live payments, <c>https://api-m.sandbox.paypal.com</c> for the sandbox.</summary>
    public string BaseUrl { get; set; } = "https://api-m.paypal.com";

    /// <summary>How often the payments worker looks for expired payment windows and pending refunds.</summary>
    public TimeSpan WorkerInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>An organization's PayPal REST app credentials, in clear for the length of a call.</summary>
public sealed record PayPalCredentials(string ClientId, string ClientSecret);

/// <summary>An order as PayPal shows it: its status, where the payer approves it, and its capture once made.</summary>
public sealed record PayPalOrder(string Id, string Status, string? ApproveUrl, string? CaptureId, string? CaptureStatus);

public enum CaptureOutcome
{
    /// <summary>The money is in.</summary>
    Completed,
    /// <summary>The payer has not approved the order yet.</summary>
    NotApproved,
    /// <summary>Captured before (by us, in an attempt whose answer was lost): read the order for the capture.</summary>
    AlreadyCaptured,
    /// <summary>The payer's funding source was declined; they may approve again with another.</summary>
    Declined,
    /// <summary>PayPal is still processing the capture (an eCheck, a review).</summary>
    Pending,
    /// <summary>The order no longer exists (never approved within its lifetime).</summary>
    OrderGone,
}

public sealed record CaptureResult(CaptureOutcome Outcome, string? CaptureId, string? Detail);

public sealed record PayPalRefund(string Id, string Status);

/// <summary>
/// PayPal over its documented REST APIs: OAuth 2.0 client credentials (tokens cached until shortly before they expire),
/// Orders v2 (create with intent CAPTURE, show, capture) and Payments v2 (refund a capture). Every write carries a
/// <c>PayPal-Request-Id</c> derived from what it is for (the booking, the refund), so a retry can never charge or refund
/// twice, and is retried in-process on network failures, 429 and 5xx. A 401 drops the cached token and tries once more.
/// </summary>
public sealed class PayPalClient(OutboundHttp http, IOptions<PayPalOptions> options, IClock clock)
{
    public const string Provider = "PayPal";

    private readonly ConcurrentDictionary<string, (string Token, Instant Expires)> _tokens = new(StringComparer.Ordinal);

    private PayPalOptions O => options.Value;

    /// <summary>Creates an order for <paramref name="price"/>; the payer approves it at the returned order's <c>ApproveUrl</c>.</summary>
    public async Task<PayPalOrder> CreateOrderAsync(PayPalCredentials credentials, string bookingId, Money price, string description,
        string returnUrl, string cancelUrl, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["intent"] = "CAPTURE",
            ["purchase_units"] = new JsonArray(new JsonObject
            {
                ["reference_id"] = bookingId,
                ["custom_id"] = bookingId,
                ["description"] = description.Length <= 127 ? description : description[..127],
                ["amount"] = new JsonObject { ["currency_code"] = price.Currency, ["value"] = price.FormatAmount() },
            }),
            ["payment_source"] = new JsonObject
            {
                ["paypal"] = new JsonObject
                {
                    ["experience_context"] = new JsonObject
                    {
                        ["return_url"] = returnUrl,
                        ["cancel_url"] = cancelUrl,
                        ["user_action"] = "PAY_NOW",
                        ["shipping_preference"] = "NO_SHIPPING",
                    },
                },
            },
        };
        var answer = await CallAsync(credentials, HttpMethod.Post, "/v2/checkout/orders", body, $"rdv-order-{bookingId}", ct);
        return ReadOrder(answer.Body);
    }

    public async Task<PayPalOrder?> GetOrderAsync(PayPalCredentials credentials, string orderId, CancellationToken ct)
    {
        try
        {
            var answer = await CallAsync(credentials, HttpMethod.Get, $"/v2/checkout/orders/{Uri.EscapeDataString(orderId)}", null, null, ct);
            return ReadOrder(answer.Body);
        }
        catch (IntegrationException ex) when (ex.StatusCode == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Captures an approved order. The outcome says whether the money is in; only unexpected failures throw. Each call has
    /// its own request id (kept across its in-process retries): an order with intent CAPTURE is captured at most once
    /// whatever happens, so a repeat comes back ORDER_ALREADY_CAPTURED rather than as a second charge, and an attempt made
    /// before the payer approved is never replayed to a later one.
    /// </summary>
    public async Task<CaptureResult> CaptureAsync(PayPalCredentials credentials, string orderId, string bookingId, CancellationToken ct)
    {
        HttpAnswer answer;
        try
        {
            answer = await CallAsync(credentials, HttpMethod.Post, $"/v2/checkout/orders/{Uri.EscapeDataString(orderId)}/capture",
                new JsonObject(), $"rdv-capture-{bookingId}-{Guid.NewGuid():N}", ct);
        }
        catch (IntegrationException ex) when (ex.StatusCode == 404)
        {
            return new CaptureResult(CaptureOutcome.OrderGone, null, ex.Message);
        }
        catch (IntegrationException ex) when (ex.StatusCode == 422 && CaptureIssue(ex.ErrorCode) is { } outcome)
        {
            return new CaptureResult(outcome, null, ex.Message);
        }

        var order = ReadOrder(answer.Body);
        return order.CaptureStatus switch
        {
            "COMPLETED" => new CaptureResult(CaptureOutcome.Completed, order.CaptureId, null),
            "PENDING" => new CaptureResult(CaptureOutcome.Pending, order.CaptureId, "PayPal is still processing the payment"),
            "DECLINED" or "FAILED" => new CaptureResult(CaptureOutcome.Declined, order.CaptureId, "PayPal declined the payment"),
            _ => new CaptureResult(CaptureOutcome.NotApproved, null, $"The order is {order.Status}"),
        };
    }

    private static CaptureOutcome? CaptureIssue(string? issue) => issue switch
    {
        "ORDER_NOT_APPROVED" or "PAYER_ACTION_REQUIRED" => CaptureOutcome.NotApproved,
        "ORDER_ALREADY_CAPTURED" => CaptureOutcome.AlreadyCaptured,
        "INSTRUMENT_DECLINED" or "PAYER_CANNOT_PAY" or "TRANSACTION_REFUSED" => CaptureOutcome.Declined,
        _ => null,
    };

    /// <summary>Refunds <paramref name="amount"/> of a capture. <paramref name="refundId"/> makes the request idempotent.</summary>
    public async Task<PayPalRefund> RefundAsync(PayPalCredentials credentials, string captureId, Guid refundId, Money amount, string note,
        CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["amount"] = new JsonObject { ["value"] = amount.FormatAmount(), ["currency_code"] = amount.Currency },
            ["note_to_payer"] = note.Length <= 255 ? note : note[..255],
        };
        var answer = await CallAsync(credentials, HttpMethod.Post, $"/v2/payments/captures/{Uri.EscapeDataString(captureId)}/refund", body,
            $"rdv-refund-{refundId:N}", ct);
        var refund = JsonNode.Parse(answer.Body)!;
        return new PayPalRefund(refund["id"]!.GetValue<string>(), refund["status"]?.GetValue<string>() ?? "COMPLETED");
    }

    private async Task<HttpAnswer> CallAsync(PayPalCredentials credentials, HttpMethod method, string path, JsonObject? body, string? requestId,
        CancellationToken ct)
    {
        var token = await TokenAsync(credentials, ct);
        var answer = await SendAsync(token, method, path, body, requestId, ct);
        if (answer.Code == 401)
        {
            // The access token expired or was revoked: get a new one and try once more.
            _tokens.TryRemove(CacheKey(credentials), out _);
            token = await TokenAsync(credentials, ct);
            answer = await SendAsync(token, method, path, body, requestId, ct);
        }

        return answer.IsSuccess ? answer : throw ErrorFor(answer);
    }

    private Task<HttpAnswer> SendAsync(string token, HttpMethod method, string path, JsonObject? body, string? requestId, CancellationToken ct)
    {
        var url = O.BaseUrl.TrimEnd('/') + path;
        var json = body?.ToJsonString();
        // Reads are safe to repeat; writes are because of their PayPal-Request-Id.
        return http.SendAsync(Provider, () =>
        {
            var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.TryAddWithoutValidation("Prefer", "return=representation");
            if (requestId is not null)
            {
                request.Headers.TryAddWithoutValidation("PayPal-Request-Id", requestId);
            }

            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            return request;
        }, idempotent: true, O, ct);
    }

    private async Task<string> TokenAsync(PayPalCredentials credentials, CancellationToken ct)
    {
        var key = CacheKey(credentials);
        var now = clock.GetCurrentInstant();
        if (_tokens.TryGetValue(key, out var cached) && cached.Expires > now)
        {
            return cached.Token;
        }

        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.ClientId}:{credentials.ClientSecret}"));
        var answer = await http.SendAsync(Provider, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, O.BaseUrl.TrimEnd('/') + "/v1/oauth2/token")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
            request.Headers.Accept.ParseAdd("application/json");
            return request;
        }, idempotent: true, O, ct);
        if (!answer.IsSuccess)
        {
            var kind = answer.Code is 401 or 403 or 400 ? IntegrationFailureKind.Configuration
                : answer.Code == 429 ? IntegrationFailureKind.Throttled : IntegrationFailureKind.Transient;
            var error = TryParse(answer.Body)?["error_description"]?.GetValue<string>() ?? $"HTTP {answer.Code}";
            throw new IntegrationException(Provider, kind, $"PayPal refused the app credentials: {error}", answer.Code, "AUTHENTICATION_FAILURE");
        }

        var grant = JsonNode.Parse(answer.Body)!;
        var token = grant["access_token"]!.GetValue<string>();
        var life = grant["expires_in"]?.GetValue<long>() ?? 300;
        // Renewed a minute early so a token never expires in flight.
        _tokens[key] = (token, now + Duration.FromSeconds(Math.Max(0, life - 60)));
        return token;
    }

    private static string CacheKey(PayPalCredentials c) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(c.ClientId + "\n" + c.ClientSecret)));

    private static PayPalOrder ReadOrder(string json)
    {
        var order = JsonNode.Parse(json)!;
        var approve = order["links"]?.AsArray()
            .FirstOrDefault(l => l?["rel"]?.GetValue<string>() is "approve" or "payer-action")?["href"]?.GetValue<string>();
        var capture = order["purchase_units"]?.AsArray().FirstOrDefault()?["payments"]?["captures"]?.AsArray().FirstOrDefault();
        return new PayPalOrder(order["id"]!.GetValue<string>(), order["status"]?.GetValue<string>() ?? "", approve,
            capture?["id"]?.GetValue<string>(), capture?["status"]?.GetValue<string>());
    }

    /// <summary>
    /// Classifies a failed answer. PayPal errors look like {"name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "..."}],
    /// "debug_id": "..."}; the first issue (or the name) becomes the error code.
    /// </summary>
    public static IntegrationException ErrorFor(HttpAnswer answer)
    {
        var body = TryParse(answer.Body);
        var issue = body?["details"]?.AsArray().FirstOrDefault()?["issue"]?.GetValue<string>();
        var name = body?["name"]?.GetValue<string>();
        var message = body?["details"]?.AsArray().FirstOrDefault()?["description"]?.GetValue<string>()
            ?? body?["message"]?.GetValue<string>() ?? $"HTTP {answer.Code}";
        var kind = answer.Code switch
        {
            429 => IntegrationFailureKind.Throttled,
            >= 500 or 408 => IntegrationFailureKind.Transient,
            401 or 403 => IntegrationFailureKind.Configuration,
            _ => IntegrationFailureKind.Rejected,
        };
        var debug = body?["debug_id"]?.GetValue<string>();
        return new IntegrationException(Provider, kind,
            $"PayPal answered {answer.Code} {issue ?? name}: {message}{(debug is null ? "" : $" (debug id {debug})")}", answer.Code, issue ?? name,
            answer.RetryAfter);
    }

    private static JsonNode? TryParse(string body)
    {
        try
        {
            return string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Rendezvous.Server.Tests.Infrastructure.Fakes;

/// <summary>
/// PayPal as its REST API reference describes it, in memory:
/// <list type="bullet">
/// <item>OAuth 2.0 client credentials at <c>/v1/oauth2/token</c> (client id and secret as HTTP Basic; expires_in in seconds);</item>
/// <item>Orders v2: create (<c>POST /v2/checkout/orders</c>, status PAYER_ACTION_REQUIRED with a payer-action link when a
/// PayPal experience context is given), show, and capture (<c>POST .../capture</c>: 422 ORDER_NOT_APPROVED before the
/// payer approved, ORDER_ALREADY_CAPTURED after, otherwise COMPLETED with the capture under purchase_units[].payments);</item>
/// <item>Payments v2 refund (<c>POST /v2/payments/captures/{id}/refund</c>; 422 REFUND_AMOUNT_EXCEEDED beyond the capture);</item>
/// <item><c>PayPal-Request-Id</c> idempotency: a repeated request id gets the first answer again and changes nothing;</item>
/// <item>errors as {name, details: [{issue, description}], debug_id}; 401 for an expired or unknown access token.</item>
/// </list>
/// </summary>
public sealed class FakePayPal : FakeService
{
    public const string ClientId = "pp-client-id";
    public const string ClientSecret = "pp-client-secret";

    private readonly HashSet<string> _tokens = [];
    private readonly Dictionary<string, FakeAnswer> _byRequestId = new(StringComparer.Ordinal);
    private int _next = 1;

    public Dictionary<string, JsonObject> Orders { get; } = new(StringComparer.Ordinal);

    /// <summary>Refunds made, by capture id.</summary>
    public Dictionary<string, List<decimal>> Refunds { get; } = new(StringComparer.Ordinal);

    public int Captures { get; private set; }

    /// <summary>The payer logs in at PayPal and approves the order.</summary>
    public void Approve(string orderId)
    {
        lock (Gate)
        {
            Orders[orderId]["status"] = "APPROVED";
        }
    }

    public void ExpireTokens()
    {
        lock (Gate)
        {
            _tokens.Clear();
        }
    }

    public string? StatusOf(string orderId)
    {
        lock (Gate)
        {
            return Orders.TryGetValue(orderId, out var order) ? order["status"]!.GetValue<string>() : null;
        }
    }

    public IReadOnlyList<decimal> RefundsOf(string captureId)
    {
        lock (Gate)
        {
            return Refunds.TryGetValue(captureId, out var list) ? [.. list] : [];
        }
    }

    protected override FakeAnswer Answer(FakeRequest request)
    {
        if (request.Method == "POST" && request.Path == "/v1/oauth2/token")
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));
            if (request.Header("Authorization") != expected || request.Form("grant_type") != "client_credentials")
            {
                return Json(401, """{"error":"invalid_client","error_description":"Client Authentication failed"}""");
            }

            var token = "A21AA" + Guid.NewGuid().ToString("N");
            _tokens.Add(token);
            return Json(200, new JsonObject
            {
                ["scope"] = "https://uri.paypal.com/services/payments/payment",
                ["access_token"] = token,
                ["token_type"] = "Bearer",
                ["app_id"] = "APP-80W284485P519543T",
                ["expires_in"] = 32400,
                ["nonce"] = "2027-03-01T08:00:00Z" + Guid.NewGuid().ToString("N"),
            }.ToJsonString());
        }

        var bearer = request.Header("Authorization");
        if (!bearer.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.Contains(bearer["Bearer ".Length..]))
        {
            return Json(401, """{"error":"invalid_token","error_description":"Token signature verification failed"}""");
        }

        var requestId = request.Header("PayPal-Request-Id");
        var key = $"{request.Method} {request.Path} {requestId}";
        if (requestId.Length > 0 && _byRequestId.TryGetValue(key, out var replay))
        {
            return replay;
        }

        var parts = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var answer = (request.Method, parts) switch
        {
            ("POST", ["v2", "checkout", "orders"]) => CreateOrder(request),
            ("GET", ["v2", "checkout", "orders", var id]) => Orders.TryGetValue(id, out var order) ? Json(200, order.ToJsonString()) : NotFound(),
            ("POST", ["v2", "checkout", "orders", var id, "capture"]) => Capture(id),
            ("POST", ["v2", "payments", "captures", var id, "refund"]) => Refund(id, request),
            _ => NotFound(),
        };
        if (requestId.Length > 0 && answer.Status is >= 200 and < 300)
        {
            _byRequestId[key] = answer with { Status = answer.Status == 201 ? 200 : answer.Status };
        }

        return answer;
    }

    private static FakeAnswer NotFound() => Json(404,
        """{"name":"RESOURCE_NOT_FOUND","details":[{"issue":"INVALID_RESOURCE_ID","description":"Specified resource ID does not exist."}],"message":"The specified resource does not exist.","debug_id":"f00d"}""");

    private static FakeAnswer Unprocessable(string issue, string description) => Json(422, new JsonObject
    {
        ["name"] = "UNPROCESSABLE_ENTITY",
        ["details"] = new JsonArray(new JsonObject { ["issue"] = issue, ["description"] = description }),
        ["message"] = "The requested action could not be performed, semantically incorrect, or failed business validation.",
        ["debug_id"] = "90957fca61718",
    }.ToJsonString());

    private FakeAnswer CreateOrder(FakeRequest request)
    {
        var body = JsonNode.Parse(request.Body)!;
        var unit = body["purchase_units"]![0]!;
        var id = "5O" + (_next++).ToString("D15", CultureInfo.InvariantCulture);
        var context = body["payment_source"]?["paypal"]?["experience_context"];
        var order = new JsonObject
        {
            ["id"] = id,
            ["intent"] = body["intent"]!.GetValue<string>(),
            ["status"] = context is null ? "CREATED" : "PAYER_ACTION_REQUIRED",
            ["purchase_units"] = new JsonArray(new JsonObject
            {
                ["reference_id"] = unit["reference_id"]?.GetValue<string>(),
                ["custom_id"] = unit["custom_id"]?.GetValue<string>(),
                ["amount"] = unit["amount"]!.DeepClone(),
            }),
            ["return_url"] = context?["return_url"]?.GetValue<string>(),
            ["links"] = new JsonArray(
                new JsonObject { ["href"] = $"{BaseUrl}/v2/checkout/orders/{id}", ["rel"] = "self", ["method"] = "GET" },
                new JsonObject
                {
                    ["href"] = $"https://www.sandbox.paypal.com/checkoutnow?token={id}",
                    ["rel"] = context is null ? "approve" : "payer-action",
                    ["method"] = "GET",
                }),
        };
        Orders[id] = order;
        return Json(200, order.ToJsonString());
    }

    private FakeAnswer Capture(string id)
    {
        if (!Orders.TryGetValue(id, out var order))
        {
            return NotFound();
        }

        switch (order["status"]!.GetValue<string>())
        {
            case "COMPLETED":
                return Unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.");
            case not "APPROVED":
                return Unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.");
        }

        Captures++;
        var unit = order["purchase_units"]![0]!.AsObject();
        unit["payments"] = new JsonObject
        {
            ["captures"] = new JsonArray(new JsonObject
            {
                ["id"] = "3C" + (_next++).ToString("D15", CultureInfo.InvariantCulture),
                ["status"] = "COMPLETED",
                ["amount"] = unit["amount"]!.DeepClone(),
                ["final_capture"] = true,
            }),
        };
        order["status"] = "COMPLETED";
        return Json(201, order.ToJsonString());
    }

    private FakeAnswer Refund(string captureId, FakeRequest request)
    {
        var capture = Orders.Values.Select(o => o["purchase_units"]![0]!["payments"]?["captures"]?[0])
            .FirstOrDefault(c => c?["id"]?.GetValue<string>() == captureId);
        if (capture is null)
        {
            return NotFound();
        }

        var captured = decimal.Parse(capture["amount"]!["value"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var asked = JsonNode.Parse(request.Body)?["amount"]?["value"]?.GetValue<string>() is { } value
            ? decimal.Parse(value, CultureInfo.InvariantCulture)
            : captured - Refunds.GetValueOrDefault(captureId, []).Sum();
        var list = Refunds.TryGetValue(captureId, out var existing) ? existing : Refunds[captureId] = [];
        if (asked + list.Sum() > captured)
        {
            return Unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount that has not yet been refunded.");
        }

        list.Add(asked);
        return Json(201, new JsonObject
        {
            ["id"] = "1JU" + (_next++).ToString("D14", CultureInfo.InvariantCulture),
            ["status"] = "COMPLETED",
            ["amount"] = new JsonObject { ["value"] = asked.ToString("0.00", CultureInfo.InvariantCulture), ["currency_code"] = capture["amount"]!["currency_code"]!.GetValue<string>() },
        }.ToJsonString());
    }
}

using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Rendezvous.Server.Infrastructure.OpenApi;
using Rendezvous.Server.Tests.Infrastructure;

namespace Rendezvous.Server.Tests.Api;

/// <summary>
/// The OpenAPI document is the API's contract: these checks fail on an operation a client generator or contract tester
/// would trip over (no operationId, no summary, undeclared errors, no security), and on schemas that do not say what
/// the server enforces (date-times without a format, integers that may be strings, a schema that contains itself).
/// </summary>
public sealed class OpenApiContractTests(RendezvousApp app) : IClassFixture<RendezvousApp>
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    [DbFact]
    public async Task Every_operation_has_a_unique_id_a_summary_tags_and_its_error_responses()
    {
        var document = await app.OpenApiDocumentAsync();
        var problems = new List<string>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, method, operation) in Operations(document))
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            var id = operation["operationId"]?.GetValue<string>();
            if (string.IsNullOrEmpty(id))
            {
                problems.Add($"{name}: no operationId (add it to ApiOperations)");
            }
            else if (!ids.Add(id))
            {
                problems.Add($"{name}: operationId {id} is used twice");
            }

            if (string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()))
            {
                problems.Add($"{name}: no summary");
            }

            if (operation["tags"] is not JsonArray { Count: > 0 })
            {
                problems.Add($"{name}: no tag");
            }

            var responses = operation["responses"]!.AsObject();
            if (!responses.Any(r => r.Key.StartsWith('2')))
            {
                problems.Add($"{name}: no success response");
            }

            foreach (var status in new[] { "400", "404", "503" })
            {
                if (responses[status]?["content"]?["application/problem+json"]?["schema"]?["$ref"]?.GetValue<string>() != "#/components/schemas/Problem")
                {
                    problems.Add($"{name}: {status} is not declared as problem+json");
                }
            }

            foreach (var status in new[] { "429", "503" })
            {
                if (responses[status] is { } limited && limited["headers"]?["Retry-After"] is null)
                {
                    problems.Add($"{name}: {status} without a Retry-After header");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [DbFact]
    public async Task Every_operation_names_its_security_and_the_scope_it_needs()
    {
        var document = await app.OpenApiDocumentAsync();
        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("bearer", schemes["apiKey"]!["scheme"]!.GetValue<string>());
        var flow = schemes["oauth2"]!["flows"]!["authorizationCode"]!;
        Assert.Equal("/oauth/authorize", flow["authorizationUrl"]!.GetValue<string>());
        Assert.Equal("/oauth/token", flow["tokenUrl"]!.GetValue<string>());
        foreach (var area in new[] { "bookings", "pages", "users", "calendars", "webhooks", "admin" })
        {
            Assert.NotNull(flow["scopes"]![area + ":read"]);
            Assert.NotNull(flow["scopes"]![area + ":write"]);
        }

        var problems = new List<string>();
        foreach (var (path, method, operation) in Operations(document))
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            var security = operation["security"]?.AsArray();
            var responses = operation["responses"]!.AsObject();
            if (security is null or { Count: 0 })
            {
                // Public: nothing asked, so no 401 either.
                if (responses.ContainsKey("403"))
                {
                    problems.Add($"{name}: public, yet declares 403");
                }

                continue;
            }

            if (!responses.ContainsKey("401"))
            {
                problems.Add($"{name}: secured but no 401");
            }

            var oauth = security.Select(s => s?["oauth2"]).FirstOrDefault(s => s is not null);
            if (oauth is not null)
            {
                var scope = oauth.AsArray().Single()!.GetValue<string>();
                var expected = method == "get" ? ":read" : ":write";
                if (!scope.EndsWith(expected, StringComparison.Ordinal) || !ApiOperations.Scopes.ContainsKey(scope))
                {
                    problems.Add($"{name}: scope {scope} (a {method.ToUpperInvariant()} needs a {expected} scope)");
                }
            }
            else if (security.All(s => s?["portalSession"] is null))
            {
                problems.Add($"{name}: neither an OAuth scope nor the portal session");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [DbFact]
    public async Task Schemas_say_what_the_server_enforces()
    {
        var document = await app.OpenApiDocumentAsync();
        var problems = new List<string>();
        foreach (var node in Walk(document, "$"))
        {
            var (at, schema) = node;
            if (schema["type"] is JsonArray types)
            {
                var names = types.Select(t => t!.GetValue<string>()).ToList();
                if ((names.Contains("integer") || names.Contains("number")) && names.Contains("string"))
                {
                    problems.Add($"{at}: a number typed {string.Join("|", names)}");
                }
            }

            foreach (var (property, value) in schema["properties"]?.AsObject() ?? [])
            {
                if (value is JsonObject p && IsString(p) && p["format"] is null
                    && (property.EndsWith("At", StringComparison.Ordinal) || (property is "start" or "end" && !at.Contains("WeeklyHours", StringComparison.Ordinal) && !at.Contains("TimeRange", StringComparison.Ordinal))))
                {
                    problems.Add($"{at}.{property}: a date-time without format");
                }
            }
        }

        foreach (var (name, schema) in document["components"]!["schemas"]!.AsObject())
        {
            if (schema!.ToJsonString().Contains($"\"#/components/schemas/{name}\"", StringComparison.Ordinal))
            {
                problems.Add($"{name} refers to itself");
            }
        }

        var role = document["components"]!["schemas"]!["UserResponse"]!["properties"]!["role"]!;
        Assert.Equal(["administrator", "member"], role["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        var cancel = document["components"]!["schemas"]!["BookingActionRequest"]!;
        Assert.DoesNotContain("reason", cancel["required"]?.AsArray().Select(v => v!.GetValue<string>()) ?? []);
        Assert.Equal(2000, cancel["properties"]!["reason"]!["maxLength"]!.GetValue<int>());
        var slots = document["paths"]!["/api/v1/booking-pages/{slug}/slots"]!["get"]!["parameters"]!.AsArray();
        Assert.All(slots.Where(p => p!["name"]!.GetValue<string>() is "from" or "to"), p => Assert.True(p!["required"]!.GetValue<bool>()));
        Assert.NotNull(document["components"]!["schemas"]!["CreateBookingRequest"]!["examples"]);

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [DbFact]
    public async Task Every_list_route_documents_cursor_paging()
    {
        var document = await app.OpenApiDocumentAsync();
        var lists = Operations(document)
            .Where(o => o.Method == "get" && o.Operation["responses"]!["200"]?["content"]?["application/json"]?["schema"]?["type"] is { } type
                && type.ToJsonString().Contains("array", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(lists);
        Assert.All(lists, o =>
        {
            var names = o.Operation["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
            Assert.Contains("limit", names);
            Assert.Contains("cursor", names);
            Assert.NotNull(o.Operation["responses"]!["200"]!["headers"]?["Next-Cursor"]);
        });
    }

    [Fact]
    public void Every_entry_of_the_operation_table_names_one_route_once()
    {
        Assert.Equal(ApiOperations.All.Count, ApiOperations.All.Select(o => o.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(ApiOperations.All.Count, ApiOperations.All.Select(o => o.Method + " " + o.Path).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal("Bookings_Cancel", ApiOperations.Find("POST", "api/v1/bookings/{id}/cancel")!.Id);
        Assert.Equal("SpaceChannels_Get", ApiOperations.Find("GET", "/api/v1/spaces/{spaceId:guid}/channel/")!.Id);
        Assert.Equal("bookings:write", ApiOperations.Find("POST", "/api/v1/bookings/{id}/reschedule")!.Scope);
        Assert.Equal("pages:read", ApiOperations.Find("GET", "/api/v1/booking-pages")!.Scope);
    }

    [Fact]
    public void A_deprecated_operation_answers_with_Deprecation_and_Sunset_headers()
    {
        var context = new DefaultHttpContext();
        var deprecation = new ApiDeprecationAttribute("2027-01-01", "2027-07-01", "/docs/API.md#versioning");
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(deprecation), "old"));
        ApiDeprecation.Apply(context);

        // RFC 9745: "@" and the Unix time; RFC 8594: an HTTP-date.
        Assert.Equal("@1798761600", context.Response.Headers["Deprecation"].ToString());
        Assert.Equal("Thu, 01 Jul 2027 00:00:00 GMT", context.Response.Headers["Sunset"].ToString());
        Assert.Contains("rel=\"deprecation\"", context.Response.Headers.Link.ToString(), StringComparison.Ordinal);

        var current = new DefaultHttpContext();
        current.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(), "current"));
        ApiDeprecation.Apply(current);
        Assert.False(current.Response.Headers.ContainsKey("Deprecation"));
    }

    [Fact]
    public void A_cursor_is_opaque_and_a_forged_one_is_refused()
    {
        var cursor = ApiPaging.Encode(150);
        Assert.DoesNotContain("150", cursor, StringComparison.Ordinal);
        Assert.True(ApiPaging.TryDecode(cursor, out var offset));
        Assert.Equal(150, offset);
        Assert.False(ApiPaging.TryDecode("150", out _));
        Assert.False(ApiPaging.TryDecode("not a cursor!", out _));
    }

    private static bool IsString(JsonObject schema) =>
        schema["type"] is JsonValue v ? v.GetValue<string>() == "string"
        : schema["type"] is JsonArray a && a.Any(t => t!.GetValue<string>() == "string");

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonNode document)
    {
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (Methods.Contains(method) && operation is JsonObject o)
                {
                    yield return (path, method, o);
                }
            }
        }
    }

    private static IEnumerable<(string At, JsonObject Schema)> Walk(JsonNode? node, string at)
    {
        switch (node)
        {
            case JsonObject o:
                yield return (at, o);
                foreach (var (key, value) in o)
                {
                    foreach (var inner in Walk(value, at + "." + key))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    foreach (var inner in Walk(a[i], $"{at}[{i}]"))
                    {
                        yield return inner;
                    }
                }

                break;
            default:
                break;
        }
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Rendezvous.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Rendezvous.Server.Tests.Security;

/// <summary>
/// Property-based fuzzing over the application's own OpenAPI document: every operation is called with generated path,
/// query and body values (edge values of each schema type: empty, huge, NUL, other scripts, negative, out-of-range
/// dates, wrong types, missing required fields), as an administrator and anonymously. The property: no answer is a
/// 5xx. The seed is fixed, so a failure repeats; the number of cases per operation is bounded.
/// </summary>
public sealed class OpenApiFuzzTests(RendezvousApp app, ITestOutputHelper output) : IClassFixture<RendezvousApp>
{
    private const int Seed = 20261206;
    private const int CasesPerOperation = 3;

    private static readonly string[] EdgeStrings =
    [
        "", " ", "a\0b", new string('x', 5000), "ünïcødé 日本語 🙂", "-1", "0", "9999999999999999999", "1.5", "true", "null",
        "0001-01-01", "9999-12-31", "2027-02-30", "0000-00-00T00:00:00Z", "9999-12-31T23:59:59Z", "2027-03-08T10:00:00Z",
        "2027-03-08", "Europe/London", "Not/AZone", "00000000-0000-0000-0000-000000000000", "<script>", "' OR 1=1 --",
        "../../etc/passwd", "%00", "http://127.0.0.1:9/", "mailto:x", "a@b.c",
    ];

    [DbFact]
    public async Task No_operation_answers_5xx_to_generated_input()
    {
        // Its property is "no 5xx"; generated garbage is not held to the contract here (every other API test is).
        var admin = app.Client(validateContract: false);
        var anonymous = app.Client(null, validateContract: false);
        var slug = await Scenario.CreatePageAsync(admin);
        var me = await Scenario.MyIdAsync(admin);
        var booking = await Scenario.BookAsync(app.Anonymous(), slug, "2027-03-08T10:00:00Z");
        var pageId = (await (await admin.GetAsync("/api/v1/booking-pages")).ExpectAsync(200)).AsArray()
            .First(p => p!["slug"]!.GetValue<string>() == slug)!["id"]!.GetValue<string>();
        var known = new[] { slug, me, booking["id"]!.GetValue<string>(), pageId };

        var document = await (await app.Anonymous().GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var schemas = document["components"]?["schemas"]?.AsObject();
        var random = new Random(Seed);
        var failures = new List<string>();
        var calls = 0;
        foreach (var (path, item) in document["paths"]!.AsObject().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            foreach (var (method, operationNode) in item!.AsObject().OrderBy(o => o.Key, StringComparer.Ordinal))
            {
                if (operationNode is not JsonObject operation || method is "parameters" or "summary" or "description")
                {
                    continue;
                }

                for (var i = 0; i < CasesPerOperation; i++)
                {
                    foreach (var client in new[] { admin, anonymous })
                    {
                        var request = Build(random, method, path, operation, schemas, known);
                        calls++;
                        try
                        {
                            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                            using var response = await client.SendAsync(request.Message, timeout.Token);
                            if ((int)response.StatusCode >= 500)
                            {
                                var text = await response.Content.ReadAsStringAsync();
                                failures.Add($"{method.ToUpperInvariant()} {request.Url} body={Cut(request.Body)} -> {(int)response.StatusCode} {Cut(text)}");
                            }
                        }
                        catch (OperationCanceledException)
                        {
                            failures.Add($"{method.ToUpperInvariant()} {request.Url} body={Cut(request.Body)} -> no answer in 20 s");
                        }
                    }
                }
            }
        }

        output.WriteLine($"{calls} calls, {failures.Count} answered 5xx");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
    }

    private sealed record FuzzRequest(HttpRequestMessage Message, string Url, string? Body);

    private static FuzzRequest Build(Random random, string method, string path, JsonObject operation, JsonObject? schemas, string[] known)
    {
        var url = new StringBuilder();
        var query = new List<string>();
        var resolvedPath = path;
        foreach (var parameter in operation["parameters"]?.AsArray() ?? [])
        {
            var name = parameter!["name"]!.GetValue<string>();
            var where = parameter["in"]!.GetValue<string>();
            var schema = Resolve(parameter["schema"], schemas);
            if (where == "path")
            {
                var value = random.Next(3) == 0 ? known[random.Next(known.Length)] : Scalar(random, schema)?.ToString() ?? "x";
                // A path segment cannot be empty or hold a slash and still name this operation, nor NUL (the server refuses those itself).
                value = value.Length == 0 || value.Contains('\0', StringComparison.Ordinal) ? "x" : value;
                resolvedPath = resolvedPath.Replace("{" + name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal);
            }
            else if (where == "query" && random.Next(4) != 0)
            {
                var value = Scalar(random, schema);
                query.Add($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value?.ToString() ?? "")}");
            }
        }

        url.Append(resolvedPath);
        if (query.Count > 0)
        {
            url.Append('?').Append(string.Join('&', query));
        }

        var message = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url.ToString());
        string? body = null;
        if (operation["requestBody"]?["content"]?.AsObject() is { } content)
        {
            if (content.ContainsKey("application/json"))
            {
                var schema = Resolve(content["application/json"]!["schema"], schemas);
                body = random.Next(10) switch
                {
                    0 => "{",
                    1 => "[]",
                    2 => "null",
                    _ => Value(random, schema, schemas, 0)?.ToJsonString() ?? "null",
                };
                message.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }
            else if (content.ContainsKey("application/x-www-form-urlencoded"))
            {
                body = "a=" + Uri.EscapeDataString(EdgeStrings[random.Next(EdgeStrings.Length)]);
                message.Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded");
            }
        }

        return new FuzzRequest(message, url.ToString(), body);
    }

    private static JsonNode? Resolve(JsonNode? schema, JsonObject? schemas)
    {
        for (var depth = 0; depth < 10 && schema?["$ref"] is { } reference; depth++)
        {
            var name = reference.GetValue<string>().Split('/')[^1];
            schema = schemas?[name];
        }

        return schema;
    }

    private static string[] TypesOf(JsonNode? schema)
    {
        var type = schema?["type"];
        return type switch
        {
            JsonArray many => [.. many.Select(t => t!.GetValue<string>())],
            JsonValue one => [one.GetValue<string>()],
            _ => [],
        };
    }

    /// <summary>A value for a schema: usually of its type at an edge, sometimes of another type entirely.</summary>
    private static JsonNode? Value(Random random, JsonNode? schema, JsonObject? schemas, int depth)
    {
        schema = Resolve(schema, schemas);
        if (schema?["anyOf"] is JsonArray anyOf && anyOf.Count > 0)
        {
            return Value(random, anyOf[random.Next(anyOf.Count)], schemas, depth);
        }

        if (schema?["oneOf"] is JsonArray oneOf && oneOf.Count > 0)
        {
            return Value(random, oneOf[random.Next(oneOf.Count)], schemas, depth);
        }

        var types = TypesOf(schema);
        if (random.Next(8) == 0 || depth > 4)
        {
            return Scalar(random, null);
        }

        if (types.Contains("object") || schema?["properties"] is not null)
        {
            var result = new JsonObject();
            var required = schema?["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet() ?? [];
            foreach (var (name, propertySchema) in schema?["properties"]?.AsObject() ?? [])
            {
                // Required fields are usually there (to get past the first check), optional ones half the time.
                if (random.Next(required.Contains(name) ? 8 : 2) == 0)
                {
                    continue;
                }

                result[name] = Value(random, propertySchema, schemas, depth + 1);
            }

            if (schema?["additionalProperties"] is JsonObject extra && random.Next(2) == 0)
            {
                result[EdgeStrings[random.Next(EdgeStrings.Length)].Replace("\0", "", StringComparison.Ordinal) + "k"] = Value(random, extra, schemas, depth + 1);
            }

            return result;
        }

        if (types.Contains("array"))
        {
            var array = new JsonArray();
            var count = random.Next(5) == 0 ? 60 : random.Next(4);
            for (var i = 0; i < count; i++)
            {
                array.Add(Value(random, schema?["items"], schemas, depth + 1));
            }

            return array;
        }

        return Scalar(random, schema);
    }

    private static JsonNode? Scalar(Random random, JsonNode? schema)
    {
        var types = TypesOf(schema);
        if (random.Next(6) == 0 || types.Length == 0)
        {
            // Any type at all.
            return random.Next(5) switch
            {
                0 => null,
                1 => JsonValue.Create(random.Next(2) == 0),
                2 => JsonValue.Create(random.Next(2) == 0 ? long.MinValue : -1),
                3 => JsonValue.Create(1e308),
                _ => JsonValue.Create(EdgeStrings[random.Next(EdgeStrings.Length)]),
            };
        }

        if (types.Contains("integer") || types.Contains("number"))
        {
            long[] edges = [0, -1, 1, int.MaxValue, int.MinValue, long.MaxValue, 59, 1440, 100000];
            return JsonValue.Create(edges[random.Next(edges.Length)]);
        }

        if (types.Contains("boolean"))
        {
            return JsonValue.Create(random.Next(2) == 0);
        }

        if (schema?["enum"] is JsonArray values && values.Count > 0 && random.Next(2) == 0)
        {
            return values[random.Next(values.Count)]?.DeepClone();
        }

        var format = schema?["format"]?.GetValue<string>();
        if (format is "date-time" && random.Next(2) == 0)
        {
            string[] instants = ["2027-03-08T10:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2027-03-14T02:30:00-05:00"];
            return JsonValue.Create(instants[random.Next(instants.Length)]);
        }

        if (format is "uuid" && random.Next(2) == 0)
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            return JsonValue.Create(new Guid(bytes).ToString());
        }

        return JsonValue.Create(EdgeStrings[random.Next(EdgeStrings.Length)]);
    }

    private static string Cut(string? text) =>
        text is null ? "" : text.Length <= 300 ? text : text[..300] + "…(" + text.Length.ToString(CultureInfo.InvariantCulture) + ")";
}

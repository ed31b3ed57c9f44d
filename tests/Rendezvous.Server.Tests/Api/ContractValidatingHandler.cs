using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Rendezvous.Server.Tests.Api;

/// <summary>
/// Checks every answer to an <c>/api/</c> call against the server's own OpenAPI document: the status code must be one
/// the operation declares, and a JSON body must be valid against the declared schema (formats included). An answer the
/// document does not describe fails the test that got it, so the document cannot drift from the server.
/// </summary>
public sealed class ContractValidatingHandler(Func<Task<JsonNode>> loadDocument) : DelegatingHandler
{
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _loading = new(1, 1);
    private ContractDocument? _document;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var path = request.RequestUri?.AbsolutePath ?? "";
        if (!path.StartsWith("/api/", StringComparison.Ordinal) || path.StartsWith("/api/reference", StringComparison.Ordinal))
        {
            return response;
        }

        var document = await DocumentAsync();
        var failure = await CheckAsync(document, request.Method.Method, path, response);
        return failure is null
            ? response
            : throw new ContractViolationException($"{request.Method} {request.RequestUri?.PathAndQuery} answered {(int)response.StatusCode}: {failure}");
    }

    private async Task<ContractDocument> DocumentAsync()
    {
        if (_document is not null)
        {
            return _document;
        }

        await _loading.WaitAsync();
        try
        {
            return _document ??= new ContractDocument(await loadDocument());
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task<string?> CheckAsync(ContractDocument document, string method, string path, HttpResponseMessage response)
    {
        if (document.Find(method, path) is not { } found)
        {
            // Not an operation (an unknown route's 404, or a method the route lacks): nothing to hold it to.
            return null;
        }

        var (template, operation) = found;
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var responses = operation["responses"]?.AsObject();
        var declared = responses?[status] ?? responses?["default"];
        if (declared is null)
        {
            return $"status {status} is not declared for {operation["operationId"]} (declares {string.Join(", ", responses?.Select(r => r.Key) ?? [])})";
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is null || !mediaType.EndsWith("json", StringComparison.Ordinal))
        {
            return null;
        }

        var content = declared["content"]?.AsObject();
        var schemaNode = content?[mediaType]?["schema"] ?? content?["application/json"]?["schema"];
        if (schemaNode is null)
        {
            return content is null ? null : $"content type {mediaType} is not declared for status {status}";
        }

        await response.Content.LoadIntoBufferAsync();
        var text = await response.Content.ReadAsStringAsync();
        if (text.Length == 0)
        {
            return null;
        }

        var key = $"{method} {template} {status} {mediaType}";
        var schema = _schemas.GetOrAdd(key, _ => document.Schema(schemaNode));
        using var body = JsonDocument.Parse(text);
        var result = schema.Evaluate(body.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        if (result.IsValid)
        {
            return null;
        }

        var errors = (result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value} ({d.EvaluationPath})"))
            .Take(8);
        return $"body does not match the schema of {operation["operationId"]}: {string.Join("; ", errors)}. Body: {(text.Length > 600 ? text[..600] + "..." : text)}";
    }
}

public sealed class ContractViolationException(string message) : Exception(message);

/// <summary>The document's operations by route template, and its component schemas as JSON Schema definitions.</summary>
public sealed class ContractDocument
{
    private readonly List<(string Method, string[] Segments, string Template, JsonObject Operation)> _operations = [];
    private readonly JsonObject _definitions;

    public ContractDocument(JsonNode document)
    {
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (operation is JsonObject o)
                {
                    _operations.Add((method.ToUpperInvariant(), template.Trim('/').Split('/'), template, o));
                }
            }
        }

        _definitions = JsonNode.Parse(Rewrite(document["components"]?["schemas"]?.ToJsonString() ?? "{}"))!.AsObject();
    }

    /// <summary>The operation a request path names; a literal segment beats a parameter (/spaces/timeline, not /spaces/{id}).</summary>
    public (string Template, JsonObject Operation)? Find(string method, string path)
    {
        var segments = path.Trim('/').Split('/');
        var best = _operations
            .Where(o => o.Method == method && o.Segments.Length == segments.Length
                && o.Segments.Zip(segments).All(p => p.First.StartsWith('{') || string.Equals(p.First, Uri.UnescapeDataString(p.Second), StringComparison.Ordinal)))
            .OrderByDescending(o => o.Segments.Count(s => !s.StartsWith('{')))
            .FirstOrDefault();
        return best.Operation is null ? null : (best.Template, best.Operation);
    }

    /// <summary>One response schema with every component beside it as <c>$defs</c>, so its references resolve.</summary>
    public JsonSchema Schema(JsonNode responseSchema)
    {
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$defs"] = _definitions.DeepClone(),
            ["allOf"] = new JsonArray(JsonNode.Parse(Rewrite(responseSchema.ToJsonString()))),
        };
        return JsonSchema.FromText(root.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() },
            new Uri($"https://contract.rendezvous.test/{Guid.NewGuid():N}"));
    }

    private static string Rewrite(string json) => json.Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
}

using System.Text;
using System.Text.Json;
using Rendezvous.Domain;

namespace Rendezvous.Server.Infrastructure;

/// <summary>
/// Refuses text PostgreSQL cannot store, before any endpoint or page sees it: a NUL character (U+0000) anywhere in a
/// route value, query string, header, form field or JSON string (value or property name) is answered 400
/// problem+json naming the field. One place for every endpoint, so a new endpoint cannot forget it; PostgreSQL's
/// <c>text</c> and <c>jsonb</c> refuse NUL, which used to surface as 500s from whichever handler saved it.
/// </summary>
public static class InputTextFilter
{
    public const string Code = "invalid_character";

    /// <summary>Bodies larger than this are not scanned here (the endpoint's own size limits apply).</summary>
    private const int MaxScannedBody = 4 * 1024 * 1024;

    public static IApplicationBuilder UseInputTextFilter(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var field = await FindNulAsync(context.Request).ConfigureAwait(false);
        if (field is not null)
        {
            await Problems.From(new DomainError(ErrorKind.Validation, Code, "must not contain the NUL character (U+0000).", field))
                .ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    });

    /// <summary>The name of the first input that holds a NUL character, or null.</summary>
    public static async Task<string?> FindNulAsync(HttpRequest request)
    {
        foreach (var (name, value) in request.RouteValues)
        {
            if (value is string s && s.Contains('\0', StringComparison.Ordinal))
            {
                return name;
            }
        }

        foreach (var (name, values) in request.Query)
        {
            if (name.Contains('\0', StringComparison.Ordinal) || values.Any(v => v is not null && v.Contains('\0', StringComparison.Ordinal)))
            {
                return Printable(name);
            }
        }

        foreach (var (name, values) in request.Headers)
        {
            if (values.Any(v => v is not null && v.Contains('\0', StringComparison.Ordinal)))
            {
                return name;
            }
        }

        if (request.HasFormContentType)
        {
            IFormCollection form;
            request.EnableBuffering();
            try
            {
                form = await request.ReadFormAsync().ConfigureAwait(false);
            }
            catch (InvalidDataException)
            {
                // ASP.NET's form reader refuses a decoded NUL itself, without saying where: find the field in the raw body.
                return await FindNulInUrlEncodedAsync(request).ConfigureAwait(false) ?? "form";
            }

            foreach (var (name, values) in form)
            {
                if (name.Contains('\0', StringComparison.Ordinal) || values.Any(v => v is not null && v.Contains('\0', StringComparison.Ordinal)))
                {
                    return Printable(name);
                }
            }

            foreach (var file in form.Files)
            {
                if (file.FileName.Contains('\0', StringComparison.Ordinal))
                {
                    return Printable(file.Name);
                }
            }
        }
        else if (IsJson(request) && request.ContentLength is null or <= MaxScannedBody)
        {
            request.EnableBuffering();
            request.Body.Position = 0;
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer).ConfigureAwait(false);
            request.Body.Position = 0;
            if (buffer.Length <= MaxScannedBody)
            {
                return FindNulInJson(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
            }
        }

        return null;
    }

    private static async Task<string?> FindNulInUrlEncodedAsync(HttpRequest request)
    {
        if (!request.Body.CanSeek || request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) != true)
        {
            return null;
        }

        request.Body.Position = 0;
        using var reader = new StreamReader(request.Body, Encoding.UTF8, leaveOpen: true);
        var body = await reader.ReadToEndAsync().ConfigureAwait(false);
        request.Body.Position = 0;
        foreach (var pair in body.Split('&'))
        {
            var cut = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(cut < 0 ? pair : pair[..cut]);
            var value = cut < 0 ? "" : Decode(pair[(cut + 1)..]);
            if (name.Contains('\0', StringComparison.Ordinal) || value.Contains('\0', StringComparison.Ordinal))
            {
                return Printable(name);
            }
        }

        return null;
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));

    /// <summary>
    /// The JSON path (camelCase, as the API names fields: <c>customer.name</c>, <c>answers[0]</c>) of the first string
    /// holding a NUL; null when there is none or the JSON is malformed (the endpoint's own reader then says so).
    /// </summary>
    public static string? FindNulInJson(ReadOnlySpan<byte> json)
    {
        // Only an escaped \u0000 can put NUL in a JSON string (a raw control character is malformed JSON).
        if (json.IndexOf("\\u0000"u8) < 0)
        {
            return null;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 });
        var path = new List<object>();
        try
        {
            while (reader.Read())
            {
                var token = reader.TokenType;
                if (token is not (JsonTokenType.PropertyName or JsonTokenType.EndObject or JsonTokenType.EndArray or JsonTokenType.Comment)
                    && path.Count > 0 && path[^1] is int index)
                {
                    path[^1] = index + 1;
                }

                switch (token)
                {
                    case JsonTokenType.StartObject:
                        path.Add("");
                        break;
                    case JsonTokenType.StartArray:
                        path.Add(-1);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString() ?? "";
                        path[^1] = name;
                        if (name.Contains('\0', StringComparison.Ordinal))
                        {
                            return Format(path);
                        }

                        break;
                    case JsonTokenType.String when reader.ValueIsEscaped && (reader.GetString() ?? "").Contains('\0', StringComparison.Ordinal):
                        return Format(path);
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return null;
    }

    private static string Format(List<object> path)
    {
        var text = new StringBuilder();
        foreach (var part in path)
        {
            if (part is int index)
            {
                text.Append('[').Append(Math.Max(index, 0)).Append(']');
            }
            else if (part is string { Length: > 0 } name)
            {
                if (text.Length > 0)
                {
                    text.Append('.');
                }

                text.Append(Printable(name));
            }
        }

        return text.Length == 0 ? "body" : text.ToString();
    }

    private static string Printable(string name) => name.Replace("\0", "\\u0000", StringComparison.Ordinal);

    private static bool IsJson(HttpRequest request) =>
        request.ContentType is { } type
        && (type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || type.Contains("+json", StringComparison.OrdinalIgnoreCase));
}

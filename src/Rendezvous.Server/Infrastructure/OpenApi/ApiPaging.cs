using System.Collections;
using System.Globalization;
using System.Text;
using Microsoft.OpenApi;

namespace Rendezvous.Server.Infrastructure.OpenApi;

/// <summary>
/// Cursor paging for every list route (a GET answering a JSON array): <c>?limit=&amp;cursor=</c> in, the array out, and
/// the next page's cursor in the <c>Next-Cursor</c> header (with a <c>Link: rel="next"</c>). The body stays an array, so
/// existing clients and scripts keep working; without <c>limit</c> and <c>cursor</c> a route answers as it always did.
/// The cursor names the last item of the page (its <c>id</c>) and its position: the next page starts after that item
/// wherever it now is, so items added or removed before it neither repeat nor hide one; only when that item itself is
/// gone does the position decide. A route that takes <c>cursor</c> itself (the bookings list: a keyset on its sort order
/// in the database) is left alone.
/// </summary>
public static class ApiPaging
{
    public const int MaxLimit = 500;
    public const int DefaultLimit = 100;
    public const string NextCursorHeader = "Next-Cursor";
    private const string CursorPrefix = "o1:";
    private const string ItemCursorPrefix = "i1:";
    private const string KeyCursorPrefix = "k1:";

    /// <summary>Pages the GET routes of <paramref name="group"/> that answer arrays.</summary>
    public static TBuilder WithCursorPaging<TBuilder>(this TBuilder group)
        where TBuilder : IEndpointConventionBuilder =>
        group.AddEndpointFilterFactory((factory, next) =>
        {
            if (factory.MethodInfo.GetParameters().Any(p => p.Name == "cursor"))
            {
                return next;
            }

            // A handler that already takes "limit" keeps validating it; the filter widens it to reach past the cursor.
            var limitIndex = Array.FindIndex(factory.MethodInfo.GetParameters(), p => p.Name == "limit" && p.ParameterType == typeof(int?));
            return invocation => PageAsync(invocation, next, limitIndex);
        });

    private static bool IsBadRequest(object? result) =>
        (result is INestedHttpResult nested ? nested.Result : result as IResult) is IStatusCodeHttpResult { StatusCode: 400 };

    private static async ValueTask<object?> PageAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next, int limitIndex)
    {
        var request = invocation.HttpContext.Request;
        var hasCursor = request.Query.TryGetValue("cursor", out var cursorText);
        var hasLimit = request.Query.ContainsKey("limit");
        if (!HttpMethods.IsGet(request.Method) || (!hasCursor && !hasLimit))
        {
            return await next(invocation).ConfigureAwait(false);
        }

        var offset = 0;
        string? afterId = null;
        if (hasCursor && !TryDecode(cursorText.ToString(), out offset, out afterId))
        {
            return Problems.Validation("cursor", "is not a cursor this API gave out; start again without one");
        }

        int limit;
        if (limitIndex >= 0)
        {
            limit = invocation.Arguments[limitIndex] as int? ?? DefaultLimit;
            if (limit >= 1)
            {
                // One more than the page, to know whether there is a next page; the handler still checks its own maximum.
                invocation.Arguments[limitIndex] = (int)Math.Min(int.MaxValue, (long)offset + limit + 1);
            }
        }
        else if (!hasLimit)
        {
            limit = DefaultLimit;
        }
        else if (!int.TryParse(request.Query["limit"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit)
        {
            return Problems.Validation("limit", $"must be between 1 and {MaxLimit}");
        }

        var result = await next(invocation).ConfigureAwait(false);
        if (limitIndex >= 0 && limit >= 1 && IsBadRequest(result))
        {
            // One more than the handler's own maximum (limit=500 of 500): ask for the page itself, without the look-ahead.
            invocation.Arguments[limitIndex] = (int)Math.Min(int.MaxValue, (long)offset + limit);
            result = await next(invocation).ConfigureAwait(false);
        }

        var inner = result is INestedHttpResult nested ? nested.Result : result as IResult;
        if (inner is not IValueHttpResult { Value: IEnumerable items and not string } || inner is IStatusCodeHttpResult { StatusCode: not (null or 200) })
        {
            return result;
        }

        var all = items.Cast<object?>().ToList();
        if (afterId is not null)
        {
            // Resume after the item the cursor names, wherever it is now; the position is the fallback when it is gone.
            var at = all.FindIndex(item => IdOf(item) == afterId);
            if (at >= 0)
            {
                offset = at + 1;
            }
        }

        var page = all.Skip(offset).Take(limit).ToArray();
        if (all.Count > offset + limit)
        {
            SetNext(invocation.HttpContext, Encode(offset + limit, IdOf(page[^1])), limit);
        }

        return TypedResults.Ok(page);
    }

    /// <summary>The <c>Next-Cursor</c> and <c>Link: rel="next"</c> headers of a page that has a next one.</summary>
    public static void SetNext(HttpContext http, string cursor, int limit)
    {
        var request = http.Request;
        var headers = http.Response.Headers;
        headers[NextCursorHeader] = cursor;
        var query = request.Query.Where(q => q.Key is not ("cursor" or "limit"))
            .Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value.ToString()))
            .Append("limit=" + limit.ToString(CultureInfo.InvariantCulture))
            .Append("cursor=" + cursor);
        headers.Link = $"<{request.PathBase}{request.Path}?{string.Join('&', query)}>; rel=\"next\"";
    }

    /// <summary>An item's <c>Id</c> (the response records all have one), as text; null for items without one.</summary>
    private static string? IdOf(object? item) =>
        item?.GetType().GetProperty("Id")?.GetValue(item) is { } id ? Convert.ToString(id, CultureInfo.InvariantCulture) : null;

    public static string Encode(int offset, string? lastId = null) => ToBase64Url(lastId is { Length: > 0 and <= 40 }
        ? ItemCursorPrefix + offset.ToString(CultureInfo.InvariantCulture) + ":" + lastId
        : CursorPrefix + offset.ToString(CultureInfo.InvariantCulture));

    public static bool TryDecode(string text, out int offset) => TryDecode(text, out offset, out _);

    public static bool TryDecode(string text, out int offset, out string? lastId)
    {
        offset = 0;
        lastId = null;
        if (FromBase64Url(text) is not { } decoded)
        {
            return false;
        }

        if (decoded.StartsWith(CursorPrefix, StringComparison.Ordinal))
        {
            return int.TryParse(decoded.AsSpan(CursorPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        }

        if (!decoded.StartsWith(ItemCursorPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var colon = decoded.IndexOf(':', ItemCursorPrefix.Length);
        if (colon < 0
            || !int.TryParse(decoded.AsSpan(ItemCursorPrefix.Length, colon - ItemCursorPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            return false;
        }

        lastId = decoded[(colon + 1)..];
        return lastId.Length > 0;
    }

    /// <summary>A keyset cursor: the sort key (an instant) and id of the last item of a page.</summary>
    public static string EncodeKey(NodaTime.Instant after, Guid id) =>
        ToBase64Url(KeyCursorPrefix + after.ToUnixTimeTicks().ToString(CultureInfo.InvariantCulture) + ":" + id.ToString("N"));

    public static bool TryDecodeKey(string text, out NodaTime.Instant after, out Guid id)
    {
        after = default;
        id = Guid.Empty;
        if (FromBase64Url(text) is not { } decoded || !decoded.StartsWith(KeyCursorPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = decoded[KeyCursorPrefix.Length..].Split(':');
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ticks)
            || ticks < NodaTime.Instant.MinValue.ToUnixTimeTicks() || ticks > NodaTime.Instant.MaxValue.ToUnixTimeTicks()
            || !Guid.TryParseExact(parts[1], "N", out id))
        {
            return false;
        }

        after = NodaTime.Instant.FromUnixTimeTicks(ticks);
        return true;
    }

    private static string ToBase64Url(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string? FromBase64Url(string text)
    {
        if (text.Length is 0 or > 96)
        {
            return null;
        }

        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - (padded.Length % 4)) % 4);
            return Encoding.UTF8.GetString(Convert.FromBase64String(padded));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    internal static bool IsList(OpenApiOperation operation) =>
        operation.Responses is not null && operation.Responses.TryGetValue("200", out var ok)
        && ok.Content is not null && ok.Content.TryGetValue("application/json", out var json)
        && json.Schema?.Type is { } type && (type & JsonSchemaType.Array) != 0;

    /// <summary>The paging parameters and headers in the document.</summary>
    internal static void Describe(OpenApiOperation operation, string? id)
    {
        operation.Parameters ??= [];
        var limit = operation.Parameters.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == "limit");
        if (limit is null)
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "limit",
                In = ParameterLocation.Query,
                Description = $"Items per page (1-{MaxLimit}). Without `limit` and `cursor` the whole list comes back.",
                Schema = OpenApiContract.Integer(1, MaxLimit),
            });
        }
        else
        {
            limit.Description = $"Items per page (default {DefaultLimit}).";
            if (limit.Schema is OpenApiSchema schema)
            {
                schema.Minimum = "1";
                schema.Maximum = id switch
                {
                    "Webhooks_ListDeliveries" => Features.Webhooks.WebhooksEndpoints.MaxDeliveryPage.ToString(CultureInfo.InvariantCulture),
                    "Automations_ListRuns" => Features.Automations.AutomationService.MaxRuns.ToString(CultureInfo.InvariantCulture),
                    "Bookings_List" => Features.Bookings.BookingsEndpoints.MaxListSize.ToString(CultureInfo.InvariantCulture),
                    "Outbox_ListMessages" => Features.Outbox.OutboxEndpoints.MaxPage.ToString(CultureInfo.InvariantCulture),
                    _ => null,
                };
            }
        }

        var cursor = operation.Parameters.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == "cursor");
        if (cursor is null)
        {
            cursor = new OpenApiParameter { Name = "cursor", In = ParameterLocation.Query };
            operation.Parameters.Add(cursor);
        }

        cursor.Description = "The `Next-Cursor` of the previous page (opaque).";
        cursor.Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 96 };

        if (operation.Responses is not null && operation.Responses.TryGetValue("200", out var found) && found is OpenApiResponse ok)
        {
            ok.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
            ok.Headers[NextCursorHeader] = new OpenApiHeader
            {
                Description = "The cursor of the next page; absent on the last page.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            };
            ok.Headers["Link"] = new OpenApiHeader
            {
                Description = "The next page's URL, rel=\"next\" (RFC 8288); absent on the last page.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            };
        }
    }
}

/// <summary>
/// Marks an operation deprecated: the document says so, and every answer carries <c>Deprecation</c> (RFC 9745) and
/// <c>Sunset</c> (RFC 8594) headers, with a <c>Link rel="deprecation"</c> to what replaces it (docs/API.md, policy).
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class ApiDeprecationAttribute(string deprecatedOn, string sunsetOn, string? replacement = null) : Attribute
{
    /// <summary>The UTC date it was deprecated, yyyy-MM-dd.</summary>
    public DateOnly DeprecatedOn { get; } = DateOnly.ParseExact(deprecatedOn, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The UTC date after which it may answer 410 Gone, yyyy-MM-dd.</summary>
    public DateOnly SunsetOn { get; } = DateOnly.ParseExact(sunsetOn, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The operation or document to use instead, if any.</summary>
    public string? Replacement { get; } = replacement;

    /// <summary>RFC 9745: an "@" and the Unix time of the deprecation.</summary>
    public string DeprecationHeader =>
        "@" + new DateTimeOffset(DeprecatedOn.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>RFC 8594: an HTTP-date.</summary>
    public string SunsetHeader => new DateTimeOffset(SunsetOn.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToString("r", CultureInfo.InvariantCulture);

    public string Describe() =>
        $"Deprecated since {DeprecatedOn:yyyy-MM-dd}; removed after {SunsetOn:yyyy-MM-dd}." + (Replacement is null ? "" : $" Use {Replacement} instead.");
}

public static class ApiDeprecation
{
    /// <summary>Adds the deprecation headers to every answer of a deprecated operation (after routing, so the endpoint is known).</summary>
    public static IApplicationBuilder UseApiDeprecation(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        Apply(context);
        return next(context);
    });

    public static void Apply(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ApiDeprecationAttribute>() is { } deprecation)
        {
            context.Response.Headers["Deprecation"] = deprecation.DeprecationHeader;
            context.Response.Headers["Sunset"] = deprecation.SunsetHeader;
            if (deprecation.Replacement is { } replacement)
            {
                context.Response.Headers.Append("Link", $"<{replacement}>; rel=\"deprecation\"");
            }
        }
    }
}

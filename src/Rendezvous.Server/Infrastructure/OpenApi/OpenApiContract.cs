using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;

namespace Rendezvous.Server.Infrastructure.OpenApi;

/// <summary>
/// The OpenAPI document (<c>/openapi/v1.json</c>) as a contract (decision 0031): ids, summaries, every response an
/// operation can give, security per operation, and schemas that say what the server enforces. Attributes on each route
/// would scatter this over every feature; the transformers here keep it in one place, next to the table of operations.
/// </summary>
public static class OpenApiContract
{
    public const string BearerScheme = "apiKey";
    public const string OAuthScheme = "oauth2";
    public const string PortalScheme = "portalSession";
    public const string ProblemSchema = "Problem";

    public static IServiceCollection AddRendezvousOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", o =>
        {
            o.AddSchemaTransformer<SchemaContract>();
            o.AddOperationTransformer<OperationContract>();
            o.AddDocumentTransformer<DocumentContract>();
        });

    internal static OpenApiSchema Integer(int? minimum = null, int? maximum = null) => new()
    {
        Type = JsonSchemaType.Integer,
        Format = "int32",
        Minimum = minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Maximum = maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>Title, servers, security schemes, the problem schema, and the one self-referring schema split in two.</summary>
internal sealed class DocumentContract : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Rendezvous API",
            Version = "v1",
            Description = "Appointment scheduling: booking pages, bookings, calendars, webhooks and administration. "
                + "Errors are application/problem+json (RFC 9457) with a machine-readable `code`. Lists page with `limit` and an "
                + "opaque `cursor`; the next page's cursor comes back in the `Next-Cursor` header. See docs/API.md.",
        };
        // The document is the same wherever the server runs: clients resolve the paths against the address they call.
        document.Servers = [];
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal)
        {
            [OpenApiContract.BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "API key",
                Description = "An API key (rdv_...) in Authorization: Bearer.",
            },
            [OpenApiContract.OAuthScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.OAuth2,
                Description = "OAuth 2.0 authorization code with PKCE for third-party apps; a token works on the routes its scopes name.",
                Flows = new OpenApiOAuthFlows
                {
                    AuthorizationCode = new OpenApiOAuthFlow
                    {
                        AuthorizationUrl = new Uri("/oauth/authorize", UriKind.Relative),
                        TokenUrl = new Uri("/oauth/token", UriKind.Relative),
                        RefreshUrl = new Uri("/oauth/token", UriKind.Relative),
                        Scopes = ApiOperations.Scopes.ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal),
                    },
                },
            },
            [OpenApiContract.PortalScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Cookie,
                Name = "rdv_portal",
                Description = "The customer portal's session cookie, set by Portal_SignIn or a sign-in link.",
            },
        };

        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        document.Components.Schemas[OpenApiContract.ProblemSchema] = ProblemSchema();
        // Written by our own converters, so the exporter knows nothing of them. Either one is used as oneOf [null, it]:
        // a schema that also matched null would make every null fail that oneOf.
        if (document.Components.Schemas.ContainsKey("Instant"))
        {
            document.Components.Schemas["Instant"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" };
        }

        if (document.Components.Schemas.ContainsKey("JsonElement"))
        {
            document.Components.Schemas["JsonElement"] = new OpenApiSchema
            {
                Description = "Any JSON value (the event's own payload).",
                Not = new OpenApiSchema { Type = JsonSchemaType.Null },
            };
        }

        SplitSessions(document);
        return Task.CompletedTask;
    }

    /// <summary>RFC 9457 problem details with this API's extension members.</summary>
    private static OpenApiSchema ProblemSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "An error (RFC 9457). `code` is stable and machine-readable; `errors` maps each invalid field to its messages.",
        Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer | JsonSchemaType.Null, Format = "int32" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong, e.g. validation, not_found, slot_taken, busy." },
            ["field"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The one field at fault, when there is one." },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "Field name to its messages.",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
            ["retryAfter"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "Seconds to wait (429 and 503), as in Retry-After." },
            ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String },
        },
        Examples =
        [
            new JsonObject
        {
            ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            ["title"] = "The request is invalid.",
            ["status"] = 400,
            ["detail"] = "start: must be a date-time with an offset",
            ["code"] = "validation",
            ["errors"] = new JsonObject { ["start"] = new JsonArray("must be a date-time with an offset") },
        },
        ],
    };

    /// <summary>
    /// A booking of a session package lists its sessions, each a booking without sessions of its own. Exported as a schema
    /// that contains itself, which some generators skip; the sessions get their own schema instead.
    /// </summary>
    private static void SplitSessions(OpenApiDocument document)
    {
        if (document.Components?.Schemas is null || !document.Components.Schemas.TryGetValue("BookingResponse", out var found)
            || found is not OpenApiSchema booking || booking.Properties is null
            || !booking.Properties.TryGetValue("sessions", out var property) || property is not OpenApiSchema sessions)
        {
            return;
        }

        var session = new OpenApiSchema
        {
            Type = booking.Type,
            Description = "One session of a package booking (a booking without the package's list of sessions).",
            Properties = booking.Properties.Where(p => p.Key != "sessions").ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            Required = booking.Required is null ? null : new HashSet<string>(booking.Required.Where(r => r != "sessions"), StringComparer.Ordinal),
        };
        document.Components.Schemas["BookingSessionResponse"] = session;
        sessions.Items = new OpenApiSchemaReference("BookingSessionResponse", document);
    }
}

/// <summary>operationId, summary, responses, security, paging parameters and deprecation of each operation.</summary>
internal sealed class OperationContract : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var description = context.Description;
        var method = description.HttpMethod ?? "GET";
        var entry = ApiOperations.Find(method, description.RelativePath ?? "");
        if (entry is not null)
        {
            operation.OperationId = entry.Id;
            operation.Summary = entry.Summary;
        }

        var metadata = description.ActionDescriptor.EndpointMetadata;
        var anonymous = metadata.OfType<IAllowAnonymous>().Any();
        var portalSession = entry is not null && entry.Id.StartsWith("Portal_", StringComparison.Ordinal)
            && entry.Id is not ("Portal_RequestSignInLink" or "Portal_SignIn");
        var rateLimited = metadata.OfType<EnableRateLimitingAttribute>().Any();
        var document = context.Document!;

        operation.Responses ??= [];
        Add(operation, document, 400, "The request is invalid: `errors` names each field.");
        if (!anonymous || portalSession)
        {
            Add(operation, document, 401, portalSession ? "No portal session." : "No valid API key or token.");
        }

        if (!anonymous)
        {
            Add(operation, document, 403, "The key's user, or the token's scopes, may not do this.");
        }

        // Ids in the path, the query or the body may name nothing (or something of another organization).
        Add(operation, document, 404, "Nothing with that id (or slug, or link) in this organization.");

        // Writes can lose a race or meet a duplicate; reads and writes alike can find an integration not set up yet.
        Add(operation, document, 409, "A conflict with the current state: a lost race, a duplicate, or something not set up yet.");

        if (method != "GET" && entry?.Id.Split('_')[0] is "Bookings" or "SelfService" or "PublicBooking" or "Reassignment" or "Payments" or "SpaceRequests")
        {
            Add(operation, document, 422, "Not allowed by the booking page's policy (notice, cancellation window, ...).");
        }

        if (rateLimited || !anonymous)
        {
            Add(operation, document, 429, "Too many requests: wait as Retry-After says.", retryAfter: true);
        }

        Add(operation, document, 503, "The server is busy; nothing was changed. Try again as Retry-After says.", retryAfter: true);

        if (entry?.Id == "CalendarConnections_MicrosoftAuthorize" || entry?.Id.EndsWith("Callback", StringComparison.Ordinal) == true)
        {
            // Opened in a browser: a sign-in start sends the person on to the provider, a callback back to the web application.
            operation.Responses.TryAdd("302", new OpenApiResponse { Description = "Redirect (Location): to the provider's sign-in page, or back to the web application." });
        }

        if (anonymous && !portalSession)
        {
            // Public routes: none needed (no requirement at all, and no global one in the document).
            operation.Security = [];
        }
        else if (portalSession)
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(OpenApiContract.PortalScheme, document)] = [] }];
        }
        else
        {
            // The scope the server enforces (the route's area, ApiScopes), so the document cannot promise another one.
            var area = metadata.OfType<ApiAreaMetadata>().LastOrDefault()?.Area ?? entry?.Area ?? ApiScopes.Admin;
            var scope = ApiScopes.Needed(area, method);
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(OpenApiContract.BearerScheme, document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(OpenApiContract.OAuthScheme, document)] = [scope] },
            ];
            operation.Description = $"Needs an API key, or an OAuth token with the `{scope}` scope.";
        }

        if (metadata.OfType<ApiDeprecationAttribute>().FirstOrDefault() is { } deprecation)
        {
            operation.Deprecated = true;
            operation.Description = (operation.Description + " " + deprecation.Describe()).Trim();
        }

        if (method == "GET" && ApiPaging.IsList(operation))
        {
            ApiPaging.Describe(operation, entry?.Id);
        }

        ParameterRules(operation, entry?.Id);
        return Task.CompletedTask;
    }

    private static void Add(OpenApiOperation operation, OpenApiDocument document, int status, string text, bool retryAfter = false)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }

        var response = new OpenApiResponse
        {
            Description = text,
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(OpenApiContract.ProblemSchema, document) },
            },
        };
        if (retryAfter)
        {
            response.Headers = new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal)
            {
                ["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before trying again (RFC 9110, section 10.2.3).",
                    Schema = OpenApiContract.Integer(minimum: 0),
                },
            };
        }

        operation.Responses[key] = response;
    }

    /// <summary>Query parameters the server requires or restricts, which binding alone does not show.</summary>
    private static void ParameterRules(OpenApiOperation operation, string? id)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            var schema = parameter.Schema as OpenApiSchema;
            switch (id, parameter.Name)
            {
                case ("PublicBooking_ListSlots" or "SelfService_ListSlots", "from" or "to"):
                    parameter.Required = true;
                    parameter.Description = "A date, yyyy-MM-dd (inclusive); at most a few weeks from `from` to `to`.";
                    if (schema is not null)
                    {
                        schema.Type = JsonSchemaType.String;
                        schema.Format = "date";
                    }

                    break;
                case ("Bookings_List", "status") when schema is not null:
                    schema.Enum = [.. SchemaContract.BookingStatuses.Select(s => (JsonNode)JsonValue.Create(s)!)];
                    break;
                case ("Bookings_List", "from" or "to"):
                    parameter.Description = "A date (yyyy-MM-dd; `to` inclusive) or a date-time with an offset.";
                    break;
                case ("Webhooks_ListDeliveries", "status") when schema is not null:
                    schema.Enum = [JsonValue.Create("pending"), JsonValue.Create("delivered"), JsonValue.Create("failed")];
                    break;
                case (_, "Idempotency-Key") when schema is not null:
                    schema.MinLength = 1;
                    schema.MaxLength = 200;
                    parameter.Description = "Repeating a request with the same key answers as the first one did, without booking twice.";
                    break;
                default:
                    break;
            }
        }
    }
}

/// <summary>
/// Schemas that say what the server enforces: integers that are integers, formats, bounds, closed sets, and
/// <c>required</c> only for values that must be sent.
/// </summary>
internal sealed class SchemaContract : IOpenApiSchemaTransformer
{
    // NullabilityInfoContext caches in a plain Dictionary and is not thread-safe: two documents built at once (two
    // clients asking /openapi/v1.json together) would corrupt it, so each thread gets its own.
    [ThreadStatic]
    private static NullabilityInfoContext? _nullability;

    internal static readonly string[] BookingStatuses =
        [.. Enum.GetValues<Rendezvous.Domain.Bookings.BookingStatus>().Select(Rendezvous.Domain.Bookings.BookingLifecycle.ApiName)];

    private static readonly HashSet<string> _uuidNames = new(StringComparer.Ordinal)
    {
        "userId", "bookingPageId", "ownerId", "bookingId", "automationId", "companyId", "customerId", "spaceId", "moderatorId",
        "fallbackCalendarUserId", "organizerUserId", "previousOwnerId", "previousBookingPageId", "packageId", "replacesBookingId",
        "replacedByBookingId", "webhookId",
    };

    /// <summary>Types whose ids are someone else's (a provider's calendar, a CRM account, an outbox sequence number).</summary>
    private static readonly HashSet<string> _foreignIds = new(StringComparer.Ordinal)
    {
        "ProviderCalendarResponse", "CrmAccountResponse", "KeapTagResponse", "OutboxMessageResponse", "QuestionSpec", "RefusalResponse",
        "CrmOwnerResponse", "CrmOwnerRequest", "AutomationAction", "SpaceActorResponse",
    };

    /// <summary>Types whose start and end are times of day, not instants.</summary>
    private static readonly HashSet<string> _timeOfDay = new(StringComparer.Ordinal) { "WeeklyHoursSpec", "TimeRangeSpec" };

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        // The API reads numbers written as strings too (web defaults), but it writes numbers, and clients should send them.
        if (schema.Type is { } type && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (type & JsonSchemaType.String) != 0)
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        var clrType = context.JsonTypeInfo.Type;
        if (clrType == typeof(NodaTime.Instant))
        {
            schema.Type = JsonSchemaType.String;
            schema.Format = "date-time";
        }

        if (context.JsonPropertyInfo is { } property)
        {
            Property(schema, property.DeclaringType.Name, property.Name);
        }
        else if (context.JsonTypeInfo.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object && schema.Required is { Count: > 0 } required)
        {
            // Every parameter of a positional record is exported as required; a nullable one may be left out (or null).
            foreach (var p in context.JsonTypeInfo.Properties)
            {
                if (p.AttributeProvider is PropertyInfo info && (_nullability ??= new()).Create(info).WriteState == NullabilityState.Nullable)
                {
                    required.Remove(p.Name);
                }
            }
        }

        Example(schema, clrType.Name, context.JsonPropertyInfo is null);
        return Task.CompletedTask;
    }

    private static void Property(OpenApiSchema schema, string owner, string name)
    {
        var isString = schema.Type is { } t && (t & JsonSchemaType.String) != 0;
        var isArray = schema.Type is { } a && (a & JsonSchemaType.Array) != 0;
        var item = isArray ? schema.Items as OpenApiSchema : null;

        // Formats first, by the names the API uses consistently.
        if (isString && !_timeOfDay.Contains(owner) && (name is "at" or "start" or "end" || name.EndsWith("At", StringComparison.Ordinal)
            || owner == "SpaceTimes" || (owner == "SpaceTimelineResponse" && name is "from" or "to")))
        {
            schema.Format = "date-time";
        }
        else if (item is not null && owner == "CreateBookingRequest" && name == "starts")
        {
            item.Format = "date-time";
        }
        else if (isString && name == "date" && owner is "DateOverrideSpec" or "SpaceTimelineResponse")
        {
            schema.Format = "date";
        }
        // (An organizer's address comes from an outside calendar as it was written there, so it carries no format.)
        else if (isString && name is "email" or "hostEmail")
        {
            schema.Format = "email";
        }
        else if (isString && ((name == "url" && owner is "WebhookRequest" or "WebhookResponse" or "AuthorizeResponse")
            || name is "approveUrl"))
        {
            schema.Format = "uri";
        }
        else if (isString && !_foreignIds.Contains(owner) && (_uuidNames.Contains(name) || (name == "id" && owner.EndsWith("Response", StringComparison.Ordinal))))
        {
            schema.Format = "uuid";
        }

        switch (owner, name)
        {
            case ("CreateUserRequest", "name") or ("BookingPageRequest", "title") or ("AutomationRequest", "name"):
                Length(schema, 1, 200);
                break;
            case ("CreateUserRequest" or "UserResponse", "role"):
                schema.Enum = Values("administrator", "member");
                break;
            case ("BookingPageRequest", "slug"):
                Length(schema, 2, 64);
                schema.Pattern = "^[a-z0-9]+(-[a-z0-9]+)*$";
                break;
            case ("BookingPageRequest", "description"):
                Length(schema, null, 5000);
                break;
            case ("BookingPageRequest", "location"):
                Length(schema, null, 1000);
                break;
            case ("BookingPageRequest", "durationMinutes" or "slotIntervalMinutes"):
                Range(schema, 5, 1440);
                break;
            case ("BookingPageRequest", "bufferBeforeMinutes" or "bufferAfterMinutes"):
                Range(schema, 0, 1440);
                break;
            case ("BookingPageRequest", "minimumNoticeMinutes"):
                Range(schema, 0, 365 * 24 * 60);
                break;
            case ("BookingPageRequest", "bookingWindowDays"):
                Range(schema, 1, 730);
                break;
            case ("PaymentSpec", "paymentWindowMinutes"):
                Range(schema, 5, 180);
                break;
            case ("BookingActionRequest" or "RescheduleRequest" or "ReassignRequest", "reason"):
                Length(schema, null, 2000);
                break;
            case ("RescheduleRequest", "publicNotes"):
                Length(schema, null, Rendezvous.Domain.Bookings.Booking.MaxPublicNotesLength);
                break;
            case ("SetUserPasswordRequest", "password"):
                Length(schema, 10, 200);
                break;
            case ("WebhookRequest", "url"):
                Length(schema, null, Features.Webhooks.WebhooksEndpoints.MaxUrlLength);
                break;
            case ("WebhookRequest", "description"):
                Length(schema, null, Features.Webhooks.WebhooksEndpoints.MaxDescriptionLength);
                break;
            case ("WebhookRequest" or "WebhookResponse", "events") when item is not null:
                item.Enum = Values([.. Rendezvous.Integrations.Webhooks.WebhookEventTypes.Known, Rendezvous.Integrations.Webhooks.WebhookEventTypes.All]);
                break;
            case ("WebhookDeliveryResponse", "status"):
                schema.Enum = Values("pending", "delivered", "failed");
                break;
            case ("BookingResponse" or "BookingSessionResponse" or "ActivityResponse", "status") or ("ActivityResponse", "fromStatus"):
                schema.Enum = Values([.. BookingStatuses, .. (schema.Type & JsonSchemaType.Null) != 0 ? new string?[] { null } : []]);
                break;
            case ("CustomerRequest", "phone"):
                Length(schema, null, 40);
                break;
            case ("CustomerRequest", "name"):
                Length(schema, 1, 200);
                break;
            case ("SpaceRequestBody", "summary"):
                Length(schema, 1, 500);
                break;
            case ("SpacePoolBody", "minimumCapacity"):
                Range(schema, 0, 100000);
                break;
            case ("PayPalAccountRequest", "clientSecret"):
                Length(schema, 1, 500);
                break;
            case ("SlotResponse", "seatsLeft") or ("BookingResponse", "sessionNumber" or "sessionCount"):
                Range(schema, 0, null);
                break;
            default:
                break;
        }
    }

    private static void Length(OpenApiSchema schema, int? min, int? max)
    {
        schema.MinLength = min;
        schema.MaxLength = max;
    }

    private static void Range(OpenApiSchema schema, int? min, int? max)
    {
        schema.Minimum = min?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        schema.Maximum = max?.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<JsonNode> Values(params string?[] values) => [.. values.Select(v => v is null ? null! : (JsonNode)JsonValue.Create(v))];

    /// <summary>Examples on the main request and response bodies, so a reader sees a real one at once.</summary>
    private static void Example(OpenApiSchema schema, string typeName, bool whole)
    {
        if (!whole)
        {
            return;
        }

        JsonNode? example = typeName switch
        {
            "CreateBookingRequest" => new JsonObject
            {
                ["start"] = "2027-03-08T10:00:00Z",
                ["customer"] = new JsonObject { ["name"] = "Ada Lovelace", ["email"] = "ada@example.com", ["timeZone"] = "Europe/London" },
                ["answers"] = new JsonObject { ["topic"] = "Quarterly review" },
            },
            "RescheduleRequest" => new JsonObject { ["start"] = "2027-03-09T14:00:00Z", ["reason"] = "The host is travelling." },
            "BookingActionRequest" => new JsonObject { ["reason"] = "The customer asked to cancel." },
            "BookingPageRequest" => new JsonObject
            {
                ["slug"] = "intro-call",
                ["title"] = "Introductory call",
                ["durationMinutes"] = 30,
                ["timeZone"] = "Europe/London",
                ["weeklyHours"] = new JsonArray(new JsonObject { ["day"] = "monday", ["start"] = "09:00", ["end"] = "17:00" }),
            },
            "WebhookRequest" => new JsonObject
            {
                ["url"] = "https://crm.example.com/hooks/rendezvous",
                ["events"] = new JsonArray("booking.created", "booking.canceled"),
                ["description"] = "CRM sync",
            },
            "BookingResponse" => new JsonObject
            {
                ["id"] = "0f8fad5b-d9cb-469f-a165-70867728950e",
                ["status"] = "scheduled",
                ["detailedStatus"] = "scheduled",
                ["start"] = "2027-03-08T10:00:00Z",
                ["end"] = "2027-03-08T10:30:00Z",
                ["bookingPageId"] = "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                ["ownerId"] = "16fd2706-8baf-433b-82eb-8c7fada847da",
                ["hosts"] = new JsonArray(new JsonObject { ["userId"] = "16fd2706-8baf-433b-82eb-8c7fada847da", ["isPrimary"] = true }),
                ["answers"] = new JsonObject(),
                ["createdAt"] = "2027-03-01T08:00:00Z",
                ["updatedAt"] = "2027-03-01T08:00:00Z",
            },
            _ => null,
        };
        if (example is not null)
        {
            schema.Examples = [example];
        }
    }
}

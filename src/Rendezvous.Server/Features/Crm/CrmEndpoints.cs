using Rendezvous.Integrations.Crm;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Rendezvous.Data;
using Rendezvous.Data.Serialization;
using Rendezvous.Domain;
using Rendezvous.Domain.BookingPages;
using Rendezvous.Server.Features.BookingPages;
using Rendezvous.Integrations.Crm.Infusionsoft;
using Rendezvous.Integrations.Crm.Salesforce;
using Rendezvous.Integrations;
using Rendezvous.Server.Infrastructure;

namespace Rendezvous.Server.Features.Crm;

/// <summary>
/// Per booking page CRM settings and connections, and the OAuth web server flow that connects them. A page's owner and
/// administrators manage it; the callback is reached by the administrator's browser coming back from the CRM and is
/// trusted through its signed, single-use, short-lived state alone. A connect started from the web app (its state says
/// so) ends with a redirect to the page's CRM screen, which shows the outcome; one started through the API is answered
/// with the connection as JSON (or a problem).
/// </summary>
public static class CrmEndpoints
{
    public const int MaxLeadSourceLength = 40;

    public static void MapCrm(this IEndpointRouteBuilder api)
    {
        var pages = api.MapGroup("/booking-pages/{id}").WithTags("CRM");
        pages.MapGet("/salesforce", GetSalesforceAsync);
        pages.MapPut("/salesforce", PutSalesforceAsync);
        pages.MapDelete("/salesforce", (string id, RendezvousDbContext db, HttpContext http, CancellationToken ct) =>
            DisconnectAsync(id, CrmConnection.Salesforce, db, http, ct));
        pages.MapGet("/infusionsoft", GetInfusionsoftAsync);
        pages.MapPut("/infusionsoft", PutInfusionsoftAsync);
        pages.MapDelete("/infusionsoft", (string id, RendezvousDbContext db, HttpContext http, CancellationToken ct) =>
            DisconnectAsync(id, CrmConnection.Infusionsoft, db, http, ct));

        var salesforce = api.MapGroup("/salesforce").WithTags("CRM");
        salesforce.MapGet("/authorize", (string? bookingPageId, SalesforceClient client, RendezvousDbContext db, IntegrationSecrets secrets, IClock clock,
            HttpContext http, CancellationToken ct) =>
            AuthorizeAsync(bookingPageId, CrmConnection.Salesforce, client.IsConfigured, client.AuthorizeUrl, db, secrets, clock, http, ct));
        salesforce.MapGet("/callback", SalesforceCallbackAsync).AllowAnonymous();
        pages.MapPost("/salesforce/fields", CreateSalesforceFieldsAsync);

        var owners = api.MapGroup("/users/{userId}/crm-owners").WithTags("CRM");
        owners.MapGet("/", ListOwnersAsync);
        owners.MapPut("/{provider}", PutOwnerAsync);
        owners.MapDelete("/{provider}", DeleteOwnerAsync);

        var keap = api.MapGroup("/infusionsoft").WithTags("CRM");
        keap.MapGet("/authorize", (string? bookingPageId, KeapClient client, RendezvousDbContext db, IntegrationSecrets secrets, IClock clock,
            HttpContext http, CancellationToken ct) =>
            AuthorizeAsync(bookingPageId, CrmConnection.Infusionsoft, client.IsConfigured, client.AuthorizeUrl, db, secrets, clock, http, ct));
        keap.MapGet("/callback", InfusionsoftCallbackAsync).AllowAnonymous();
    }

    internal static async Task<Results<Ok<SalesforceConnectionResponse>, ProblemHttpResult>> GetSalesforceAsync(
        string id, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var page = await PageAsync(id, db, http, ct);
        if (!page.IsSuccess)
        {
            return Problems.From(page.Error!);
        }

        var connection = await ConnectionAsync(db, page.Value.Id, CrmConnection.Salesforce, ct);
        return TypedResults.Ok(ToSalesforce(page.Value.Id, connection) with { Health = await HealthAsync(db, page.Value, connection, ct) });
    }

    internal static async Task<Results<Ok<SalesforceConnectionResponse>, ProblemHttpResult>> PutSalesforceAsync(
        string id, SalesforceSettingsRequest request, RendezvousDbContext db, IClock clock, HttpContext http, CancellationToken ct)
    {
        var page = await PageAsync(id, db, http, ct);
        if (!page.IsSuccess)
        {
            return Problems.From(page.Error!);
        }

        string? leadSource = null;
        if (request.LeadSource is not null && !ApiFormat.TryText(request.LeadSource, MaxLeadSourceLength, out leadSource))
        {
            return Problems.Validation("leadSource", $"must be 1-{MaxLeadSourceLength} characters without control characters");
        }

        var connection = await EnsureConnectionAsync(db, page.Value, CrmConnection.Salesforce, clock, ct);
        var settings = SalesforceOutboxHandler.ReadSettings(connection.Settings);
        settings = settings with
        {
            CreateActivityEvents = request.CreateActivityEvents ?? settings.CreateActivityEvents,
            CreateLeads = request.CreateLeads ?? settings.CreateLeads,
            LeadSource = leadSource ?? settings.LeadSource,
        };
        connection.Settings = JsonSerializer.Serialize(settings, JsonDefaults.Options);
        connection.UpdatedAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToSalesforce(page.Value.Id, connection));
    }

    internal static async Task<Results<Ok<InfusionsoftConnectionResponse>, ProblemHttpResult>> GetInfusionsoftAsync(
        string id, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var page = await PageAsync(id, db, http, ct);
        if (!page.IsSuccess)
        {
            return Problems.From(page.Error!);
        }

        var connection = await ConnectionAsync(db, page.Value.Id, CrmConnection.Infusionsoft, ct);
        return TypedResults.Ok(ToInfusionsoft(page.Value.Id, connection) with { Health = await HealthAsync(db, page.Value, connection, ct) });
    }

    internal static async Task<Results<Ok<InfusionsoftConnectionResponse>, ProblemHttpResult>> PutInfusionsoftAsync(
        string id, InfusionsoftSettingsRequest request, RendezvousDbContext db, IClock clock, HttpContext http, CancellationToken ct)
    {
        var page = await PageAsync(id, db, http, ct);
        if (!page.IsSuccess)
        {
            return Problems.From(page.Error!);
        }

        var errors = new List<FieldError>();
        foreach (var (stage, tagId) in request.TagIds ?? [])
        {
            if (!KeapStages.DefaultTagNames.ContainsKey(stage))
            {
                errors.Add(new($"tagIds.{(stage.Length > 40 ? stage[..40] : stage)}",
                    $"is not a stage; use {string.Join(", ", KeapStages.DefaultTagNames.Keys)}"));
            }
            else if (tagId is <= 0)
            {
                errors.Add(new($"tagIds.{stage}", "must be a Keap tag id (a positive number), or null for the default tag"));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.From(DomainError.Validation(errors));
        }

        var connection = await EnsureConnectionAsync(db, page.Value, CrmConnection.Infusionsoft, clock, ct);
        var settings = KeapOutboxHandler.ReadSettings(connection.Settings);
        foreach (var (stage, tagId) in request.TagIds ?? [])
        {
            if (tagId is { } value)
            {
                settings.TagIds[stage] = value;
            }
            else
            {
                settings.TagIds.Remove(stage);
            }
        }

        connection.Settings = JsonSerializer.Serialize(settings, JsonDefaults.Options);
        connection.UpdatedAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToInfusionsoft(page.Value.Id, connection));
    }

    /// <summary>Removes the page's connection with its tokens and settings; what was already written in the CRM stays there.</summary>
    internal static async Task<Results<NoContent, ProblemHttpResult>> DisconnectAsync(
        string id, string provider, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var page = await PageAsync(id, db, http, ct);
        if (!page.IsSuccess)
        {
            return Problems.From(page.Error!);
        }

        var connection = await ConnectionAsync(db, page.Value.Id, provider, ct);
        if (connection is not null)
        {
            db.CrmConnections.Remove(connection);
            await db.SaveChangesAsync(ct);
        }

        return TypedResults.NoContent();
    }

    /// <summary>
    /// The URL that starts the web server flow for a page, with a state that names the page, is signed, lasts 15 minutes,
    /// and works once (only the latest URL of a page works).
    /// </summary>
    internal static async Task<Results<Ok<AuthorizeResponse>, ProblemHttpResult>> AuthorizeAsync(
        string? bookingPageId, string provider, bool configured, Func<string, string> authorizeUrl, RendezvousDbContext db,
        IntegrationSecrets secrets, IClock clock, HttpContext http, CancellationToken ct, bool fromWeb = false)
    {
        if (string.IsNullOrWhiteSpace(bookingPageId))
        {
            return Problems.Validation("bookingPageId", "is required");
        }

        var page = await PageAsync(bookingPageId, db, http, ct);
        if (!page.IsSuccess)
        {
            return Problems.From(page.Error!);
        }

        if (!configured)
        {
            return Problems.From(DomainError.Conflict($"{provider}_not_configured",
                $"This server has no {Title(provider)} app configured (client id and secret); ask its operator."));
        }

        var connection = await EnsureConnectionAsync(db, page.Value, provider, clock, ct);
        var now = clock.GetCurrentInstant();
        var state = new OAuthState(provider, page.Value.Id, page.Value.OrganizationId, OAuthState.NewNonce(), now + OAuthState.Lifetime, fromWeb);
        connection.PendingStateNonce = state.Nonce;
        connection.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new AuthorizeResponse(authorizeUrl(state.Protect(secrets)), ApiFormat.Format(state.ExpiresAt)));
    }

    private static async Task<Results<Ok<SalesforceConnectionResponse>, ProblemHttpResult, RedirectHttpResult>> SalesforceCallbackAsync(
        string? code, string? state, string? error, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "error_description")] string? errorDescription, SalesforceClient client, RendezvousDbContext db,
        IntegrationSecrets secrets, IClock clock, CancellationToken ct)
    {
        var outcome = await CallbackAsync(CrmConnection.Salesforce, code, state, error, errorDescription, client.ExchangeCodeAsync, db, secrets, clock, ct);
        if (outcome.WebReturn is { } back)
        {
            return TypedResults.Redirect(back);
        }

        return outcome.IsSuccess ? TypedResults.Ok(ToSalesforce(outcome.Value.BookingPageId, outcome.Value)) : outcome.Problem!;
    }

    private static async Task<Results<Ok<InfusionsoftConnectionResponse>, ProblemHttpResult, RedirectHttpResult>> InfusionsoftCallbackAsync(
        string? code, string? state, string? error, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "error_description")] string? errorDescription, KeapClient client, RendezvousDbContext db,
        IntegrationSecrets secrets, IClock clock, CancellationToken ct)
    {
        var outcome = await CallbackAsync(CrmConnection.Infusionsoft, code, state, error, errorDescription, client.ExchangeCodeAsync, db, secrets, clock, ct);
        if (outcome.WebReturn is { } back)
        {
            return TypedResults.Redirect(back);
        }

        return outcome.IsSuccess ? TypedResults.Ok(ToInfusionsoft(outcome.Value.BookingPageId, outcome.Value)) : outcome.Problem!;
    }

    private sealed record CallbackOutcome(CrmConnection? Connection, ProblemHttpResult? Problem, string? WebReturn)
    {
        public bool IsSuccess => Connection is not null;

        public CrmConnection Value => Connection!;
    }

    /// <summary>The outcomes the web screen knows how to say (<c>?connect={provider}&amp;outcome=...</c>); nothing else is passed back.</summary>
    public static class WebOutcomes
    {
        public const string Connected = "connected";
        public const string Denied = "denied";
        public const string Failed = "failed";
        public const string Unavailable = "unavailable";
        public const string Expired = "expired";
    }

    /// <summary>The page's CRM screen with the outcome, when the web app started the connect; null for API callers.</summary>
    private static string? WebReturn(OAuthState? state, string outcome) =>
        state is { FromWeb: true }
            ? $"/app/pages/{state.PageId.Value}/crm?connect={Uri.EscapeDataString(state.Provider)}&outcome={outcome}"
            : null;

    /// <summary>Checks the state, trades the code for tokens, and stores them encrypted with the account they belong to.</summary>
    private static async Task<CallbackOutcome> CallbackAsync(string provider, string? code, string? stateText, string? error, string? errorDescription,
        Func<string, CancellationToken, Task<TokenGrant>> exchange, RendezvousDbContext db, IntegrationSecrets secrets, IClock clock,
        CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var state = OAuthState.Read(secrets, stateText, provider, now);
        if (state is null)
        {
            // An expired state of ours still says where its browser came from, so a person is sent back to the screen.
            return new(null, Problems.Validation("state", "is not a valid, current authorization state; start again from the authorize URL"),
                WebReturn(OAuthState.ReadIgnoringExpiry(secrets, stateText, provider), WebOutcomes.Expired));
        }

        var connection = await db.CrmConnections.AcrossTenants()
            .FirstOrDefaultAsync(c => c.Provider == provider && c.BookingPageId == state.PageId && c.OrganizationId == state.OrganizationId, ct);
        if (connection is null || connection.PendingStateNonce != state.Nonce)
        {
            return new(null, Problems.Validation("state", "has already been used, or a newer authorize URL replaced it; start again"),
                WebReturn(state, WebOutcomes.Expired));
        }

        // Single use, whatever happens next.
        connection.PendingStateNonce = null;
        connection.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        if (error is not null)
        {
            return new(null, Problems.From(new DomainError(ErrorKind.Validation, "authorization_denied",
                $"{Title(provider)} did not authorize the connection: {error}{(errorDescription is null ? "" : $" ({errorDescription})")}", "error")),
                WebReturn(state, WebOutcomes.Denied));
        }

        if (string.IsNullOrWhiteSpace(code))
        {
            return new(null, Problems.Validation("code", "is required"), WebReturn(state, WebOutcomes.Failed));
        }

        TokenGrant grant;
        try
        {
            grant = await exchange(code, ct);
        }
        catch (IntegrationException ex) when (ex.MayPass)
        {
            return new(null, TypedResults.Problem(detail: ex.Message, statusCode: StatusCodes.Status502BadGateway,
                title: $"{Title(provider)} is unavailable.", extensions: new Dictionary<string, object?> { ["code"] = $"{provider}_unavailable" }),
                WebReturn(state, WebOutcomes.Unavailable));
        }
        catch (IntegrationException ex)
        {
            return new(null, Problems.From(new DomainError(ErrorKind.Validation, "code_exchange_failed", ex.Message, "code")), WebReturn(state, WebOutcomes.Failed));
        }

        connection.ProtectedAccessToken = secrets.ProtectToken(grant.AccessToken);
        connection.ProtectedRefreshToken = grant.RefreshToken is null ? null : secrets.ProtectToken(grant.RefreshToken);
        connection.AccessTokenExpiresAt = grant.ExpiresIn is { } life ? now + Duration.FromTimeSpan(life) : null;
        connection.InstanceUrl = grant.InstanceUrl;
        connection.AccountId = grant.AccountId;
        connection.AccountUserId = grant.AccountUserId;
        connection.ConnectedAt = now;
        connection.NeedsReauthorization = false;
        connection.LastError = null;
        connection.LastErrorAt = null;
        connection.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return new(connection, null, WebReturn(state, WebOutcomes.Connected));
    }

    private static async Task<Result<BookingPage>> PageAsync(string id, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        var page = await BookingPagesEndpoints.FindAsync(db, id, ct);
        if (page is null)
        {
            return DomainError.NotFound("Booking page");
        }

        return !me.IsAdministrator && page.OwnerId != me.Id
            ? new DomainError(ErrorKind.Forbidden, "not_yours", "Members may only manage the integrations of their own booking pages.")
            : page;
    }

    private static Task<CrmConnection?> ConnectionAsync(RendezvousDbContext db, BookingPageId pageId, string provider, CancellationToken ct) =>
        db.CrmConnections.FirstOrDefaultAsync(c => c.BookingPageId == pageId && c.Provider == provider, ct);

    private static async Task<CrmConnection> EnsureConnectionAsync(RendezvousDbContext db, BookingPage page, string provider, IClock clock,
        CancellationToken ct)
    {
        var existing = await ConnectionAsync(db, page.Id, provider, ct);
        if (existing is not null)
        {
            return existing;
        }

        var now = clock.GetCurrentInstant();
        var created = new CrmConnection
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = page.OrganizationId,
            BookingPageId = page.Id,
            Provider = provider,
            Settings = provider == CrmConnection.Salesforce
                ? JsonSerializer.Serialize(new SalesforceSettings(), JsonDefaults.Options)
                : JsonSerializer.Serialize(new KeapSettings(), JsonDefaults.Options),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.CrmConnections.Add(created);
        return created;
    }

    private static string StatusOf(CrmConnection? c) =>
        c is null || !c.IsConnected ? "notConnected" : c.NeedsReauthorization ? "reauthorizationRequired" : "connected";

    private static string? Format(Instant? instant) => instant is { } i ? ApiFormat.Format(i) : null;

    private static SalesforceConnectionResponse ToSalesforce(BookingPageId pageId, CrmConnection? c)
    {
        var settings = c is null ? new SalesforceSettings() : SalesforceOutboxHandler.ReadSettings(c.Settings);
        return new SalesforceConnectionResponse(pageId.ToString(), StatusOf(c),
            c is { IsConnected: true } ? new CrmAccountResponse(c.AccountId, c.AccountUserId, c.InstanceUrl) : null,
            Format(c?.ConnectedAt), settings.CreateActivityEvents, settings.CreateLeads, settings.LeadSource,
            new Dictionary<string, string>
            {
                ["bookingId"] = SalesforceFields.BookingId,
                ["eventStatus"] = SalesforceFields.EventStatus,
                ["reason"] = SalesforceFields.Reason,
            },
            Format(c?.LastSyncAt), c?.LastError, Format(c?.LastErrorAt));
    }

    private static InfusionsoftConnectionResponse ToInfusionsoft(BookingPageId pageId, CrmConnection? c)
    {
        var settings = c is null ? new KeapSettings() : KeapOutboxHandler.ReadSettings(c.Settings);
        var tags = KeapStages.DefaultTagNames.ToDictionary(kv => kv.Key, kv =>
            settings.TagIds.TryGetValue(kv.Key, out var configured) ? new KeapTagResponse(configured, null, "configured")
            : settings.ResolvedTagIds.TryGetValue(kv.Key, out var found) ? new KeapTagResponse(found, kv.Value, "defaultName")
            : new KeapTagResponse(null, kv.Value, "defaultName"), StringComparer.Ordinal);
        return new InfusionsoftConnectionResponse(pageId.ToString(), StatusOf(c),
            c is { IsConnected: true } ? new CrmAccountResponse(c.AccountId, null, null) : null,
            Format(c?.ConnectedAt), tags, Format(c?.LastSyncAt), c?.LastError, Format(c?.LastErrorAt));
    }

    /// <summary>
    /// Creates the Rendezvous custom fields the page's org lacks on Event, with the Tooling API, then describes Event again.
    /// A field Salesforce reports as already there (a duplicate name) counts as created. The fields still need field-level
    /// security for the connected user and a place on the page layout; the answer's health lists whatever is still missing.
    /// </summary>
    private static async Task<Results<Ok<SalesforceConnectionResponse>, ProblemHttpResult>> CreateSalesforceFieldsAsync(
        string id, RendezvousDbContext db, SalesforceClient client, IClock clock, HttpContext http, CancellationToken ct)
    {
        var page = await PageAsync(id, db, http, ct);
        if (!page.IsSuccess)
        {
            return Problems.From(page.Error!);
        }

        var connection = await ConnectionAsync(db, page.Value.Id, CrmConnection.Salesforce, ct);
        if (connection is not { IsConnected: true })
        {
            return Problems.From(DomainError.Conflict("salesforce_not_connected", "Connect the page to Salesforce first."));
        }

        try
        {
            var present = await client.FieldNamesAsync(connection.Id, "Event", ct);
            foreach (var field in SalesforceFields.All.Where(f => !present.Contains(f)))
            {
                try
                {
                    await client.CreateCustomFieldAsync(connection.Id, SalesforceFields.Definition(field), ct);
                }
                catch (IntegrationException ex) when (ex.ErrorCode is "DUPLICATE_DEVELOPER_NAME" or "DUPLICATE_VALUE")
                {
                    // Already made (an earlier try, or by hand) but not visible to this user yet: the health says so.
                }
            }

            var names = await client.FieldNamesAsync(connection.Id, "Event", ct);
            connection.MissingFields = [.. SalesforceFields.All.Where(f => !names.Contains(f))];
            connection.FieldsCheckedAt = clock.GetCurrentInstant();
            connection.UpdatedAt = clock.GetCurrentInstant();
            await db.SaveChangesAsync(ct);
        }
        catch (IntegrationException ex) when (ex.MayPass)
        {
            return TypedResults.Problem(detail: ex.Message, statusCode: StatusCodes.Status502BadGateway, title: "Salesforce is unavailable.",
                extensions: new Dictionary<string, object?> { ["code"] = "salesforce_unavailable" });
        }
        catch (IntegrationException ex)
        {
            return Problems.From(DomainError.Conflict("salesforce_refused", ex.Message));
        }

        return TypedResults.Ok(ToSalesforce(page.Value.Id, connection) with { Health = await HealthAsync(db, page.Value, connection, ct) });
    }

    /// <summary>The CRM users standing for a user, per provider and account. Administrators, or the user themself.</summary>
    private static async Task<Results<Ok<CrmOwnerResponse[]>, ProblemHttpResult>> ListOwnersAsync(
        string userId, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var me = CurrentUser.From(http.User);
        if (!Ids.TryParse(userId, out var guid) || !await db.Users.AnyAsync(u => u.Id == new UserId(guid), ct))
        {
            return Problems.NotFound("User");
        }

        if (!me.IsAdministrator && me.Id != new UserId(guid))
        {
            return Problems.From(new DomainError(ErrorKind.Forbidden, "administrator_required", "Only administrators can see other users' CRM owners."));
        }

        var links = await db.CrmUserLinks.AsNoTracking().Where(l => l.UserId == new UserId(guid))
            .OrderBy(l => l.Provider).ThenBy(l => l.AccountId).ToListAsync(ct);
        return TypedResults.Ok(links.Select(ToOwner).ToArray());
    }

    /// <summary>
    /// Sets the CRM user who owns a user's records in one account (administrators only): a Salesforce user id (005...) or a
    /// Keap user id. It wins over the match by email until it is deleted.
    /// </summary>
    private static async Task<Results<Ok<CrmOwnerResponse>, ProblemHttpResult>> PutOwnerAsync(
        string userId, string provider, CrmOwnerRequest request, RendezvousDbContext db, IClock clock, HttpContext http, CancellationToken ct)
    {
        var target = await OwnerTargetAsync(userId, provider, http, db, ct);
        if (!target.IsSuccess)
        {
            return Problems.From(target.Error!);
        }

        var (user, kind) = target.Value;
        if (string.IsNullOrWhiteSpace(request.AccountId)
            || !await db.CrmConnections.AnyAsync(c => c.Provider == kind && c.AccountId == request.AccountId, ct))
        {
            return Problems.Validation("accountId", $"must name a {Title(kind)} account one of this organization's pages is connected to");
        }

        var external = request.ExternalUserId?.Trim();
        var valid = kind == CrmConnection.Salesforce
            ? external is { Length: 15 or 18 } && external.StartsWith("005", StringComparison.Ordinal) && external.All(char.IsAsciiLetterOrDigit)
            : long.TryParse(external, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0;
        if (!valid)
        {
            return Problems.Validation("externalUserId", kind == CrmConnection.Salesforce
                ? "must be a Salesforce user id (15 or 18 letters and digits starting with 005)"
                : "must be a Keap user id (a positive number)");
        }

        var link = await db.CrmUserLinks.FirstOrDefaultAsync(l => l.UserId == user.Id && l.Provider == kind && l.AccountId == request.AccountId, ct);
        if (link is null)
        {
            link = new CrmUserLink
            {
                OrganizationId = user.OrganizationId,
                UserId = user.Id,
                Provider = kind,
                AccountId = request.AccountId,
                Source = CrmUserLink.Manual,
                CheckedAt = clock.GetCurrentInstant(),
            };
            db.CrmUserLinks.Add(link);
        }

        link.Source = CrmUserLink.Manual;
        link.ExternalUserId = external;
        link.Email = null;
        link.CheckedAt = clock.GetCurrentInstant();
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToOwner(link));
    }

    /// <summary>Forgets a user's CRM owner in one account (or all of the provider's without <c>accountId</c>): the next write matches by email again.</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteOwnerAsync(
        string userId, string provider, string? accountId, RendezvousDbContext db, HttpContext http, CancellationToken ct)
    {
        var target = await OwnerTargetAsync(userId, provider, http, db, ct);
        if (!target.IsSuccess)
        {
            return Problems.From(target.Error!);
        }

        var (user, kind) = target.Value;
        await db.CrmUserLinks.Where(l => l.UserId == user.Id && l.Provider == kind && (accountId == null || l.AccountId == accountId))
            .ExecuteDeleteAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Result<(Domain.Organizations.User User, string Provider)>> OwnerTargetAsync(string userId, string provider,
        HttpContext http, RendezvousDbContext db, CancellationToken ct)
    {
        if (!CurrentUser.From(http.User).IsAdministrator)
        {
            return new DomainError(ErrorKind.Forbidden, "administrator_required", "Only administrators can set who owns a user's CRM records.");
        }

        var user = Ids.TryParse(userId, out var guid) ? await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == new UserId(guid), ct) : null;
        if (user is null)
        {
            return DomainError.NotFound("User");
        }

        if (provider is not (CrmConnection.Salesforce or CrmConnection.Infusionsoft))
        {
            return DomainError.NotFound("CRM provider");
        }

        (Domain.Organizations.User User, string Provider) found = (user, provider);
        return found;
    }

    private static CrmOwnerResponse ToOwner(CrmUserLink l) =>
        new(l.UserId.ToString(), l.Provider, l.AccountId, l.ExternalUserId, l.Source, l.Email, ApiFormat.Format(l.CheckedAt));

    /// <summary>What the page's connection needs from someone, in words, with the facts behind it.</summary>
    private static async Task<CrmHealthResponse?> HealthAsync(RendezvousDbContext db, BookingPage page, CrmConnection? c, CancellationToken ct)
    {
        if (c is not { IsConnected: true })
        {
            return null;
        }

        var owner = await db.Users.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(u => u.Id == page.OwnerId, ct);
        var link = c.AccountId is null ? null : await db.CrmUserLinks.AcrossTenants().AsNoTracking().FirstOrDefaultAsync(l =>
            l.OrganizationId == c.OrganizationId && l.Provider == c.Provider && l.AccountId == c.AccountId && l.UserId == page.OwnerId, ct);
        var problems = new List<string>();
        if (c.Provider == CrmConnection.Salesforce && c.MissingFields is { Count: > 0 } missing)
        {
            problems.Add($"The Event object lacks {string.Join(", ", missing)} (or the connected user cannot see them): Events are written without "
                + $"{(missing.Count == 1 ? "it" : "them")}. Create them with POST /api/v1/booking-pages/{page.Id}/salesforce/fields or in Setup, "
                + "and give the connected user access to them.");
        }

        if (c.Provider == CrmConnection.Salesforce)
        {
            // An automation that sets an Event field this org lacks fails at once; the fix is in Salesforce (or the rule).
            foreach (var (rule, field) in await Automations.AutomationStore.MissingSalesforceFieldsAsync(db, page.OrganizationId, page.Id, ct))
            {
                problems.Add($"The automation \"{rule}\" sets the Event field {field}, which Salesforce says does not exist or the connected user "
                    + "cannot edit: its runs fail. Create the field in Setup and give the connected user access to it, or change the rule.");
            }
        }

        if (link is { ExternalUserId: null } && owner is not null)
        {
            problems.Add(c.Provider == CrmConnection.Salesforce
                ? $"No active Salesforce user has the email {owner.Email} ({owner.Name}, the page's owner): the Events of this page's bookings are owned by "
                  + $"the user who connected it. Set one with PUT /api/v1/users/{owner.Id}/crm-owners/salesforce."
                : $"No Keap user has the email {owner.Email} ({owner.Name}, the page's owner): contacts of bookings reassigned to this page keep their "
                  + $"owner. Set one with PUT /api/v1/users/{owner.Id}/crm-owners/infusionsoft.");
        }

        return new CrmHealthResponse(c.MissingFields, Format(c.FieldsCheckedAt),
            link is not null ? ToOwner(link) : new CrmOwnerResponse(page.OwnerId.ToString(), c.Provider, c.AccountId, null, null, owner?.Email, null),
            problems);
    }

    private static string Title(string provider) => provider == CrmConnection.Salesforce ? "Salesforce" : "Keap";
}

using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Rendezvous.Emulators.Graph;

public sealed partial class GraphEmulator
{
    private void MapIdentity(WebApplication app)
    {
        // https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc (the discovery document).
        app.MapGet("/{tenant}/v2.0/.well-known/openid-configuration", (string tenant) => Results.Json(new JsonObject
        {
            ["issuer"] = $"{BaseUrl}{TenantId}/v2.0",
            ["authorization_endpoint"] = $"{BaseUrl}{tenant}/oauth2/v2.0/authorize",
            ["token_endpoint"] = $"{BaseUrl}{tenant}/oauth2/v2.0/token",
            ["response_types_supported"] = new JsonArray("code"),
        }));

        // https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
        // The user is taken to have signed in and consented at once: the browser is sent back with a code (or an error).
        app.MapGet("/{tenant}/oauth2/v2.0/authorize", (HttpContext context) =>
        {
            var q = context.Request.Query;
            var redirect = q["redirect_uri"].ToString();
            if (q["client_id"] != ClientId || !Uri.TryCreate(redirect, UriKind.Absolute, out _))
            {
                return Results.BadRequest("AADSTS700016: Application not found, or redirect_uri missing.");
            }

            var state = Uri.EscapeDataString(q["state"].ToString());
            var email = q["login_hint"].ToString() is { Length: > 0 } hint ? hint : NextSignIn;
            if (email is null || !_mailboxes.ContainsKey(email))
            {
                return Results.Redirect($"{redirect}?error=access_denied&error_description={Uri.EscapeDataString("AADSTS65004: User declined to consent.")}&state={state}");
            }

            return Results.Redirect($"{redirect}?code={Uri.EscapeDataString(IssueCode(email))}&state={state}&session_state={NewId()}");
        });

        // https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
        // and #refresh-the-access-token: the refresh token is rotated on every use (the old one keeps working, as Microsoft's do
        // until they expire).
        app.MapPost("/{tenant}/oauth2/v2.0/token", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
            {
                return TokenError("invalid_client", "AADSTS7000215: Invalid client secret provided.", 401);
            }

            string? email;
            switch (form["grant_type"].ToString())
            {
                case "authorization_code":
                    if (!_codes.TryRemove(form["code"].ToString(), out email))
                    {
                        return TokenError("invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired or was already redeemed.");
                    }

                    break;
                case "refresh_token":
                    if (!_refreshTokens.TryGetValue(form["refresh_token"].ToString(), out email))
                    {
                        return TokenError("invalid_grant", "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed.");
                    }

                    break;
                case "client_credentials":
                    return ClientCredentialsToken(form);
                default:
                    return TokenError("unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.");
            }

            var mailbox = _mailboxes[email];
            var access = "at-" + NewId();
            var refresh = "rt-" + NewId();
            _accessTokens[access] = email;
            _refreshTokens[refresh] = email;
            var now = Now().ToUnixTimeSeconds();
            var idToken = Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + Base64Url(new JsonObject
            {
                ["aud"] = ClientId,
                ["iss"] = $"{BaseUrl}{TenantId}/v2.0",
                ["iat"] = now,
                ["nbf"] = now,
                ["exp"] = now + 3600,
                ["name"] = email,
                ["oid"] = mailbox.UserId,
                ["preferred_username"] = email,
                ["sub"] = mailbox.UserId,
                ["tid"] = TenantId,
                ["ver"] = "2.0",
            }.ToJsonString()) + ".";
            return Results.Json(new JsonObject
            {
                ["token_type"] = "Bearer",
                ["scope"] = "Calendars.ReadWrite openid profile offline_access",
                ["expires_in"] = 3600,
                ["ext_expires_in"] = 3600,
                ["access_token"] = access,
                ["refresh_token"] = refresh,
                ["id_token"] = idToken,
                ["client_info"] = Base64Url(new JsonObject { ["uid"] = mailbox.UserId, ["utid"] = TenantId }.ToJsonString()),
            });
        });
    }

    /// <summary>https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#error-response-1</summary>
    private static IResult TokenError(string error, string description, int status = 400) => Results.Json(new JsonObject
    {
        ["error"] = error,
        ["error_description"] = description,
        ["error_codes"] = new JsonArray(int.Parse(description[6..description.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture)),
        ["trace_id"] = Guid.NewGuid().ToString(),
        ["correlation_id"] = Guid.NewGuid().ToString(),
        ["suberror"] = error == "invalid_grant" ? "bad_token" : null,
    }, statusCode: status);
}

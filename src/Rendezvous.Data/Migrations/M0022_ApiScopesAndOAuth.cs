using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Scoped API keys and OAuth apps (decision 0032). API keys get scopes, an expiry and a last-used time; keys that exist
/// already keep working as before, so they receive every scope. The four OpenIddict stores hold the third-party apps,
/// the grants users gave them and their tokens; they are global tables (the organization of an app is in its
/// properties), laid out as OpenIddict's EF Core model expects.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060022_ApiScopesAndOAuth")]
public sealed class M0022ApiScopesAndOAuth : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE api_keys
                ADD COLUMN scopes text[] NOT NULL DEFAULT ARRAY['bookings:read', 'bookings:write', 'pages:read', 'pages:write',
                    'users:read', 'users:write', 'calendars:read', 'calendars:write', 'webhooks:read', 'webhooks:write',
                    'admin:read', 'admin:write'],
                ADD COLUMN expires_at timestamptz NULL,
                ADD COLUMN last_used_at timestamptz NULL;
            -- The default only served the keys made before scopes: a new key always names its scopes.
            ALTER TABLE api_keys ALTER COLUMN scopes DROP DEFAULT;

            CREATE TABLE oauth_applications (
                id uuid PRIMARY KEY,
                application_type varchar(50) NULL,
                client_id varchar(100) NULL,
                client_secret text NULL,
                client_type varchar(50) NULL,
                concurrency_token varchar(50) NULL,
                consent_type varchar(50) NULL,
                display_name text NULL,
                display_names text NULL,
                json_web_key_set text NULL,
                permissions text NULL,
                post_logout_redirect_uris text NULL,
                properties text NULL,
                redirect_uris text NULL,
                requirements text NULL,
                settings text NULL);
            CREATE UNIQUE INDEX "IX_oauth_applications_client_id" ON oauth_applications (client_id);

            CREATE TABLE oauth_scopes (
                id uuid PRIMARY KEY,
                concurrency_token varchar(50) NULL,
                description text NULL,
                descriptions text NULL,
                display_name text NULL,
                display_names text NULL,
                name varchar(200) NULL,
                properties text NULL,
                resources text NULL);
            CREATE UNIQUE INDEX "IX_oauth_scopes_name" ON oauth_scopes (name);

            CREATE TABLE oauth_authorizations (
                id uuid PRIMARY KEY,
                application_id uuid NULL REFERENCES oauth_applications (id),
                concurrency_token varchar(50) NULL,
                creation_date timestamptz NULL,
                properties text NULL,
                scopes text NULL,
                status varchar(50) NULL,
                subject varchar(400) NULL,
                type varchar(50) NULL);
            CREATE INDEX "IX_oauth_authorizations_application_id_status_subject_type"
                ON oauth_authorizations (application_id, status, subject, type);

            CREATE TABLE oauth_tokens (
                id uuid PRIMARY KEY,
                application_id uuid NULL REFERENCES oauth_applications (id),
                authorization_id uuid NULL REFERENCES oauth_authorizations (id),
                concurrency_token varchar(50) NULL,
                creation_date timestamptz NULL,
                expiration_date timestamptz NULL,
                payload text NULL,
                properties text NULL,
                redemption_date timestamptz NULL,
                reference_id varchar(100) NULL,
                status varchar(50) NULL,
                subject varchar(400) NULL,
                type varchar(150) NULL);
            CREATE INDEX "IX_oauth_tokens_application_id_status_subject_type" ON oauth_tokens (application_id, status, subject, type);
            CREATE INDEX "IX_oauth_tokens_authorization_id" ON oauth_tokens (authorization_id);
            CREATE UNIQUE INDEX "IX_oauth_tokens_reference_id" ON oauth_tokens (reference_id);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP TABLE oauth_tokens;
            DROP TABLE oauth_authorizations;
            DROP TABLE oauth_scopes;
            DROP TABLE oauth_applications;
            ALTER TABLE api_keys DROP COLUMN last_used_at, DROP COLUMN expires_at, DROP COLUMN scopes;
            """);
}

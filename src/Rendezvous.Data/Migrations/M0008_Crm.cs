using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// CRM sync: one connection per booking page and CRM (settings, encrypted OAuth tokens, health), and one record per
/// booking and CRM holding what was written there (the Salesforce Event id, the Keap contact, the lead or contact it was
/// matched to), so repeats and later lifecycle changes update the same record.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202611200008_Crm")]
public sealed class M0008Crm : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE TABLE crm_connections (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                booking_page_id uuid NOT NULL REFERENCES booking_pages (id) ON DELETE CASCADE,
                provider text NOT NULL,
                settings jsonb NOT NULL,
                account_id text NULL,
                account_user_id text NULL,
                instance_url text NULL,
                protected_access_token text NULL,
                protected_refresh_token text NULL,
                access_token_expires_at timestamptz NULL,
                pending_state_nonce text NULL,
                connected_at timestamptz NULL,
                needs_reauthorization boolean NOT NULL DEFAULT false,
                last_sync_at timestamptz NULL,
                last_error text NULL,
                last_error_at timestamptz NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT ux_crm_connections_page UNIQUE (booking_page_id, provider),
                CONSTRAINT ck_crm_connections_provider CHECK (provider IN ('salesforce', 'infusionsoft'))
            );
            CREATE INDEX ix_crm_connections_org ON crm_connections (organization_id);

            CREATE TABLE crm_records (
                booking_id uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
                provider text NOT NULL,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                external_id text NULL,
                who_id text NULL,
                what_id text NULL,
                related_to text NULL,
                reassigned boolean NOT NULL DEFAULT false,
                last_status text NULL,
                applied_tags text[] NOT NULL DEFAULT '{}',
                last_synced_at timestamptz NULL,
                last_error text NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (booking_id, provider)
            );
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("DROP TABLE IF EXISTS crm_records, crm_connections;");
}

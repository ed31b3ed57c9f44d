using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Who owns a booking's CRM records: the CRM user standing for each Rendezvous user per CRM account (set by hand or found
/// by email). Which of the Salesforce custom fields an org lacks, and how often an Event was created without the answer
/// being kept (so a retry adopts it instead of making a second one).
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060015_CrmOwnersAndFields")]
public sealed class M0015CrmOwnersAndFields : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE TABLE crm_user_links (
                organization_id uuid NOT NULL REFERENCES organizations (id),
                provider text NOT NULL,
                account_id text NOT NULL,
                user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                external_user_id text NULL,
                source text NOT NULL,
                email text NULL,
                checked_at timestamptz NOT NULL,
                PRIMARY KEY (organization_id, provider, account_id, user_id),
                CONSTRAINT ck_crm_user_links_provider CHECK (provider IN ('salesforce', 'infusionsoft')),
                CONSTRAINT ck_crm_user_links_source CHECK (source IN ('manual', 'email')),
                CONSTRAINT ck_crm_user_links_manual_has_id CHECK (source <> 'manual' OR external_user_id IS NOT NULL)
            );
            CREATE INDEX ix_crm_user_links_user ON crm_user_links (user_id);

            ALTER TABLE crm_connections
                ADD COLUMN missing_fields text[] NULL,
                ADD COLUMN fields_checked_at timestamptz NULL;

            ALTER TABLE crm_records ADD COLUMN create_attempts integer NOT NULL DEFAULT 0;
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE crm_records DROP COLUMN IF EXISTS create_attempts;
            ALTER TABLE crm_connections DROP COLUMN IF EXISTS missing_fields, DROP COLUMN IF EXISTS fields_checked_at;
            DROP TABLE IF EXISTS crm_user_links;
            """);
}

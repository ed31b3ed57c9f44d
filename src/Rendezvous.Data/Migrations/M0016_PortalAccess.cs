using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Portal access as a grant (seed 003: "If the Contact/Company has Portal Access"): the organization chooses an open
/// portal or one for granted contacts only; companies group contacts whose appointments they see together. Like the
/// portal's password and sign-in links, these are read and written with SQL, outside the EF model.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060016_PortalAccess")]
public sealed class M0016PortalAccess : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE organizations ADD COLUMN portal_access text NOT NULL DEFAULT 'open'
                CONSTRAINT ck_organizations_portal_access CHECK (portal_access IN ('open', 'granted'));

            CREATE TABLE companies (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
                name text NOT NULL,
                portal_access boolean NOT NULL DEFAULT false,
                created_at timestamptz NOT NULL,
                CONSTRAINT ck_companies_name CHECK (length(name) BETWEEN 1 AND 200)
            );
            CREATE UNIQUE INDEX ux_companies_org_name ON companies (organization_id, lower(name));

            ALTER TABLE customers
                ADD COLUMN portal_access boolean NOT NULL DEFAULT false,
                ADD COLUMN company_id uuid NULL REFERENCES companies (id) ON DELETE SET NULL;
            CREATE INDEX ix_customers_company ON customers (company_id) WHERE company_id IS NOT NULL;
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE customers DROP COLUMN IF EXISTS company_id, DROP COLUMN IF EXISTS portal_access;
            DROP TABLE IF EXISTS companies;
            ALTER TABLE organizations DROP COLUMN IF EXISTS portal_access;
            """);
}

using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Routing forms (decision 0033): an organization's questions and rules that send a visitor to a booking page or to
/// one member of a round-robin page. The definition is one jsonb document, read and written whole; the slug is the
/// public address, unique across organizations.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060024_RoutingForms")]
public sealed class M0024RoutingForms : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE TABLE routing_forms (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
                slug text NOT NULL,
                title text NOT NULL,
                description text NULL,
                definition jsonb NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            );
            CREATE UNIQUE INDEX ux_routing_forms_slug ON routing_forms (slug);
            CREATE INDEX ix_routing_forms_organization ON routing_forms (organization_id);
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("DROP TABLE IF EXISTS routing_forms;");
}

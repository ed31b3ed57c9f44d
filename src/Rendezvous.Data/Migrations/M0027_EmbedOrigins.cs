using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// The origins (scheme, host and port) whose pages may frame an organization's booking pages (the inline and pop-up
/// embeds). Empty means no site may. Like the portal's access mode, read and written with SQL, outside the EF model.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060027_EmbedOrigins")]
public sealed class M0027EmbedOrigins : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE organizations ADD COLUMN embed_origins text[] NOT NULL DEFAULT '{}'
                CONSTRAINT ck_organizations_embed_origins CHECK (cardinality(embed_origins) <= 20);
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("ALTER TABLE organizations DROP COLUMN IF EXISTS embed_origins;");
}

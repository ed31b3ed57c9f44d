using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Languages (decision 0034): the language a customer last booked in, which their emails are written in (null: never
/// said, English), and each user's language for the emails they get as a host (English unless they choose another).
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060026_Languages")]
public sealed class M0026Languages : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE customers ADD COLUMN language text NULL CHECK (language IN ('en', 'de', 'fr', 'es'));
            ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'de', 'fr', 'es'));
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE users DROP COLUMN language;
            ALTER TABLE customers DROP COLUMN language;
            """);
}

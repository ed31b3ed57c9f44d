using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>A calendar connection remembers why writing a booking into its booking calendar last failed.</summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060012_CalendarWriteHealth")]
public sealed class M0012CalendarWriteHealth : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE calendar_connections
                ADD COLUMN last_write_error text NULL,
                ADD COLUMN last_write_failure_at timestamptz NULL;
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE calendar_connections DROP COLUMN IF EXISTS last_write_error, DROP COLUMN IF EXISTS last_write_failure_at;
            """);
}

using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Round-robin pages count each member's bookings of the page made in the balance window (decision 0033) inside the
/// booking transaction's first round trip; this index answers that count from the page's own rows.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060025_RoundRobinBalance")]
public sealed class M0025RoundRobinBalance : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE INDEX ix_bookings_page_owner_created ON bookings (booking_page_id, created_at, owner_id) WHERE status <> 'Canceled';
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("DROP INDEX IF EXISTS ix_bookings_page_owner_created;");
}

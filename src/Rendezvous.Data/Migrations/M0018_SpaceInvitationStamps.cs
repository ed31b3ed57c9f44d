using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// The DTSTAMP of the invitation version a space request and a channel item hold (decision 0023): some organizers'
/// clients change an event's time without raising SEQUENCE, so within one SEQUENCE the newer DTSTAMP decides.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060018_SpaceInvitationStamps")]
public sealed class M0018SpaceInvitationStamps : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE space_requests ADD COLUMN dtstamp timestamptz NULL;
            ALTER TABLE space_channel_items ADD COLUMN dtstamp timestamptz NULL;
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE space_requests DROP COLUMN IF EXISTS dtstamp;
            ALTER TABLE space_channel_items DROP COLUMN IF EXISTS dtstamp;
            """);
}

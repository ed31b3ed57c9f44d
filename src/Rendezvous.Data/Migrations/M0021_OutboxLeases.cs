using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// The outbox claims messages with a lease instead of holding a transaction open while they run (decision 0027):
/// <c>claimed_by</c> and <c>lease_until</c> say who runs a message and until when; <c>dead_at</c> marks a message that used
/// up its attempts; <c>ordering_key</c> (the booking, space request or space the payload names) keeps the messages of one
/// key from running at the same time. The pending index leaves dead messages out.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060021_OutboxLeases")]
public sealed class M0021OutboxLeases : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql($"""
            ALTER TABLE outbox_messages
                ADD COLUMN claimed_by text NULL,
                ADD COLUMN lease_until timestamptz NULL,
                ADD COLUMN dead_at timestamptz NULL,
                ADD COLUMN ordering_key text GENERATED ALWAYS AS ({Outbox.OutboxMessageSql.OrderingKey}) STORED;
            DROP INDEX IF EXISTS ix_outbox_pending;
            CREATE INDEX ix_outbox_pending ON outbox_messages (id) INCLUDE (available_at, lease_until, ordering_key)
                WHERE processed_at IS NULL AND dead_at IS NULL;
            CREATE INDEX ix_outbox_pending_key ON outbox_messages (ordering_key, id) INCLUDE (lease_until)
                WHERE processed_at IS NULL AND dead_at IS NULL AND ordering_key IS NOT NULL;
            CREATE INDEX ix_outbox_dead ON outbox_messages (organization_id, type, id) WHERE dead_at IS NOT NULL;
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP INDEX IF EXISTS ix_outbox_dead;
            DROP INDEX IF EXISTS ix_outbox_pending_key;
            DROP INDEX IF EXISTS ix_outbox_pending;
            ALTER TABLE outbox_messages DROP COLUMN ordering_key, DROP COLUMN dead_at, DROP COLUMN lease_until, DROP COLUMN claimed_by;
            CREATE INDEX ix_outbox_pending ON outbox_messages (available_at, id) WHERE processed_at IS NULL;
            """);
}

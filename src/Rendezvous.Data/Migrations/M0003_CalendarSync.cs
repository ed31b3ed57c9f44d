using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Two-way calendar sync: per-calendar sync state, the objects seen in each calendar, what we wrote for each booking
/// host, and busy blocks that remember which calendar object they came from.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202611200003_CalendarSync")]
public sealed class M0003CalendarSync : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE calendar_connections ADD COLUMN lease_until timestamptz NULL;
            ALTER TABLE calendar_connections ADD COLUMN full_sync_due_at timestamptz NULL;

            CREATE TABLE calendar_sync_states (
                connection_id uuid NOT NULL REFERENCES calendar_connections (id) ON DELETE CASCADE,
                calendar_url text NOT NULL,
                sync_token text NULL,
                ctag text NULL,
                last_synced_at timestamptz NULL,
                PRIMARY KEY (connection_id, calendar_url)
            );

            CREATE TABLE calendar_items (
                connection_id uuid NOT NULL REFERENCES calendar_connections (id) ON DELETE CASCADE,
                href text NOT NULL,
                calendar_url text NOT NULL,
                etag text NULL,
                uid text NULL,
                booking_id uuid NULL,
                PRIMARY KEY (connection_id, href)
            );

            CREATE TABLE booking_event_links (
                booking_id uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
                user_id uuid NOT NULL REFERENCES users (id),
                connection_id uuid NOT NULL REFERENCES calendar_connections (id) ON DELETE CASCADE,
                calendar_url text NOT NULL,
                href text NOT NULL,
                etag text NULL,
                sequence integer NOT NULL DEFAULT 0,
                written_start timestamptz NOT NULL,
                written_end timestamptz NOT NULL,
                deleted boolean NOT NULL DEFAULT false,
                pending_start timestamptz NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (booking_id, user_id)
            );
            CREATE INDEX ix_booking_event_links_href ON booking_event_links (connection_id, href);

            ALTER TABLE busy_blocks ADD COLUMN connection_id uuid NULL REFERENCES calendar_connections (id) ON DELETE CASCADE;
            ALTER TABLE busy_blocks ADD COLUMN item_href text NULL;
            CREATE INDEX ix_busy_blocks_item ON busy_blocks (connection_id, item_href) WHERE connection_id IS NOT NULL;
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP TABLE IF EXISTS booking_event_links, calendar_items, calendar_sync_states;
            ALTER TABLE busy_blocks DROP COLUMN IF EXISTS connection_id, DROP COLUMN IF EXISTS item_href;
            ALTER TABLE calendar_connections DROP COLUMN IF EXISTS lease_until, DROP COLUMN IF EXISTS full_sync_due_at;
            """);
}

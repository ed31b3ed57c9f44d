using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Calendar providers beyond CalDAV and several connections per user. Provider-specific state is kept in
/// provider-neutral places: the cursor in <c>calendar_sync_states.sync_token</c> (sync token, delta link, ...), item ids
/// in the <c>href</c> columns, versions in the <c>etag</c> columns, and anything else as JSON (<c>provider_state</c>).
/// Push subscriptions are one per calendar. Exactly one connection of a user receives bookings: at most one is marked
/// here, and the API keeps one marked whenever the user has any.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202612060011_CalendarProviders")]
public sealed class M0011CalendarProviders : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE calendar_connections
                ADD COLUMN provider_state jsonb NULL,
                ADD COLUMN woken_at timestamptz NULL,
                ADD COLUMN is_booking_connection boolean NOT NULL DEFAULT false;

            -- Until now a user had one connection: it is the one that receives bookings.
            UPDATE calendar_connections c SET is_booking_connection = true
            WHERE c.id = (SELECT o.id FROM calendar_connections o WHERE o.user_id = c.user_id ORDER BY o.created_at, o.id LIMIT 1);
            CREATE UNIQUE INDEX ux_calendar_connections_booking ON calendar_connections (user_id) WHERE is_booking_connection;

            ALTER TABLE calendar_sync_states
                ADD COLUMN provider_state jsonb NULL,
                ADD COLUMN push_channel_id text NULL,
                ADD COLUMN push_token text NULL,
                ADD COLUMN push_expires_at timestamptz NULL;
            CREATE UNIQUE INDEX ux_calendar_sync_states_push ON calendar_sync_states (push_channel_id) WHERE push_channel_id IS NOT NULL;
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP INDEX IF EXISTS ux_calendar_sync_states_push;
            ALTER TABLE calendar_sync_states DROP COLUMN IF EXISTS provider_state, DROP COLUMN IF EXISTS push_channel_id,
                DROP COLUMN IF EXISTS push_token, DROP COLUMN IF EXISTS push_expires_at;
            DROP INDEX IF EXISTS ux_calendar_connections_booking;
            ALTER TABLE calendar_connections DROP COLUMN IF EXISTS provider_state, DROP COLUMN IF EXISTS woken_at,
                DROP COLUMN IF EXISTS is_booking_connection;
            """);
}

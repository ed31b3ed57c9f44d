using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Booking reassignment and web conferencing: which calendar service each connection belongs to (for the reassignment
/// rules), a page's conferencing service, a booking's withheld location and its reassignment history, per-user
/// conferencing accounts (tokens encrypted by Data Protection), and the meeting each booking has in a conferencing service.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202611200007_Reassignment")]
public sealed class M0007Reassignment : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            ALTER TABLE calendar_connections ADD COLUMN provider text NOT NULL DEFAULT 'CalDav';

            ALTER TABLE booking_pages ADD COLUMN conferencing_provider text NULL;

            ALTER TABLE bookings ADD COLUMN location_withheld boolean NOT NULL DEFAULT false;

            ALTER TABLE booking_activities ADD COLUMN previous_owner_id uuid NULL;
            ALTER TABLE booking_activities ADD COLUMN previous_booking_page_id uuid NULL;

            CREATE TABLE conferencing_accounts (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                provider text NOT NULL,
                external_user_id text NULL,
                protected_access_token text NOT NULL,
                protected_refresh_token text NULL,
                access_token_expires_at timestamptz NULL,
                last_error text NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT ux_conferencing_accounts_user_provider UNIQUE (user_id, provider)
            );
            CREATE INDEX ix_conferencing_accounts_org ON conferencing_accounts (organization_id);

            CREATE TABLE booking_conferencing (
                booking_id uuid PRIMARY KEY REFERENCES bookings (id) ON DELETE CASCADE,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                provider text NOT NULL,
                host_user_id uuid NOT NULL REFERENCES users (id),
                meeting_id text NULL,
                join_url text NULL,
                create_attempts integer NOT NULL DEFAULT 0,
                written_start timestamptz NULL,
                written_end timestamptz NULL,
                deleted boolean NOT NULL DEFAULT false,
                previous_meeting_id text NULL,
                previous_host_user_id uuid NULL REFERENCES users (id),
                last_error text NULL,
                updated_at timestamptz NOT NULL
            );
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP TABLE IF EXISTS booking_conferencing, conferencing_accounts;
            ALTER TABLE booking_activities DROP COLUMN IF EXISTS previous_owner_id, DROP COLUMN IF EXISTS previous_booking_page_id;
            ALTER TABLE bookings DROP COLUMN IF EXISTS location_withheld;
            ALTER TABLE booking_pages DROP COLUMN IF EXISTS conferencing_provider;
            ALTER TABLE calendar_connections DROP COLUMN IF EXISTS provider;
            """);
}

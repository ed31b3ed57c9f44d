using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// The core schema. Double booking is refused by PostgreSQL itself: each host of an active booking holds a
/// <c>tstzrange</c>, and an exclusion constraint forbids two overlapping holds of one host unless they share a hold key
/// (the seats of one group session).
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202611200001_Initial")]
public sealed class M0001Initial : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE EXTENSION IF NOT EXISTS btree_gist;

            CREATE TABLE organizations (
                id uuid PRIMARY KEY,
                name text NOT NULL,
                slug text NOT NULL,
                created_at timestamptz NOT NULL
            );
            CREATE UNIQUE INDEX ix_organizations_slug ON organizations (slug);

            CREATE TABLE users (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                name text NOT NULL,
                email text NOT NULL,
                time_zone text NOT NULL,
                role text NOT NULL,
                created_at timestamptz NOT NULL,
                CONSTRAINT ux_users_email UNIQUE (organization_id, email)
            );

            CREATE TABLE api_keys (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                user_id uuid NOT NULL REFERENCES users (id),
                name text NOT NULL,
                prefix text NOT NULL,
                key_hash bytea NOT NULL,
                created_at timestamptz NOT NULL,
                revoked_at timestamptz NULL
            );
            CREATE UNIQUE INDEX ix_api_keys_key_hash ON api_keys (key_hash);

            CREATE TABLE customers (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                name text NOT NULL,
                email text NOT NULL,
                phone text NULL,
                time_zone text NOT NULL,
                created_at timestamptz NOT NULL,
                CONSTRAINT ux_customers_email UNIQUE (organization_id, email)
            );

            CREATE TABLE booking_pages (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                owner_id uuid NOT NULL REFERENCES users (id),
                slug text NOT NULL,
                title text NOT NULL,
                description text NULL,
                location text NULL,
                settings jsonb NOT NULL,
                created_at timestamptz NOT NULL
            );
            CREATE UNIQUE INDEX ix_booking_pages_slug ON booking_pages (slug);
            CREATE INDEX ix_booking_pages_org ON booking_pages (organization_id);

            CREATE TABLE bookings (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                booking_page_id uuid NOT NULL REFERENCES booking_pages (id),
                owner_id uuid NOT NULL REFERENCES users (id),
                customer_id uuid NOT NULL REFERENCES customers (id),
                start_at timestamptz NOT NULL,
                end_at timestamptz NOT NULL,
                status text NOT NULL,
                detailed_status text NOT NULL,
                last_reason text NULL,
                cancellation_notice_minutes bigint NULL,
                reschedule_notice_minutes bigint NULL,
                package_id uuid NULL,
                session_number integer NOT NULL,
                session_count integer NOT NULL,
                group_key text NULL,
                replaces_booking_id uuid NULL REFERENCES bookings (id) DEFERRABLE INITIALLY DEFERRED,
                replaced_by_booking_id uuid NULL REFERENCES bookings (id) DEFERRABLE INITIALLY DEFERRED,
                answers jsonb NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT ck_bookings_time CHECK (end_at > start_at)
            );
            CREATE INDEX ix_bookings_org_start ON bookings (organization_id, start_at);
            CREATE INDEX ix_bookings_page_start ON bookings (booking_page_id, start_at);
            CREATE INDEX ix_bookings_package ON bookings (package_id) WHERE package_id IS NOT NULL;
            CREATE INDEX ix_bookings_due_completion ON bookings (end_at) WHERE status IN ('Scheduled', 'Rescheduled');

            CREATE TABLE booking_hosts (
                booking_id uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
                user_id uuid NOT NULL REFERENCES users (id),
                is_primary boolean NOT NULL,
                start_at timestamptz NOT NULL,
                end_at timestamptz NOT NULL,
                hold_key text NOT NULL,
                active boolean NOT NULL,
                during tstzrange GENERATED ALWAYS AS (tstzrange(start_at, end_at, '[)')) STORED,
                PRIMARY KEY (booking_id, user_id),
                CONSTRAINT ex_booking_hosts_no_overlap
                    EXCLUDE USING gist (user_id WITH =, during WITH &&, hold_key WITH <>) WHERE (active)
            );

            CREATE TABLE booking_activities (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                booking_id uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
                at timestamptz NOT NULL,
                action text NULL,
                from_status text NULL,
                to_status text NOT NULL,
                detailed_status text NOT NULL,
                actor_kind text NOT NULL,
                actor_id text NULL,
                reason text NULL,
                start_at timestamptz NOT NULL,
                end_at timestamptz NOT NULL
            );
            CREATE INDEX ix_booking_activities_booking ON booking_activities (booking_id, id);

            CREATE TABLE busy_blocks (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                start_at timestamptz NOT NULL,
                end_at timestamptz NOT NULL,
                source text NOT NULL,
                note text NULL,
                during tstzrange GENERATED ALWAYS AS (tstzrange(start_at, end_at, '[)')) STORED,
                CONSTRAINT ck_busy_blocks_time CHECK (end_at > start_at)
            );
            CREATE INDEX ix_busy_blocks_user_during ON busy_blocks USING gist (user_id, during);

            CREATE TABLE outbox_messages (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                organization_id uuid NULL,
                type text NOT NULL,
                payload jsonb NOT NULL,
                created_at timestamptz NOT NULL,
                available_at timestamptz NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                handled_by text[] NOT NULL DEFAULT '{}',
                processed_at timestamptz NULL,
                last_error text NULL
            );
            CREATE INDEX ix_outbox_pending ON outbox_messages (available_at, id) WHERE processed_at IS NULL;

            CREATE TABLE idempotency_records (
                scope text NOT NULL,
                key text NOT NULL,
                request_hash bytea NOT NULL,
                status_code integer NOT NULL,
                response jsonb NOT NULL,
                created_at timestamptz NOT NULL,
                PRIMARY KEY (scope, key)
            );
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            DROP TABLE IF EXISTS idempotency_records, outbox_messages, busy_blocks, booking_activities, booking_hosts, bookings,
                booking_pages, customers, api_keys, users, organizations;
            """);
    }
}

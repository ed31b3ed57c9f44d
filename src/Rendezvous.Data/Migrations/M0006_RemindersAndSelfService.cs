using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>Reminders (planned per booking, sent once), per-booking reminder plans, and the customer portal's sign-in.</summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202611200006_RemindersAndSelfService")]
public sealed class M0006RemindersAndSelfService : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE TABLE reminders (
                id uuid PRIMARY KEY,
                organization_id uuid NOT NULL REFERENCES organizations (id),
                booking_id uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
                kind text NOT NULL,
                number integer NOT NULL,
                offset_minutes bigint NOT NULL,
                channel text NOT NULL,
                for_start timestamptz NOT NULL,
                due_at timestamptz NOT NULL,
                status text NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                locked_until timestamptz NULL,
                sent_at timestamptz NULL,
                last_error text NULL
            );
            CREATE INDEX ix_reminders_due ON reminders (due_at) WHERE status = 'Pending';
            CREATE INDEX ix_reminders_booking ON reminders (booking_id);

            CREATE TABLE booking_reminder_plans (
                booking_id uuid PRIMARY KEY REFERENCES bookings (id) ON DELETE CASCADE,
                plan jsonb NOT NULL
            );

            ALTER TABLE customers ADD COLUMN password_hash text NULL;

            CREATE TABLE portal_sign_in_tokens (
                token_hash bytea PRIMARY KEY,
                customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
                expires_at timestamptz NOT NULL,
                used_at timestamptz NULL
            );
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP TABLE IF EXISTS portal_sign_in_tokens, booking_reminder_plans, reminders;
            ALTER TABLE customers DROP COLUMN IF EXISTS password_hash;
            """);
}

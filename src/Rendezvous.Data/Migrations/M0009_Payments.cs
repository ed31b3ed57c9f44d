using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Rendezvous.Data.Migrations;

/// <summary>
/// Payments: each organization's PayPal app (secret encrypted), the payment of each booking on a page with a price, and
/// the refunds administrators issue. <c>locked_until</c> leases a payment or refund to the one process talking to PayPal
/// about it, so the expiry worker and a customer's capture never act on one booking at the same time.
/// </summary>
[DbContext(typeof(RendezvousDbContext))]
[Migration("202611200009_Payments")]
public sealed class M0009Payments : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("""
            CREATE TABLE paypal_accounts (
                organization_id uuid PRIMARY KEY REFERENCES organizations (id),
                client_id text NOT NULL,
                protected_client_secret text NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            );

            CREATE TABLE booking_payments (
                booking_id uuid PRIMARY KEY REFERENCES bookings (id) ON DELETE CASCADE,
                amount numeric(14,2) NOT NULL CHECK (amount > 0),
                currency text NOT NULL,
                status text NOT NULL,
                due_at timestamptz NOT NULL,
                provider text NOT NULL,
                order_id text NULL,
                approve_url text NULL,
                capture_id text NULL,
                paid_at timestamptz NULL,
                refunded_amount numeric(14,2) NOT NULL DEFAULT 0,
                locked_until timestamptz NULL,
                attempts integer NOT NULL DEFAULT 0,
                last_error text NULL,
                CONSTRAINT ck_booking_payments_refunded CHECK (refunded_amount >= 0 AND refunded_amount <= amount)
            );
            CREATE INDEX ix_booking_payments_due ON booking_payments (due_at) WHERE status = 'Pending';

            CREATE TABLE booking_refunds (
                id uuid PRIMARY KEY,
                booking_id uuid NOT NULL REFERENCES booking_payments (booking_id) ON DELETE CASCADE,
                amount numeric(14,2) NOT NULL CHECK (amount > 0),
                currency text NOT NULL,
                reason text NOT NULL,
                actor_kind text NOT NULL,
                actor_id text NULL,
                requested_at timestamptz NOT NULL,
                status text NOT NULL,
                provider_refund_id text NULL,
                completed_at timestamptz NULL,
                failure_reason text NULL,
                locked_until timestamptz NULL,
                attempts integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NULL,
                last_error text NULL
            );
            CREATE INDEX ix_booking_refunds_booking ON booking_refunds (booking_id);
            CREATE INDEX ix_booking_refunds_pending ON booking_refunds (next_attempt_at) WHERE status = 'Pending';
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("DROP TABLE IF EXISTS booking_refunds, booking_payments, paypal_accounts;");
}
